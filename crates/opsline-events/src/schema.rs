//! JSON Schema generation for event envelopes and the catalogue of events.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::actions::IncidentAction;
use crate::envelope::{Envelope, Event};
use crate::external::ExternalAlert;
use crate::logs::{Alert, Incident, RawLog, TemplateEvent};
use crate::notify::NotificationState;
use crate::ops::{ChatMessage, ChatReply, DeadLetter, LlmUsage, Postmortem, SelfServiceAction};
use crate::refined::TemplateRefined;
use crate::tickets::{RawTicket, RoutedTicket, TicketFeedback, TicketStateChange, TriagedTicket};

/// The JSON Schema (draft 2020-12) of `Envelope<T>`, with `type` and
/// `schema_version` pinned to the event's constants and the sample envelope
/// as its example.
pub fn event_schema<T: Event>() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Envelope<T>>();
    let mut value = schema.to_value();
    if let Value::Object(map) = &mut value {
        map.insert(
            "$id".into(),
            Value::String(format!(
                "https://opsline.dev/schemas/{}.schema.json",
                T::schema_file_stem()
            )),
        );
        map.insert(
            "title".into(),
            Value::String(format!("{} event (v{})", T::TYPE, T::SCHEMA_VERSION)),
        );
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            if let Some(Value::Object(ty)) = props.get_mut("type") {
                ty.insert("const".into(), Value::String(T::TYPE.into()));
            }
            if let Some(Value::Object(version)) = props.get_mut("schema_version") {
                version.insert("const".into(), Value::from(T::SCHEMA_VERSION));
            }
            if let Some(Value::Object(id)) = props.get_mut("id") {
                id.insert(
                    "description".into(),
                    Value::String("Unique event id (UUID v7, time-ordered). Consumers deduplicate on it.".into()),
                );
            }
        }
        let example = serde_json::to_value(Envelope::<T>::sample()).unwrap_or(Value::Null);
        map.insert("examples".into(), Value::Array(vec![example]));
    }
    value
}

/// One catalogue entry: the schema file stem and a function producing the schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaEntry {
    /// Event type, e.g. `log.raw`.
    pub event_type: &'static str,
    /// File stem under `schemas/`, e.g. `log.raw.v1`.
    pub file_stem: fn() -> String,
    /// Generates the schema.
    pub schema: fn() -> Value,
}

macro_rules! entry {
    ($t:ty) => {
        SchemaEntry {
            event_type: <$t as Event>::TYPE,
            file_stem: <$t as Event>::schema_file_stem,
            schema: event_schema::<$t>,
        }
    };
}

/// Every event type on the bus.
pub fn catalogue() -> Vec<SchemaEntry> {
    vec![
        entry!(RawLog),
        entry!(RawTicket),
        entry!(ChatMessage),
        entry!(TemplateEvent),
        entry!(TemplateRefined),
        entry!(Alert),
        entry!(ExternalAlert),
        entry!(Incident),
        entry!(TriagedTicket),
        entry!(RoutedTicket),
        entry!(TicketFeedback),
        entry!(TicketStateChange),
        entry!(ChatReply),
        entry!(SelfServiceAction),
        entry!(Postmortem),
        entry!(LlmUsage),
        entry!(DeadLetter),
        entry!(NotificationState),
        entry!(IncidentAction),
    ]
}
