//! A minimal real processor for runtime tests: copies raw-log envelopes to an
//! output topic and dead-letters anything that is not one.

use opsline_events::logs::RawLog;
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};

/// Copies each raw-log envelope, unchanged, to `output`.
pub struct Relay {
    /// Destination topic.
    pub output: String,
}

impl Processor for Relay {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let envelope = record
            .envelope::<RawLog>()
            .map_err(|e| ProcessError::fatal("invalid_event", e.to_string()))?;
        let out = OutRecord::event(self.output.clone(), &envelope.data.service, &envelope)
            .map_err(|e| ProcessError::fatal("encode", e.to_string()))?;
        Ok(vec![out])
    }
}
