//! List filters and pagination, the same for the JSON APIs, the pages and the terminal.
//!
//! Parameters (all optional; an unknown one is a `400`): `service`, `severity` (`critical`,
//! `warning`, `info`, or a level `sev1`..`sev4` for incidents), `status` (`open`,
//! `acknowledged` (open and acknowledged), `unacknowledged` (open, nobody on it),
//! `resolved`), `kind` (alerts), `queue`, `priority` (`p1`..`p4`) and `incident` (tickets),
//! `since` / `until` (RFC 3339 time, or a duration back from now such as `30m`, `24h`, `7d`;
//! incidents by `opened_at`, alerts by `window_end`, tickets by when they were routed),
//! `offset` (default 0) and `limit` (default 50, at most 500).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::ConsoleError;

/// Default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size.
pub const MAX_LIMIT: usize = 500;

/// The query string of every list (pages and APIs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListParams {
    /// Only this service (exact, case-insensitive).
    pub service: Option<String>,
    /// Only this severity or level.
    pub severity: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this alert kind.
    pub kind: Option<String>,
    /// Only this queue (tickets).
    pub queue: Option<String>,
    /// Only this priority (tickets).
    pub priority: Option<String>,
    /// Only tickets linked to this incident.
    pub incident: Option<String>,
    /// Not before this time.
    pub since: Option<String>,
    /// Not after this time.
    pub until: Option<String>,
    /// Items to skip.
    pub offset: Option<usize>,
    /// Items to return.
    pub limit: Option<usize>,
}

/// A time window, both ends optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub since: Option<Timestamp>,
    /// Inclusive end.
    pub until: Option<Timestamp>,
}

impl Window {
    /// Whether `at` is inside.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at <= u)
    }
}

impl ListParams {
    /// The page asked for: (offset, limit).
    pub fn page(&self) -> (usize, usize) {
        (
            self.offset.unwrap_or(0),
            self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        )
    }

    /// The time window, relative durations counted back from `now`.
    pub fn window(&self, now: Timestamp) -> Result<Window, ConsoleError> {
        Ok(Window {
            since: self.since.as_deref().map(|s| parse_time(s, now)).transpose()?,
            until: self.until.as_deref().map(|s| parse_time(s, now)).transpose()?,
        })
    }

    /// The parameters to keep in links (everything but `offset`), URL-encoded.
    pub fn link_query(&self) -> String {
        let mut kept = self.clone();
        kept.offset = None;
        serde_urlencoded_pairs(&kept)
    }
}

fn serde_urlencoded_pairs(params: &ListParams) -> String {
    let pairs = [
        ("service", &params.service),
        ("severity", &params.severity),
        ("status", &params.status),
        ("kind", &params.kind),
        ("queue", &params.queue),
        ("priority", &params.priority),
        ("incident", &params.incident),
        ("since", &params.since),
        ("until", &params.until),
    ];
    let mut out: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if let Some(limit) = params.limit {
        out.push(format!("limit={limit}"));
    }
    out.join("&")
}

/// `text` percent-encoded for a URL path segment or query value (unreserved characters kept).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An RFC 3339 time, or a duration back from `now` (`90s`, `30m`, `24h`, `7d`).
pub fn parse_time(text: &str, now: Timestamp) -> Result<Timestamp, ConsoleError> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let bad = || ConsoleError::BadRequest(format!("{text:?} is neither an RFC 3339 time nor a duration like 24h"));
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let back = SignedDuration::from_secs(number.checked_mul(seconds).ok_or_else(bad)?);
    now.checked_sub(back).map_err(|_| bad())
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items matching the filters in all.
    pub total: usize,
    /// Items skipped.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// The offset of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

impl<T> Page<T> {
    /// The page `(offset, limit)` of `all` (already filtered and sorted).
    pub fn of(all: Vec<T>, (offset, limit): (usize, usize)) -> Self {
        let total = all.len();
        let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
        let end = offset.saturating_add(items.len());
        Self {
            next_offset: (end < total).then_some(end),
            items,
            total,
            offset,
            limit,
        }
    }
}

/// Whether an optional filter value matches `value` (case-insensitive; unset or empty matches).
pub fn matches(filter: Option<&str>, value: &str) -> bool {
    filter
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .is_none_or(|f| f.eq_ignore_ascii_case(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        let now = Timestamp::from_second(100_000).unwrap();
        assert_eq!(parse_time("2h", now).unwrap().as_second(), 100_000 - 7_200);
        assert_eq!(parse_time("1d", now).unwrap().as_second(), 100_000 - 86_400);
        assert_eq!(
            parse_time("2024-11-23T06:00:00Z", now).unwrap().as_second(),
            1_732_341_600
        );
        assert!(parse_time("yesterday", now).is_err());
        assert!(parse_time("5w", now).is_err());
        assert!(parse_time("99999999999999999d", now).is_err());
    }

    #[test]
    fn pages() {
        let page = Page::of((0..7).collect(), (5, 5));
        assert_eq!(page.items, vec![5, 6]);
        assert_eq!((page.total, page.next_offset), (7, None));
        let page = Page::of((0..7).collect(), (0, 5));
        assert_eq!(page.next_offset, Some(5));
        let params = ListParams {
            limit: Some(10_000),
            ..ListParams::default()
        };
        assert_eq!(params.page(), (0, MAX_LIMIT));
    }

    #[test]
    fn filters_match_case_insensitively() {
        assert!(matches(None, "x"));
        assert!(matches(Some(""), "x"));
        assert!(matches(Some("HDFS"), "hdfs"));
        assert!(!matches(Some("bgl"), "hdfs"));
        let params = ListParams {
            service: Some("a b".into()),
            offset: Some(3),
            ..ListParams::default()
        };
        assert_eq!(params.link_query(), "service=a%20b");
    }
}
