//! The postmortem page with its review tools, server-rendered and usable without JavaScript:
//! each narrative section with an "Edit" form (`<details>`), the open reviewer prompts with
//! "Answer" and "Waive" forms, the tracked action items (add, edit, close), the comments and
//! the revision history; every form posts to `/postmortems/{id}/...`, which makes the change
//! (see [`crate::review`]) and redirects back, or answers a styled error page.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use opsline_auth::Principal;
use opsline_events::ops::{Postmortem, PostmortemStatus};
use serde::Deserialize;

use crate::draft::SectionKind;
use crate::error::PostmortemError;
use crate::review::document::{Outline, section_kind, slug};
use crate::review::record::{ACTIONS, ActionPriority, COMMENTS, HISTORY, ReviewRecord};
use crate::review::{ActionUpdate, Edit};
use crate::web::WebState;
use crate::web::html::{denied, encode_component, error_page, escape, redirect};
use crate::web::links::LinkContext;
use crate::web::render::markdown_html;

/// Fields of every change, from an editor form or the JSON API (each change reads the ones it
/// needs; any other field is refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFields {
    /// The revision the form was made from.
    #[serde(default)]
    pub base_revision: Option<u32>,
    /// A section's new Markdown.
    #[serde(default)]
    pub markdown: Option<String>,
    /// A prompt's answer.
    #[serde(default)]
    pub answer: Option<String>,
    /// A waiver's reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// A comment.
    #[serde(default)]
    pub text: Option<String>,
    /// An action item's title.
    #[serde(default)]
    pub title: Option<String>,
    /// An action item's owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// An action item's priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// An action item's due date.
    #[serde(default)]
    pub due: Option<String>,
    /// An action item's status (`open`, `closed`).
    #[serde(default)]
    pub status: Option<String>,
}

fn hidden_base(pm: &Postmortem) -> String {
    format!(
        "<input type=\"hidden\" name=\"base_revision\" value=\"{}\">",
        pm.revision
    )
}

fn action(id: &str, rest: &str) -> String {
    format!("/postmortems/{}/{rest}", encode_component(id))
}

fn status_panel(who: &Principal, pm: &Postmortem, id: &str) -> String {
    let status = crate::draft::markdown::status_name(pm.status);
    let mut out = format!(
        "<div class=\"panel\" id=\"status\">Status <strong class=\"status\">{status}</strong> · revision {}{}",
        pm.revision,
        pm.reviewer
            .as_deref()
            .map(|r| format!(" · reviewed by {}", escape(r)))
            .unwrap_or_default()
    );
    if who.may_review() {
        let (path, label) = match pm.status {
            PostmortemStatus::Draft => ("review", "Mark reviewed"),
            PostmortemStatus::Reviewed => ("publish", "Publish"),
            PostmortemStatus::Published => ("", ""),
        };
        if !path.is_empty() {
            out.push_str(&format!(
                " <form class=\"inline\" method=\"post\" action=\"{}\"><button type=\"submit\" class=\"primary\" id=\"{path}\">{label}</button></form>",
                action(id, path)
            ));
        }
    }
    out.push_str("</div>");
    out
}

