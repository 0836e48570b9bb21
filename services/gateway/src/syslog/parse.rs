//! Syslog messages (RFC 5424 and RFC 3164) as [`RawLog`] records. Pure: no I/O.
//!
//! - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG` (`-` is nil).
//! - RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`; the timestamp has no
//!   year and no zone: it is read as UTC in the year that puts it at most a day ahead of the
//!   receive time. A missing hostname (some senders leave it out) is tolerated.
//!
//! The service is the app-name (or tag) when there is one, else the configured default;
//! the line is the message. Hostname, app-name, procid, msgid, severity and facility (by
//! name), the format and every structured-data parameter (`sd.<id>.<name>`) become attributes;
//! the hostname is the line's host for the log service (`host.name`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsline_events::logs::RawLog;

/// The source of every syslog record.
pub const SOURCE: &str = "syslog";

const SEVERITIES: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Why a message is not syslog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotSyslog(pub String);

/// Parses one message received at `now`, filing it under `default_service` when it names no
/// application.
pub fn parse(message: &str, now: Timestamp, default_service: &str) -> Result<RawLog, NotSyslog> {
    let message = message.trim_end_matches(['\n', '\r', '\0']);
    let (pri, rest) = priority(message)?;
    let mut attributes = BTreeMap::new();
    attributes.insert("severity".to_owned(), SEVERITIES[usize::from(pri % 8)].to_owned());
    attributes.insert(
        "facility".to_owned(),
        FACILITIES
            .get(usize::from(pri / 8))
            .map_or_else(|| (pri / 8).to_string(), |f| (*f).to_owned()),
    );
    let parsed = match rest.strip_prefix("1 ") {
        Some(body) => rfc5424(body, &mut attributes)?,
        None => rfc3164(rest, now, &mut attributes),
    };
    let service = attributes
        .get("app_name")
        .cloned()
        .unwrap_or_else(|| default_service.to_owned());
    if let Some(host) = attributes.get("hostname").cloned() {
        attributes.insert("host.name".to_owned(), host);
    }
    Ok(RawLog {
        service,
        source: SOURCE.to_owned(),
        line: parsed.message,
        timestamp: parsed.timestamp,
        attributes,
    })
}

struct Parsed {
    timestamp: Option<Timestamp>,
    message: String,
}

/// `<PRI>`: 0 to 191.
fn priority(message: &str) -> Result<(u8, &str), NotSyslog> {
    let rest = message
        .strip_prefix('<')
        .ok_or_else(|| NotSyslog("a syslog message starts with <PRI>, e.g. <34>".to_owned()))?;
    let end = rest
        .find('>')
        .filter(|end| (1..=3).contains(end))
        .ok_or_else(|| NotSyslog("the <PRI> part is not 1 to 3 digits closed by '>'".to_owned()))?;
    let pri: u8 = rest[..end]
        .parse()
        .ok()
        .filter(|pri| *pri <= 191)
        .ok_or_else(|| NotSyslog(format!("priority {:?} is not 0 to 191", &rest[..end])))?;
    Ok((pri, &rest[end + 1..]))
}

/// Splits off the next space-separated field.
fn field(text: &str) -> (&str, &str) {
    match text.split_once(' ') {
        Some((field, rest)) => (field, rest),
        None => (text, ""),
    }
}

fn rfc5424(body: &str, attributes: &mut BTreeMap<String, String>) -> Result<Parsed, NotSyslog> {
    attributes.insert("syslog.format".to_owned(), "rfc5424".to_owned());
    let (timestamp, rest) = field(body);
    let (hostname, rest) = field(rest);
    let (app_name, rest) = field(rest);
    let (procid, rest) = field(rest);
    let (msgid, rest) = field(rest);
    for (name, value) in [
        ("hostname", hostname),
        ("app_name", app_name),
        ("procid", procid),
        ("msgid", msgid),
    ] {
        if !value.is_empty() && value != "-" {
            attributes.insert(name.to_owned(), value.to_owned());
        }
    }
    let timestamp = match timestamp {
        "-" => None,
        text => Some(
            text.parse::<Timestamp>()
                .map_err(|e| NotSyslog(format!("RFC 5424 timestamp {text:?}: {e}")))?,
        ),
    };
    let message = structured_data(rest, attributes)?;
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Ok(Parsed {
        timestamp,
        message: message.to_owned(),
    })
}

