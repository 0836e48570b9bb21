//! Prints the draft of the sample incident: deterministic by default
//! (`cargo run -p opsline-postmortem --example draft_sample`), or drafted by a model on an
//! OpenAI-compatible endpoint (`... --example draft_sample -- http://127.0.0.1:8080/v1 MODEL`),
//! with the reason when the citation check sent it back to the deterministic draft.

use std::collections::BTreeMap;
use std::sync::Arc;

use opsline_events::Event;
use opsline_events::logs::{Alert, Incident};
use opsline_llm::{LlmConfig, LlmGateway, NoLedger, TaskConfig};
use opsline_postmortem::draft::llm::{LlmDrafter, NARRATIVE_TASK};
use opsline_postmortem::draft::{DeterministicDrafter, Drafter, draft_postmortem};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let incident = Incident::sample();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let drafter: Box<dyn Drafter> = match args.as_slice() {
        [base_url, model] => {
            opsline_llm::endpoint::install_crypto_provider();
            let config = LlmConfig {
                enabled: true,
                base_url: base_url.clone(),
                tasks: BTreeMap::from([(
                    NARRATIVE_TASK.to_owned(),
                    TaskConfig {
                        model: model.clone(),
                        temperature: 0.0,
                        max_tokens: 1024,
                        priority: None,
                        budget: Default::default(),
                    },
                )]),
                approved_models: BTreeMap::from([(NARRATIVE_TASK.to_owned(), vec![model.clone()])]),
                timeout_secs: 300,
                ..LlmConfig::default()
            };
            Box::new(LlmDrafter::new(LlmGateway::new(config, Arc::new(NoLedger))?))
        }
        _ => Box::new(DeterministicDrafter),
    };
    let outcome = draft_postmortem(&incident, &[Alert::sample()], drafter.as_ref()).await;
    if let Some(reason) = &outcome.fallback_reason {
        eprintln!("fell back to the deterministic draft: {reason}");
    }
    println!("{}", outcome.postmortem.markdown);
    Ok(())
}
