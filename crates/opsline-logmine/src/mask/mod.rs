//! Built-in masking of obvious variables inside one token.
//!
//! A token is split on punctuation (the delimiter sets Loghub-2.0 uses to normalise templates);
//! pieces containing a digit (numbers with their sign, hex, ids, IPs, versions, durations and
//! sizes such as `15ms` or `16K`), the literals `true`/`false`/`null` and weekday and month
//! abbreviations (dates) become `<*>`, and so do the whole shapes of [`shapes`]: paths (`/a/b`,
//! `C:\x`, `\\srv\share`), UUIDs, URLs (`http://<*>`, the scheme stays), e-mail addresses, MAC
//! and IPv6 addresses, dotted names (host names and FQDNs, package and class names, `host:port`),
//! executable names and the values of name keys (`user=<*>`). Runs of wildcards joined by `.`,
//! `-` or `+` collapse into one. Delimiters such as `=` and `:` survive, so `uid=0` becomes
//! `uid=<*>` and `10.0.0.1:80` becomes `<*>:<*>`. Rules that look at neighbouring tokens (units,
//! user names after `user`) live in the line tokenizer.

mod memo;
mod shapes;

pub(crate) use memo::MaskMemo;

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

/// `^(/[^/]+)+/?$`: an absolute Unix path, a directory's trailing slash allowed. Text that
/// already holds a wildcard is not a path (so masking a masked token changes nothing).
fn is_path(piece: &[u8]) -> bool {
    let body = piece.strip_suffix(b"/").unwrap_or(piece);
    body.len() >= 2
        && body[0] == b'/'
        && !body.windows(2).any(|w| w == b"//")
        && !body.windows(3).any(|w| w == WILDCARD.as_bytes())
}

/// Byte class bits (see [`byte_class`]). Path delimiters are Loghub-2.0's `path_delimiters`;
/// token delimiters (its `token_delimiters`) add `.-+@#$%&`.
pub(crate) const DIGIT: u16 = 1;
const SLASH: u16 = 2;
const PATH_DELIM: u16 = 4;
const TOKEN_DELIM: u16 = 8;
/// ASCII whitespace, which separates tokens.
pub(crate) const BLANK: u16 = 16;
/// Any other byte (letters, other punctuation, non-ASCII).
const OTHER: u16 = 32;
/// Bytes that may start or join a whole shape of [`shapes`] (in addition to the bits above):
/// `.` (dotted names), `@` (e-mail), `=` (name keys), `\` (Windows paths), `:` (MAC, IPv6).
const DOT: u16 = 64;
const AT: u16 = 128;
const EQUALS: u16 = 256;
const BACKSLASH: u16 = 512;
const COLON: u16 = 1024;
/// Bytes of a host or name label: ASCII letters, digits, `_` and `-`.
const LABEL: u16 = 2048;
/// Any byte that can take part in a whole shape: a token without one needs no shape scan.
const SHAPE: u16 = SLASH | DOT | AT | EQUALS | BACKSLASH | COLON;

/// Class bits of every byte value.
static CLASS: [u16; 256] = {
    let mut table = [0u16; 256];
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
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            class |= LABEL;
        }
        class |= match byte {
            b'.' => DOT,
            b'@' => AT,
            b'=' => EQUALS,
            b'\\' => BACKSLASH,
            b':' => COLON,
            _ => 0,
        };
        table[b] = class;
        b += 1;
    }
    table
};

/// The class bits of a byte; a token's class is the union of its bytes' classes.
#[inline(always)]
pub(crate) fn byte_class(b: u8) -> u16 {
    CLASS[usize::from(b)]
}

/// Masks `token`, appending the rewritten text to `out` when the result is [`Masked::Rewritten`].
/// Tokens longer than `max_len` bytes are treated as variables outright.
#[cfg(test)]
pub(crate) fn mask_token(token: &str, max_len: usize, out: &mut String) -> Masked {
    let class = token.bytes().fold(0, |c, b| c | byte_class(b));
    mask_classified(token, class, max_len, out, None)
}

/// Whether masking leaves `token` as it is ([`Masked::Unchanged`], any length allowed).
pub(crate) fn keeps(token: &str) -> bool {
    let class = token.bytes().fold(0, |c, b| c | byte_class(b));
    mask_classified(token, class, usize::MAX, &mut String::new(), None) == Masked::Unchanged
}

