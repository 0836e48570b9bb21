//! Trace context crosses the bus: gateway span -> Kafka header -> consumer span -> output record.
//! (Its own test binary: it installs the global OpenTelemetry subscriber.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_events::logs::{RawLog, TemplateEvent};
use opsline_events::{Envelope, Event, topics};
use opsline_kafka::record::{TRACEPARENT_HEADER, current_trace_context};
use opsline_kafka::{ConsumerLoop, InRecord, KafkaMetrics, OutRecord, ProcessError, Processor, Producer};
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;

/// Emits a brand-new event per input, traced by the consumer loop's span.
struct NewEventPerInput {
    output: String,
}

impl Processor for NewEventPerInput {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let input = record
            .envelope::<RawLog>()
            .map_err(|e| ProcessError::fatal("invalid_event", e.to_string()))?;
        let data = TemplateEvent {
            service: input.data.service.clone(),
            ..TemplateEvent::sample()
        };
        let envelope = Envelope::new("trace-test", data).with_trace(current_trace_context());
        Ok(vec![OutRecord::event(self.output.clone(), "svc", &envelope).unwrap()])
    }
}

fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_crosses_gateway_kafka_and_consumer() {
    let _telemetry = opsline_runtime::telemetry::init("trace-test", &Default::default()).ok();
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "trace", |_| {}).await;
    let raw = gateway.names.name(&topics::RAW_LOGS);
    let output = gateway.names.name(&topics::TEMPLATES);

    let response = opsline_e2e::gateway::ingest_client()
        .post(format!("{}/v1/logs", gateway.url))
        .header("content-type", "application/x-ndjson")
        .body("{\"service\":\"svc\",\"line\":\"hello\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let records = opsline_e2e::read_n(&gateway.kafka, &raw, 1, Duration::from_secs(30)).await;
    let envelope = records[0].envelope::<RawLog>().unwrap();
    let header = records[0]
        .header(TRACEPARENT_HEADER)
        .expect("traceparent header on the raw record");
    assert_eq!(
        Some(header.clone()),
        envelope.trace.map(|t| t.traceparent),
        "header and envelope agree"
    );

    let metrics = KafkaMetrics::register(&Metrics::new());
    let producer = Producer::new(&gateway.kafka, &metrics).unwrap();
    let shutdown = Shutdown::new();
    let run = ConsumerLoop::new(
        &gateway.kafka,
        "trace-group",
        vec![raw.clone()],
        producer,
        &metrics,
        "trace-test",
    )
    .run(NewEventPerInput { output: output.clone() }, shutdown.clone());
    let task = tokio::spawn(run);
    let out = opsline_e2e::read_n(&gateway.kafka, &output, 1, Duration::from_secs(30)).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let out_header = out[0].header(TRACEPARENT_HEADER).expect("traceparent on the output");
    assert_eq!(trace_id(&out_header), trace_id(&header), "same trace across the bus");
    assert_ne!(
        out_header, header,
        "the consumer's own span is the parent of the output"
    );
}
