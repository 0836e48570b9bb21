//! Whole variables recognised where a piece of a token starts: paths (Unix, Windows, UNC), UUIDs,
//! URLs, e-mail addresses, MAC and IPv6 addresses, host names and other dotted names (FQDNs,
//! package and class names, `host:port`), executable names, and the values of keys that hold
//! names (`user=alice`).
//!
//! Each recogniser is a small hand-written scanner over bytes (no regexes, no allocation).

use super::{AT, BACKSLASH, COLON, DOT, EQUALS, LABEL, PATH_DELIM, SLASH, byte_class, is_path, is_uuid};

/// A variable inside a token: `token[start..end]` becomes one wildcard (text between the piece
/// start and `start`, such as a URL scheme, is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Keys whose value is a host, process or object name (compared without case). User keys
/// (`user=`, `ruser=`) are not listed: a few accounts such as `guest` are often part of the
/// event (one template per account) and many accounts merge anyway (sibling merge, see
/// `SIBLING_VALUES`); `user <name>` in running text is a variable (see the
/// line rules).
const NAME_KEYS: &[&[u8]] = &[
    b"host",
    b"hostname",
    b"rhost",
    b"name",
    b"proc",
    b"process",
    b"program",
    b"exe",
    b"comm",
];

/// Last labels of two-label host names (`example.com`); longer dotted names need no list.
const HOST_SUFFIXES: &[&[u8]] = &[
    b"com",
    b"net",
    b"org",
    b"edu",
    b"gov",
    b"mil",
    b"int",
    b"info",
    b"biz",
    b"local",
    b"internal",
    b"lan",
    b"localdomain",
    b"arpa",
];

/// Source file extensions: `Foo.java:42` is a file and a line, not `host:port`.
const CODE_EXTENSIONS: &[&[u8]] = &[
    b"java", b"scala", b"kt", b"py", b"c", b"h", b"cc", b"cpp", b"hpp", b"go", b"rs", b"js", b"ts", b"rb", b"php",
    b"pl", b"cs", b"swift", b"m",
];

/// Executable image suffixes: a program name is a variable (`chrome.exe`).
const EXECUTABLE_SUFFIXES: &[&[u8]] = &[b"exe", b"dll", b"sys"];

/// Characters that close a URL or Windows path at the end of a token (`[http://x/y],`).
const CLOSERS: &[u8] = b"])}\"',;.";

fn in_list(word: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Whether `key` (the sub-piece before a `=`) names a user, host or process.
#[inline]
pub(super) fn is_name_key(key: &[u8]) -> bool {
    (3..=8).contains(&key.len()) && in_list(key, NAME_KEYS)
}

#[inline(always)]
fn is_label_byte(b: u8) -> bool {
    byte_class(b) & LABEL != 0
}

/// For a token without digits, slashes or backslashes: whether any shape could start in it (a
/// cheap superset of what [`variable_at`] finds there, so most words skip the general path).
pub(super) fn may_hold_shape(bytes: &[u8], class: u16) -> bool {
    if class & (AT | EQUALS | COLON | DOT) == 0 {
        return false;
    }
    if class & AT != 0 {
        return true;
    }
    if class & EQUALS != 0 {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'=' && is_name_key(&bytes[start..i]) {
                return true;
            }
            if !is_label_byte(b) {
                start = i + 1;
            }
        }
    }
    if class & COLON != 0 && bytes.iter().filter(|&&b| b == b':').count() >= 2 {
        return true;
    }
    if class & DOT != 0 {
        let mut inner = 0;
        let mut last_after = 0;
        for i in 1..bytes.len().saturating_sub(1) {
            if bytes[i] == b'.' && is_label_byte(bytes[i - 1]) && is_label_byte(bytes[i + 1]) {
                inner += 1;
                last_after = i + 1;
            }
        }
        if inner >= 2 {
            return true;
        }
        if inner == 1 {
            let len = bytes[last_after..].iter().take_while(|&&b| is_label_byte(b)).count();
            let label = &bytes[last_after..last_after + len];
            return in_list(label, HOST_SUFFIXES) || in_list(label, EXECUTABLE_SUFFIXES);
        }
    }
    false
}

