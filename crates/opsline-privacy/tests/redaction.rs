//! Detector behaviour through the public API: positives, look-alike
//! negatives, placeholder consistency, restore, and robustness.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use opsline_privacy::{EntityKind, Redactor, RedactorConfig};

fn r(text: &str) -> String {
    Redactor::default().redact(text)
}

fn unchanged(text: &str) {
    assert_eq!(r(text), text, "should not be redacted: {text}");
}

#[test]
fn emails() {
    assert_eq!(r("mail alice.smith+it@example.co.uk now"), "mail <EMAIL_1> now");
    assert_eq!(r("a@b.io, c@d.io and a@b.io"), "<EMAIL_1>, <EMAIL_2> and <EMAIL_1>");
    assert_eq!(r("Alice@Example.com vs alice@example.com"), "<EMAIL_1> vs <EMAIL_1>");
    unchanged("ping me @alice or user@localhost");
}

#[test]
fn phones() {
    assert_eq!(r("call +44 20 7946 0958 please"), "call <PHONE_1> please");
    assert_eq!(r("call +1 (555) 123-4567."), "call <PHONE_1>.");
    assert_eq!(r("tel: +49-30-1234567"), "tel: <PHONE_1>");
    assert_eq!(r("(555) 123-4567"), "<PHONE_1>");
    assert_eq!(r("on 555-123-4567 or 555.123.4567"), "on <PHONE_1> or <PHONE_1>");
    assert_eq!(r("on 555-123-4567 or 555-123-9999"), "on <PHONE_1> or <PHONE_2>");
    assert_eq!(r("desk 020 7946 0958"), "desk <PHONE_1>");
    assert_eq!(r("mobile 06 12 34 56 78"), "mobile <PHONE_1>");
    assert_eq!(r("mobile 07700900123"), "mobile <PHONE_1>");
}

#[test]
fn phone_look_alikes_are_kept() {
    unchanged("on 2024-01-15 at 10:30:45 UTC");
    unchanged("date 15/01/2024 and 01-02-2024 and 2024 01 15");
    unchanged("upgrade to 1.2.3 then 10.4.22");
    unchanged("ticket INC-0012345678 and TCK-555-123-4567");
    unchanged("retry 3 of 5, code 404, took 1234 ms, 42 items");
    unchanged("build 20240115 id 1234567890");
    unchanged("offset +3600 and +5");
}

#[test]
fn ip_addresses() {
    assert_eq!(r("from 10.0.0.12 to 192.168.1.1."), "from <IP_1> to <IP_2>.");
    assert_eq!(r("host 2001:db8::8a2e:370:7334 down"), "host <IP_1> down");
    assert_eq!(r("[fe80::1]:8080"), "[<IP_1>]:8080");
    assert_eq!(r("bind ::1 failed"), "bind <IP_1> failed");
    unchanged("version 1.2.3.4.5 and 999.1.1.1 and 10.0.0");
    unchanged("use std::io::Error; at 12:30:45, mac 00:1a:2b:3c:4d:5e");
    unchanged("v1.2.3.4 released");
}

