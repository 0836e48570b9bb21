//! Drafting a postmortem from a resolved incident.
//!
//! The flow: [`Timeline::build`] turns the incident and its alerts into numbered facts; a
//! [`Drafter`] writes the narrative sections of the Google SRE template citing them (`[T3]`);
//! [`check_citations`] rejects a narrative whose facts cite nothing or cite entries that do
//! not exist, in which case the [`DeterministicDrafter`]'s narrative is used instead; finally
//! [`markdown::render`] assembles the document, marked "Draft, needs review".
//!
//! Two drafters: the deterministic template (model `none`), and [`llm::LlmDrafter`], which asks
//! a model through the LLM gateway when one is configured.
//!
//! The service publishes the [`deterministic_draft`] at once (revision 1) and, later, the
//! [`narrated_revision`] with a [`checked_narrative`] (revision 2, see `crate::narrative`);
//! [`draft_postmortem`] does both inline, with the fallback, for tools and tests.

pub mod citations;
pub mod deterministic;
pub mod grounding;
pub mod llm;
pub mod markdown;
pub mod support;

use std::future::Future;
use std::pin::Pin;

use opsline_events::logs::{Alert, Incident};
use opsline_events::ops::{Postmortem, PostmortemFacts, PostmortemStatus};

pub use citations::{CitationError, check_citations};
pub use deterministic::{DETERMINISTIC_MODEL, DETERMINISTIC_PROMPT, DeterministicDrafter, deterministic_narrative};

use crate::timeline::Timeline;

/// The narrative sections of the Google SRE postmortem template, in document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// What happened, in a few sentences.
    Summary,
    /// Who and what was affected.
    Impact,
    /// Why it happened (stated as hypotheses in a draft).
    RootCauses,
    /// What set it off.
    Trigger,
    /// How it was noticed.
    Detection,
    /// How it ended.
    Resolution,
    /// What to do so it does not happen again (advice).
    ActionItems,
    /// What went well, what went wrong, where we got lucky (advice).
    LessonsLearned,
}

impl SectionKind {
    /// Every section, in document order.
    pub const ALL: [SectionKind; 8] = [
        SectionKind::Summary,
        SectionKind::Impact,
        SectionKind::RootCauses,
        SectionKind::Trigger,
        SectionKind::Detection,
        SectionKind::Resolution,
        SectionKind::ActionItems,
        SectionKind::LessonsLearned,
    ];

    /// The Markdown heading.
    pub fn heading(self) -> &'static str {
        match self {
            SectionKind::Summary => "Summary",
            SectionKind::Impact => "Impact",
            SectionKind::RootCauses => "Root causes",
            SectionKind::Trigger => "Trigger",
            SectionKind::Detection => "Detection",
            SectionKind::Resolution => "Resolution",
            SectionKind::ActionItems => "Action items",
            SectionKind::LessonsLearned => "Lessons learned",
        }
    }

    /// Whether the section states facts (each sentence must cite the timeline) rather than advice.
    pub fn states_facts(self) -> bool {
        !matches!(self, SectionKind::ActionItems | SectionKind::LessonsLearned)
    }
}

/// One section's Markdown text (without its heading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NarrativeSection {
    /// Which section.
    pub kind: SectionKind,
    /// Markdown paragraphs or list items.
    pub text: String,
}

/// The narrative part of a postmortem, as a drafter wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Narrative {
    /// The sections, in any order (rendered in template order).
    pub sections: Vec<NarrativeSection>,
    /// The model that wrote it, when the drafter learns it per call (else [`Drafter::model`]).
    pub model: Option<String>,
    /// The prompt id and version, when the drafter learns it per call (else [`Drafter::prompt`]).
    pub prompt: Option<String>,
}

impl Narrative {
    /// The text of section `kind`, if present.
    pub fn section(&self, kind: SectionKind) -> Option<&str> {
        self.sections.iter().find(|s| s.kind == kind).map(|s| s.text.as_str())
    }
}

/// What a drafter gets: the incident and its timeline (the only facts it may state).
#[derive(Debug, Clone, Copy)]
pub struct DraftInput<'a> {
    /// The resolved incident.
    pub incident: &'a Incident,
    /// Its numbered timeline.
    pub timeline: &'a Timeline,
}

/// Why a drafter produced no narrative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("drafter failed: {0}")]
pub struct DrafterError(pub String);

/// The future a [`Drafter`] returns.
pub type DraftFuture<'a> = Pin<Box<dyn Future<Output = Result<Narrative, DrafterError>> + Send + 'a>>;