/// Labels separated by single dots from `at`: returns the end, the number of labels and the
/// start of the last label. A dot not followed by a label character ends the run before it.
fn dotted_run(bytes: &[u8], at: usize) -> (usize, usize, usize) {
    let n = bytes.len();
    let (mut i, mut labels, mut last) = (at, 0, at);
    loop {
        let s = i;
        while i < n && is_label_byte(bytes[i]) {
            i += 1;
        }
        if i == s {
            break;
        }
        labels += 1;
        last = s;
        if i + 1 < n && bytes[i] == b'.' && is_label_byte(bytes[i + 1]) {
            i += 1;
        } else {
            break;
        }
    }
    (i, labels, last)
}

/// The end of the token without trailing closing punctuation, but not before `from`.
fn trim_closers(bytes: &[u8], from: usize) -> usize {
    let mut end = bytes.len();
    while end > from && CLOSERS.contains(&bytes[end - 1]) {
        end -= 1;
    }
    end
}

/// `:` then 1 to 5 digits, then the end of the token or a byte that is not a label character.
fn port_follows(bytes: &[u8], at: usize) -> bool {
    if bytes.get(at) != Some(&b':') {
        return false;
    }
    let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=5).contains(&digits) && bytes.get(at + 1 + digits).is_none_or(|&b| !is_label_byte(b))
}

/// A MAC address (six or more groups of two hex digits joined by `:`) or an IPv6 address
/// (groups of up to four hex digits with `::`, or eight groups) starting at `at`: its end.
fn hex_colon(bytes: &[u8], at: usize) -> Option<usize> {
    let n = bytes.len();
    let (mut i, mut colons, mut groups, mut double, mut pairs_only) = (at, 0usize, 0usize, false, true);
    while i < n {
        let s = i;
        while i < n && bytes[i].is_ascii_hexdigit() && i - s < 5 {
            i += 1;
        }
        let len = i - s;
        if len > 4 {
            return None;
        }
        if len > 0 {
            groups += 1;
            pairs_only &= len == 2;
        }
        if i < n && bytes[i] == b':' && bytes.get(i + 1).is_some_and(|&b| b.is_ascii_hexdigit() || b == b':') {
            double |= i > at && bytes[i - 1] == b':';
            colons += 1;
            i += 1;
        } else {
            break;
        }
    }
    // The address ends the token or is followed by punctuation other than another `:`.
    if bytes.get(i).is_some_and(|&b| is_label_byte(b) || b == b':') {
        return None;
    }
    let mac = pairs_only && groups >= 6 && colons + 1 == groups;
    let ipv6 = (double && groups >= 2) || colons >= 7;
    (mac || ipv6).then_some(i)
}

/// A dotted name (`a.b.c`, `host.example.com`, `com.example.app/.Main`): its end, when the
/// labels from `at` form one: three or more labels, or two when followed by a port, ending in
/// a host suffix or an executable suffix.
fn dotted_name(bytes: &[u8], end: usize, labels: usize, last: usize) -> Option<usize> {
    let last_label = &bytes[last..end];
    let name = labels >= 3
        || (labels == 2
            && ((port_follows(bytes, end) && !in_list(last_label, CODE_EXTENSIONS))
                || in_list(last_label, HOST_SUFFIXES)
                || in_list(last_label, EXECUTABLE_SUFFIXES)));
    if !name {
        return None;
    }
    // A component name continues after a slash (`com.example.app/.ui.Main`).
    let mut e = end;
    if bytes.get(e) == Some(&b'/') && bytes.get(e + 1).is_some_and(|&b| is_label_byte(b) || b == b'.') {
        e += 1;
        while e < bytes.len() && (is_label_byte(bytes[e]) || bytes[e] == b'/' || bytes[e] == b'.') {
            e += 1;
        }
        while e > end && bytes[e - 1] == b'.' {
            e -= 1;
        }
    }
    Some(e)
}

/// Whether a shape of [`variable_at`] (other than a name key's value) may start at `at`: a
/// cheap filter on the first byte and the token's class.
#[inline]
pub(super) fn may_start(bytes: &[u8], class: u16, at: usize) -> bool {
    let Some(&b0) = bytes.get(at) else {
        return false;
    };
    let uuid = bytes.len() - at >= 36 && bytes.get(at + 8) == Some(&b'-');
    match b0 {
        b'/' | b'\\' => true,
        // Letters and digits start dotted names, URLs, e-mail addresses, drive letters, MAC and
        // IPv6 addresses (which need a dot or a colon) and UUIDs.
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => {
            uuid || ((class & DOT != 0
                || (class & COLON != 0 && (b0.is_ascii_hexdigit() || class & (SLASH | BACKSLASH) != 0)))
                && joint_follows(bytes, at))
        }
        _ => false,
    }
}

