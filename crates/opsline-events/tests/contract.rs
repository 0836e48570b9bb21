//! Contract tests: the checked-in `schemas/` match the types, every sample
//! validates against its schema, and every schema example deserializes into
//! its type and round-trips.
//!
//! Regenerate the files after a deliberate change with
//! `OPSLINE_UPDATE_SCHEMAS=1 cargo test -p opsline-events --test contract`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use opsline_events::envelope::{Envelope, Event};
use opsline_events::logs::{Alert, Incident, RawLog, TemplateEvent};
use opsline_events::ops::{ChatMessage, ChatReply, DeadLetter, LlmUsage, Postmortem, SelfServiceAction};
use opsline_events::refined::TemplateRefined;
use opsline_events::schema::{catalogue, event_schema};
use opsline_events::tickets::{RawTicket, RoutedTicket, TicketFeedback, TicketStateChange, TriagedTicket};
use serde_json::Value;

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn check<T: Event>() {
    let stem = T::schema_file_stem();
    let path = schemas_dir().join(format!("{stem}.schema.json"));
    let generated = event_schema::<T>();
    if std::env::var_os("OPSLINE_UPDATE_SCHEMAS").is_some() {
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with OPSLINE_UPDATE_SCHEMAS=1", path.display()));
    let on_disk: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        on_disk, generated,
        "{stem}: schema drifted from the types; regenerate and review the diff"
    );
    assert_eq!(on_disk["$schema"], "https://json-schema.org/draft/2020-12/schema");

    let validator = jsonschema::validator_for(&on_disk).unwrap();

    // Type -> JSON -> schema.
    let sample = Envelope::<T>::sample();
    let json = serde_json::to_value(&sample).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{stem}: sample does not validate: {errors:?}");
    // A fresh envelope (UUID v7 id, now) validates too.
    let fresh = serde_json::to_value(Envelope::new("test", T::sample())).unwrap();
    assert!(validator.is_valid(&fresh), "{stem}: fresh envelope invalid");

    // Schema example -> type -> JSON round trip.
    let examples = on_disk["examples"].as_array().expect("examples");
    assert!(!examples.is_empty());
    for example in examples {
        assert!(
            validator.is_valid(example),
            "{stem}: example invalid against its own schema"
        );
        let bytes = serde_json::to_vec(example).unwrap();
        let parsed = Envelope::<T>::from_json(&bytes).unwrap();
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            *example,
            "{stem}: round trip changed the example"
        );
    }

    // Wrong type and missing fields are rejected by the schema.
    let mut wrong = json.clone();
    wrong["type"] = Value::String("not.a.type".into());
    assert!(!validator.is_valid(&wrong), "{stem}: wrong type accepted");
    let mut missing = json;
    missing.as_object_mut().unwrap().remove("data");
    assert!(!validator.is_valid(&missing), "{stem}: missing data accepted");
}

#[test]
fn every_event_matches_its_schema() {
    check::<RawLog>();
    check::<RawTicket>();
    check::<ChatMessage>();
    check::<TemplateEvent>();
    check::<TemplateRefined>();
    check::<Alert>();
    check::<opsline_events::external::ExternalAlert>();
    check::<Incident>();
    check::<TriagedTicket>();
    check::<RoutedTicket>();
    check::<TicketFeedback>();
    check::<TicketStateChange>();
    check::<ChatReply>();
    check::<SelfServiceAction>();
    check::<Postmortem>();
    check::<LlmUsage>();
    check::<DeadLetter>();
    check::<opsline_events::notify::NotificationState>();
    check::<opsline_events::actions::IncidentAction>();
}

#[test]
fn catalogue_lists_every_schema_file() {
    let mut stems: Vec<String> = catalogue().iter().map(|e| (e.file_stem)()).collect();
    stems.sort();
    let mut files: Vec<String> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".schema.json").map(str::to_owned))
        .collect();
    files.sort();
    assert_eq!(stems, files, "schemas/ and the catalogue differ");
    assert_eq!(stems.len(), 19);
}
