//! Optional refinement of mined templates by a language model (LILAC-style), off the hot path.
//!
//! When the miner creates a template, a service may ask a model for a better one: the model
//! sees up to `k` of the template's lines ([`prompt`]) and proposes a template. The proposal is
//! **accepted only** if it matches every sample line, does not say less than the mined
//! template (not all wildcards, every constant word of the mined template kept) and does not
//! turn a number the miner masked back into a constant ([`check`]). Each template id costs at most one model call: the outcome, accepted or not, is
//! cached by id ([`Refiner`]).
//!
//! The miner never waits: a line is processed at once with the mined template, and the
//! refinement arrives later as an update, through [`RefineWorker`] (a thread running the model
//! calls; jobs are dropped, not queued without bound, when it falls behind). This module does
//! no I/O itself: the model is a [`TemplateModel`] supplied by the caller (for example an
//! OpenAI-compatible endpoint through the workspace's LLM gateway crate).

pub mod check;
pub mod prompt;
mod worker;

use std::collections::HashMap;

pub use check::{Rejection, matches};
pub use prompt::{ChatMessage, EXAMPLES, INSTRUCTIONS, Role, build_prompt, numbered_lines, parse_answer, tidy};
pub use worker::{RefineJob, RefineWorker, RefinedTemplate};

/// A language model answering chat prompts (blocking; run it off the hot path, see
/// [`RefineWorker`]).
pub trait TemplateModel {
    /// The model's answer text to `messages`, or why there is none.
    fn complete(&mut self, messages: &[ChatMessage]) -> Result<String, String>;
}

impl<M: TemplateModel + ?Sized> TemplateModel for &mut M {
    fn complete(&mut self, messages: &[ChatMessage]) -> Result<String, String> {
        (**self).complete(messages)
    }
}

/// What one refinement gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The proposal passed the check: the template's new text.
    Accepted(String),
    /// The proposal was refused.
    Rejected(Rejection),
    /// The model call failed (the reason).
    Failed(String),
}

/// The verdict on a proposal for the mined template `mined` whose lines are `samples` (headers
/// removed): [`Outcome::Accepted`] with the proposal's normalized text when it passes
/// [`check::check`] against every sample, else the rejection (`None`: the answer held no
/// template). Pure; a caller that talks to the model itself (an async service) uses this
/// instead of [`Refiner`].
pub fn judge(mined: &str, proposed: Option<&str>, samples: &[&str]) -> Outcome {
    match proposed {
        None => Outcome::Rejected(Rejection::Unparsable),
        Some(proposed) => match check::check(mined, proposed, samples) {
            Ok(()) => Outcome::Accepted(check::normalize_space(proposed)),
            Err(why) => Outcome::Rejected(why),
        },
    }
}

/// Counts over all refinements.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RefineStats {
    /// Model calls made.
    pub calls: usize,
    /// Proposals accepted.
    pub accepted: usize,
    /// Proposals refused, by reason name.
    pub rejected: std::collections::BTreeMap<&'static str, usize>,
    /// Failed calls.
    pub failed: usize,
}

/// Refines templates with a model, at most one call per template id.
#[derive(Debug)]
pub struct Refiner<M> {
    model: M,
    cache: HashMap<u64, Outcome>,
    stats: RefineStats,
    max_samples: usize,
}

/// Default number of sample lines per prompt.
pub const DEFAULT_SAMPLES: usize = 5;

impl<M: TemplateModel> Refiner<M> {
    /// A refiner showing the model at most `max_samples` lines per template (at least one).
    pub fn new(model: M, max_samples: usize) -> Self {
        Self {
            model,
            cache: HashMap::new(),
            stats: RefineStats::default(),
            max_samples: max_samples.max(1),
        }
    }

