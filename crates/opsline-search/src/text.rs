//! Small text helpers: HTML escaping, sentence and length trimming, Markdown clean-up.

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Cuts `text` to at most `max_chars` characters at a word boundary, adding `…` if cut.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(idx) if idx > max_chars / 2 => &cut[..idx],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// The first sentence of `text` (up to the first `. `, `! `, `? ` or line break).
pub(crate) fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let mut end = text.len();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            end = i;
            break;
        }
        if matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
            end = i + 1;
            break;
        }
    }
    text[..end].trim()
}

/// Turns Markdown into searchable plain text: `[text](url)` becomes `text`, images are
/// dropped, emphasis markers and code back-ticks are removed. Headings keep their text.
pub(crate) fn markdown_to_text(markdown: &str) -> String {
    let chars: Vec<char> = markdown.chars().collect();
    let mut out = String::with_capacity(markdown.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let is_image = c == '!' && chars.get(i + 1) == Some(&'[');
        if c == '[' || is_image {
            let open = if is_image { i + 1 } else { i };
            if let Some((label_end, url_end)) = link_extent(&chars, open) {
                if !is_image {
                    let label: String = chars[open + 1..label_end].iter().collect();
                    out.push_str(&markdown_to_text(&label));
                }
                i = url_end + 1;
                continue;
            }
        }
        match c {
            '*' | '`' => {}
            '_' if is_emphasis_underscore(&chars, i) => {}
            '#' if at_line_start(&chars, i) => {
                while chars.get(i + 1) == Some(&'#') {
                    i += 1;
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// For `[label](url)` starting at `open`, returns the indexes of `]` and `)`.
fn link_extent(chars: &[char], open: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut label_end = None;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    label_end = Some(j);
                    break;
                }
            }
            '\n' if chars.get(j + 1) == Some(&'\n') => return None,
            _ => {}
        }
    }
    let label_end = label_end?;
    if chars.get(label_end + 1) != Some(&'(') {
        return None;
    }
    let mut depth = 0usize;
    for (j, &c) in chars.iter().enumerate().skip(label_end + 1) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((label_end, j));
                }
            }
            '\n' => return None,
            _ => {}
        }
    }
    None
}

fn is_emphasis_underscore(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).and_then(|j| chars.get(j));
    let after = chars.get(i + 1);
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    // `snake_case` keeps its underscore; `_emphasis_` loses it.
    !(word(before) && word(after))
}

fn at_line_start(chars: &[char], i: usize) -> bool {
    chars[..i]
        .iter()
        .rev()
        .take_while(|&&c| c != '\n')
        .all(|c| c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_links_emphasis_and_headings_become_text() {
        let md = "# Title\nA *typo* in [boot.ini](http://x/y_(z)) and ![img](a.png) `code` snake_case _em_";
        assert_eq!(
            markdown_to_text(md),
            " Title\nA typo in boot.ini and  code snake_case em"
        );
    }

    #[test]
    fn broken_markdown_does_not_panic() {
        for md in ["[", "[a](", "![", "]()", "#", "_", "[a]\n\n(b)", "é[ü](ö"] {
            let _ = markdown_to_text(md);
        }
    }

    #[test]
    fn sentences_and_truncation() {
        assert_eq!(first_sentence("A bad config. Then more."), "A bad config.");
        assert_eq!(first_sentence("v1.2 broke it\nsecond"), "v1.2 broke it");
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("one two three four", 10), "one two…");
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
