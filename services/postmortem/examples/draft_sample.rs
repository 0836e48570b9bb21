//! Prints the deterministic draft of the sample incident (`cargo run -p opsline-postmortem --example draft_sample`).

use opsline_events::Event;
use opsline_events::logs::{Alert, Incident};
use opsline_postmortem::draft::{DeterministicDrafter, draft_postmortem};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let incident = Incident::sample();
    let outcome = draft_postmortem(&incident, &[Alert::sample()], &DeterministicDrafter).await;
    println!("{}", outcome.postmortem.markdown);
}
