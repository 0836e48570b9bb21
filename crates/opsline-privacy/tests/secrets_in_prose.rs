//! #16 item 11: credentials in prose, short and non-English keys and newer token shapes never
//! leave in clear.

use opsline_privacy::Redactor;

/// Each case: the text and the secret that must not survive redaction.
const CASES: &[(&str, &str)] = &[
    ("db login password=letmein", "letmein"),
    ("my password is hunter2", "hunter2"),
    ("My new password is Tr0ub4dor&3 please keep it", "Tr0ub4dor&3"),
    ("the password was hunter2 yesterday", "hunter2"),
    ("pw: hunter2", "hunter2"),
    ("pass: hunter2", "hunter2"),
    ("Passwort: geheim123", "geheim123"),
    ("mot de passe : soleil42", "soleil42"),
    ("contraseña: sol42luna", "sol42luna"),
    (
        "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE",
    ),
    (
        "slack app token xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef",
        "xapp-1-A0123456789",
    ),
    ("gitlab glpat-ABCDEFghijkl12345678 leaked", "glpat-ABCDEFghijkl12345678"),
    (
        "npm token npm_abcdefghijklmnopqrstuvwxyz0123456789 in .npmrc",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
];

#[test]
fn secrets_never_leave_in_clear() {
    let redactor = Redactor::default();
    let mut leaks = Vec::new();
    for (text, secret) in CASES {
        let redacted = redactor.redact(text);
        if redacted.contains(secret) {
            leaks.push(format!("{text:?} -> {redacted:?}"));
        }
    }
    assert!(leaks.is_empty(), "secrets left in clear:\n{}", leaks.join("\n"));
}

/// Prose about passwords without one stays readable.
#[test]
fn prose_about_passwords_is_not_masked() {
    let redactor = Redactor::default();
    for text in [
        "my password is expired",
        "my password is not working",
        "the password was reset yesterday",
        "I forgot my password",
        "password reset please",
        "pass the salt",
        "npm install failed",
    ] {
        assert_eq!(redactor.redact(text), text, "{text}");
    }
}

/// Token shapes are masked by their prefix, not only when they look random.
#[test]
fn token_shapes_are_masked_whatever_their_entropy() {
    let redactor = Redactor::default();
    for token in [
        "xapp-1-abcdefghijklmnop",
        "glpat-abcdefghijklmnopqrst",
        "npm_abcdefghijklmnopqrstuvwxyzabcdefghij",
    ] {
        let text = format!("leaked {token} here");
        assert!(!redactor.redact(&text).contains(token), "{text}");
    }
}

/// Log words that merely contain a key are left alone.
#[test]
fn words_containing_short_keys_are_not_masked() {
    let redactor = Redactor::default();
    for text in ["tests passed: 12", "bypass=on", "compass: north", "PIN is required"] {
        assert_eq!(redactor.redact(text), text, "{text}");
    }
}
