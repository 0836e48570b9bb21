//! Built-in masking of obvious variables inside one token.
//!
//! A token is split on punctuation (the delimiter sets Loghub-2.0 uses to normalise templates);
//! path-like pieces (`/a/b`), pieces containing a digit (numbers, hex, ids, IPs, UUIDs, versions,
//! durations such as `15ms`), UUIDs, the literals `true`/`false`/`null` and weekday and month
//! abbreviations (dates) become `<*>`; runs of
//! wildcards joined by `.`, `-` or `+` collapse into one. Delimiters such as `=` and `:` survive, so
//! `uid=0` becomes `uid=<*>` and `10.0.0.1:80` becomes `<*>:<*>`.

/// The wildcard text.
pub const WILDCARD: &str = "<*>";

/// Outcome of masking one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Masked {
    /// Nothing variable: the token stays as written.
    Unchanged,
    /// The whole token is a variable.
    Wildcard,
    /// Part of the token is variable: the masked text was appended to the output buffer.
    Rewritten,
}

/// Delimiters that end a path-like piece (Loghub-2.0 `path_delimiters`).
fn is_path_delim(b: u8) -> bool {
    matches!(
        b,
        b',' | b'!' | b';' | b':' | b'=' | b'|' | b'"' | b'\'' | b'[' | b']' | b'(' | b')' | b'{' | b'}'
    ) || b.is_ascii_whitespace()
}

/// Delimiters that split pieces for the digit rule (Loghub-2.0 `token_delimiters`).
fn is_token_delim(b: u8) -> bool {
    is_path_delim(b) || matches!(b, b'.' | b'-' | b'+' | b'@' | b'#' | b'$' | b'%' | b'&')
}

fn is_keyword(piece: &[u8]) -> bool {
    const CALENDAR: [&[u8]; 19] = [
        b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun", b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul",
        b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    piece.eq_ignore_ascii_case(b"true")
        || piece.eq_ignore_ascii_case(b"false")
        || piece.eq_ignore_ascii_case(b"null")
        || (piece.len() == 3 && CALENDAR.contains(&piece))
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(piece: &[u8]) -> bool {
    piece.len() == 36
        && piece.iter().enumerate().all(|(i, &b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// `^(/[^/]+)+$`
fn is_path(piece: &[u8]) -> bool {
    piece.len() >= 2 && piece[0] == b'/' && piece[piece.len() - 1] != b'/' && !piece.windows(2).any(|w| w == b"//")
}

/// Fast pre-check: does the token need any rewriting at all?
fn needs_masking(token: &[u8]) -> bool {
    let mut piece_start = 0;
    for (i, &b) in token.iter().enumerate() {
        if b.is_ascii_digit() || b == b'/' {
            return true;
        }
        if is_token_delim(b) {
            if is_keyword(&token[piece_start..i]) {
                return true;
            }
            piece_start = i + 1;
        }
    }
    is_keyword(&token[piece_start..])
}

/// Masks `token`, appending the rewritten text to `out` when the result is [`Masked::Rewritten`].
/// Tokens longer than `max_len` bytes are treated as variables outright.
pub(crate) fn mask_token(token: &str, max_len: usize, out: &mut String) -> Masked {
    let bytes = token.as_bytes();
    if bytes.len() > max_len {
        return Masked::Wildcard;
    }
    if !needs_masking(bytes) {
        return Masked::Unchanged;
    }
    let start = out.len();
    let mut p_start = 0;
    for i in 0..=bytes.len() {
        if i < bytes.len() && !is_path_delim(bytes[i]) {
            continue;
        }
        mask_path_piece(&token[p_start..i], out, start);
        if i < bytes.len() {
            out.push(char::from(bytes[i]));
        }
        p_start = i + 1;
    }
    let masked = &out[start..];
    if masked == WILDCARD {
        out.truncate(start);
        Masked::Wildcard
    } else if masked == token {
        out.truncate(start);
        Masked::Unchanged
    } else {
        Masked::Rewritten
    }
}

fn mask_path_piece(piece: &str, out: &mut String, start: usize) {
    let bytes = piece.as_bytes();
    if is_path(bytes) || is_uuid(bytes) {
        push_wildcard(out, start);
        return;
    }
    let mut s = 0;
    for i in 0..=bytes.len() {
        if i < bytes.len() && !is_token_delim(bytes[i]) {
            continue;
        }
        let sub = &bytes[s..i];
        if !sub.is_empty() && (sub.iter().any(u8::is_ascii_digit) || is_keyword(sub)) {
            push_wildcard(out, start);
        } else {
            out.push_str(&piece[s..i]);
        }
        if i < bytes.len() {
            out.push(char::from(bytes[i]));
        }
        s = i + 1;
    }
}

/// Appends `<*>` unless this token's output (from byte `start`) already ends with one, possibly
/// followed by `.`, `-` or `+` (which is then dropped): consecutive variables merge, as do
/// variables joined by those separators (`10.0.0.1` → `<*>`).
fn push_wildcard(out: &mut String, start: usize) {
    let tail = &out.as_bytes()[start..];
    if tail.ends_with(b"<*>") {
        return;
    }
    let n = tail.len();
    if n >= 4 && &tail[n - 4..n - 1] == b"<*>" && matches!(tail[n - 1], b'.' | b'-' | b'+') {
        out.pop();
        return;
    }
    out.push_str(WILDCARD);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn mask(t: &str) -> String {
        let mut out = String::new();
        match mask_token(t, 256, &mut out) {
            Masked::Unchanged => t.to_string(),
            Masked::Wildcard => WILDCARD.to_string(),
            Masked::Rewritten => out,
        }
    }

    #[test]
    fn masks_numbers_hex_ips_uuids() {
        assert_eq!(mask("1702"), "<*>");
        assert_eq!(mask("0x1f"), "<*>");
        assert_eq!(mask("10.251.73.220"), "<*>");
        assert_eq!(mask("10.251.73.220:50010"), "<*>:<*>");
        assert_eq!(mask("38101a0b-2096-447d-96ea-a692162415ae"), "<*>");
        assert_eq!(mask("blk_-6952295868487656571"), "blk_-<*>");
        assert_eq!(mask("blk_38865049064139660"), "<*>");
        assert_eq!(mask("15ms"), "<*>");
        assert_eq!(mask("v6.1.7601.23505"), "<*>");
    }

    #[test]
    fn keeps_keys_and_plain_words() {
        assert_eq!(mask("uid=0"), "uid=<*>");
        assert_eq!(mask("(HWID=1973)"), "(HWID=<*>)");
        assert_eq!(mask("terminating"), "terminating");
        assert_eq!(mask("dfs.DataNode$PacketResponder:"), "dfs.DataNode$PacketResponder:");
    }

    #[test]
    fn masks_paths_and_literals() {
        assert_eq!(mask("/etc/httpd/conf/workers2.properties"), "<*>");
        assert_eq!(mask("/10.10.34.11:45307"), "<*>:<*>");
        assert_eq!(mask("allDrawn=false,"), "allDrawn=<*>,");
        assert_eq!(mask("null"), "<*>");
    }

    #[test]
    fn masking_is_independent_of_previous_tokens() {
        let mut out = String::from("earlier:<*>");
        assert_eq!(mask_token("0", 256, &mut out), Masked::Wildcard);
        assert_eq!(mask_token("x=1", 256, &mut out), Masked::Rewritten);
        assert_eq!(&out[11..], "x=<*>");
    }

    #[test]
    fn long_tokens_are_variables() {
        let long = "a".repeat(300);
        assert_eq!(mask(&long), "<*>");
    }
}
