//! Evidence links: the text of a postmortem with its citations and identifiers turned into
//! links, everything else HTML-escaped.
//!
//! - `[T3]` -> `#T3`, the timeline entry (the page gives each entry that id);
//! - `<raw-log topic>/2@88412` -> the console's view of that record, read back from Kafka and
//!   redacted (`{console_url}/records/2/88412`);
//! - the incident id and its alert ids -> the console's incident page (`#alert-<id>` for an alert);
//! - `runbooks/alert-error-surge.md` -> this service's runbook page (`/runbooks/alert-error-surge.md`).
//!
//! With no console URL configured, offsets and ids stay plain text.

use std::collections::HashSet;
use std::path::PathBuf;

use uuid::Uuid;

use crate::web::html::escape;

/// Where links go (fixed for the service's life).
#[derive(Debug, Clone, Default)]
pub struct LinkTargets {
    /// The raw-log topic's full name (with the installation's prefix).
    pub raw_topic: String,
    /// Base URL of the console (empty: offsets and ids are not links).
    pub console_url: String,
    /// The runbooks folder, for the runbook pages.
    pub runbooks_dir: Option<PathBuf>,
}

/// What one document links to.
#[derive(Debug, Clone, Default)]
pub struct LinkContext<'a> {
    /// The service-wide targets.
    pub targets: Option<&'a LinkTargets>,
    /// The incident the document writes up.
    pub incident: Option<Uuid>,
    /// Its alert ids.
    pub alerts: HashSet<Uuid>,
}

impl<'a> LinkContext<'a> {
    /// The context of a postmortem's Markdown: its incident and the alert ids it lists.
    pub fn of_postmortem(targets: &'a LinkTargets, incident: Uuid, markdown: &str) -> Self {
        let alerts = markdown
            .lines()
            .filter_map(|l| l.strip_prefix("- **Alerts:** "))
            .flat_map(|l| l.split(", "))
            .filter_map(|id| Uuid::parse_str(id.trim()).ok())
            .collect();
        Self {
            targets: Some(targets),
            incident: Some(incident),
            alerts,
        }
    }

    fn console(&self) -> Option<&str> {
        self.targets
            .map(|t| t.console_url.trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }
}

fn digits(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

fn citation(rest: &str) -> Option<(usize, String)> {
    let inner = rest.strip_prefix("[T")?;
    let n = digits(inner);
    if n == 0 || !inner[n..].starts_with(']') {
        return None;
    }
    let number = &inner[..n];
    Some((n + 3, format!("<a class=\"cite\" href=\"#T{number}\">[T{number}]</a>")))
}

fn offset(rest: &str, ctx: &LinkContext<'_>) -> Option<(usize, String)> {
    let targets = ctx.targets?;
    let console = ctx.console()?;
    if targets.raw_topic.is_empty() {
        return None;
    }
    let after = rest.strip_prefix(targets.raw_topic.as_str())?.strip_prefix('/')?;
    let p = digits(after);
    let at = after.get(p..)?.strip_prefix('@')?;
    let o = digits(at);
    if p == 0 || o == 0 {
        return None;
    }
    let len = targets.raw_topic.len() + 1 + p + 1 + o;
    let (partition, offset) = (&after[..p], &at[..o]);
    Some((
        len,
        format!(
            "<a class=\"offset\" href=\"{}/records/{partition}/{offset}\">{}</a>",
            escape(console),
            escape(&rest[..len])
        ),
    ))
}

fn identifier(rest: &str, ctx: &LinkContext<'_>) -> Option<(usize, String)> {
    let id = Uuid::parse_str(rest.get(..36)?).ok()?;
    let console = ctx.console()?;
    let incident = ctx.incident?;
    let href = if id == incident {
        format!("{}/incidents/{incident}", escape(console))
    } else if ctx.alerts.contains(&id) {
        format!("{}/incidents/{incident}#alert-{id}", escape(console))
    } else {
        return None;
    };
    Some((36, format!("<a class=\"evidence\" href=\"{href}\">{id}</a>")))
}

fn runbook(rest: &str) -> Option<(usize, String)> {
    let name_len = rest
        .strip_prefix("runbooks/")?
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        .count();
    let name = rest.get(9..9 + name_len)?;
    let name = name.strip_suffix('.').unwrap_or(name);
    if !name.ends_with(".md") || name.len() <= 3 || name.starts_with('.') {
        return None;
    }
    Some((
        9 + name.len(),
        format!("<a class=\"runbook\" href=\"/runbooks/{name}\">runbooks/{name}</a>"),
    ))
}

/// `text` HTML-escaped, with the citations and identifiers of `ctx` as links.
pub fn linkify(text: &str, ctx: &LinkContext<'_>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut previous: Option<char> = None;
    while let Some(rest) = text.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        let at_word_start = previous.is_none_or(|p| !p.is_ascii_alphanumeric());
        let found = match c {
            '[' => citation(rest),
            _ if !at_word_start => None,
            'r' => runbook(rest).or_else(|| offset(rest, ctx)),
            _ if c.is_ascii_hexdigit() => identifier(rest, ctx).or_else(|| offset(rest, ctx)),
            _ => offset(rest, ctx),
        };
        match found {
            Some((len, html)) => {
                out.push_str(&html);
                previous = text.get(..i + len).and_then(|t| t.chars().next_back());
                i += len;
            }
            None => {
                let mut buffer = [0u8; 4];
                out.push_str(&escape(c.encode_utf8(&mut buffer)));
                previous = Some(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_offsets_ids_and_runbooks_become_links() {
        let targets = LinkTargets {
            raw_topic: "t-opsline.logs.raw.v1".into(),
            console_url: "http://console/".into(),
            runbooks_dir: None,
        };
        let incident = Uuid::from_u128(1);
        let alert = Uuid::from_u128(2);
        let ctx = LinkContext::of_postmortem(&targets, incident, &format!("- **Alerts:** {alert}\n"));
        let html = linkify(
            &format!(
                "a <b> [T3] t-opsline.logs.raw.v1/2@88412, {incident} {alert} {} runbooks/alert-x.md.",
                Uuid::from_u128(3)
            ),
            &ctx,
        );
        assert!(
            html.starts_with("a &lt;b&gt; <a class=\"cite\" href=\"#T3\">[T3]</a> "),
            "{html}"
        );
        assert!(
            html.contains(
                "<a class=\"offset\" href=\"http://console/records/2/88412\">t-opsline.logs.raw.v1/2@88412</a>,"
            ),
            "{html}"
        );
        assert!(
            html.contains(&format!("href=\"http://console/incidents/{incident}\">{incident}</a>")),
            "{html}"
        );
        assert!(
            html.contains(&format!("href=\"http://console/incidents/{incident}#alert-{alert}\"")),
            "{html}"
        );
        assert!(
            html.contains(&format!(" {} ", Uuid::from_u128(3))),
            "unknown ids stay text: {html}"
        );
        assert!(
            html.ends_with("<a class=\"runbook\" href=\"/runbooks/alert-x.md\">runbooks/alert-x.md</a>."),
            "{html}"
        );
        // Without a console: offsets and ids are text, citations still link.
        let plain = linkify("[T1] t-opsline.logs.raw.v1/2@8 [Tx]", &LinkContext::default());
        assert_eq!(
            plain,
            "<a class=\"cite\" href=\"#T1\">[T1]</a> t-opsline.logs.raw.v1/2@8 [Tx]"
        );
        assert_eq!(
            linkify("xrunbooks/a.md runbooks/../x.md", &ctx),
            "xrunbooks/a.md runbooks/../x.md"
        );
    }
}
