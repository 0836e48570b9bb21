//! Credentials in template texts. A template mined from lines that reached the raw-log topic
//! without the gateway's masking (a shipper writing to Kafka directly) can keep a password as
//! a constant word: `db login password=letmein failed for user <*>`. Template texts leave the
//! engine only masked (template events, alerts, incident titles, refinement prompts). The
//! masked text is computed when the miner reports a change, so the per-line cost is one map
//! lookup; only templates that held a credential are kept.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use opsline_logmine::{Miner, TemplateChange};
use opsline_privacy::Redactor;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// `text` with credential values replaced by `<SECRET>` (borrowed when it holds none).
pub fn mask(text: &str) -> Cow<'_, str> {
    match REDACTOR.mask_credentials(text) {
        Some(masked) => Cow::Owned(masked),
        None => Cow::Borrowed(text),
    }
}

/// The masked texts of a service's templates that held a credential.
#[derive(Debug, Clone, Default)]
pub struct TemplateMasks {
    masked: BTreeMap<u64, String>,
}

impl TemplateMasks {
    /// The masks of every template of `miner` (after a restore).
    pub fn of(miner: &Miner) -> Self {
        let mut masks = Self::default();
        for template in miner.templates() {
            masks.set(template.id, &template.text);
        }
        masks
    }

    /// Follows the miner's `changes`.
    pub fn on_changes(&mut self, changes: &[TemplateChange]) {
        for change in changes {
            match change {
                TemplateChange::Created { id, template } => self.set(*id, template),
                TemplateChange::Updated { id, new, .. } => self.set(*id, new),
                TemplateChange::Merged { from, into, template } => {
                    self.masked.remove(from);
                    self.set(*into, template);
                }
                TemplateChange::Split { from, into, .. } => {
                    self.masked.remove(from);
                    for part in into {
                        self.set(part.id, &part.text);
                    }
                }
            }
        }
    }

    /// The text of template `id` to show, given its mined text `raw`.
    pub fn text<'a>(&'a self, id: u64, raw: &'a str) -> &'a str {
        self.masked.get(&id).map_or(raw, String::as_str)
    }

    fn set(&mut self, id: u64, text: &str) {
        match mask(text) {
            Cow::Owned(masked) => {
                self.masked.insert(id, masked);
            }
            Cow::Borrowed(_) => {
                self.masked.remove(&id);
            }
        }
    }
}
