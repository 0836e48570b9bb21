//! Template refinement, the engine's pure side (issue 13, item 3): which new templates go to the
//! model with which lines, and the refined texts the engine uses once a refinement is accepted.
//!
//! A template the miner creates starts collecting its lines (content only, header removed,
//! redacted with [`crate::redaction::redact`], distinct); once it has [`Sampling::samples`] of
//! them it becomes one [`RefineRequest`] (taken by the caller with
//! [`Engine::take_refine_requests`] and handed to the model off the hot path; the line itself is
//! processed at once with the mined template). At most [`Sampling::max_pending`] templates
//! collect per service; a template created beyond that is not refined (counted).
//!
//! An accepted refinement is applied with [`Engine::apply_refinement`] only while the mined text
//! is still the one that was refined: from then on the template's lines are observed with the
//! refined text, so later alerts and incidents quote it. When the miner changes the template
//! (updated, merged, split) its refined text is dropped: the mined text is newer. Refined texts
//! are part of the service's snapshot.

use std::collections::BTreeMap;

use opsline_logmine::{Miner, Parsed, TemplateChange};
use serde::{Deserialize, Serialize};

use super::{Engine, ServiceState};
use crate::redaction::redact;

/// Requests kept until [`Engine::take_refine_requests`] takes them; more are counted as skipped
/// (a caller that never takes them, such as an offline replay, keeps memory bounded).
pub const MAX_READY: usize = 1024;
/// The most lines a refinement may be asked to collect.
pub const MAX_SAMPLES: usize = 20;

/// What the engine collects for refinement (`None` in [`super::EngineConfig::refine`]: nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampling {
    /// Distinct lines a new template needs before it is refined (1..=[`MAX_SAMPLES`]).
    pub samples: usize,
    /// New templates collecting lines at once, per service.
    pub max_pending: usize,
    /// Sample lines are cut to this many characters.
    pub max_chars: usize,
}

/// A new template ready for the model: its mined text and its first distinct lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefineRequest {
    /// The service.
    pub service: String,
    /// The template id.
    pub template_id: u64,
    /// The mined text when the last sample arrived.
    pub template: String,
    /// Its first distinct lines: content only (header removed), redacted.
    pub samples: Vec<String>,
}

/// The refinement state of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefineState {
    /// New templates still collecting lines (not persisted: after a restart they are not refined).
    #[serde(skip)]
    pending: BTreeMap<u64, Vec<String>>,
    /// Accepted refined texts by template id.
    pub refined: BTreeMap<u64, String>,
}

impl RefineState {
    /// Whether nothing is refined (pending lines are not persisted).
    pub fn is_empty(&self) -> bool {
        self.refined.is_empty()
    }

    /// The refined text of template `id`, if one applies.
    pub fn refined(&self, id: u64) -> Option<&str> {
        self.refined.get(&id).map(String::as_str)
    }

    /// Forgets what depended on the mined texts that `changes` replaced, and starts collecting
    /// lines of created templates (when `sampling` is on). Returns how many created templates
    /// could not collect because `max_pending` were already collecting.
    pub(super) fn on_changes(&mut self, changes: &[TemplateChange], sampling: Option<&Sampling>) -> u64 {
        let mut skipped = 0;
        for change in changes {
            match change {
                TemplateChange::Created { id, .. } => {
                    if let Some(sampling) = sampling {
                        if self.pending.len() < sampling.max_pending {
                            self.pending.entry(*id).or_default();
                        } else {
                            skipped += 1;
                        }
                    }
                }
                TemplateChange::Updated { id, .. } => {
                    self.refined.remove(id);
                }
                TemplateChange::Merged { from, into, .. } => {
                    self.pending.remove(from);
                    self.refined.remove(from);
                    self.refined.remove(into);
                }
                TemplateChange::Split { from, .. } => {
                    self.pending.remove(from);
                    self.refined.remove(from);
                }
            }
        }
        skipped
    }

    /// Whether lines of template `id` are being collected.
    pub(super) fn collecting(&self, id: u64) -> bool {
        self.pending.contains_key(&id)
    }

    /// Adds one line (`content`, header removed) of template `id`; the request once it has
    /// enough distinct lines.
    pub(super) fn collect(
        &mut self,
        service: &str,
        id: u64,
        template: &str,
        content: &str,
        sampling: &Sampling,
    ) -> Option<RefineRequest> {
        let samples = self.pending.get_mut(&id)?;
        let line = redact(content.trim(), sampling.max_chars);
        if line.is_empty() || samples.contains(&line) {
            return None;
        }
        samples.push(line);
        if samples.len() < sampling.samples.clamp(1, MAX_SAMPLES) {
            return None;
        }
        let samples = self.pending.remove(&id)?;
        Some(RefineRequest {
            service: service.to_owned(),
            template_id: id,
            template: template.to_owned(),
            samples,
        })
    }
}

/// Mines `line` like [`Miner::ingest`], and also returns the line's content (header removed)
/// when the line's template, or one it creates, collects lines for refinement.
pub(super) fn mine(miner: &mut Miner, line: &[u8], refine: &RefineState, sampling: bool) -> (Parsed, Option<String>) {
    let extract_params = miner.config().extract_params;
    let view = miner.ingest_ref(line);
    let wanted = sampling
        && (refine.collecting(view.template_id)
            || view
                .changes
                .iter()
                .any(|c| matches!(c, TemplateChange::Created { id, .. } if *id == view.template_id)));
    let content = wanted.then(|| view.content.to_owned());
    let parsed = Parsed {
        template_id: view.template_id,
        template: view.template.clone(),
        params: if extract_params {
            view.params().map(str::to_string).collect()
        } else {
            Vec::new()
        },
        header: view.header.to_header(),
        changes: view.changes.to_vec(),
    };
    (parsed, content)
}

/// How an accepted refinement was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The template now shows the refined text.
    Applied,
    /// The mined text changed since it was refined (or the template or service is gone).
    Stale,
}

impl Engine {
    /// The new templates ready for the model since the last call, and how many new templates
    /// were not collected because too many were collecting (or waiting to be taken).
    pub fn take_refine_requests(&mut self) -> (Vec<RefineRequest>, u64) {
        let skipped = std::mem::take(&mut self.refine_skipped);
        (std::mem::take(&mut self.refine_ready), skipped)
    }

    /// Whether template `id` of `service` still has the mined text `previous`.
    pub fn mined_text_is(&self, service: &str, id: u64, previous: &str) -> bool {
        self.service(service)
            .and_then(|s| s.miner.template(id))
            .is_some_and(|t| *t.text == *previous)
    }

    /// Uses `text` for template `id` of `service` from now on, if its mined text is still
    /// `previous` (see the module docs).
    pub fn apply_refinement(&mut self, service: &str, id: u64, previous: &str, text: &str) -> Applied {
        if !self.mined_text_is(service, id, previous) {
            return Applied::Stale;
        }
        let Some(state) = self.service_mut(service) else {
            return Applied::Stale;
        };
        state.refine.refined.insert(id, text.to_owned());
        state
            .detector
            .refill_texts(|template| (template == id).then(|| text.to_owned()));
        state.dirty = true;
        Applied::Applied
    }

    /// The text the engine uses for template `id` of `service`: the refined one, else the mined one.
    pub fn template_text(&self, service: &str, id: u64) -> Option<String> {
        let state: &ServiceState = self.service(service)?;
        match state.refine.refined(id) {
            Some(text) => Some(text.to_owned()),
            None => state.miner.template(id).map(|t| t.text.to_string()),
        }
    }
}