/// Whether the first label run from `at` ends in a joint that some shape of [`variable_at`]
/// needs there: a `.` before another label (dotted names, e-mail local parts), an `@` (e-mail),
/// or a `:` that starts a URL (`://`), follows a drive letter (`C:\`) or ends a group of at most
/// four hex digits (MAC, IPv6). Without one, [`variable_at`] finds nothing (UUIDs aside).
#[inline]
fn joint_follows(bytes: &[u8], at: usize) -> bool {
    let run = bytes[at..].iter().take_while(|&&b| is_label_byte(b)).count();
    let end = at + run;
    match bytes.get(end) {
        Some(b'.') => bytes.get(end + 1).is_some_and(|&b| is_label_byte(b)),
        Some(b'@') => true,
        Some(b':') => {
            bytes[end + 1..].starts_with(b"//")
                || (run == 1 && bytes.get(end + 1) == Some(&b'\\'))
                || (run <= 4 && bytes[at..end].iter().all(u8::is_ascii_hexdigit))
        }
        _ => false,
    }
}

/// The variable starting at `at`, the start of a piece of `bytes` (the token start or the byte
/// after a path delimiter). `after_name_key` says the piece is the value of a name key.
pub(super) fn variable_at(bytes: &[u8], class: u16, at: usize, after_name_key: bool) -> Option<Shape> {
    let n = bytes.len();
    let &b0 = bytes.get(at)?;
    let piece_end = || {
        bytes[at..]
            .iter()
            .position(|&b| byte_class(b) & PATH_DELIM != 0)
            .map_or(n, |p| at + p)
    };
    let whole = |end: usize| (end > at).then_some(Shape { start: at, end });
    if after_name_key {
        // The value, inside quotes when quoted (`name="sync-worker"`).
        if matches!(b0, b'"' | b'\'') {
            let end = bytes[at + 1..].iter().position(|&b| b == b0).map_or(n, |p| at + 1 + p);
            return (end > at + 1).then_some(Shape { start: at + 1, end });
        }
        return whole(piece_end());
    }
    if b0 == b'/' {
        let end = piece_end();
        return is_path(&bytes[at..end]).then_some(Shape { start: at, end });
    }
    if b0 == b'\\' {
        return if bytes.get(at + 1) == Some(&b'\\') {
            whole(trim_closers(bytes, at))
        } else {
            None
        };
    }
    if !(b0.is_ascii_alphanumeric() || b0 == b'_') {
        return None;
    }
    if n - at >= 36 && bytes[at + 8] == b'-' {
        let end = piece_end();
        if is_uuid(&bytes[at..end]) {
            return Some(Shape { start: at, end });
        }
    }
    if class & COLON != 0
        && b0.is_ascii_hexdigit()
        && let Some(end) = hex_colon(bytes, at)
    {
        return Some(Shape { start: at, end });
    }
    // Every remaining shape needs a dot (names, e-mail domains) or a colon before a slash or a
    // backslash (URLs, drive letters).
    if class & DOT == 0 && (class & COLON == 0 || class & (SLASH | BACKSLASH) == 0) {
        return None;
    }
    let (end, labels, last) = dotted_run(bytes, at);
    match bytes.get(end) {
        Some(b':') if bytes[end + 1..].starts_with(b"//") && b0.is_ascii_alphabetic() => {
            // A URL: the scheme stays, the rest is the variable.
            let from = end + 3;
            let to = trim_closers(bytes, from);
            if to > from {
                return Some(Shape { start: from, end: to });
            }
        }
        Some(b':') if end == at + 1 && b0.is_ascii_alphabetic() && bytes.get(end + 1) == Some(&b'\\') => {
            // A Windows path with a drive letter.
            return whole(trim_closers(bytes, at));
        }
        Some(b'@') => {
            let (domain_end, domain_labels, _) = dotted_run(bytes, end + 1);
            if domain_labels >= 2 && bytes[end + 1..domain_end].iter().any(u8::is_ascii_alphabetic) {
                return Some(Shape {
                    start: at,
                    end: domain_end,
                });
            }
        }
        _ => {}
    }
    if labels < 2 {
        return None;
    }
    dotted_name(bytes, end, labels, last).map(|end| Shape { start: at, end })
}