/// Writes the narrative sections of a postmortem from a timeline. Implementations must only
/// state facts found in the timeline and cite them as `[T<n>]`; [`check_citations`] enforces
/// the form and the caller falls back to the deterministic draft when it fails.
pub trait Drafter: Send + Sync {
    /// The model name recorded in the postmortem (`none` for templates).
    fn model(&self) -> &str;
    /// The prompt id and version recorded in the postmortem, e.g. `postmortem-draft@1`.
    fn prompt(&self) -> &str;
    /// Writes the narrative.
    fn draft<'a>(&'a self, input: DraftInput<'a>) -> DraftFuture<'a>;
    /// The LLM gateway whose scheduler queues this drafter's work, if it calls one.
    fn gateway(&self) -> Option<&opsline_llm::LlmGateway> {
        None
    }
    /// Writes the narrative in the turn of `admission`, a place taken earlier in
    /// [`Drafter::gateway`]'s scheduler (drafters without a gateway ignore it).
    fn draft_admitted<'a>(
        &'a self,
        input: DraftInput<'a>,
        admission: Option<&'a opsline_llm::Admission>,
    ) -> DraftFuture<'a> {
        let _ = admission;
        self.draft(input)
    }
}

/// A drafted postmortem and, when the drafter's narrative was rejected, why.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftOutcome {
    /// The postmortem to publish (status draft).
    pub postmortem: Postmortem,
    /// Set when the deterministic narrative replaced the drafter's.
    pub fallback_reason: Option<String>,
}

/// The postmortem id of an incident (defined with the postmortem contract, so the console
/// links to it without this crate).
pub use opsline_events::ops::postmortem_id;

/// The document of `incident` with `narrative` written by `model` with `prompt` (status
/// draft, revision 1, no basis: callers set those).
fn render_postmortem(
    incident: &Incident,
    timeline: &Timeline,
    narrative: &Narrative,
    model: String,
    prompt: String,
) -> Postmortem {
    let postmortem_id = postmortem_id(incident.incident_id);
    let markdown = markdown::render(&markdown::Document {
        postmortem_id,
        incident,
        timeline,
        narrative,
        model: &model,
        prompt: &prompt,
    });
    Postmortem {
        postmortem_id,
        incident_id: incident.incident_id,
        title: incident.title.clone(),
        service: incident.service.clone(),
        status: PostmortemStatus::Draft,
        markdown,
        model,
        prompt,
        reviewer: None,
        restricted_team: incident.restricted_team.clone(),
        revision: 1,
        draft_basis: None,
        facts: Some(PostmortemFacts {
            severity: incident.severity.as_str().to_owned(),
            sev: incident.attention.as_ref().map(|a| a.sev.as_str().to_owned()),
            opened_at: incident.opened_at,
            resolved_at: incident.resolved_at,
        }),
    }
}

/// The deterministic draft of `incident` (model `none`, revision 1); its `draft_basis` is the
/// SHA-256 of its Markdown, so a replay of the same facts has the same basis.
pub fn deterministic_draft(incident: &Incident, timeline: &Timeline) -> Postmortem {
    let narrative = deterministic_narrative(&DraftInput { incident, timeline });
    let mut postmortem = render_postmortem(
        incident,
        timeline,
        &narrative,
        DETERMINISTIC_MODEL.to_owned(),
        DETERMINISTIC_PROMPT.to_owned(),
    );
    postmortem.draft_basis = Some(hex_sha256(&postmortem.markdown));
    postmortem
}

fn hex_sha256(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a drafter's narrative cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NarrativeError {
    /// The drafter gave no answer (model outage, timeout, invalid output).
    #[error(transparent)]
    Drafter(#[from] DrafterError),
    /// None of its fact sentences cites the timeline.
    #[error("no fact sentence of the narrative cites the timeline")]
    Ungrounded,
    /// Even its grounded part fails the citation check.
    #[error("citation check failed: {0}")]
    Citations(#[from] CitationError),
}

impl NarrativeError {
    /// A bounded label for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Drafter(_) => "drafter_error",
            Self::Ungrounded => "ungrounded",
            Self::Citations(_) => "citations_rejected",
        }
    }
}

/// Asks `drafter` for the narrative of `input` and grounds it: a narrative whose every
/// sentence is supported by the entries it cites ([`support`]) and that passes
/// [`check_citations`] is used as written; otherwise its [`grounding::ground`]ed part
/// (unsupported sentences left out, empty sections from the template) when some fact sentence
/// of the model survives. The narrative comes back with its model and prompt filled in.
pub async fn checked_narrative(drafter: &dyn Drafter, input: DraftInput<'_>) -> Result<Narrative, NarrativeError> {
    checked_narrative_with(drafter, input, None).await.0
}

