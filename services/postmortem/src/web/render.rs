//! Markdown to HTML with `pulldown-cmark` (CommonMark plus tables): headings, lists, quotes,
//! fenced code blocks and tables as they are written; raw HTML in the source is shown as text,
//! never passed through, so a literal `<*>` or `<script>` reads as written. Text and inline
//! code go through [`linkify`] (citations, offsets, ids and runbook paths become links);
//! timeline items that start with `[T3]` get the id `T3`, the target of the citations.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::web::html::escape;
use crate::web::links::{LinkContext, linkify};

fn safe_href(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || url.starts_with('#') {
        return Some(url.to_owned());
    }
    if url.contains(':') || url.starts_with("//") || url.is_empty() {
        return None;
    }
    // A relative link between runbooks (`alert-silence.md`) opens that runbook's page.
    let name = url.trim_start_matches("./").trim_start_matches("runbooks/");
    if name.ends_with(".md") && !name.contains('/') {
        return Some(format!("/runbooks/{name}"));
    }
    Some(url.to_owned())
}

/// `markdown` with the log-template wildcard `<*>` written `<\\*>` outside code, so two of
/// them in one paragraph (`"<*>() Can't find child <*>"`) never read as emphasis and the page
/// shows them as written. Code spans and fenced blocks are left alone (a backslash is literal
/// there, and `*` is not emphasis).
pub fn protect_wildcards(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fenced = false;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            out.push_str(line);
            continue;
        }
        if fenced || !line.contains("<*>") {
            out.push_str(line);
            continue;
        }
        for (i, part) in line.split('`').enumerate() {
            if i > 0 {
                out.push('`');
            }
            if i % 2 == 1 {
                out.push_str(part);
            } else {
                out.push_str(&part.replace("<*>", "<\\*>"));
            }
        }
    }
    out
}

/// Text events merged, so a citation split by the parser (`[`, `T3`, `]`) is seen whole.
fn merged(markdown: &str) -> Vec<Event<'_>> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut out: Vec<Event<'_>> = Vec::new();
    for event in Parser::new_ext(markdown, options) {
        match (out.last_mut(), event) {
            (Some(Event::Text(previous)), Event::Text(next)) => {
                let joined = format!("{previous}{next}");
                *previous = joined.into();
            }
            (_, event) => out.push(event),
        }
    }
    out
}

fn timeline_id(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("[T")?;
    let end = inner.find(']')?;
    let number = &inner[..end];
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(number)
}

/// `markdown` as safe HTML with the links of `ctx`.
pub fn markdown_html(markdown: &str, ctx: &LinkContext<'_>) -> String {
    let mut out = String::with_capacity(markdown.len() * 2);
    let mut pending_item = false;
    let mut in_code_block = false;
    let mut in_image = false;
    let mut table_head = false;
    let protected = protect_wildcards(markdown);
    for event in merged(&protected) {
        if pending_item {
            pending_item = false;
            match &event {
                Event::Text(text) => match timeline_id(text) {
                    Some(n) => out.push_str(&format!("<li id=\"T{n}\">")),
                    None => out.push_str("<li>"),
                },
                _ => out.push_str("<li>"),
            }
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p>"),
                Tag::Heading { level, .. } => out.push_str(&format!("<{level}>")),
                Tag::BlockQuote(_) => out.push_str("<blockquote>"),
                Tag::CodeBlock(kind) => {
                    in_code_block = true;
                    match kind {
                        CodeBlockKind::Fenced(lang) if !lang.trim().is_empty() => out.push_str(&format!(
                            "<pre><code class=\"language-{}\">",
                            escape(lang.split_whitespace().next().unwrap_or_default())
                        )),
                        _ => out.push_str("<pre><code>"),
                    }
                }
                Tag::List(Some(start)) => out.push_str(&format!("<ol start=\"{start}\">")),
                Tag::List(None) => out.push_str("<ul>"),
                Tag::Item => pending_item = true,
                Tag::Table(_) => out.push_str("<table>"),
                Tag::TableHead => {
                    table_head = true;
                    out.push_str("<thead><tr>");
                }
                Tag::TableRow => out.push_str("<tr>"),
                Tag::TableCell => out.push_str(if table_head { "<th>" } else { "<td>" }),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<del>"),
                Tag::Link { dest_url, .. } => match safe_href(&dest_url) {
                    Some(href) => out.push_str(&format!("<a href=\"{}\">", escape(&href))),
                    None => out.push_str("<a>"),
                },
                Tag::Image { .. } => in_image = true,
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("</p>\n"),
                TagEnd::Heading(level) => out.push_str(&format!("</{level}>\n")),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>\n"),
                TagEnd::CodeBlock => {
                    in_code_block = false;
                    out.push_str("</code></pre>\n");
                }
                TagEnd::List(true) => out.push_str("</ol>\n"),
                TagEnd::List(false) => out.push_str("</ul>\n"),
                TagEnd::Item => out.push_str("</li>\n"),
                TagEnd::Table => out.push_str("</tbody></table>\n"),
                TagEnd::TableHead => {
                    table_head = false;
                    out.push_str("</tr></thead><tbody>");
                }
                TagEnd::TableRow => out.push_str("</tr>\n"),
                TagEnd::TableCell => out.push_str(if table_head { "</th>" } else { "</td>" }),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</del>"),
                TagEnd::Link => out.push_str("</a>"),
                TagEnd::Image => in_image = false,
                _ => {}
            },
            Event::Text(text) if in_code_block || in_image => out.push_str(&escape(&text)),
            Event::Text(text) => out.push_str(&linkify(&text, ctx)),
            Event::Code(code) => out.push_str(&format!("<code>{}</code>", linkify(&code, ctx))),
            Event::Html(html) | Event::InlineHtml(html) => out.push_str(&escape(&html)),
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br>\n"),
            Event::Rule => out.push_str("<hr>\n"),
            _ => {}
        }
    }
    out
}

