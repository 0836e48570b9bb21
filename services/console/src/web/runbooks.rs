//! The runbook of each alert kind: `runbooks/alert-<kind>.md` (the kind's wire name with `-`
//! for `_`), linked to its page on the postmortem service (`/runbooks/<file>`). External alerts
//! (Alertmanager, Grafana) have no runbook here: their own link goes back to their source.

use opsline_events::logs::AlertKind;

use super::html::escape;

/// The runbook file of `kind` (`alert-rate-burst.md`), if Opsline ships one.
pub fn runbook_file(kind: AlertKind) -> Option<String> {
    match kind {
        AlertKind::External => None,
        _ => Some(format!("alert-{}.md", kind.as_str().replace('_', "-"))),
    }
}

/// The link to `kind`'s runbook on the postmortem pages at `postmortem_url` (the file name as
/// text when there is no postmortem service to link to; empty without a runbook).
pub fn runbook_link(kind: AlertKind, postmortem_url: &str) -> String {
    let Some(file) = runbook_file(kind) else {
        return String::new();
    };
    let base = postmortem_url.trim_end_matches('/');
    if base.is_empty() {
        format!("<span class=\"muted\">runbooks/{}</span>", escape(&file))
    } else {
        format!(
            "<a class=\"runbook\" href=\"{}/runbooks/{}\">runbook</a>",
            escape(base),
            escape(&file)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [AlertKind; 5] = [
        AlertKind::NewTemplate,
        AlertKind::RateBurst,
        AlertKind::ErrorSurge,
        AlertKind::Silence,
        AlertKind::External,
    ];

    #[test]
    fn every_builtin_kind_has_a_shipped_runbook() {
        let runbooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runbooks");
        for kind in KINDS {
            match runbook_file(kind) {
                Some(file) => assert!(runbooks.join(&file).is_file(), "{file} is not in runbooks/"),
                None => assert_eq!(kind, AlertKind::External),
            }
        }
    }

    #[test]
    fn links_to_the_postmortem_pages() {
        assert_eq!(
            runbook_link(AlertKind::ErrorSurge, "http://pm:8093/"),
            "<a class=\"runbook\" href=\"http://pm:8093/runbooks/alert-error-surge.md\">runbook</a>"
        );
        assert!(runbook_link(AlertKind::Silence, "").contains("runbooks/alert-silence.md"));
        assert!(!runbook_link(AlertKind::Silence, "").contains("<a"));
        assert_eq!(runbook_link(AlertKind::External, "http://pm:8093"), "");
    }
}
