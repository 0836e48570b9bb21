//! Hardening issue, item 9 ("bounded memory under adversarial input"): the status book and
//! the one-time-code challenges are fed ten times their bound, and this process's resident
//! memory grows by a bounded amount. One test in its own binary, so no other test shares the
//! process whose memory is read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use jiff::Timestamp;
use opsline_events::logs::{Incident, IncidentStatus, LogOffset};
use opsline_events::tickets::{TicketState, TicketStateChange};
use opsline_events::{Envelope, Event};
use opsline_kafka::InRecord;
use opsline_selfservice::SelfServiceError;
use opsline_selfservice::config::OtpConfig;
use opsline_selfservice::otp::{Challenges, PendingAction};
use opsline_selfservice::status::{StatusBook, StatusLimits};
use uuid::Uuid;

const MIB: u64 = 1024 * 1024;

/// This process's resident memory, from `/proc/self/status` (`VmRSS`, in kB).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

fn record(topic: &str, key: String, payload: Vec<u8>) -> InRecord {
    InRecord {
        topic: topic.to_owned(),
        partition: 0,
        offset: 0,
        key: Some(key.into_bytes()),
        payload: Some(payload),
        headers: Vec::new(),
        timestamp_ms: None,
    }
}

#[test]
fn bounded_memory_under_ten_times_the_bounds() {
    let limits = StatusLimits {
        max_tickets: 20_000,
        max_tickets_per_requester: 50,
        max_incidents: 2_000,
        ..StatusLimits::default()
    };
    let mut book = StatusBook::new(limits.clone());
    let now = Timestamp::now();
    let subject = "x".repeat(400);
    let before = resident_bytes();

    // Ten times max_tickets: half from one requester (a flood of one identity), half from
    // distinct requesters, all open, each with a 400-character subject.
    for n in 0..200_000_u32 {
        let requester = if n % 2 == 0 {
            "mallory@example.org".to_owned()
        } else {
            format!("user{n}@example.org")
        };
        let change = TicketStateChange {
            ticket_id: format!("T-{n}"),
            requester,
            subject: subject.clone(),
            state: TicketState::InProgress,
            queue: Some("network".to_owned()),
            updated_at: now,
        };
        let payload = Envelope::new("test", change).to_json().unwrap();
        book.apply_at("state", &record("state", format!("T-{n}"), payload), now);
    }
    // Ten times max_incidents, each citing 100 alerts and 50 log offsets.
    for n in 0..20_000_u128 {
        let mut incident = Incident::sample();
        incident.incident_id = Uuid::from_u128(n + 1);
        incident.status = IncidentStatus::Open;
        incident.updated_at = now;
        incident.alert_ids = (0..100).map(|a| Uuid::from_u128(a + 1)).collect();
        incident.evidence = (0..50)
            .map(|o| LogOffset {
                topic: "opsline.logs.raw.v1".to_owned(),
                partition: 0,
                offset: o,
            })
            .collect();
        let payload = Envelope::new("test", incident).to_json().unwrap();
        book.apply_at(
            "state",
            &record("incidents", Uuid::from_u128(n + 1).to_string(), payload),
            now,
        );
    }
    let (tickets, incidents) = book.len();
    assert!(tickets <= limits.max_tickets, "{tickets} tickets held");
    assert!(incidents <= limits.max_incidents, "{incidents} incidents held");
    assert_eq!(
        book.tickets_of(&["mallory@example.org".to_owned()]).len(),
        limits.max_tickets_per_requester
    );

    // Ten times otp.max_open distinct users asking for a code.
    let mut challenges = Challenges::new(OtpConfig {
        max_open: 1_000,
        ..OtpConfig::default()
    });
    let started = Instant::now();
    let mut refused = 0;
    for n in 0..10_000 {
        match challenges.issue(&format!("U{n}"), PendingAction::PasswordReset, "uid=x", started) {
            Ok(_) => {}
            Err(SelfServiceError::Busy(_)) => refused += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(challenges.len(), 1_000);
    assert_eq!(refused, 9_000);

    // Unbounded, the book alone holds 200,000 tickets (over 100 MiB) and 20,000 incidents
    // with their evidence (about 90 MiB); bounded, a few tens of MiB.
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("resident memory grew by {} MiB", grown / MIB);
    assert!(grown < 64 * MIB, "resident memory grew by {} MiB", grown / MIB);
}
