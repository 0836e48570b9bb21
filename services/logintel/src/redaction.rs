//! Redaction of sample lines before they leave the service in an alert: a thin
//! wrapper over `opsline-privacy` (the one redaction implementation) that
//! labels findings without numbering (`[REDACTED]`, `[EMAIL]`), replaces
//! control characters and caps the length, so a sample is always printable,
//! small and free of credentials, e-mail addresses, phone numbers, IPs, card
//! numbers, IBANs and national ids.

use std::sync::LazyLock;

use opsline_privacy::{EntityKind, Redactor};

/// What replaces a secret or any other sensitive value.
pub const REDACTED: &str = "[REDACTED]";
/// What replaces an e-mail address.
pub const EMAIL: &str = "[EMAIL]";

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// Redacts sensitive values from `line` and caps it at `max_chars` characters.
pub fn redact(line: &str, max_chars: usize) -> String {
    let capped: String = line
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c })
        .collect();
    let mut out = REDACTOR.mask_with(&capped, |kind| if kind == EntityKind::Email { EMAIL } else { REDACTED });
    if line.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn r(line: &str) -> String {
        redact(line, 1000)
    }

    #[test]
    fn key_value_secrets() {
        assert_eq!(
            r("login user=bob password=hunter2 ok"),
            "login user=bob password=[REDACTED] ok"
        );
        assert_eq!(r("db_password: s3cr3t!"), "db_password: [REDACTED]");
        assert_eq!(r("api_key=AbC123&next=1"), "api_key=[REDACTED]&next=1");
        assert_eq!(
            r(r#"{"token": "abc.def", "x": 1}"#),
            r#"{"token": "[REDACTED]", "x": 1}"#
        );
        assert_eq!(
            r("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            "AWS_SECRET_ACCESS_KEY=[REDACTED]"
        );
        assert_eq!(r("pwd='x y z' done"), "pwd='[REDACTED]' done");
    }

    #[test]
    fn tokens_urls_and_emails() {
        assert_eq!(
            r("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(r("header bearer abcdefghijklmnop1234"), "header bearer [REDACTED]");
        assert_eq!(
            r("connect postgres://app:pa55word@db:5432/x"),
            "connect postgres://app:[REDACTED]@db:5432/x"
        );
        assert_eq!(
            r("mail from alice.smith@example.com failed"),
            "mail from [EMAIL] failed"
        );
        assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key [REDACTED] used");
        assert_eq!(
            r("paid with 4111 1111 1111 1111 from 10.0.0.7"),
            "paid with [REDACTED] from [REDACTED]"
        );
    }

    #[test]
    fn ordinary_lines_are_unchanged() {
        let line =
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3886 terminating";
        assert_eq!(r(line), line);
        let bgl =
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected";
        assert_eq!(r(bgl), bgl);
    }

    #[test]
    fn long_and_binary_lines_are_capped_and_printable() {
        let long = "x".repeat(10_000);
        assert_eq!(r(&long).chars().count(), 1001);
        assert_eq!(r("a\u{0}b\u{7}c"), "a\u{FFFD}b\u{FFFD}c");
    }
}
