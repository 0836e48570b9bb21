//! Log lines received per service over time, for the insights: asked from the log service,
//! which counts the lines it consumes per service and hour or day of their event time
//! (`GET {logintel_url}/v1/stats/lines?bucket=hour|day&limit=N`, kept in its snapshots; the
//! number of services is bounded by its `max_services`). Best effort: when the log service does
//! not answer, the insights say why and show everything else.

use std::collections::BTreeMap;

use opsline_runtime::outbound::OutboundClient;
use serde::Deserialize;

/// Longest answer read from the log service (bucket counts of at most `max_services` services).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Lines per service and bucket start (RFC 3339).
pub type ServiceLines = BTreeMap<String, BTreeMap<String, u64>>;

/// Where the counts come from.
#[derive(Clone)]
pub struct LineSource {
    /// Calls to the log service.
    pub client: OutboundClient,
    /// The log service's base URL (empty: no counts).
    pub logintel_url: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    services: ServiceLines,
}

impl LineSource {
    /// The newest `limit` hourly (`hourly`) or daily counts of every service, or why there are none.
    pub async fn fetch(&self, hourly: bool, limit: usize) -> Result<ServiceLines, String> {
        let base = self.logintel_url.trim_end_matches('/');
        if base.is_empty() {
            return Err("no log service is configured (logintel_url)".to_owned());
        }
        let bucket = if hourly { "hour" } else { "day" };
        let url = format!("{base}/v1/stats/lines?bucket={bucket}&limit={limit}");
        let answer = self
            .client
            .get(&url, &[], MAX_ANSWER_BYTES)
            .await
            .map_err(|e| format!("the log service at {base} did not answer: {e}"))?;
        if !answer.is_success() {
            return Err(format!("the log service at {base} answered {}", answer.status));
        }
        serde_json::from_str::<Answer>(&answer.body_snippet)
            .map(|a| a.services)
            .map_err(|e| format!("the log service's answer did not parse: {e}"))
    }
}
