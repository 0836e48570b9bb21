//! Every message of the prompt-injection corpus (`tests/data/chat-injections.txt`) is
//! refused before anything is looked up: the intent guard or the account check flags it.

use opsline_classify::IntentClassifier;
use opsline_selfservice::screen::Screen;

#[test]
fn every_injection_is_refused() {
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/chat-injections.txt"
    ))
    .expect("corpus");
    let classifier = IntentClassifier::builtin().expect("classifier");
    let screen = Screen::new().expect("screen");
    let messages: Vec<&str> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert!(messages.len() >= 30);
    let mut missed = Vec::new();
    for text in &messages {
        let prediction = classifier.classify(text);
        let verdict = screen.check(&prediction, text);
        println!(
            "{:?} {:?} -> {:?}  {text}",
            prediction.intent, prediction.guard, verdict
        );
        if verdict.is_none() {
            missed.push(*text);
        }
    }
    assert!(missed.is_empty(), "not refused: {missed:#?}");
}

#[test]
fn ordinary_requests_pass() {
    let classifier = IntentClassifier::builtin().expect("classifier");
    let screen = Screen::new().expect("screen");
    for text in [
        "I forgot my password, can you reset it?",
        "my account is locked, please unlock it",
        "what is the status of my ticket T-1001",
        "is the vpn down?",
        "reset my password please",
    ] {
        let prediction = classifier.classify(text);
        assert_eq!(screen.check(&prediction, text), None, "{text}");
    }
}
