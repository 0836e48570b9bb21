//! HTML helpers of the console pages: escaping, the layout (navigation, sign-out button,
//! styles), times and durations, badges. Every piece of text shown goes through [`escape`].

use jiff::Timestamp;

/// `text` with `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    opsline_search::html_escape(text)
}

/// What the layout needs besides the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Frame<'a> {
    /// Who is signed in (none: the sign-in page).
    pub who: Option<&'a str>,
    /// Base URL of the postmortem pages (empty: no link).
    pub postmortem_url: &'a str,
    /// Which navigation entry is current (`incidents`, `queue`).
    pub current: &'a str,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}\
header{display:flex;gap:1.5rem;align-items:center;background:#1d2b3a;color:#fff;padding:.6rem 1.5rem}\
header a{color:#cfe0f5;text-decoration:none}header a.current{color:#fff;font-weight:600}\
header .who{margin-left:auto;font-size:.9em}header form{display:inline;margin:0}\
main{padding:1rem 1.5rem;max-width:110rem}h1{font-size:1.4rem}\
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e1e4e8;padding:.4rem .5rem;\
text-align:left;vertical-align:top;font-size:.92em}th{background:#eef1f4}\
.sev{display:inline-block;padding:.1rem .45rem;border-radius:.3rem;font-weight:600;font-size:.85em;color:#fff}\
.sev1{background:#b3261e}.sev2{background:#d9641e}.sev3{background:#c9a227;color:#222}.sev4,.sevnone{background:#7a8691}\
.status-open{color:#b3261e;font-weight:600}.status-resolved{color:#2e7d32}.muted{color:#65717d;font-size:.88em}\
.why{max-width:28rem}.parts{color:#65717d;font-size:.82em}form.inline{display:inline-block;margin:.1rem .2rem .1rem 0}\
button{cursor:pointer;padding:.2rem .6rem;border:1px solid #8a97a5;border-radius:.3rem;background:#fff}\
button.primary{background:#1d5fa8;color:#fff;border-color:#1d5fa8}input,select{padding:.2rem;font-size:.92em}\
.filters{background:#fff;padding:.6rem;margin-bottom:1rem;border:1px solid #e1e4e8}.filters label{margin-right:.8rem}\
.error{background:#fdecea;border:1px solid #b3261e;color:#7a1712;padding:.6rem 1rem;border-radius:.3rem}\
pre{white-space:pre-wrap;word-break:break-all;background:#f0f2f4;padding:.3rem;margin:.2rem 0;font-size:.85em}\
.tabs a{margin-right:1rem}.tabs a.current{font-weight:700}dl{display:grid;grid-template-columns:12rem auto;gap:.2rem 1rem}\
dt{color:#65717d}dd{margin:0}.pager{margin:.8rem 0}.pager a{margin-right:1rem}\
figure.chart{background:#fff;border:1px solid #e1e4e8;padding:.6rem;margin:0 0 1rem 0}figcaption{font-weight:600;margin-bottom:.4rem}\
.legend span{margin-right:.8rem;font-size:.85em}";

/// A full page around `body` (already HTML).
pub fn layout(title: &str, frame: Frame<'_>, body: &str) -> String {
    let nav = |key: &str, href: &str, label: &str| {
        let class = if frame.current == key { " class=\"current\"" } else { "" };
        format!("<a href=\"{href}\"{class}>{label}</a>")
    };
    let mut header = String::from("<strong>Opsline console</strong>");
    if let Some(who) = frame.who {
        header.push_str(&nav("incidents", "/", "Incidents"));
        header.push_str(&nav("queue", "/queue", "Helpdesk queue"));
        header.push_str(&nav("insights", "/insights", "Insights"));
        if !frame.postmortem_url.is_empty() {
            header.push_str(&format!(
                "<a href=\"{}/\">Postmortems</a>",
                escape(frame.postmortem_url.trim_end_matches('/'))
            ));
        }
        header.push_str(&format!(
            "<span class=\"who\">signed in as {} <form method=\"post\" action=\"/logout\">\
<button type=\"submit\">Sign out</button></form></span>",
            escape(who)
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Opsline console</title>\
<style>{STYLE}</style></head><body><header>{header}</header>\n<main><h1>{title}</h1>\n{body}</main></body></html>\n",
        title = escape(title),
    )
}

/// A level badge (`sev1`..`sev4`, or the coarse severity on old records).
pub fn sev_badge(sev: Option<&str>, severity: &str) -> String {
    match sev {
        Some(level) => format!("<span class=\"sev {level}\">{}</span>", escape(&level.to_uppercase())),
        None => format!("<span class=\"sev sevnone\">{}</span>", escape(severity)),
    }
}

/// `2026-12-06 05:40:12Z`.
pub fn time(at: Timestamp) -> String {
    let text = at.to_string();
    let short = text.split('.').next().unwrap_or(&text).trim_end_matches('Z');
    format!("{}Z", short.replace('T', " "))
}

/// `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    }
}

/// The age of an incident at `now`: how long ago Opsline opened it (`detected_at`, processing
/// time), never from the log's own timestamps, which are years old on a replayed file; `-`
/// when the record does not say (from before it was kept).
pub fn age(now: Timestamp, detected_at: Option<Timestamp>) -> String {
    match detected_at {
        Some(at) => duration(now.as_second().saturating_sub(at.as_second())),
        None => "-".to_owned(),
    }
}

/// An error box.
pub fn error_box(message: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message))
}

/// `<option>`s of `values`, `current` selected, with an empty "any" first.
pub fn options(values: &[&str], current: Option<&str>) -> String {
    let mut out = String::from("<option value=\"\">any</option>");
    for value in values {
        let selected = if current == Some(*value) { " selected" } else { "" };
        out.push_str(&format!(
            "<option value=\"{v}\"{selected}>{v}</option>",
            v = escape(value)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(duration(12), "12s");
        assert_eq!(duration(250), "4m 10s");
        assert_eq!(duration(7_500), "2h 5m");
        assert_eq!(duration(3 * 86_400 + 4 * 3_600), "3d 4h");
        assert_eq!(duration(-5), "0s");
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        // A 2005 log replayed now: the age is from when Opsline opened the incident.
        let now = at(1_796_000_000);
        assert_eq!(age(now, Some(at(1_796_000_000 - 250))), "4m 10s");
        assert_eq!(age(now, Some(at(1_796_000_000 + 3))), "0s", "a clock a bit ahead");
        assert_eq!(age(now, None), "-", "unknown, not years from the log's time");
        assert_eq!(time(Timestamp::from_second(0).unwrap()), "1970-01-01 00:00:00Z");
    }

    #[test]
    fn layout_escapes_and_shows_sign_out() {
        let page = layout(
            "<x>",
            Frame {
                who: Some("a&b"),
                postmortem_url: "http://pm",
                current: "queue",
            },
            "",
        );
        assert!(page.contains("&lt;x&gt;"));
        assert!(page.contains("signed in as a&amp;b"));
        assert!(page.contains("action=\"/logout\""));
        assert!(page.contains("<a href=\"/queue\" class=\"current\">"));
    }
}
