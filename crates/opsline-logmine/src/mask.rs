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

/// `true`/`false`/`null` (any case) and English weekday and month abbreviations.
#[inline]
fn is_keyword(piece: &[u8]) -> bool {
    match piece.len() {
        3 => matches!(
            piece,
            b"Mon"
                | b"Tue"
                | b"Wed"
                | b"Thu"
                | b"Fri"
                | b"Sat"
                | b"Sun"
                | b"Jan"
                | b"Feb"
                | b"Mar"
                | b"Apr"
                | b"May"
                | b"Jun"
                | b"Jul"
                | b"Aug"
                | b"Sep"
                | b"Oct"
                | b"Nov"
                | b"Dec"
        ),
        4 => piece.eq_ignore_ascii_case(b"true") || piece.eq_ignore_ascii_case(b"null"),
        5 => piece.eq_ignore_ascii_case(b"false"),
        _ => false,
    }
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

/// Byte class bits (see [`byte_class`]). Path delimiters are Loghub-2.0's `path_delimiters`;
/// token delimiters (its `token_delimiters`) add `.-+@#$%&`.
const DIGIT: u8 = 1;
const SLASH: u8 = 2;
const PATH_DELIM: u8 = 4;
const TOKEN_DELIM: u8 = 8;
/// ASCII whitespace, which separates tokens.
pub(crate) const BLANK: u8 = 16;
/// Any other byte (letters, other punctuation, non-ASCII).
const OTHER: u8 = 32;

/// Class bits of every byte value.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let mut class = 0;
        if byte.is_ascii_digit() {
            class |= DIGIT;
        }
        if byte == b'/' {
            class |= SLASH;
        }
        if byte.is_ascii_whitespace() {
            class |= BLANK | PATH_DELIM | TOKEN_DELIM;
        }
        if matches!(
            byte,
            b',' | b'!' | b';' | b':' | b'=' | b'|' | b'"' | b'\'' | b'[' | b']' | b'(' | b')' | b'{' | b'}'
        ) {
            class |= PATH_DELIM | TOKEN_DELIM;
        }
        if matches!(byte, b'.' | b'-' | b'+' | b'@' | b'#' | b'$' | b'%' | b'&') {
            class |= TOKEN_DELIM;
        }
        if class == 0 {
            class = OTHER;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// The class bits of a byte; a token's class is the union of its bytes' classes.
#[inline(always)]
pub(crate) fn byte_class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// Masks `token`, appending the rewritten text to `out` when the result is [`Masked::Rewritten`].
/// Tokens longer than `max_len` bytes are treated as variables outright.
#[cfg(test)]
pub(crate) fn mask_token(token: &str, max_len: usize, out: &mut String) -> Masked {
    let class = token.bytes().fold(0, |c, b| c | byte_class(b));
    mask_classified(token, class, max_len, out)
}

/// [`mask_token`] for a token whose class (the union of [`byte_class`] over its bytes) the
/// caller computed while splitting the line.
#[inline]
pub(crate) fn mask_classified(token: &str, class: u8, max_len: usize, out: &mut String) -> Masked {
    let bytes = token.as_bytes();
    if bytes.len() > max_len {
        return Masked::Wildcard;
    }
    // Common shapes decided by the class alone (same outcome as the general path below).
    if class & (DIGIT | SLASH | TOKEN_DELIM) == 0 {
        // One plain piece: only a keyword is variable.
        return if is_keyword(bytes) {
            Masked::Wildcard
        } else {
            Masked::Unchanged
        };
    }
    if class & (SLASH | TOKEN_DELIM) == 0 {
        // One piece with a digit.
        return Masked::Wildcard;
    }
    if class & (PATH_DELIM | SLASH) == SLASH && is_path(bytes) {
        // One path piece.
        return Masked::Wildcard;
    }
    if class & (DIGIT | SLASH) == 0 && !has_keyword_piece(bytes) {
        // Words joined by punctuation (`dfs.DataNode$PacketResponder:`): nothing variable.
        return Masked::Unchanged;
    }
    if class & (OTHER | SLASH) == 0 {
        // Digits and delimiters only: numbers, dates, times, addresses.
        return mask_numeric(token, out);
    }
    mask_pieces(token, out)
}

/// [`mask_pieces`] for tokens made of digits and delimiters only: every piece is a number, so
/// each becomes a wildcard and the delimiters stay (`17:41:44,747` → `<*>:<*>:<*>,<*>`,
/// `10.0.0.1` → `<*>`).
fn mask_numeric(token: &str, out: &mut String) -> Masked {
    // Numbers joined by single `.`, `-` or `+` (`10.0.0.1`, `2005-06-03`) collapse into one
    // wildcard: decide that without writing anything.
    let mut after_digit = false;
    let dotted = token.bytes().all(|b| {
        if b.is_ascii_digit() {
            after_digit = true;
            true
        } else {
            let joins = after_digit && matches!(b, b'.' | b'-' | b'+');
            after_digit = false;
            joins
        }
    });
    if dotted && after_digit {
        return Masked::Wildcard;
    }
    let start = out.len();
    let mut in_number = false;
    for b in token.bytes() {
        if byte_class(b) & TOKEN_DELIM != 0 {
            out.push(char::from(b));
            in_number = false;
        } else if !in_number {
            push_wildcard(out, start);
            in_number = true;
        }
    }
    if &out[start..] == WILDCARD {
        out.truncate(start);
        Masked::Wildcard
    } else {
        Masked::Rewritten
    }
}

/// Whether any piece of the token (split on token delimiters) is a keyword.
#[inline]
fn has_keyword_piece(bytes: &[u8]) -> bool {
    let mut piece_start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if byte_class(b) & TOKEN_DELIM != 0 {
            if (3..=5).contains(&(at - piece_start)) && is_keyword(&bytes[piece_start..at]) {
                return true;
            }
            piece_start = at + 1;
        }
    }
    is_keyword(&bytes[piece_start..])
}

/// The general masking path for tokens with delimiters, in one pass: path pieces (split on path
/// delimiters) that are paths or UUIDs, and sub-pieces (split on token delimiters) holding a
/// digit or a keyword, become wildcards. Nothing is written until the first wildcard; text
/// between wildcards is copied in one piece.
fn mask_pieces(token: &str, out: &mut String) -> Masked {
    let bytes = token.as_bytes();
    let n = bytes.len();
    let start = out.len();
    // Bytes of `token` before `copied` are already reflected in `out`.
    let mut copied = 0;
    let mut rewritten = false;
    let mut at = 0;
    let mut piece_start = true;
    loop {
        // `at` starts a sub-piece (and a path piece when `piece_start`).
        if piece_start && may_be_whole_piece(&bytes[at..]) {
            let end = bytes[at..]
                .iter()
                .position(|&b| byte_class(b) & PATH_DELIM != 0)
                .map_or(n, |p| at + p);
            let piece = &bytes[at..end];
            if is_path(piece) || is_uuid(piece) {
                wildcard_after(out, token, copied, at, start, rewritten);
                copied = end;
                rewritten = true;
                at = end;
            }
        }
        let sub_start = at;
        let mut sub_class = 0;
        let mut delim = 0;
        while at < n {
            let class = byte_class(bytes[at]);
            if class & TOKEN_DELIM != 0 {
                delim = class;
                break;
            }
            sub_class |= class;
            at += 1;
        }
        let sub_len = at - sub_start;
        if (sub_class & DIGIT != 0 || ((3..=5).contains(&sub_len) && is_keyword(&bytes[sub_start..at]))) && sub_len > 0
        {
            wildcard_after(out, token, copied, sub_start, start, rewritten);
            copied = at;
            rewritten = true;
        }
        if at >= n {
            break;
        }
        piece_start = delim & PATH_DELIM != 0;
        at += 1;
    }
    if !rewritten {
        return Masked::Unchanged;
    }
    push_part(out, token, copied, n);
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

/// Whether a path piece starting with `rest` could be a path (`/…`) or a UUID (36 bytes with a
/// `-` at 8): a cheap filter before the exact checks.
#[inline]
fn may_be_whole_piece(rest: &[u8]) -> bool {
    rest.first() == Some(&b'/') || (rest.len() >= 36 && rest[8] == b'-')
}

/// Appends the text `token[from..to]` that precedes a variable, then the wildcard (see
/// [`push_wildcard`]). `after_wildcard` says whether this token's output so far (from `start`)
/// ends with a wildcard, which lets the common joins (`<*>.<*>`, `<*>-<*>`) skip all copying.
#[inline(always)]
fn wildcard_after(out: &mut String, token: &str, from: usize, to: usize, start: usize, after_wildcard: bool) {
    if after_wildcard && (from == to || (to == from + 1 && matches!(token.as_bytes()[from], b'.' | b'-' | b'+'))) {
        return;
    }
    push_part(out, token, from, to);
    push_wildcard(out, start);
}

/// Appends `token[from..to]` (both ends sit next to ASCII delimiters, so they are boundaries).
#[inline]
fn push_part(out: &mut String, token: &str, from: usize, to: usize) {
    if from < to
        && let Some(part) = token.get(from..to)
    {
        out.push_str(part);
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
        assert_eq!(mask("17:41:44,747"), "<*>:<*>:<*>,<*>");
        assert_eq!(mask("2005-06-03-15.42.50.675872"), "<*>");
        assert_eq!(mask("-1"), "-<*>");
        assert_eq!(mask("1..2"), "<*>..<*>");
        assert_eq!(mask("1.2."), "<*>.");
        assert_eq!(mask("10.0.0.1"), "<*>");
        assert_eq!(mask("(12)"), "(<*>)");
        assert_eq!(mask("12345678-1234-1234-1234-123456789012:8"), "<*>:<*>");
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
    fn fast_paths_agree_with_the_general_path() {
        const ALPHABET: &[u8] = b"0123456789abfxyzTR.-+:,=/_@#()[]<*>";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 1 + (seed % 20) as usize;
            let token: String = (0..len)
                .map(|i| char::from(ALPHABET[((seed >> (i * 3)) as usize + i * 7) % ALPHABET.len()]))
                .collect();
            let fast = mask(&token);
            let mut out = String::new();
            let general = match mask_pieces(&token, &mut out) {
                Masked::Unchanged => token.clone(),
                Masked::Wildcard => WILDCARD.to_string(),
                Masked::Rewritten => out,
            };
            assert_eq!(fast, general, "token {token:?}");
        }
    }

    #[test]
    fn long_tokens_are_variables() {
        let long = "a".repeat(300);
        assert_eq!(mask(&long), "<*>");
    }
}
