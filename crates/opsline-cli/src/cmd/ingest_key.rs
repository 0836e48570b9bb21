//! An ingest key for a gateway a command starts itself (the benches): made at random, added to
//! the gateway's keys without a rate limit, and sent by the returned client.

use opsline_gateway::{IngestKeyConfig, hash_key};

/// A fresh key named `name` (no rate limit) and a client that sends it with every request.
pub fn local_ingest_key(name: &str) -> anyhow::Result<(IngestKeyConfig, reqwest::Client)> {
    let key = opsline_auth::generate_token().map_err(|e| anyhow::anyhow!("OS random source: {e}"))?;
    let mut config = IngestKeyConfig::new(name, hash_key(&key));
    config.requests_per_sec = 0.0;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))?,
    );
    let client = reqwest::Client::builder().default_headers(headers).build()?;
    Ok((config, client))
}