/// Fact sentences of a model's narrative kept and sentences dropped by the grounding check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SentenceCount {
    /// Fact sentences kept (they cite existing timeline entries that support them).
    pub kept: usize,
    /// Sentences or list items left out (no valid citation, or not supported by it).
    pub dropped: usize,
}

/// [`checked_narrative`] in the turn of `admission` (see [`Drafter::draft_admitted`]), with the
/// sentences kept and dropped by the grounding check (zero when the drafter gave no answer).
pub async fn checked_narrative_with(
    drafter: &dyn Drafter,
    input: DraftInput<'_>,
    admission: Option<&opsline_llm::Admission>,
) -> (Result<Narrative, NarrativeError>, SentenceCount) {
    let mut narrative = match drafter.draft_admitted(input, admission).await {
        Ok(narrative) => narrative,
        Err(error) => return (Err(error.into()), SentenceCount::default()),
    };
    narrative.model.get_or_insert_with(|| drafter.model().to_owned());
    narrative.prompt.get_or_insert_with(|| drafter.prompt().to_owned());
    let grounded = grounding::ground(&narrative, &deterministic_narrative(&input), input.timeline);
    let count = SentenceCount {
        kept: grounded.model_sentences,
        dropped: grounded.dropped,
    };
    if grounded.dropped == 0 && check_citations(&narrative, input.timeline).is_ok() {
        return (Ok(narrative), count);
    }
    (checked_grounded(&narrative, grounded, input), count)
}

/// The grounded narrative when some fact sentence of the model survived.
fn checked_grounded(
    narrative: &Narrative,
    grounded: grounding::Grounded,
    input: DraftInput<'_>,
) -> Result<Narrative, NarrativeError> {
    if grounded.model_sentences == 0 {
        // The model only saw redacted text, so its answer holds no clear-text personal data.
        let sections: Vec<(&str, &str)> = narrative
            .sections
            .iter()
            .map(|s| (s.kind.heading(), s.text.as_str()))
            .collect();
        tracing::debug!(incident = %input.incident.incident_id, ?sections, "ungrounded narrative");
        return Err(NarrativeError::Ungrounded);
    }
    tracing::info!(
        incident = %input.incident.incident_id,
        dropped = grounded.dropped,
        kept = grounded.model_sentences,
        "narrative grounded: sentences its citations do not support left out"
    );
    check_citations(&grounded.narrative, input.timeline)?;
    Ok(grounded.narrative)
}

/// The revision after `base` (a draft of the same incident) with a checked `narrative`: the
/// same document, the narrative sections rewritten, the model and prompt of the narrative
/// recorded, `base`'s basis kept, revision `base.revision + 1`.
pub fn narrated_revision(
    base: &Postmortem,
    incident: &Incident,
    timeline: &Timeline,
    narrative: &Narrative,
) -> Postmortem {
    let model = narrative.model.clone().unwrap_or_default();
    let prompt = narrative.prompt.clone().unwrap_or_default();
    Postmortem {
        revision: base.revision.saturating_add(1),
        draft_basis: base.draft_basis.clone(),
        ..render_postmortem(incident, timeline, narrative, model, prompt)
    }
}

