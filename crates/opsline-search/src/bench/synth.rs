//! Synthetic corpus and query generation for the benchmark, derived from a real corpus.
//!
//! Documents are variations of the real ones (sentences shuffled, one dropped, one borrowed
//! from another document; random service, severity, status, kind, team, dates and tags) so
//! the index sees realistic vocabulary without 100k identical documents.

use jiff::Timestamp;

use crate::document::{DocKind, DocStatus, SearchDocument};

/// Deterministic SplitMix64 generator (no dependency, reproducible runs).
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

pub(crate) const SERVICES: &[&str] = &[
    "payments",
    "checkout",
    "search",
    "auth",
    "identity",
    "ledger",
    "billing",
    "gateway",
    "dns",
    "cdn",
    "storage",
    "queue",
    "email",
    "notifications",
    "mobile-api",
    "web",
    "analytics",
    "kafka",
    "postgres",
    "redis",
    "kubernetes",
    "vpn",
    "ldap",
    "monitoring",
];
pub(crate) const SEVERITIES: &[&str] = &["sev1", "sev2", "sev3", "sev4"];
pub(crate) const TAGS: &[&str] = &[
    "dns",
    "network",
    "database",
    "config",
    "storage",
    "security",
    "deploy",
    "capacity",
    "certificate",
    "hardware",
    "dependency",
    "human-error",
];
pub(crate) const TEAMS: &[&str] = &["sre-core", "security", "payments-eng", "data"];
/// 2019-01-01T00:00:00Z
pub(crate) const FIRST_DAY: i64 = 1_546_300_800;
/// Days covered by the synthetic dates (2019-01-01 .. 2025-12-31).
pub(crate) const DAYS: usize = 2_556;

fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let boundary = matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if boundary || b == b'\n' {
            let sentence = text[start..=i].trim();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            start = i + 1;
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail);
    }
    out
}

/// Generates `count` documents from `bases`.
pub(crate) fn synthesize(bases: &[SearchDocument], count: usize, rng: &mut Rng) -> Vec<SearchDocument> {
    let mut out = Vec::with_capacity(count);
    if bases.is_empty() {
        return out;
    }
    for i in 0..count {
        let base = &bases[i % bases.len()];
        let mut parts = sentences(&base.body);
        for j in (1..parts.len()).rev() {
            let k = rng.below(j + 1);
            parts.swap(j, k);
        }
        if parts.len() > 2 && rng.chance(50) {
            parts.remove(rng.below(parts.len()));
        }
        let other = &bases[rng.below(bases.len())];
        if let Some(borrowed) = rng.pick(&sentences(&other.body)) {
            parts.push(borrowed);
        }
        let service = rng.pick(SERVICES).copied().unwrap_or("web");
        let severity = rng.pick(SEVERITIES).copied().unwrap_or("sev3");
        let mut body = parts.join(" ");
        body.push_str(&format!(" Affected service: {service}."));
        let kind = if rng.chance(20) {
            DocKind::Runbook
        } else {
            DocKind::Postmortem
        };
        let status = match rng.below(100) {
            0..=59 => DocStatus::Published,
            60..=84 => DocStatus::Reviewed,
            _ => DocStatus::Draft,
        };
        let day = rng.below(DAYS) as i64;
        let created = Timestamp::from_second(FIRST_DAY + day * 86_400 + rng.below(86_400) as i64).ok();
        let updated = created.and_then(|c| Timestamp::from_second(c.as_second() + rng.below(30 * 86_400) as i64).ok());
        let mut tags = base.tags.clone();
        for _ in 0..1 + rng.below(2) {
            if let Some(tag) = rng.pick(TAGS) {
                tags.push(tag.to_string());
            }
        }
        let mut doc = SearchDocument::new(
            format!("bench-{i}"),
            kind,
            format!("[{}] {service}: {}", severity.to_uppercase(), base.title),
            body,
            status,
        );
        doc.service = Some(service.to_string());
        doc.severity = Some(severity.to_string());
        doc.created = created;
        doc.updated = updated;
        doc.tags = tags;
        doc.team = rng
            .chance(10)
            .then(|| rng.pick(TEAMS).copied().unwrap_or("data").to_string());
        doc.url = base.url.clone();
        out.push(doc);
    }
    out
}

/// Query families, for the per-family latency breakdown.
pub(crate) const QUERY_KINDS: &[&str] = &["term", "terms", "phrase", "filter", "date-range", "boolean"];

fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_lowercase)
        .collect()
}

/// Generates `count` queries `(family, query)` an SRE could type, from the real documents.
pub(crate) fn queries(bases: &[SearchDocument], count: usize, rng: &mut Rng) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(count);
    let words_of: Vec<Vec<String>> = bases.iter().map(|d| content_words(&d.body)).collect();
    let word = |rng: &mut Rng| -> String {
        let doc = rng.pick(&words_of).cloned().unwrap_or_default();
        rng.pick(&doc).cloned().unwrap_or_else(|| "outage".to_string())
    };
    while out.len() < count {
        let family = match rng.below(100) {
            0..=29 => 0,
            30..=49 => 1,
            50..=64 => 2,
            65..=79 => 3,
            80..=89 => 4,
            _ => 5,
        };
        let query = match family {
            0 => word(rng),
            1 => {
                let doc = rng.pick(&words_of).cloned().unwrap_or_default();
                let n = 2 + rng.below(2);
                (0..n)
                    .filter_map(|_| rng.pick(&doc).cloned())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            2 => {
                let doc = rng.pick(&words_of).cloned().unwrap_or_default();
                if doc.len() < 2 {
                    continue;
                }
                let at = rng.below(doc.len() - 1);
                format!("\"{} {}\"", doc[at], doc[at + 1])
            }
            3 => {
                let filter = match rng.below(4) {
                    0 => format!("service:{}", rng.pick(SERVICES).copied().unwrap_or("web")),
                    1 => format!("severity:{}", rng.pick(SEVERITIES).copied().unwrap_or("sev1")),
                    2 => "status:published".to_string(),
                    _ => format!("tag:{}", rng.pick(TAGS).copied().unwrap_or("dns")),
                };
                format!("{} {filter}", word(rng))
            }
            4 => {
                let year = 2019 + rng.below(7);
                let month = 1 + rng.below(10);
                format!(
                    "{} created:[{year}-{month:02}-01 TO {year}-{:02}-28]",
                    word(rng),
                    month + 2
                )
            }
            _ => match rng.below(3) {
                0 => format!("{} AND {}", word(rng), word(rng)),
                1 => format!("{} -{}", word(rng), word(rng)),
                _ => format!(
                    "({} OR {}) service:{}",
                    word(rng),
                    word(rng),
                    rng.pick(SERVICES).copied().unwrap_or("web")
                ),
            },
        };
        out.push((QUERY_KINDS[family], query));
    }
    out
}
