//! Credentials: values of secret-looking keys (`password: x`, `pwd=x`,
//! `"token": "x"`, `api_key=x` ...), short and non-English password keys as
//! whole words (`pw:`, `pass:`, `Passwort:`, `mot de passe :`), passwords in
//! prose (`my password is hunter2`: a value with a digit, a symbol or inner
//! capitals; a plain word after "is" is taken as prose), strong secret keys
//! followed by a space (`aws_secret_access_key wJalr...`),
//! `Authorization: Bearer/Basic` tokens, passwords in URLs, well-known key
//! shapes (AWS, GitHub, GitLab, Slack bot and app tokens, npm, OpenAI, Google,
//! Stripe, JWT), PEM private key blocks and long high-entropy tokens.
//! Only the secret value is replaced; the key stays readable.

use regex::Regex;

use super::{Span, compile, priority};
use crate::EntityKind;
use crate::checks::shannon_entropy;

/// Values after a secret key that are ordinary words in prose ("my password
/// is expired"), not secrets.
const PROSE_VALUES: &[&str] = &[
    "a",
    "again",
    "an",
    "and",
    "bearer",
    "basic",
    "changed",
    "expired",
    "for",
    "forgotten",
    "has",
    "in",
    "incorrect",
    "invalid",
    "is",
    "locked",
    "missing",
    "n/a",
    "none",
    "not",
    "null",
    "of",
    "on",
    "please",
    "required",
    "reset",
    "the",
    "to",
    "was",
    "wrong",
    "true",
    "false",
    "redacted",
];

/// Compiled credential patterns.
pub(crate) struct SecretRules {
    key_value: Regex,
    localized_key: Regex,
    prose: Regex,
    spaced_key: Regex,
    auth_scheme: Regex,
    url_password: Regex,
    key_shapes: Regex,
    pem: Regex,
    long_token: Regex,
}

impl SecretRules {
    /// Compiles the patterns.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            key_value: compile(
                r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?key|credentials?|session|cookie|authorization)[a-z0-9_.-]*["']?\s*[:=]\s*("[^"\n]*"|'[^'\n]*'|[^\s,;&"'}<>)\]]+)"#,
            )?,
            // Whole words only: `passed: 3` and `bypass=on` are not passwords.
            localized_key: Regex::new(concat!(
                r#"(?i)(?:^|[^\p{L}\p{N}_])(?:pw|pass|passwort|kennwort|mot de passe|mot-de-passe|contrase[ñn]a|clave|senha|"#,
                r#"wachtwoord|l[öo]senord|salasana|has[łl]o|heslo|пароль|密码|密碼|パスワード|비밀번호)\s*[:=：]\s*"#,
                r#"("[^"\n]*"|'[^'\n]*'|[^\s,;&"'}<>)\]]+)"#
            ))
            .ok()?,
            prose: compile(
                r#"(?i)\b(?:password|passwort|passcode|passphrase|pwd|pin)\s+(?:is|was|is now|will be|would be|is set to|set to)\s+["']?([^\s"',;]+)"#,
            )?,
            spaced_key: compile(
                r#"(?i)\b[a-z0-9_.-]*(?:secret[_-]?access[_-]?key|secret[_-]?key|client[_-]?secret|api[_-]?key|private[_-]?key|access[_-]?token|auth[_-]?token)["']?[ \t]+([A-Za-z0-9/+=_.-]{16,})"#,
            )?,
            auth_scheme: compile(r"(?i)\b(?:bearer|basic|token)\s+([A-Za-z0-9._~+/=-]{8,})")?,
            url_password: compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@")?,
            key_shapes: compile(concat!(
                r"\b(?:(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}",
                r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}",
                r"|xox[abposr]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Za-z0-9-]{10,250}",
                r"|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}",
                r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
                r"|AIza[0-9A-Za-z_-]{35}",
                r"|[sr]k_(?:live|test)_[0-9A-Za-z]{16,}",
                r"|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"
            ))?,
            pem: compile(r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)")?,
            long_token: compile(r"[A-Za-z0-9+/_=-]{24,}")?,
        })
    }

    /// Reports credential spans.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<Span>) {
        let secret = |start: usize, end: usize, priority: u8| Span {
            start,
            end,
            kind: EntityKind::Secret,
            priority,
        };
        for m in self.pem.find_iter(text) {
            out.push(secret(m.start(), m.end(), priority::PEM));
        }
        for caps in self
            .key_value
            .captures_iter(text)
            .chain(self.localized_key.captures_iter(text))
        {
            let Some(value) = caps.get(1) else { continue };
            let (mut start, mut end) = (value.start(), value.end());
            let raw = value.as_str();
            if raw.len() >= 2 && (raw.starts_with('"') || raw.starts_with('\'')) {
                start += 1;
                end -= 1;
            }
            let inner = text.get(start..end).unwrap_or_default();
            if !inner.trim().is_empty() && !is_prose_word(inner) {
                out.push(secret(start, end, priority::SECRET));
            }
        }
        for caps in self.prose.captures_iter(text) {
            let Some(value) = caps.get(1) else { continue };
            let trimmed = value.as_str().trim_end_matches(['.', '!', '?', ')', ':']);
            if looks_like_password(trimmed) && !is_prose_word(trimmed) {
                out.push(secret(value.start(), value.start() + trimmed.len(), priority::SECRET));
            }
        }
        for caps in self.spaced_key.captures_iter(text) {
            if let Some(value) = caps.get(1) {
                out.push(secret(value.start(), value.end(), priority::SECRET));
            }
        }
        for caps in self.auth_scheme.captures_iter(text) {
            let Some(value) = caps.get(1) else { continue };
            // A lower-case word after "token" is prose ("token validation").
            if !value.as_str().bytes().all(|b| b.is_ascii_lowercase()) {
                out.push(secret(value.start(), value.end(), priority::SECRET));
            }
        }
        for caps in self.url_password.captures_iter(text) {
            if let Some(value) = caps.get(1) {
                out.push(secret(value.start(), value.end(), priority::SECRET));
            }
        }
        for m in self.key_shapes.find_iter(text) {
            out.push(secret(m.start(), m.end(), priority::SECRET));
        }
        for m in self.long_token.find_iter(text) {
            if high_entropy(m.as_str().as_bytes()) {
                out.push(secret(m.start(), m.end(), priority::ENTROPY));
            }
        }
    }
}

/// An ordinary word in prose after a secret key ("my password is expired").
fn is_prose_word(value: &str) -> bool {
    PROSE_VALUES.iter().any(|w| value.eq_ignore_ascii_case(w))
}

/// A word after "password is" that looks chosen rather than written: it has a digit, a symbol
/// or a capital after its first letter. "my password is hunter" is taken as prose (a limit).
fn looks_like_password(value: &str) -> bool {
    !value.is_empty()
        && value.chars().enumerate().any(|(i, c)| {
            c.is_ascii_digit() || (!c.is_alphanumeric() && c != '-' && c != '\'') || (i > 0 && c.is_uppercase())
        })
}

/// A random-looking token: upper, lower and digits mixed, high entropy.
/// Hex ids (commit hashes, UUIDs) and CamelCase words do not qualify.
fn high_entropy(token: &[u8]) -> bool {
    let upper = token.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = token.iter().filter(|b| b.is_ascii_lowercase()).count();
    let digits = token.iter().filter(|b| b.is_ascii_digit()).count();
    upper >= 2 && lower >= 2 && digits >= 2 && shannon_entropy(token) >= 4.0
}