/// Drafts the postmortem of `incident` inline (for tools and tests; the service publishes
/// the [`deterministic_draft`] at once and the narrative later): `drafter`'s narrative when it
/// passes the citation check, else the deterministic one with the reason.
pub async fn draft_postmortem(incident: &Incident, alerts: &[Alert], drafter: &dyn Drafter) -> DraftOutcome {
    let timeline = Timeline::build(incident, alerts);
    let draft = deterministic_draft(incident, &timeline);
    let input = DraftInput {
        incident,
        timeline: &timeline,
    };
    match checked_narrative(drafter, input).await {
        Ok(narrative) => DraftOutcome {
            postmortem: Postmortem {
                revision: 1,
                ..narrated_revision(&draft, incident, &timeline, &narrative)
            },
            fallback_reason: None,
        },
        Err(reason) => {
            tracing::warn!(incident = %incident.incident_id, model = drafter.model(), %reason, "using the deterministic draft");
            DraftOutcome {
                postmortem: draft,
                fallback_reason: Some(reason.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::tests::fixture;
    use uuid::Uuid;

    struct Inventing;

    impl Drafter for Inventing {
        fn model(&self) -> &str {
            "fake-llm"
        }
        fn prompt(&self) -> &str {
            "postmortem-draft@1"
        }
        fn draft<'a>(&'a self, input: DraftInput<'a>) -> DraftFuture<'a> {
            Box::pin(async move {
                let mut narrative = deterministic_narrative(&input);
                for section in &mut narrative.sections {
                    if section.kind == SectionKind::Summary {
                        section.text.push_str("\nA bad deploy by the storage team caused it.");
                    }
                }
                Ok(narrative)
            })
        }
    }

    struct Honest;

    impl Drafter for Honest {
        fn model(&self) -> &str {
            "fake-llm"
        }
        fn prompt(&self) -> &str {
            "postmortem-draft@1"
        }
        fn draft<'a>(&'a self, _input: DraftInput<'a>) -> DraftFuture<'a> {
            // Every fact sentence uses the words and numbers of the entry it cites.
            let sections = [
                (
                    SectionKind::Summary,
                    "A critical incident on hdfs opened at 1970-01-01T00:17:40Z [T1].",
                ),
                (SectionKind::Impact, "The highest alert severity was critical [T2]."),
                (
                    SectionKind::RootCauses,
                    "Hypothesis: the failure shows in template \"Exception in receiveBlock for block <*> <*>\" [T2].",
                ),
                (SectionKind::Trigger, "The first sign was error_surge on hdfs [T2]."),
                (
                    SectionKind::Detection,
                    "Opsline detected it with a critical error_surge alert at 1970-01-01T00:17:40Z [T2].",
                ),
                (
                    SectionKind::Resolution,
                    "No new alert arrived for the quiet period, so the incident was resolved [T4].",
                ),
                (
                    SectionKind::ActionItems,
                    "- Check the runbook `runbooks/alert-error-surge.md` [T2]",
                ),
                (SectionKind::LessonsLearned, "Alerting on the error surge worked [T2]."),
            ];
            let narrative = Narrative {
                sections: sections
                    .into_iter()
                    .map(|(kind, text)| NarrativeSection {
                        kind,
                        text: text.to_owned(),
                    })
                    .collect(),
                ..Narrative::default()
            };
            Box::pin(async move { Ok(narrative) })
        }
    }

    #[tokio::test]
    async fn deterministic_draft_is_stable_and_marked() {
        let (incident, alerts) = fixture();
        let one = draft_postmortem(&incident, &alerts, &DeterministicDrafter).await;
        let two = draft_postmortem(&incident, &alerts, &DeterministicDrafter).await;
        assert_eq!(one, two);
        assert_eq!(one.fallback_reason, None);
        let pm = one.postmortem;
        assert_eq!(pm.postmortem_id, postmortem_id(incident.incident_id));
        assert_eq!(pm.model, "none");
        assert_eq!(pm.status, PostmortemStatus::Draft);
        assert!(pm.markdown.contains("_Draft, needs review._"), "{}", pm.markdown);
        assert!(pm.markdown.contains("opsline.logs.raw.v1/2@88412"), "{}", pm.markdown);
        for kind in SectionKind::ALL {
            assert!(pm.markdown.contains(&format!("## {}", kind.heading())), "{kind:?}");
        }
    }

    #[tokio::test]
    async fn an_inventing_drafters_uncited_sentence_is_left_out() {
        let (incident, alerts) = fixture();
        let outcome = draft_postmortem(&incident, &alerts, &Inventing).await;
        assert_eq!(outcome.fallback_reason, None);
        assert_eq!(outcome.postmortem.model, "fake-llm");
        assert!(!outcome.postmortem.markdown.contains("bad deploy"));
        assert!(outcome.postmortem.markdown.contains("left out"));
        let honest = draft_postmortem(&incident, &alerts, &Honest).await;
        assert_eq!(honest.fallback_reason, None);
        assert_eq!(honest.postmortem.model, "fake-llm");
        assert!(!honest.postmortem.markdown.contains("left out"));
    }

    #[tokio::test]
    async fn the_deterministic_draft_has_a_stable_basis_and_the_narrative_follows_it() {
        let (incident, alerts) = fixture();
        let timeline = Timeline::build(&incident, &alerts);
        let draft = deterministic_draft(&incident, &timeline);
        assert_eq!(draft.revision, 1);
        assert_eq!(draft, deterministic_draft(&incident, &timeline));
        assert_eq!(draft.draft_basis.as_deref().map(str::len), Some(64));
        let input = DraftInput {
            incident: &incident,
            timeline: &timeline,
        };
        let narrative = checked_narrative(&Honest, input).await.unwrap();
        let two = narrated_revision(&draft, &incident, &timeline, &narrative);
        assert_eq!((two.revision, two.postmortem_id), (2, draft.postmortem_id));
        assert_eq!(two.draft_basis, draft.draft_basis);
        assert_eq!(
            (two.model.as_str(), two.prompt.as_str()),
            ("fake-llm", "postmortem-draft@1")
        );
    }

    #[test]
    fn ids_derive_from_the_incident() {
        let a = Uuid::from_u128(7);
        assert_eq!(postmortem_id(a), postmortem_id(a));
        assert_ne!(postmortem_id(a), postmortem_id(Uuid::from_u128(8)));
    }
}
