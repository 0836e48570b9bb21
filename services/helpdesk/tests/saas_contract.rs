//! Contract tests of the SaaS connectors against local receivers (axum on port 0) that answer
//! like the vendors' documented APIs: the request each connector sends (method, path, auth
//! header, body shape), and what it does with the documented answers: success, 401, 404, 429
//! with `Retry-After` (waited for, or refused when longer than allowed), and 5xx (retried, then
//! a retryable error, so the consumer dead-letters the revision).

#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method as HttpMethod, Uri};
use opsline_events::Event;
use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_helpdesk::HelpdeskError;
use opsline_helpdesk::config::RetryConfig;
use opsline_helpdesk::saas::SaasConfig;
use opsline_helpdesk::saas::jira::JiraSink;
use opsline_helpdesk::saas::servicenow::ServiceNowSink;
use opsline_helpdesk::saas::zendesk::ZendeskSink;
use opsline_helpdesk::sink::{Api, HelpdeskSink, WriteOutcome};
use opsline_runtime::outbound::OutboundClient;
use secrecy::SecretString;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: String,
    body: Value,
}

type Answer = (u16, Vec<(&'static str, &'static str)>, String);

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Seen>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    async fn start(answers: Vec<Answer>) -> (Self, String) {
        let receiver = Self {
            seen: Arc::default(),
            answers: Arc::new(Mutex::new(answers.into())),
        };
        let state = receiver.clone();
        let app = axum::Router::new().fallback(move |method: HttpMethod, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                state.seen.lock().unwrap().push(Seen {
                    method: method.to_string(),
                    path: uri.to_string(),
                    authorization: headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned(),
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                });
                let mut answers = state.answers.lock().unwrap();
                let (status, headers, body) = if answers.len() > 1 {
                    answers.pop_front().unwrap()
                } else {
                    answers.front().cloned().unwrap()
                };
                let mut response = axum::response::Response::builder().status(status);
                for (name, value) in headers {
                    response = response.header(name, value);
                }
                response.body(axum::body::Body::from(body)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn api(authorization: SecretString) -> Api {
    let retry = RetryConfig {
        max_attempts: 3,
        min_delay_ms: 10,
        max_delay_ms: 50,
        max_retry_after_secs: 5,
        ..RetryConfig::default()
    };
    Api::new(
        OutboundClient::new(Duration::from_secs(5)).unwrap(),
        authorization,
        retry,
    )
}

fn config(url: &str, prefix: &str, group: &str) -> SaasConfig {
    SaasConfig {
        url: url.to_owned(),
        groups: BTreeMap::from([("Hardware".to_owned(), group.to_owned())]),
        ..SaasConfig::with_prefix(prefix)
    }
}

fn ticket(id: &str) -> RoutedTicket {
    RoutedTicket {
        ticket_id: id.into(),
        queue: "Hardware".into(),
        priority: Priority::P2,
        confidence: 0.91,
        ..RoutedTicket::sample()
    }
}

fn answer(status: u16, body: &str) -> Answer {
    (status, vec![("content-type", "application/json")], body.to_owned())
}

/// Jira Cloud: `PUT /rest/api/3/issue/{key}` answers 204; the comment 201 with the comment.
const JIRA_COMMENT_201: &str = r#"{"id":"10000","self":"https://your-domain.atlassian.net/rest/api/3/issue/10010/comment/10000","jsdPublic":false}"#;
const JIRA_404: &str =
    r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#;
/// ServiceNow Table API answers.
const SNOW_200: &str = r#"{"result":{"sys_id":"46e18c0fa9fe19810066a0083f76bd56"}}"#;
const SNOW_401: &str = r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#;
const SNOW_404: &str = r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
/// Zendesk answers.
const ZENDESK_200: &str = r#"{"ticket":{"id":35436,"group_id":98738,"priority":"high"}}"#;
const ZENDESK_401: &str = r#"{"error":"Couldn't authenticate you"}"#;
const ZENDESK_404: &str = r#"{"error":"RecordNotFound","description":"Not found"}"#;

#[tokio::test]
async fn jira_sets_component_and_priority_then_adds_an_internal_comment() {
    let (receiver, url) = Receiver::start(vec![(204, vec![], String::new()), answer(201, JIRA_COMMENT_201)]).await;
    let authorization = Api::basic("bot@example.com", &SecretString::from("api-token"));
    let sink = JiraSink {
        api: api(authorization),
        config: config(&url, "jira", "Hardware support"),
    };
    let routed = ticket("jira:SUP-12");
    let id = sink.external_id(&routed.ticket_id).unwrap();
    assert_eq!(sink.write_back(&routed, id).await.unwrap(), WriteOutcome::Applied);
    let seen = receiver.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/rest/api/3/issue/SUP-12")
    );
    assert_eq!(seen[0].authorization, "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10b2tlbg==");
    assert_eq!(
        seen[0].body,
        json!({"fields": {"priority": {"name": "High"}, "components": [{"name": "Hardware support"}]}})
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/rest/api/3/issue/SUP-12/comment")
    );
    assert_eq!(seen[1].body["body"]["type"], "doc");
    assert_eq!(seen[1].body["body"]["version"], 1);
    assert_eq!(seen[1].body["body"]["content"][0]["type"], "paragraph");
    assert_eq!(
        seen[1].body["properties"],
        json!([{"key": "sd.public.comment", "value": {"internal": true}}])
    );
    let text = seen[1].body["body"].to_string();
    assert!(text.contains("Summary: User's VPN disconnects"), "{text}");

    // Below the confidence threshold: no component, the priority and note still go.
    let (receiver, url) = Receiver::start(vec![(204, vec![], String::new()), answer(201, JIRA_COMMENT_201)]).await;
    let sink = JiraSink {
        api: api(SecretString::from("Basic x")),
        config: config(&url, "jira", "Hardware support"),
    };
    let doubtful = RoutedTicket {
        confidence: 0.3,
        ..ticket("jira:SUP-13")
    };
    sink.write_back(&doubtful, "SUP-13").await.unwrap();
    assert_eq!(
        receiver.seen()[0].body,
        json!({"fields": {"priority": {"name": "High"}}})
    );
    assert!(sink.write_back(&doubtful, "not a key").await.is_err());
}

#[tokio::test]
async fn servicenow_patches_assignment_group_priority_and_work_notes() {
    let (receiver, url) = Receiver::start(vec![answer(200, SNOW_200)]).await;
    let sink = ServiceNowSink {
        api: api(SecretString::from("Bearer oauth-token")),
        config: config(&url, "servicenow", "d625dccec0a8016700a222a0f7900d06"),
    };
    let sys_id = "46e18c0fa9fe19810066a0083f76bd56";
    let routed = ticket(&format!("servicenow:{sys_id}"));
    let id = sink.external_id(&routed.ticket_id).unwrap();
    sink.write_back(&routed, id).await.unwrap();
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PATCH");
    assert_eq!(
        seen[0].path,
        format!("/api/now/table/incident/{sys_id}?sysparm_fields=sys_id")
    );
    assert_eq!(seen[0].authorization, "Bearer oauth-token");
    assert_eq!(seen[0].body["assignment_group"], "d625dccec0a8016700a222a0f7900d06");
    assert_eq!(seen[0].body["priority"], "2");
    assert!(
        seen[0].body["work_notes"]
            .as_str()
            .unwrap()
            .contains("Suggested reply:")
    );
    assert!(
        sink.write_back(&routed, "INC0010001").await.is_err(),
        "a number is not a sys_id"
    );
}

#[tokio::test]
async fn zendesk_puts_group_priority_and_a_private_comment() {
    let (receiver, url) = Receiver::start(vec![answer(200, ZENDESK_200)]).await;
    let authorization = Api::basic("agent@example.com/token", &SecretString::from("zd-token"));
    let sink = ZendeskSink {
        api: api(authorization),
        config: config(&url, "zendesk", "98738"),
    };
    let routed = ticket("zendesk:35436");
    sink.write_back(&routed, sink.external_id(&routed.ticket_id).unwrap())
        .await
        .unwrap();
    let seen = receiver.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/api/v2/tickets/35436")
    );
    // base64("agent@example.com/token:zd-token")
    assert_eq!(
        seen[0].authorization,
        "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46emQtdG9rZW4="
    );
    let update = &seen[0].body["ticket"];
    assert_eq!(update["group_id"], 98738);
    assert_eq!(update["priority"], "high");
    assert_eq!(update["comment"]["public"], false);
    assert!(update["comment"]["body"].as_str().unwrap().contains("revision 2"));
}

/// One connector of each vendor at `url`, with the vendor's ticket id.
fn connectors(url: &str) -> Vec<(Connector, &'static str)> {
    let jira = JiraSink {
        api: api(SecretString::from("Basic x")),
        config: config(url, "jira", "Hardware"),
    };
    let snow = ServiceNowSink {
        api: api(SecretString::from("Basic x")),
        config: config(url, "servicenow", "g"),
    };
    let zendesk = ZendeskSink {
        api: api(SecretString::from("Basic x")),
        config: config(url, "zendesk", "1"),
    };
    vec![
        (
            Box::new(move |t| -> BoxedWrite {
                let sink = jira.clone();
                Box::pin(async move { sink.write_back(&t, "SUP-1").await })
            }),
            "jira",
        ),
        (
            Box::new(move |t| -> BoxedWrite {
                let sink = snow.clone();
                Box::pin(async move { sink.write_back(&t, "46e18c0fa9fe19810066a0083f76bd56").await })
            }),
            "servicenow",
        ),
        (
            Box::new(move |t| -> BoxedWrite {
                let sink = zendesk.clone();
                Box::pin(async move { sink.write_back(&t, "35436").await })
            }),
            "zendesk",
        ),
    ]
}

/// One connector's write-back of a revision.
type Connector = Box<dyn Fn(RoutedTicket) -> BoxedWrite + Send + Sync>;
type BoxedWrite = std::pin::Pin<Box<dyn std::future::Future<Output = Result<WriteOutcome, HelpdeskError>> + Send>>;

async fn outcome(answers: Vec<Answer>, vendor: &str) -> (Result<WriteOutcome, HelpdeskError>, usize, Duration) {
    let (receiver, url) = Receiver::start(answers).await;
    let (write, _) = connectors(&url).into_iter().find(|(_, name)| *name == vendor).unwrap();
    let started = Instant::now();
    let result = write(ticket("x")).await;
    (result, receiver.seen().len(), started.elapsed())
}

#[tokio::test]
async fn refusals_are_dead_lettered_at_once_and_outages_retried() {
    use opsline_runtime::Classify;
    let vendors = [
        (
            "jira",
            "Client must be authenticated to access this resource.",
            JIRA_404,
        ),
        ("servicenow", SNOW_401, SNOW_404),
        ("zendesk", ZENDESK_401, ZENDESK_404),
    ];
    for (vendor, unauthorized, not_found) in vendors {
        let (result, calls, _) = outcome(vec![answer(401, unauthorized)], vendor).await;
        let error = result.unwrap_err();
        assert_eq!(
            (error.code(), error.kind().is_retryable(), calls),
            ("helpdesk_unauthorized", false, 1),
            "{vendor}"
        );

        let (result, calls, _) = outcome(vec![answer(404, not_found)], vendor).await;
        let error = result.unwrap_err();
        assert_eq!(
            (error.code(), error.kind().is_retryable(), calls),
            ("helpdesk_not_found", false, 1),
            "{vendor}"
        );

        // 429 with Retry-After: 1 is waited for, then the call goes through.
        let ok = match vendor {
            "jira" => (204, vec![], String::new()),
            "servicenow" => answer(200, SNOW_200),
            _ => answer(200, ZENDESK_200),
        };
        let busy = (
            429,
            vec![("retry-after", "1")],
            r#"{"error":"TooManyRequests"}"#.to_owned(),
        );
        let mut answers = vec![busy, ok.clone()];
        if vendor == "jira" {
            answers.push(answer(201, JIRA_COMMENT_201));
        }
        let (result, calls, took) = outcome(answers, vendor).await;
        assert!(result.is_ok(), "{vendor}: {result:?}");
        assert!(
            took >= Duration::from_secs(1),
            "{vendor}: Retry-After honoured ({took:?})"
        );
        assert_eq!(calls, if vendor == "jira" { 3 } else { 2 }, "{vendor}");

        // A Retry-After beyond the allowed wait fails at once, retryable (the consumer retries later).
        let long = (429, vec![("retry-after", "93")], String::new());
        let (result, calls, took) = outcome(vec![long], vendor).await;
        let error = result.unwrap_err();
        assert_eq!(
            (error.code(), error.kind().is_retryable(), calls),
            ("helpdesk_unavailable", true, 1),
            "{vendor}"
        );
        assert!(took < Duration::from_secs(5), "{vendor}: not waited for ({took:?})");

        // 5xx: every attempt, then a retryable error.
        let (result, calls, _) = outcome(vec![answer(503, r#"{"error":"unavailable"}"#)], vendor).await;
        let error = result.unwrap_err();
        assert_eq!(
            (error.code(), error.kind().is_retryable(), calls),
            ("helpdesk_unavailable", true, 3),
            "{vendor}"
        );
    }
}