/// [`mask_token`] for a token whose class (the union of [`byte_class`] over its bytes) the
/// caller computed while splitting the line. With a `memo`, the general path's outcomes are
/// remembered for recent tokens (see [`MaskMemo`]).
#[inline]
pub(crate) fn mask_classified(
    token: &str,
    class: u16,
    max_len: usize,
    out: &mut String,
    memo: Option<&mut MaskMemo>,
) -> Masked {
    let bytes = token.as_bytes();
    if bytes.len() > max_len {
        return Masked::Wildcard;
    }
    // Common shapes decided by the class alone (same outcome as the general path below).
    if class & (DIGIT | SLASH | TOKEN_DELIM) == 0 {
        // One plain piece: only a keyword (or a UNC path, `\\srv\share`) is variable.
        return if class & BACKSLASH != 0 {
            mask_pieces(token, class, out)
        } else if is_keyword(bytes) {
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
    if class & (DIGIT | SLASH | BACKSLASH) == 0 && !has_keyword_piece(bytes) && !shapes::may_hold_shape(bytes, class) {
        // Words joined by punctuation (`failure;`, `dfs.DataNode$PacketResponder:`) that hold no
        // shape: nothing variable.
        return Masked::Unchanged;
    }
    if class & (OTHER | SLASH) == 0 {
        // Digits and delimiters only: numbers, dates, times, addresses.
        return mask_numeric(token, class, out);
    }
    match memo {
        Some(memo) => memo.mask(token, out, |out| mask_pieces(token, class, out)),
        None => mask_pieces(token, class, out),
    }
}

/// Whether the `-` or `+` at `i` is the sign of the number that follows: a digit follows and
/// nothing but the token start, a delimiter or an underscore (`blk_-42`) precedes.
#[inline]
fn is_sign(bytes: &[u8], i: usize, piece_start: usize) -> bool {
    matches!(bytes[i], b'-' | b'+')
        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        && (i == piece_start || bytes[i - 1] == b'_')
}

/// [`mask_pieces`] for tokens made of digits and delimiters only: every piece is a number, so
/// each becomes a wildcard and the delimiters stay (`17:41:44,747` → `<*>:<*>:<*>,<*>`,
/// `10.0.0.1` → `<*>`, `-1` → `<*>`).
fn mask_numeric(token: &str, class: u16, out: &mut String) -> Masked {
    let bytes = token.as_bytes();
    // In a numeric token every non-digit is a delimiter, so a sign is a `-`/`+` before a digit
    // that does not follow a digit (see [`is_sign`]).
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    // Numbers joined by single `.`, `-` or `+` (`10.0.0.1`, `2005-06-03`) collapse into one
    // wildcard, and so does a signed number: decide that without writing anything.
    let mut after_digit = false;
    let dotted = bytes.iter().enumerate().all(|(i, &b)| {
        let ok = if b.is_ascii_digit() {
            true
        } else if matches!(b, b'-' | b'+') {
            after_digit || digit_at(i + 1)
        } else {
            after_digit && b == b'.'
        };
        after_digit = b.is_ascii_digit();
        ok
    });
    if dotted && after_digit {
        return Masked::Wildcard;
    }
    let start = out.len();
    let mut in_number = false;
    // Hex-and-colon addresses (MAC, IPv6: five colons, or `::`) are whole shapes that the
    // general path knows; a dotted token above has no colon.
    let (mut colons, mut double, mut prev) = (0, false, 0);
    for (i, &b) in bytes.iter().enumerate() {
        let sign = !in_number && matches!(b, b'-' | b'+') && digit_at(i + 1);
        if byte_class(b) & TOKEN_DELIM != 0 && !sign {
            if b == b':' {
                colons += 1;
                double |= prev == b':';
            }
            out.push(char::from(b));
            in_number = false;
        } else if !in_number {
            push_wildcard(out, start);
            in_number = true;
        }
        prev = b;
    }
    if class & COLON != 0 && (colons >= 5 || double) {
        out.truncate(start);
        return mask_pieces(token, class, out);
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

/// The general masking path for tokens with delimiters, in one pass: whole shapes starting a
/// path piece (split on path delimiters; see [`shapes`]), and sub-pieces (split on token
/// delimiters) holding a digit or a keyword, become wildcards. Nothing is written until the
/// first wildcard; text between wildcards is copied in one piece.
fn mask_pieces(token: &str, class: u16, out: &mut String) -> Masked {
    let bytes = token.as_bytes();
    let n = bytes.len();
    let start = out.len();
    // Bytes of `token` before `copied` are already reflected in `out`.
    let mut copied = 0;
    let mut rewritten = false;
    let mut at = 0;
    let mut piece_start = true;
    // The last sub-piece, when a `=` followed it (a key).
    let mut key: Option<(usize, usize)> = None;
    loop {
        // `at` starts a sub-piece (and a path piece when `piece_start`).
        if piece_start && (class & SHAPE != 0 || (n - at >= 36 && bytes[at + 8] == b'-')) {
            let after_name_key = key.is_some_and(|(s, e)| shapes::is_name_key(&bytes[s..e]));
            if (after_name_key || shapes::may_start(bytes, class, at))
                && let Some(shape) = shapes::variable_at(bytes, class, at, after_name_key)
            {
                wildcard_after(out, token, copied, shape.start, start, rewritten);
                copied = shape.end;
                rewritten = true;
                at = shape.end;
            }
        }
        let sub_start = at;
        let mut sub_class = 0;
        let mut delim = 0;
        while at < n {
            let class = byte_class(bytes[at]);
            if class & TOKEN_DELIM != 0 {
                if is_sign(bytes, at, sub_start) {
                    at += 1;
                    continue;
                }
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
        key = (bytes[at] == b'=').then_some((sub_start, at));
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
mod tests;