fn prompts_panel(who: &Principal, pm: &Postmortem, outline: &Outline, id: &str) -> String {
    let prompts = outline.open_prompts();
    if pm.status != PostmortemStatus::Draft {
        return String::new();
    }
    let mut out = format!(
        "<div class=\"panel\" id=\"prompts\"><strong>Reviewer prompts: {} open</strong> \
<span class=\"muted\">(\"Mark reviewed\" needs each answered or waived with a reason)</span>",
        prompts.len()
    );
    for p in &prompts {
        out.push_str(&format!(
            "<div class=\"prompt\" id=\"prompt-{pid}\"><a href=\"#s-{section}\">{heading}</a>: {text}",
            pid = escape(&p.id),
            section = escape(&p.section),
            heading = escape(&p.heading),
            text = escape(&p.text)
        ));
        if who.may_review() {
            let base = hidden_base(pm);
            out.push_str(&format!(
                "<details><summary>Answer</summary><form method=\"post\" action=\"{answer}\">{base}\
<textarea name=\"answer\" rows=\"3\" required aria-label=\"answer\"></textarea><button type=\"submit\">Save answer</button></form></details>\
<details><summary>Waive</summary><form method=\"post\" action=\"{waive}\">{base}\
<input type=\"text\" name=\"reason\" required placeholder=\"why it needs no answer\" aria-label=\"reason\"> \
<button type=\"submit\">Waive</button></form></details>",
                answer = action(id, &format!("prompts/{}/answer", encode_component(&p.id))),
                waive = action(id, &format!("prompts/{}/waive", encode_component(&p.id))),
            ));
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

fn sections(who: &Principal, pm: &Postmortem, outline: &Outline, ctx: &LinkContext<'_>, id: &str) -> String {
    let editable = who.may_review() && pm.status == PostmortemStatus::Draft;
    let mut out = markdown_html(&outline.header, ctx);
    for section in &outline.sections {
        if [ACTIONS, COMMENTS, HISTORY].contains(&section.heading.as_str()) {
            continue;
        }
        let kind = section_kind(&section.heading).filter(|k| k.heading() == section.heading);
        let anchor = kind
            .map(slug)
            .unwrap_or_else(|| section.heading.to_ascii_lowercase().replace(' ', "-"));
        out.push_str(&format!(
            "<section class=\"pm\" id=\"s-{}\"><h2>{}</h2>{}",
            escape(&anchor),
            escape(&section.heading),
            markdown_html(&section.body, ctx)
        ));
        if let (Some(kind), true) = (kind, editable) {
            out.push_str(&format!(
                "<details class=\"edit\"><summary>Edit {heading}</summary><form method=\"post\" action=\"{to}\">{base}\
<textarea name=\"markdown\" rows=\"10\" aria-label=\"{heading}\">{text}</textarea>\
<button type=\"submit\" class=\"primary\">Save {heading}</button></form></details>",
                heading = escape(kind.heading()),
                to = action(id, &format!("sections/{}", slug(kind))),
                base = hidden_base(pm),
                text = escape(section.body.trim()),
            ));
        }
        out.push_str("</section>\n");
    }
    out
}

fn priority_options(selected: ActionPriority) -> String {
    ActionPriority::ALL
        .iter()
        .map(|p| {
            format!(
                "<option{}>{}</option>",
                if *p == selected { " selected" } else { "" },
                p.as_str()
            )
        })
        .collect()
}

fn action_items(who: &Principal, pm: &Postmortem, record: &ReviewRecord, id: &str) -> String {
    let mut out = String::from("<section id=\"action-items\"><h2>Tracked action items</h2>");
    if record.action_items.is_empty() {
        out.push_str("<p class=\"muted\">None yet.</p>");
    } else {
        out.push_str(
            "<table><thead><tr><th>#</th><th>Action</th><th>Owner</th><th>Priority</th><th>Due</th><th>Status</th><th></th></tr></thead><tbody>",
        );
        for a in &record.action_items {
            let class = if a.closed { " class=\"closed\"" } else { "" };
            out.push_str(&format!(
                "<tr id=\"A{n}\"><td>A{n}</td><td{class}>{title}</td><td>{owner}</td><td>{priority}</td><td>{due}</td><td>{status}</td><td>",
                n = a.number,
                title = escape(&a.title),
                owner = escape(&a.owner),
                priority = a.priority.as_str(),
                due = escape(a.due.as_deref().unwrap_or("-")),
                status = if a.closed { "closed" } else { "open" },
            ));
            if who.may_review() {
                let to = action(id, &format!("actions/{}", a.number));
                let (next, label) = if a.closed {
                    ("open", "Reopen")
                } else {
                    ("closed", "Close")
                };
                out.push_str(&format!(
                    "<form class=\"inline\" method=\"post\" action=\"{to}\">{base}<input type=\"hidden\" name=\"status\" value=\"{next}\">\
<button type=\"submit\">{label}</button></form><details><summary>Edit</summary><form method=\"post\" action=\"{to}\">{base}\
<input type=\"text\" name=\"title\" value=\"{title}\" aria-label=\"action\" required> <input type=\"text\" name=\"owner\" value=\"{owner}\" \
aria-label=\"owner\" size=\"10\" required> <select name=\"priority\" aria-label=\"priority\">{options}</select> \
<input type=\"date\" name=\"due\" value=\"{due}\" aria-label=\"due\"> <button type=\"submit\">Save</button></form></details>",
                    base = hidden_base(pm),
                    title = escape(&a.title),
                    owner = escape(&a.owner),
                    options = priority_options(a.priority),
                    due = escape(a.due.as_deref().unwrap_or("")),
                ));
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
    }
    if who.may_review() {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{}\" id=\"add-action\"><input type=\"text\" name=\"title\" placeholder=\"action item\" \
aria-label=\"new action item\" required> <input type=\"text\" name=\"owner\" placeholder=\"owner\" size=\"10\" aria-label=\"owner\" required> \
<select name=\"priority\" aria-label=\"priority\">{}</select> <input type=\"date\" name=\"due\" aria-label=\"due\"> \
<button type=\"submit\">Add action item</button></form>",
            action(id, "actions"),
            priority_options(ActionPriority::P3)
        ));
    }
    out.push_str("</section>");
    out
}

fn comments(who: &Principal, record: &ReviewRecord, id: &str) -> String {
    let mut out = String::from("<section id=\"comments\"><h2>Comments</h2>");
    if record.comments.is_empty() {
        out.push_str("<p class=\"muted\">No comments.</p>");
    }
    for c in &record.comments {
        out.push_str(&format!(
            "<div class=\"comment\" id=\"C{}\"><strong>{}</strong> <span class=\"muted\">{}</span><p>{}</p></div>",
            c.number,
            escape(&c.author),
            escape(&c.at),
            escape(&c.text)
        ));
    }
    if who.may_comment() {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{}\" id=\"add-comment\"><textarea name=\"text\" rows=\"3\" required aria-label=\"comment\"></textarea>\
<button type=\"submit\">Comment</button></form>",
            action(id, "comments")
        ));
    }
    out.push_str("</section>");
    out
}

fn history(record: &ReviewRecord) -> String {
    let mut out = String::from("<section id=\"history\"><h2>Revision history</h2>");
    if record.history.is_empty() {
        out.push_str("<p class=\"muted\">No change by a person yet.</p>");
    } else {
        out.push_str("<table><thead><tr><th>Revision</th><th>When</th><th>Who</th><th>What</th></tr></thead><tbody>");
        for c in &record.history {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                c.revision,
                escape(&c.at),
                escape(&c.by),
                escape(&c.what)
            ));
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    out
}

/// The page body of postmortem `pm` for `who`.
pub(crate) fn postmortem_body(state: &WebState, who: &Principal, pm: &Postmortem) -> String {
    let id = pm.postmortem_id.to_string();
    let outline = Outline::parse(&pm.markdown);
    let record = ReviewRecord::read(&outline);
    let ctx = LinkContext::of_postmortem(&state.links, pm.incident_id, &pm.markdown);
    format!(
        "{}{}<article>{}</article>{}{}{}<p><a href=\"/v1/postmortems/{}?format=md\">Markdown</a></p>",
        status_panel(who, pm, &id),
        prompts_panel(who, pm, &outline, &id),
        sections(who, pm, &outline, &ctx, &id),
        action_items(who, pm, &record, &id),
        comments(who, &record, &id),
        history(&record),
        encode_component(&id)
    )
}

/// The styled page of a refused change.
pub(crate) fn refused(who: &Principal, id: &str, error: &PostmortemError) -> Response {
    let back = format!("/postmortems/{}", encode_component(id));
    let message = match error {
        PostmortemError::OpenPrompts(prompts) => {
            let items: String = prompts
                .iter()
                .map(|p| {
                    format!(
                        "<li><a href=\"{back}#prompt-{}\">{}</a>: {}</li>",
                        encode_component(&p.id),
                        escape(&p.heading),
                        escape(&p.text)
                    )
                })
                .collect();
            format!(
                "Not marked reviewed: {} reviewer prompt(s) are neither answered nor waived. Answer each, or waive it with a reason:</p><ul class=\"open-prompts\">{items}</ul><p>",
                prompts.len()
            )
        }
        other => escape(&other.to_string()),
    };
    error_page(error.status(), Some(&who.name), "Not done", &message, &back)
}

fn edit_of(kind: &str, target: Option<&str>, form: ChangeFields) -> Result<Edit, PostmortemError> {
    let field = |value: Option<String>, name: &str| {
        value.ok_or_else(|| PostmortemError::BadRequest(format!("the form has no `{name}`")))
    };
    Ok(match (kind, target) {
        ("sections", Some(name)) => Edit::Section {
            kind: section_kind(name).ok_or_else(|| {
                PostmortemError::NotFound(format!("section {name:?} (editable: {})", editable_names()))
            })?,
            text: field(form.markdown, "markdown")?,
        },
        ("answer", Some(prompt)) => Edit::Answer {
            prompt: prompt.to_owned(),
            answer: field(form.answer, "answer")?,
        },
        ("waive", Some(prompt)) => Edit::Waive {
            prompt: prompt.to_owned(),
            reason: field(form.reason, "reason")?,
        },
        ("comments", None) => Edit::Comment {
            text: field(form.text, "text")?,
        },
        ("actions", None) => Edit::AddAction {
            title: field(form.title, "title")?,
            owner: field(form.owner, "owner")?,
            priority: form.priority.unwrap_or_else(|| "P3".to_owned()),
            due: form.due.unwrap_or_default(),
        },
        ("actions", Some(number)) => Edit::UpdateAction {
            number: number
                .trim_start_matches(['A', 'a'])
                .parse()
                .map_err(|_| PostmortemError::NotFound(format!("action item {number}")))?,
            update: ActionUpdate {
                title: form.title,
                owner: form.owner,
                priority: form.priority,
                due: form.due,
                status: form.status,
            },
        },
        _ => return Err(PostmortemError::NotFound(kind.to_owned())),
    })
}

/// The editable sections' slugs, for error messages.
pub fn editable_names() -> String {
    SectionKind::ALL.into_iter().map(slug).collect::<Vec<_>>().join(", ")
}

async fn submit(
    state: WebState,
    headers: HeaderMap,
    id: String,
    (kind, target, anchor): (&str, Option<&str>, &str),
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    let Some(who) = state.page_principal(&headers) else {
        return denied(StatusCode::UNAUTHORIZED, "Sign in with your API token.");
    };
    let outcome = match form {
        Ok(Form(form)) => {
            let base = form.base_revision;
            match edit_of(kind, target, form) {
                Ok(edit) => state.change(&who, &id, edit, base).await.map(|_| ()),
                Err(error) => Err(error),
            }
        }
        Err(rejection) => Err(PostmortemError::BadRequest(rejection.body_text())),
    };
    match outcome {
        Ok(()) => redirect(&format!("/postmortems/{}#{anchor}", encode_component(&id)), None),
        Err(error) => refused(&who, &id, &error),
    }
}

/// `POST /postmortems/{id}/sections/{section}`.
pub(crate) async fn section(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    let anchor = format!("s-{}", escape(&name));
    submit(state, headers, id, ("sections", Some(&name), &anchor), form).await
}

/// `POST /postmortems/{id}/prompts/{prompt}/{answer|waive}`.
pub(crate) async fn prompt(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, prompt, verb)): Path<(String, String, String)>,
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    submit(state, headers, id, (verb.as_str(), Some(&prompt), "prompts"), form).await
}

/// `POST /postmortems/{id}/comments`.
pub(crate) async fn comment(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    submit(state, headers, id, ("comments", None, "comments"), form).await
}

/// `POST /postmortems/{id}/actions`.
pub(crate) async fn add_action(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    submit(state, headers, id, ("actions", None, "action-items"), form).await
}

/// `POST /postmortems/{id}/actions/{number}`.
pub(crate) async fn update_action(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, number)): Path<(String, String)>,
    form: Result<Form<ChangeFields>, FormRejection>,
) -> Response {
    submit(state, headers, id, ("actions", Some(&number), "action-items"), form).await
}
