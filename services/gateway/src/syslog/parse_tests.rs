#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn now() -> Timestamp {
    "2026-03-10T12:00:00Z".parse().unwrap()
}

#[test]
fn rfc5424_with_structured_data() {
    let line = r#"<165>1 2026-03-10T11:59:58.250Z db-3.example.net backupd 4711 ID47 [exampleSDID@32473 iut="3" eventSource="Application \"x\" \]"][origin ip="10.1.2.3"] nightly backup failed: disk full"#;
    let log = parse(line, now(), "syslog").unwrap();
    assert_eq!(log.service, "backupd");
    assert_eq!(log.source, "syslog");
    assert_eq!(log.line, "nightly backup failed: disk full");
    assert_eq!(log.timestamp.unwrap().to_string(), "2026-03-10T11:59:58.25Z");
    let a = &log.attributes;
    assert_eq!(a["host.name"], "db-3.example.net");
    assert_eq!(a["hostname"], "db-3.example.net");
    assert_eq!(a["procid"], "4711");
    assert_eq!(a["msgid"], "ID47");
    assert_eq!(a["severity"], "notice");
    assert_eq!(a["facility"], "local4");
    assert_eq!(a["syslog.format"], "rfc5424");
    assert_eq!(a["sd.exampleSDID@32473.iut"], "3");
    assert_eq!(a["sd.exampleSDID@32473.eventSource"], r#"Application "x" ]"#);
    assert_eq!(a["sd.origin.ip"], "10.1.2.3");
}

#[test]
fn rfc5424_nil_fields_and_bom() {
    let log = parse("<14>1 - - - - - - \u{feff}hello there", now(), "fallback").unwrap();
    assert_eq!(log.service, "fallback");
    assert_eq!(log.line, "hello there");
    assert!(log.timestamp.is_none());
    assert!(!log.attributes.contains_key("host.name"));
    assert_eq!(log.attributes["severity"], "info");
    assert_eq!(log.attributes["facility"], "user");
}

#[test]
fn rfc3164_with_host_tag_and_pid() {
    let log = parse(
        "<38>Mar  9 23:15:02 gw-1 sshd[2201]: Accepted publickey for deploy",
        now(),
        "syslog",
    )
    .unwrap();
    assert_eq!(log.service, "sshd");
    assert_eq!(log.line, "Accepted publickey for deploy");
    assert_eq!(log.timestamp.unwrap().to_string(), "2026-03-09T23:15:02Z");
    assert_eq!(log.attributes["host.name"], "gw-1");
    assert_eq!(log.attributes["procid"], "2201");
    assert_eq!(log.attributes["severity"], "info");
    assert_eq!(log.attributes["facility"], "auth");
    assert_eq!(log.attributes["syslog.format"], "rfc3164");
}

#[test]
fn rfc3164_without_hostname_or_tag() {
    let log = parse("<13>Mar 10 11:00:00 cron: job started", now(), "syslog").unwrap();
    assert_eq!(log.service, "cron");
    assert!(!log.attributes.contains_key("host.name"));
    assert_eq!(log.line, "job started");

    let plain = parse("<13>Mar 10 11:00:00 edge-7 link flapped twice", now(), "syslog").unwrap();
    assert_eq!(plain.service, "syslog");
    assert_eq!(plain.attributes["host.name"], "edge-7");
    assert_eq!(plain.line, "link flapped twice");
}

#[test]
fn rfc3164_year_is_the_one_that_is_not_in_the_future() {
    let new_year: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
    let log = parse("<13>Dec 31 23:59:59 h app: late", new_year, "syslog").unwrap();
    assert_eq!(log.timestamp.unwrap().to_string(), "2025-12-31T23:59:59Z");
    let bad_date = parse("<13>Feb 30 10:00:00 h app: odd", now(), "syslog").unwrap();
    assert!(bad_date.timestamp.is_none(), "an impossible date is not a timestamp");
}

#[test]
fn not_syslog_is_refused_with_a_reason() {
    for (line, says) in [
        ("plain text", "<PRI>"),
        ("<>x", "1 to 3 digits"),
        ("<999>x", "0 to 191"),
        ("<34>1 yesterday host app - - - msg", "timestamp"),
        ("<34>1 - host app - - [id a=\"1\" msg", "structured data"),
    ] {
        let error = parse(line, now(), "syslog").unwrap_err();
        assert!(error.0.contains(says), "{line}: {error}");
    }
}

#[test]
fn parsing_never_panics_on_arbitrary_text() {
    let samples = [
        "<1>",
        "<1>1",
        "<1>1 ",
        "<191>Jan",
        "<0>Feb 29 25:61:61 ",
        "<5>1 - - - - - [",
        "<5>1 - - - - - [a",
        "<5>1 - - - - - [a b=\"\\",
        "<5>Mar  1 00:00:00 ",
        "<5>é",
        "<12>Dec  1 00:00:00 ho[st x",
        "<12>Dec  1 00:00:00 h t[1: m",
    ];
    for sample in samples {
        let _ = parse(sample, now(), "syslog");
        for cut in 0..sample.len() {
            if let Some(prefix) = sample.get(..cut) {
                let _ = parse(prefix, now(), "syslog");
            }
        }
    }
}