/// The body of a Markdown file without its YAML front matter (`---` ... `---`).
pub fn without_front_matter(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return text;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "---" {
            return &rest[offset..];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_raw_html_escaped() {
        let md = "# Title <i>\n\nText with <*> and <script>alert(1)</script> and `<*> code`.\n\n\
```sh\nopsline replay --service <*> && echo '<b>'\n```\n\n## Steps\n\n1. one **bold**\n2. [next](alert-silence.md) [bad](javascript:alert(1))\n\n\
| a | b |\n|---|---|\n| <x> | 2 |\n\n> quoted\n\n<div onclick=\"x\">raw</div>\n";
        let html = markdown_html(md, &LinkContext::default());
        assert!(html.contains("<h1>Title &lt;i&gt;</h1>"), "{html}");
        assert!(
            html.contains("Text with &lt;*&gt; and &lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("<code>&lt;*&gt; code</code>"), "{html}");
        assert!(
            html.contains("<pre><code class=\"language-sh\">opsline replay --service &lt;*&gt; &amp;&amp; echo &#39;&lt;b&gt;&#39;\n</code></pre>"),
            "{html}"
        );
        assert!(
            html.contains("<h2>Steps</h2>") && html.contains("<ol start=\"1\">"),
            "{html}"
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(
            html.contains("<a href=\"/runbooks/alert-silence.md\">next</a>"),
            "{html}"
        );
        assert!(html.contains("<a>bad</a>"), "{html}");
        assert!(
            html.contains("<th>a</th>") && html.contains("<td>&lt;x&gt;</td>"),
            "{html}"
        );
        assert!(html.contains("<blockquote>"), "{html}");
        assert!(
            !html.contains("<div") && !html.contains("<script") && !html.contains("<i>"),
            "{html}"
        );
    }

    #[test]
    fn wildcards_are_never_emphasis() {
        let md = "- [T1] template \"<*>() Can't find child <*> in scoreboard\" `a <*> b`\n\n```\nx <*> y <*>\n```\n";
        let html = markdown_html(md, &LinkContext::default());
        assert!(
            html.contains("&quot;&lt;*&gt;() Can&#39;t find child &lt;*&gt; in scoreboard&quot;"),
            "{html}"
        );
        assert!(!html.contains("<em>"), "{html}");
        assert!(html.contains("<code>a &lt;*&gt; b</code>"), "{html}");
        assert!(html.contains("x &lt;*&gt; y &lt;*&gt;\n</code></pre>"), "{html}");
    }

    #[test]
    fn timeline_items_get_ids() {
        let html = markdown_html("- [T1] first [T2]\n- [T2] second\n- plain\n", &LinkContext::default());
        assert!(
            html.contains("<li id=\"T1\"><a class=\"cite\" href=\"#T1\">[T1]</a> first"),
            "{html}"
        );
        assert!(html.contains("<li id=\"T2\">"), "{html}");
        assert!(html.contains("<li>plain</li>"), "{html}");
    }

    #[test]
    fn front_matter_is_dropped() {
        assert_eq!(without_front_matter("---\ntitle: x\n---\n# Body\n"), "# Body\n");
        assert_eq!(without_front_matter("# No front matter\n"), "# No front matter\n");
        assert_eq!(without_front_matter("---\nunclosed\n"), "---\nunclosed\n");
    }
}