    /// The outcome for template `id` (mined text `mined`, lines `samples` without their
    /// headers): cached when the id was refined before, else one model call.
    pub fn refine(&mut self, id: u64, mined: &str, samples: &[&str]) -> &Outcome {
        let Self {
            model,
            cache,
            stats,
            max_samples,
        } = self;
        cache.entry(id).or_insert_with(|| {
            let shown = &samples[..samples.len().min(*max_samples)];
            stats.calls += 1;
            let outcome = match model.complete(&build_prompt(shown)) {
                Err(reason) => Outcome::Failed(reason),
                // Every sample is checked, not only the ones shown.
                Ok(answer) => judge(mined, parse_answer(&answer).as_deref(), samples),
            };
            match &outcome {
                Outcome::Accepted(_) => stats.accepted += 1,
                Outcome::Rejected(why) => *stats.rejected.entry(why.name()).or_default() += 1,
                Outcome::Failed(_) => stats.failed += 1,
            }
            outcome
        })
    }

    /// The cached outcome for `id`, if it was refined.
    pub fn outcome(&self, id: u64) -> Option<&Outcome> {
        self.cache.get(&id)
    }

    /// Counts so far.
    pub fn stats(&self) -> &RefineStats {
        &self.stats
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Answers with a fixed text and counts its calls.
    struct Canned {
        answer: Result<String, String>,
        calls: usize,
        last_prompt: Vec<ChatMessage>,
    }

    impl TemplateModel for Canned {
        fn complete(&mut self, messages: &[ChatMessage]) -> Result<String, String> {
            self.calls += 1;
            self.last_prompt = messages.to_vec();
            self.answer.clone()
        }
    }

    fn canned(answer: &str) -> Canned {
        Canned {
            answer: Ok(answer.to_string()),
            calls: 0,
            last_prompt: Vec::new(),
        }
    }

    #[test]
    fn one_call_per_template_id() {
        let mut r = Refiner::new(canned(r#"{"template": "fetch from <*> failed"}"#), 2);
        let samples = [
            "fetch from host-1 failed",
            "fetch from host-2 failed",
            "fetch from host-3 failed",
        ];
        for _ in 0..3 {
            let out = r.refine(7, "fetch from <*> failed", &samples).clone();
            assert_eq!(out, Outcome::Rejected(Rejection::Same));
        }
        assert_eq!(r.model.calls, 1);
        // Only two samples are shown.
        assert!(
            r.model
                .last_prompt
                .last()
                .unwrap()
                .text
                .contains("2. fetch from host-2")
        );
        assert!(!r.model.last_prompt.last().unwrap().text.contains("host-3"));
        r.refine(8, "fetch from <*> failed", &samples);
        assert_eq!(r.model.calls, 2);
        assert_eq!(r.stats().calls, 2);
        assert_eq!(r.stats().rejected.get("same"), Some(&2));
    }

    #[test]
    fn accepted_and_rejected_outcomes() {
        let mut r = Refiner::new(canned(r#"{"template": "lease <*> renewed for <*>"}"#), 5);
        let samples = ["lease 42 renewed for 10.0.0.7", "lease 43 renewed for 10.0.0.9"];
        assert_eq!(
            r.refine(1, "lease <*> renewed for 10.0.0.7", &samples[..1]),
            &Outcome::Accepted("lease <*> renewed for <*>".into())
        );
        // The same proposal does not match the line of another template: refused.
        assert_eq!(
            r.refine(2, "lease <*> renewed", &["lease 1 renewed"]),
            &Outcome::Rejected(Rejection::MissesSample)
        );
        assert_eq!(
            r.refine(3, "lease <*> dropped", &["lease 1 dropped"]),
            &Outcome::Rejected(Rejection::DropsConstant)
        );
        let mut r = Refiner::new(canned("<*>"), 5);
        assert_eq!(
            r.refine(1, "disk <*> full", &["disk a full"]),
            &Outcome::Rejected(Rejection::AllWildcards)
        );
        let mut r = Refiner::new(
            Canned {
                answer: Err("down".into()),
                calls: 0,
                last_prompt: Vec::new(),
            },
            5,
        );
        assert_eq!(r.refine(1, "a <*>", &["a b"]), &Outcome::Failed("down".into()));
        assert_eq!(r.stats().failed, 1);
    }
}
