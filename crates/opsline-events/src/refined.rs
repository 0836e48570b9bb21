//! Template refinements: a log template rewritten by a language model and accepted by the log
//! service's check (issue 13, item 3).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::Event;

/// A template of a service's miner, refined by a model: the proposal matched every sample line
/// and said no less than the mined text, so the log service uses it from now on (alerts and
/// incidents quote it). Keyed by `service/template_id` on a compacted topic: the latest
/// refinement of each template is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateRefined {
    /// The service whose stream the template belongs to.
    pub service: String,
    /// The template id (as on the templates topic).
    pub template_id: u64,
    /// The mined text that was refined.
    pub previous: String,
    /// The refined text, with `<*>` wildcards.
    pub template: String,
    /// The model that proposed it.
    pub model: String,
    /// The prompt (`id@version`) it answered.
    pub prompt: String,
    /// How many lines of the template the proposal was checked against.
    pub sample_count: u32,
    /// Those lines, redacted and without their headers (what the model saw, at most a few).
    #[serde(default)]
    pub samples: Vec<String>,
}

impl Event for TemplateRefined {
    const TYPE: &'static str = "log.template.refined";
    fn sample() -> Self {
        Self {
            service: "hdfs".into(),
            template_id: 17,
            previous: "BLOCK* ask <*>:<*> to delete <*>".into(),
            template: "BLOCK* ask <*> to delete <*>".into(),
            model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(),
            prompt: "template-refinement@1".into(),
            sample_count: 2,
            samples: vec![
                "BLOCK* ask 10.250.10.6:50010 to delete blk_-1".into(),
                "BLOCK* ask 10.251.43.21:50010 to delete blk_2 blk_3".into(),
            ],
        }
    }
}
