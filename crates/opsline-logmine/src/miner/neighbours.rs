//! Variable rules that look at the previous token of the line: a size or time unit written
//! after its number (`5.2 KB`, `15 ms`) and a user name after the word `user`
//! (`session opened for user alice`).

/// Unit abbreviations that follow a number (case-sensitive; spelled-out words such as
/// `seconds` or `bytes` stay, they are part of the message).
const UNITS: &[&str] = &[
    "B", "KB", "MB", "GB", "TB", "PB", "kB", "KiB", "MiB", "GiB", "TiB", "ms", "us", "µs", "ns",
];

/// The longest unit, in bytes.
pub(super) const MAX_UNIT_BYTES: usize = 3;

/// Words after `user` that are part of the message, not a name.
const NOT_NAMES: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "has", "id", "in", "is", "name", "not", "of", "on", "or",
    "session", "the", "to", "unknown", "was", "with",
];

/// Splits one trailing `,`, `;`, `:`, `)` or `.` off a word.
pub(super) fn split_trailing_punct(raw: &str) -> (&str, &str) {
    match raw.as_bytes().last() {
        Some(b',' | b';' | b':' | b')' | b'.') if raw.len() > 1 => raw.split_at(raw.len() - 1),
        _ => (raw, ""),
    }
}

/// Whether `word` is a unit abbreviation.
pub(super) fn is_unit(word: &str) -> bool {
    UNITS.contains(&word)
}

/// Whether `word`, following the word `user`, is a user name: it looks like an account name
/// (letters, digits, `.`, `_`, `-`, starting with a letter or `_`) and is not a common word.
pub(super) fn is_user_name(word: &str) -> bool {
    word.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !NOT_NAMES.iter().any(|w| word.eq_ignore_ascii_case(w))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn units_and_punctuation() {
        assert_eq!(split_trailing_punct("KB,"), ("KB", ","));
        assert_eq!(split_trailing_punct("KB"), ("KB", ""));
        assert_eq!(split_trailing_punct(","), (",", ""));
        assert!(is_unit("MiB") && is_unit("ms") && !is_unit("seconds") && !is_unit("kb"));
        assert!(UNITS.iter().all(|u| u.len() <= MAX_UNIT_BYTES));
    }

    #[test]
    fn user_names_follow_user() {
        assert!(is_user_name("jdoe"));
        assert!(is_user_name("svc_backup-2"));
        assert!(!is_user_name("unknown"));
        assert!(!is_user_name("from"));
        assert!(!is_user_name("<*>"));
        assert!(!is_user_name("2fa"));
    }
}