#[test]
fn key_value_credentials_keep_the_key() {
    assert_eq!(r("login password: hunter2 ok"), "login password: <SECRET_1> ok");
    assert_eq!(r("pwd=abc123&user=bob"), "pwd=<SECRET_1>&user=bob");
    assert_eq!(r("passwd = 's3 cr3t'"), "passwd = '<SECRET_1>'");
    assert_eq!(
        r(r#"{"api_key": "AbC123", "x": 1}"#),
        r#"{"api_key": "<SECRET_1>", "x": 1}"#
    );
    assert_eq!(
        r("DB_PASSWORD=x1 CLIENT_SECRET=y2"),
        "DB_PASSWORD=<SECRET_1> CLIENT_SECRET=<SECRET_2>"
    );
    assert_eq!(r("token=t0k3n"), "token=<SECRET_1>");
    assert_eq!(r("Set session=abc123; path=/"), "Set session=<SECRET_1>; path=/");
    assert_eq!(r("Cookie: session=abc123; path=/"), "Cookie: <SECRET_1>; path=/");
    assert_eq!(
        r("password=x1 again password=x1"),
        "password=<SECRET_1> again password=<SECRET_1>"
    );
}

#[test]
fn prose_about_passwords_is_kept() {
    unchanged("I forgot my password: please reset it");
    unchanged("password reset requested, token expired yesterday");
    unchanged("the token validation failed");
}

#[test]
fn authorization_and_url_credentials() {
    assert_eq!(
        r("Authorization: Bearer abcDEF123456789xyz"),
        "Authorization: Bearer <SECRET_1>"
    );
    assert_eq!(
        r("authorization: Basic dXNlcjpwYXNz"),
        "authorization: Basic <SECRET_1>"
    );
    assert_eq!(
        r("postgres://app:pa55word@db:5432/x"),
        "postgres://app:<SECRET_1>@db:5432/x"
    );
}

#[test]
fn known_key_shapes() {
    assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key <SECRET_1> used");
    assert_eq!(r("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "<SECRET_1>");
    assert_eq!(r("slack xoxb-123456789012-abcdefghij"), "slack <SECRET_1>");
    assert_eq!(r("openai sk-proj-abcdefghijklmnopqrstuvwx"), "openai <SECRET_1>");
    assert_eq!(
        r("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature ok"),
        "jwt <SECRET_1> ok"
    );
    let pem = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\ndone";
    assert_eq!(r(pem), "key:\n<SECRET_1>\ndone");
    assert_eq!(r("-----BEGIN PRIVATE KEY-----\nMIIE truncated"), "<SECRET_1>");
    assert_eq!(r("blob Zx9Qm2Lr7Tb4Wk8Jc1Vn5Hd3Pq6Ys0Ag end"), "blob <SECRET_1> end");
}

#[test]
fn ordinary_identifiers_are_kept() {
    unchanged("commit 3f786850e387550fdab836ed7e6dc881de23001b and id 123e4567-e89b-12d3-a456-426614174000");
    unchanged("class PacketResponderTerminatingHandler failed");
    unchanged("path /var/lib/opsline/data/segments/000123.log");
    unchanged("skill sk-learn and ghp_short");
}

#[test]
fn payment_cards() {
    assert_eq!(r("card 4111 1111 1111 1111 exp"), "card <CARD_1> exp");
    assert_eq!(r("card 4111-1111-1111-1111"), "card <CARD_1>");
    assert_eq!(r("amex 3782 822463 10005"), "amex <CARD_1>");
    assert_eq!(r("4111111111111111 and 4111 1111 1111 1111"), "<CARD_1> and <CARD_1>");
    assert_eq!(r("card 4111 1111 1111 1111 2024"), "card <CARD_1> 2024");
}

#[test]
fn card_look_alikes_are_kept() {
    unchanged("card 4111 1111 1111 1112");
    unchanged("epoch 1700000000000 ms");
    unchanged("order 1234 5678 9012 3456");
}

#[test]
fn ibans() {
    assert_eq!(r("IBAN DE89 3704 0044 0532 0130 00 thanks"), "IBAN <IBAN_1> thanks");
    assert_eq!(r("to GB82WEST12345698765432."), "to <IBAN_1>.");
    unchanged("to DE89 3704 0044 0532 0130 01");
    unchanged("code AB12CDEFGHIJKLMNOP");
}

#[test]
fn national_ids() {
    assert_eq!(r("SSN 123-45-6789."), "SSN <NATIONAL_ID_1>.");
    assert_eq!(r("NINO AB 12 34 56 C"), "NINO <NATIONAL_ID_1>");
    assert_eq!(r("NINO AB123456C"), "NINO <NATIONAL_ID_1>");
    unchanged("SSN 000-45-6789 666-45-6789 912-45-6789 123-00-6789 123-45-0000");
    unchanged("ids GB123456A and 1123-45-6789");
}

#[test]
fn person_names_from_the_directory() {
    let redactor = Redactor::new(RedactorConfig {
        person_names: vec!["Ann Lee".into(), "Bob".into(), "Jo".into()],
    });
    assert_eq!(
        redactor.redact("ann  lee asked bob; Bobby and jo not"),
        "<PERSON_1> asked <PERSON_2>; Bobby and jo not"
    );
    let mut session = redactor.session();
    assert_eq!(session.redact("Bob"), "<PERSON_1>");
    assert_eq!(session.redact("BOB and Ann Lee"), "<PERSON_1> and <PERSON_2>");
    assert_eq!(session.restore("hi <PERSON_2>, <PERSON_1>"), "hi Ann Lee, Bob");
}

#[test]
fn sessions_are_consistent_and_restore() {
    let redactor = Redactor::default();
    let mut session = redactor.session();
    let subject = session.redact("VPN down for alice@example.com");
    let body = session.redact("alice@example.com from 10.1.2.3, password=x9, cc bob@example.com");
    assert_eq!(subject, "VPN down for <EMAIL_1>");
    assert_eq!(body, "<EMAIL_1> from <IP_1>, password=<SECRET_1>, cc <EMAIL_2>");
    assert_eq!(
        session.restore(&body),
        "alice@example.com from 10.1.2.3, password=x9, cc bob@example.com"
    );
    assert_eq!(
        session.restore("unknown <EMAIL_9> and <CARD_1>"),
        "unknown <EMAIL_9> and <CARD_1>"
    );
    let findings = session.findings();
    assert_eq!(findings.len(), 4);
    assert_eq!(findings[0].kind, EntityKind::Email);
    assert_eq!(findings[0].placeholder, "<EMAIL_1>");
    let summary = session.audit_summary();
    assert_eq!(summary.get(&EntityKind::Email), Some(&2));
    assert_eq!(summary.get(&EntityKind::Secret), Some(&1));
    let debug = format!("{session:?}");
    assert!(!debug.contains("alice") && !debug.contains("x9"));
    let json = serde_json::to_string(findings).unwrap();
    assert!(!json.contains("alice"));
}

#[test]
fn redaction_is_idempotent_on_placeholders() {
    let once = r("alice@example.com 4111 1111 1111 1111 password=x");
    assert_eq!(r(&once), once);
}

#[test]
fn mask_with_labels() {
    let masked = Redactor::default().mask_with("a@b.io pwd=x", |k| {
        if k == EntityKind::Email {
            "[EMAIL]"
        } else {
            "[REDACTED]"
        }
    });
    assert_eq!(masked, "[EMAIL] pwd=[REDACTED]");
}

#[test]
fn hostile_inputs_do_not_panic_and_stay_fast() {
    let redactor = Redactor::new(RedactorConfig {
        person_names: vec!["Zoë Ångström".into()],
    });
    for text in [
        String::new(),
        "\u{0}\u{1}\u{fffd}\u{202e}".repeat(1000),
        "é".repeat(10_000),
        "1 ".repeat(50_000),
        "1-".repeat(50_000),
        ":".repeat(50_000),
        "a:".repeat(50_000),
        "password=".repeat(20_000),
        "-----BEGIN PRIVATE KEY-----".repeat(5_000),
        "A1b2".repeat(50_000),
        "zoë ångström ".repeat(5_000),
        "+1 ".repeat(30_000),
        "@a.".repeat(30_000),
    ] {
        let out = redactor.redact(&text);
        assert!(out.len() <= text.len() * 4 + 16);
    }
    let big = "user alice@example.com from 10.0.0.1 paid 4111 1111 1111 1111; ".repeat(5_000);
    let out = redactor.redact(&big);
    assert!(!out.contains("alice@example.com"));
    assert!(!out.contains("4111"));
}

#[test]
fn deterministic() {
    let text = "a@b.io +44 20 7946 0958 10.0.0.1 DE89370400440532013000 123-45-6789 token=abc";
    assert_eq!(r(text), r(text));
    assert_eq!(
        r(text),
        "<EMAIL_1> <PHONE_1> <IP_1> <IBAN_1> <NATIONAL_ID_1> token=<SECRET_1>"
    );
}

#[test]
fn mask_credentials_masks_secrets_and_cards_only() {
    let redactor = Redactor::default();
    let text =
        "alice@example.com cannot log in, password: Hunter2!xyz, card 4111 1111 1111 1111, call +44 20 7946 0958";
    let masked = redactor.mask_credentials(text).unwrap();
    assert_eq!(
        masked,
        "alice@example.com cannot log in, password: <SECRET>, card <CARD>, call +44 20 7946 0958"
    );
    assert_eq!(
        redactor.mask_credentials("my password is expired, please reset it"),
        None
    );
    assert_eq!(redactor.mask_credentials("vpn drops every 5 minutes"), None);
    // mask_with keeps masking every kind.
    assert_eq!(
        redactor.mask_with("mail a@b.io token=abcdef123456", |kind| kind.as_str()),
        "mail email token=secret"
    );
}

#[test]
fn mask_credentials_keeps_paths_and_ids_in_log_lines() {
    let redactor = Redactor::default();
    for line in [
        "ciod: Error loading /bgl/apps/scaletest/performance/MINIBEN/mb_243_0810/allreduce.rts: invalid program image",
        "ciod: Error loading /home/auser3/develf/taddriver.a3k9x2m8q7w1.exe: program image too big",
        "build 9f8e7d6c5b4a39281706f5e4d3c2b1a0 finished",
    ] {
        assert_eq!(redactor.mask_credentials(line), None, "{line}");
    }
    assert_eq!(
        redactor
            .mask_credentials("login ok user=bob token=sk-canaryABCDEFGHIJKLMNOPQRSTUV0123456789")
            .as_deref(),
        Some("login ok user=bob token=<SECRET>")
    );
}
