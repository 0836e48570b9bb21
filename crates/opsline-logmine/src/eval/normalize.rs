//! The template normalisation Loghub-2.0 applies (`correct_single_template` in
//! `benchmark/evaluation/utils/common.py`): double spaces, path-like strings, booleans and default
//! user strings, digits, words glued to variables, dot-separated and consecutive variables.

const WILDCARD: &str = "<*>";

fn is_path_delim(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | '!' | ';' | ':' | '=' | '|' | '"' | '\'' | '[' | ']' | '(' | ')' | '{' | '}'
        )
}

fn is_token_delim(c: char) -> bool {
    is_path_delim(c) || matches!(c, '.' | '-' | '+' | '@' | '#' | '$' | '%' | '&')
}

/// Splits `s` into pieces and single-character delimiters, keeping both (like `re.split` with a
/// capturing group).
fn split_keep(s: &str, is_delim: fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if is_delim(c) {
            out.push(&s[start..i]);
            out.push(&s[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// `^(\/[^\/]+)+$`
fn is_path(p: &str) -> bool {
    p.len() >= 2 && p.starts_with('/') && !p.ends_with('/') && !p.contains("//")
}

/// `^[^\s\/]*<\*>[^\s\/]*$`
fn is_word_with_variable(t: &str) -> bool {
    t.contains(WILDCARD) && !t.contains(|c: char| c.is_whitespace() || c == '/')
}

/// Applies Loghub-2.0's template correction rules to one template.
pub fn correct_single_template(template: &str) -> String {
    // DS: trim and collapse blank runs.
    let collapsed = template.split_whitespace().collect::<Vec<_>>().join(" ");
    // PS: path-like pieces.
    let mut with_paths = String::with_capacity(collapsed.len());
    for piece in split_keep(&collapsed, is_path_delim) {
        with_paths.push_str(if is_path(piece) { WILDCARD } else { piece });
    }
    // BL, US, DG, WV on finer pieces.
    let mut out = String::with_capacity(with_paths.len());
    for piece in split_keep(&with_paths, is_token_delim) {
        let lower = piece.to_ascii_lowercase();
        let variable = matches!(lower.as_str(), "true" | "false" | "null" | "root" | "admin")
            || (!piece.is_empty() && piece.chars().all(|c| c.is_ascii_digit()))
            || (is_word_with_variable(piece) && piece != "<*>/<*>");
        out.push_str(if variable { WILDCARD } else { piece });
    }
    // DV then CV.
    while out.contains("<*>.<*>") {
        out = out.replace("<*>.<*>", WILDCARD);
    }
    while out.contains("<*><*>") {
        out = out.replace("<*><*>", WILDCARD);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::correct_single_template as c;

    #[test]
    fn applies_loghub_rules() {
        assert_eq!(c("  a   b "), "a b");
        assert_eq!(c("open /var/log/x.log ok"), "open <*> ok");
        assert_eq!(c("flag true user root"), "flag <*> user <*>");
        assert_eq!(c("port 8080"), "port <*>");
        assert_eq!(c("blk_<*> done"), "<*> done");
        assert_eq!(c("ip <*>.<*>.<*>.<*>:<*>"), "ip <*>:<*>");
        assert_eq!(c("x <*><*> y"), "x <*> y");
        assert_eq!(c("uid=0 euid=0"), "uid=<*> euid=<*>");
    }
}
