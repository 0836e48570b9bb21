//! HTML helpers: escaping, percent-encoding of ids in links, the page layout and a small
//! Markdown-to-HTML renderer for postmortems (headings, lists, quotes, paragraphs; every piece
//! of text escaped, no raw HTML passed through).

/// `text` with `& < > " '` escaped.
pub fn escape(text: &str) -> String {
    opsline_search::html_escape(text)
}

/// `text` percent-encoded for a URL path segment or query value (unreserved characters kept).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A full page around `body` (already HTML).
pub fn layout(title: &str, who: Option<&str>, body: &str) -> String {
    let who = who
        .map(|name| format!("<span class=\"who\">signed in as {}</span>", escape(name)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Opsline postmortems</title>\
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
header{{display:flex;justify-content:space-between;border-bottom:1px solid #ccc;margin-bottom:1rem}}\
.hit{{margin:1rem 0}}.meta{{color:#666;font-size:.9em}}b{{background:#ffec8b}}\
blockquote{{color:#555;border-left:3px solid #ccc;margin-left:0;padding-left:1rem}}\
input[type=text],input[type=password]{{width:30rem}}</style></head>\
<body><header><a href=\"/\">Opsline postmortems</a>{who}</header>\n<main>{body}</main></body></html>\n",
        title = escape(title),
    )
}

fn inline(text: &str) -> String {
    // `code` spans and **bold**, on escaped text.
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut code = false;
    for (i, part) in escaped.split('`').enumerate() {
        if i > 0 {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
        }
        if code {
            out.push_str(part);
        } else {
            let mut bold = false;
            for (j, piece) in part.split("**").enumerate() {
                if j > 0 {
                    out.push_str(if bold { "</strong>" } else { "<strong>" });
                    bold = !bold;
                }
                out.push_str(piece);
            }
            if bold {
                out.push_str("</strong>");
            }
        }
    }
    if code {
        out.push_str("</code>");
    }
    out
}

/// A small, safe Markdown renderer.
pub fn markdown_to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    let close_list = |out: &mut String, in_list: &mut bool| {
        if *in_list {
            out.push_str("</ul>\n");
            *in_list = false;
        }
    };
    for line in markdown.lines() {
        let line = line.trim_end();
        if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            out.push_str(&format!("<li>{}</li>\n", inline(item)));
            continue;
        }
        close_list(&mut out, &mut in_list);
        if line.is_empty() {
            continue;
        }
        let heading = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&heading) && line[heading..].starts_with(' ') {
            let level = heading.min(6);
            out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(line[heading..].trim())));
        } else if let Some(quote) = line.strip_prefix('>') {
            out.push_str(&format!("<blockquote>{}</blockquote>\n", inline(quote.trim())));
        } else if let Some(em) = line.strip_prefix('_').and_then(|l| l.strip_suffix('_')) {
            out.push_str(&format!("<p><em>{}</em></p>\n", inline(em)));
        } else {
            out.push_str(&format!("<p>{}</p>\n", inline(line)));
        }
    }
    close_list(&mut out, &mut in_list);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_escaped() {
        assert_eq!(escape("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
        let html = markdown_to_html("# T <b>\n\n- **k:** `<*> & x`\n> note <i>\n_Draft_\nplain <img src=x>");
        assert!(
            !html.contains("<b>") && !html.contains("<i>") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("<h1>T &lt;b&gt;</h1>"), "{html}");
        assert!(
            html.contains("<li><strong>k:</strong> <code>&lt;*&gt; &amp; x</code></li>"),
            "{html}"
        );
        assert!(html.contains("<blockquote>note &lt;i&gt;</blockquote>"), "{html}");
    }

    #[test]
    fn ids_are_percent_encoded() {
        assert_eq!(encode_component("path:a b/c.md"), "path%3Aa%20b%2Fc.md");
    }
}
