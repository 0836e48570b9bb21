//! The borrowed result of mining one line ([`ParsedRef`]), for callers that want no allocation
//! per line; [`crate::Parsed`] is its owned form.

use std::sync::Arc;

use super::compare::params_of;
use super::line::LineTokens;
use super::{Miner, Parsed, TemplateChange};
use crate::header::{Header, strip_pid};
use crate::intern::Interner;
use crate::severity::{Severity, classify_level};

/// Header fields of one line, borrowed from the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    /// The timestamp text as written in the line (all date/time fields joined).
    pub timestamp: Option<&'a str>,
    /// The level/severity text as written (`INFO`, `E`, `notice`, …).
    pub level: Option<&'a str>,
    /// The component/logger/program name (a trailing `[pid]` is removed).
    pub component: Option<&'a str>,
    /// The host (node, machine) that wrote the line, when the header names one.
    pub host: Option<&'a str>,
}

impl HeaderRef<'_> {
    /// The owned form.
    pub fn to_header(&self) -> Header {
        Header {
            timestamp: self.timestamp.map(str::to_string),
            level: self.level.map(str::to_string),
            component: self.component.map(str::to_string),
            host: self.host.map(str::to_string),
        }
    }
}

/// The result of mining one line, borrowing the line and the miner (see [`Miner::ingest_ref`]).
#[derive(Debug, Clone, Copy)]
pub struct ParsedRef<'a> {
    /// Id of the template the line belongs to.
    pub template_id: u64,
    /// The template text, with `<*>` for variables (clone the `Arc` to keep it).
    pub template: &'a Arc<str>,
    /// The header fields.
    pub header: HeaderRef<'a>,
    /// The severity class of the header's level field (`None` without a recognised level).
    pub severity: Option<Severity>,
    /// Template changes caused by this line (usually empty).
    pub changes: &'a [TemplateChange],
    /// The line's content (the text after the header).
    pub content: &'a str,
    interner: &'a Interner,
    template_tokens: &'a [u32],
    tokens: &'a LineTokens,
}

impl<'a> ParsedRef<'a> {
    /// Builds the view of the line `text` just mined into cluster `idx`.
    pub(super) fn new(miner: &'a Miner, text: &'a str, idx: usize) -> Self {
        let line = text.get(..miner.scratch.line_len).unwrap_or(text);
        let split = &miner.scratch.split;
        let field = |r: &Option<std::ops::Range<usize>>| r.clone().and_then(|r| line.get(r));
        let header = HeaderRef {
            timestamp: field(&split.timestamp),
            level: field(&split.level),
            component: field(&split.component).map(strip_pid),
            host: field(&split.host),
        };
        // Header formats classify their level field while matching; other strategies do it here.
        let severity = split.severity.or_else(|| header.level.and_then(classify_level));
        let content = line.get(split.content.clone()).unwrap_or("");
        let (template_id, template, template_tokens) = match miner.clusters.get(idx) {
            Some(c) => (c.id, &c.text, c.tokens.as_slice()),
            None => (0, &miner.scratch.empty, &[][..]),
        };
        Self {
            template_id,
            template,
            header,
            severity,
            changes: &miner.scratch.changes,
            content,
            interner: &miner.interner,
            template_tokens,
            tokens: &miner.scratch.line,
        }
    }

    /// The values of the line's variable tokens, in order (computed on each call, no allocation).
    pub fn params(&self) -> impl Iterator<Item = &'a str> + 'a {
        params_of(self.interner, self.template_tokens, self.tokens, self.content)
    }

    /// The owned form, parameters included.
    pub fn to_parsed(&self) -> Parsed {
        Parsed {
            template_id: self.template_id,
            template: self.template.clone(),
            params: self.params().map(str::to_string).collect(),
            header: self.header.to_header(),
            changes: self.changes.to_vec(),
        }
    }
}
