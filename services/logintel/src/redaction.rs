//! Redaction of secrets from sample lines before they leave the service in an alert.
//!
//! Removed: values of secret-looking keys in `key=value` / `key: value` /
//! `"key": "value"` form (passwords, tokens, keys, secrets, credentials,
//! sessions, cookies), bearer and basic authorization tokens, passwords in URLs
//! (`scheme://user:pass@`), JSON Web Tokens, AWS access key ids and e-mail
//! addresses. Control characters are replaced and lines are capped in length,
//! so a sample is always printable and small.

use std::sync::LazyLock;

use regex::Regex;

/// What replaces a secret value.
pub const REDACTED: &str = "[REDACTED]";
/// What replaces an e-mail address.
pub const EMAIL: &str = "[EMAIL]";

struct Rules {
    key_value: Regex,
    bearer: Regex,
    url_password: Regex,
    jwt: Regex,
    aws_key: Regex,
    email: Regex,
}

static RULES: LazyLock<Option<Rules>> = LazyLock::new(|| {
    Some(Rules {
        key_value: Regex::new(
            r#"(?i)((?:[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|session[_-]?id|cookie|auth)[a-z0-9_.-]*)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)"#,
        )
        .ok()?,
        bearer: Regex::new(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}").ok()?,
        url_password: Regex::new(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@").ok()?,
        jwt: Regex::new(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*").ok()?,
        aws_key: Regex::new(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b").ok()?,
        email: Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}").ok()?,
    })
});

/// Redacts secrets from `line` and caps it at `max_chars` characters.
pub fn redact(line: &str, max_chars: usize) -> String {
    let capped: String = line
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c })
        .collect();
    let Some(rules) = RULES.as_ref() else {
        // The patterns are constants; if they ever failed to compile, leak nothing.
        return REDACTED.to_owned();
    };
    let text = rules.url_password.replace_all(&capped, format!("${{1}}{REDACTED}@"));
    let text = rules.jwt.replace_all(&text, REDACTED);
    let text = rules.bearer.replace_all(&text, format!("${{1}}${{2}}{REDACTED}"));
    let text = rules.key_value.replace_all(&text, |caps: &regex::Captures<'_>| {
        let value = caps.get(2).map(|m| m.as_str()).unwrap_or_default();
        let key = caps.get(1).map(|m| m.as_str()).unwrap_or_default();
        if value.eq_ignore_ascii_case("bearer") || value.eq_ignore_ascii_case("basic") || value == REDACTED {
            caps.get(0).map(|m| m.as_str().to_owned()).unwrap_or_default()
        } else {
            format!("{key}{REDACTED}")
        }
    });
    let text = rules.aws_key.replace_all(&text, REDACTED);
    let text = rules.email.replace_all(&text, EMAIL);
    let mut out = text.into_owned();
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
        assert_eq!(r(r#"{"token": "abc.def", "x": 1}"#), r#"{"token": [REDACTED], "x": 1}"#);
        assert_eq!(
            r("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            "AWS_SECRET_ACCESS_KEY=[REDACTED]"
        );
        assert_eq!(r("pwd='x y z' done"), "pwd=[REDACTED] done");
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
