//! A local HTTP receiver standing in for a SaaS API (Slack, Teams, PagerDuty, Opsgenie, a
//! webhook) in contract and end-to-end tests: axum on a free loopback port, recording every
//! request (method, path with query, headers, body) and answering from a script: a queue of
//! answers per path prefix, then the default answer.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/v2/alerts/x/close?identifierType=alias`.
    pub path: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
}

impl Seen {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// Extra headers (e.g. `Retry-After`).
    pub headers: Vec<(String, String)>,
    /// Body (sent as `application/json` when it parses as JSON).
    pub body: String,
    /// How long to wait before answering (a slow target).
    pub delay: Option<Duration>,
}

impl Answer {
    /// `status` with `body`.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: None,
        }
    }

    /// Answers only after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Default)]
struct Script {
    seen: Vec<Seen>,
    queued: BTreeMap<String, VecDeque<Answer>>,
    defaults: BTreeMap<String, Answer>,
}

/// A running receiver; stops when dropped.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    script: Arc<Mutex<Script>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl Receiver {
    /// Starts a receiver answering `default` to every path.
    pub async fn start(default: Answer) -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        script.lock().unwrap().defaults.insert(String::new(), default);
        let state = script.clone();
        let router = Router::new().fallback(move |request: Request| {
            let state = state.clone();
            async move { answer(state, request).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url,
            script,
            task: Arc::new(task),
        }
    }

    /// Answers `answers` in turn to requests whose path starts with `prefix` (then its default).
    pub fn queue(&self, prefix: &str, answers: impl IntoIterator<Item = Answer>) {
        self.script
            .lock()
            .unwrap()
            .queued
            .entry(prefix.to_owned())
            .or_default()
            .extend(answers);
    }

    /// The default answer to requests whose path starts with `prefix`.
    pub fn default_for(&self, prefix: &str, answer: Answer) {
        self.script.lock().unwrap().defaults.insert(prefix.to_owned(), answer);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    /// Waits (at most `max`) until `count` requests arrived, and returns them all.
    pub async fn wait_for(&self, count: usize, max: Duration) -> Vec<Seen> {
        let deadline = Instant::now() + max;
        loop {
            let seen = self.seen();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "{} requests within {max:?}, {count} expected: {:?}",
                seen.len(),
                seen.iter().map(|s| &s.path).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn answer(script: Arc<Mutex<Script>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 10 * 1024 * 1024).await.unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let answer = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: parts.headers.clone(),
            body,
            at: Instant::now(),
        });
        let queued = script
            .queued
            .iter_mut()
            .filter(|(prefix, answers)| path.starts_with(prefix.as_str()) && !answers.is_empty())
            .max_by_key(|(prefix, _)| prefix.len())
            .and_then(|(_, answers)| answers.pop_front());
        queued.unwrap_or_else(|| {
            script
                .defaults
                .iter()
                .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
                .max_by_key(|(prefix, _)| prefix.len())
                .map(|(_, answer)| answer.clone())
                .unwrap_or_else(|| Answer::new(404, ""))
        })
    };
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = (StatusCode::from_u16(answer.status).unwrap(), answer.body.clone()).into_response();
    if serde_json::from_str::<serde_json::Value>(&answer.body).is_ok() {
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
    }
    for (name, value) in &answer.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    response
}