/// Reads `-` or `[id name="value" ...]...` into `sd.<id>.<name>` attributes; returns the message.
fn structured_data<'a>(text: &'a str, attributes: &mut BTreeMap<String, String>) -> Result<&'a str, NotSyslog> {
    if let Some(rest) = text.strip_prefix('-') {
        return Ok(rest.strip_prefix(' ').unwrap_or(rest));
    }
    let bad = |what: &str| NotSyslog(format!("RFC 5424 structured data: {what}"));
    let mut rest = text;
    while let Some(element) = rest.strip_prefix('[') {
        let (id, mut params) = element.split_at(element.find([' ', ']']).ok_or_else(|| bad("unclosed element"))?);
        loop {
            params = params.trim_start_matches(' ');
            if let Some(after) = params.strip_prefix(']') {
                rest = after;
                break;
            }
            let (name, value_and_rest) = params.split_once("=\"").ok_or_else(|| bad("parameter without =\""))?;
            let mut value = String::new();
            let mut chars = value_and_rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        if let Some((_, escaped)) = chars.next() {
                            if !matches!(escaped, '"' | '\\' | ']') {
                                value.push('\\');
                            }
                            value.push(escaped);
                        }
                    }
                    Some((at, '"')) => break at,
                    Some((_, c)) => value.push(c),
                    None => return Err(bad("unterminated parameter value")),
                }
            };
            attributes.insert(format!("sd.{id}.{name}"), value);
            params = &value_and_rest[end + 1..];
        }
    }
    Ok(rest.strip_prefix(' ').unwrap_or(rest))
}

fn rfc3164(body: &str, now: Timestamp, attributes: &mut BTreeMap<String, String>) -> Parsed {
    attributes.insert("syslog.format".to_owned(), "rfc3164".to_owned());
    let (timestamp, mut rest) = match bsd_timestamp(body, now) {
        Some((timestamp, rest)) => (Some(timestamp), rest),
        None => (None, body),
    };
    // HOSTNAME, unless the next word is already the tag (`sshd[42]:` or `cron:`).
    let (word, after) = field(rest);
    let is_tag = word.ends_with(':') || word.contains('[');
    if !word.is_empty() && !is_tag && !after.is_empty() {
        attributes.insert("hostname".to_owned(), word.to_owned());
        rest = after;
    }
    let tag_end = rest
        .char_indices()
        .take(48)
        .find(|(_, c)| matches!(c, '[' | ':' | ' '))
        .map(|(at, _)| at);
    let mut message = rest;
    if let Some(at) = tag_end.filter(|at| *at > 0) {
        let tag = &rest[..at];
        let mut after_tag = &rest[at..];
        if let Some(pid_part) = after_tag.strip_prefix('[') {
            if let Some((pid, after_pid)) = pid_part.split_once(']') {
                attributes.insert("procid".to_owned(), pid.to_owned());
                after_tag = after_pid;
            }
        }
        if let Some(content) = after_tag.strip_prefix(':') {
            attributes.insert("app_name".to_owned(), tag.to_owned());
            message = content.strip_prefix(' ').unwrap_or(content);
        } else {
            attributes.remove("procid");
        }
    }
    Parsed {
        timestamp,
        message: message.to_owned(),
    }
}

/// `Mmm dd hh:mm:ss ` (day space-padded), as UTC in the year that puts it at most a day
/// after `now`.
fn bsd_timestamp(text: &str, now: Timestamp) -> Option<(Timestamp, &str)> {
    let head = text.get(..16)?;
    let month = MONTHS.iter().position(|m| head.starts_with(m))? + 1;
    let day: i8 = head.get(4..6)?.trim_start().parse().ok()?;
    let mut clock = head.get(7..15)?.split(':').map(|part| part.parse::<i8>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if head.as_bytes().get(15) != Some(&b' ') {
        return None;
    }
    let year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
    let at = |year: i16| -> Option<Timestamp> {
        let date = jiff::civil::Date::new(year, i8::try_from(month).ok()?, day).ok()?;
        let time = jiff::civil::Time::new(hour, minute, second, 0).ok()?;
        let zoned = date.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC).ok()?;
        Some(zoned.timestamp())
    };
    let this_year = at(year)?;
    let latest = now.checked_add(jiff::SignedDuration::from_hours(24)).ok()?;
    let stamp = if this_year > latest { at(year - 1)? } else { this_year };
    Some((stamp, &text[16..]))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
