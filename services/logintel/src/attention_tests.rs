#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn signal(level: u8, template: &str, at_ms: i64) -> Signal {
    Signal {
        at_ms,
        level,
        template: template.to_owned(),
        template_id: template.len() as u64,
        rare: false,
        burst: 0,
        silence: false,
        lines: 1,
        service: "web".to_owned(),
        hosts: Vec::new(),
        components: Vec::new(),
    }
}

#[test]
fn wording_counts_failures_not_caller_errors_or_handled_ones() {
    assert_eq!(failure_words("Lustre mount FAILED : <*>"), vec!["fail"]);
    assert_eq!(
        failure_words("rts panic! - stopping execution"),
        vec!["panic", "stopping"]
    );
    assert!(failure_words("Directory index forbidden by rule: <*>").is_empty());
    assert!(failure_words("ciod: Error loading <*>: invalid or missing program image").is_empty());
    assert!(failure_words("<*> ddr error(s) detected and corrected").is_empty());
    assert!(failure_words("Receiving block <*> src: <*>").is_empty());
    assert!(failure_words("terror is not a word we match inside").is_empty());
}

#[test]
fn the_score_adds_its_parts() {
    let mut rare_fatal = signal(3, "Lustre mount FAILED : <*>", 0);
    rare_fatal.rare = true;
    let facts = GroupFacts::new(&rare_fatal);
    let (total, parts) = score(&facts);
    assert_eq!((parts.level, parts.wording, parts.rarity), (3.0, 2.0, 1.0));
    assert_eq!(total, 6.0);
    let mut grown = facts.clone();
    let mut burst = signal(2, "disk <*> timeout", 31 * 60_000);
    burst.burst = 2;
    burst.service = "db".to_owned();
    grown.add(&burst);
    grown.add(&signal(1, "retry <*>", 31 * 60_000));
    grown.tickets = 1;
    let (total, parts) = score(&grown);
    assert_eq!(parts.burst, 2.0);
    assert_eq!(parts.breadth, 2.0, "3 templates on 2 services");
    assert_eq!(parts.persistence, 2.0, "31 minutes");
    assert_eq!(parts.tickets, 2.0);
    assert_eq!(total, 3.0 + 2.0 + 1.0 + 2.0 + 2.0 + 2.0 + 2.0);
}

#[test]
fn a_lone_new_warning_template_is_a_signal_not_an_incident() {
    let config = AttentionConfig::default();
    let mut new = signal(1, "Connection request from old client <*>", 0);
    new.rare = true;
    assert!(!GroupFacts::new(&new).can_open(&config));
    let mut error = signal(2, "Directory index forbidden by rule: <*>", 0);
    error.rare = true;
    assert!(
        !GroupFacts::new(&error).can_open(&config),
        "a caller error does not page"
    );
    let mut failure = signal(2, "Disk failure on volume <*>", 0);
    failure.rare = true;
    assert!(GroupFacts::new(&failure).can_open(&config), "2 + 2 + 1 = 5");
}

#[test]
fn activity_without_a_problem_never_opens() {
    let config = AttentionConfig::default();
    let mut burst = signal(0, "Deleting block <*> file <*>", 0);
    burst.burst = 2;
    burst.rare = true;
    let mut facts = GroupFacts::new(&burst);
    for (i, t) in ["BLOCK* delete <*>", "ask <*> to delete <*>"].iter().enumerate() {
        let mut more = signal(0, t, (i as i64 + 1) * 20 * 60_000);
        more.burst = 2;
        facts.add(&more);
    }
    assert!(score(&facts).0 >= config.threshold, "big enough on points");
    assert!(!facts.can_open(&config), "but nothing says anything failed");
    facts.tickets = 1;
    assert!(facts.can_open(&config), "a user ticket says it did");
}

#[test]
fn transient_pause_holds_warnings_until_they_persist() {
    let config = AttentionConfig::default();
    let mut first = signal(1, "Connection broken for id <*>, error =", 0);
    first.burst = 1;
    let mut facts = GroupFacts::new(&first);
    facts.add(&signal(1, "Interrupting SendWorker", 60_000));
    facts.add(&signal(1, "Send worker leaving thread", 120_000));
    assert!(score(&facts).0 >= config.threshold);
    assert!(!facts.can_open(&config), "a 2-minute warning blip does not page");
    facts.add(&signal(1, "Connection broken for id <*>, error =", 6 * 60_000));
    assert!(facts.can_open(&config), "still going after the pause");
}

#[test]
fn severity_levels_follow_the_margin_and_one_line_is_never_sev1() {
    let config = AttentionConfig::default();
    let mut facts = GroupFacts::new(&signal(3, "kernel panic", 0));
    assert_eq!(severity(&facts, 12.0, &config), SevLevel::Sev3, "one line");
    facts.lines = 40;
    assert_eq!(severity(&facts, 12.0, &config), SevLevel::Sev1);
    assert_eq!(severity(&facts, 8.0, &config), SevLevel::Sev2);
    assert_eq!(severity(&facts, 5.0, &config), SevLevel::Sev3);
    facts.tickets = 3;
    assert_eq!(severity(&facts, 5.0, &config), SevLevel::Sev2, "raised by tickets");
    assert!(why(&facts).starts_with("opened because: fatal-level lines saying panic"));
}

#[test]
fn similarity_is_shared_words() {
    let a = "ciod: Error creating node map from file <*>: No child processes";
    let b = "ciod: Error creating node map from file <*>: Bad file descriptor";
    assert!(similarity(a, b) >= 0.5);
    assert!(similarity(a, "data TLB error interrupt") < 0.2);
}

fn on_hosts(mut signal: Signal, hosts: &[&str]) -> Signal {
    signal.hosts = hosts.iter().map(|h| (*h).to_owned()).collect();
    signal
}

#[test]
fn hosts_are_named_and_raise_the_severity_but_add_no_points() {
    let config = AttentionConfig::default();
    let one_host = GroupFacts::new(&on_hosts(signal(2, "disk <*> write failed", 0), &["db-1"]));
    assert!(why(&one_host).contains("1 template on host db-1"), "{}", why(&one_host));
    let mut wide = one_host.clone();
    wide.add(&on_hosts(
        signal(2, "disk <*> write failed", 60_000),
        &["db-2", "db-3", "db-1"],
    ));
    wide.add(&on_hosts(signal(2, "disk <*> write failed", 120_000), &["db-4"]));
    assert_eq!((wide.host_count, wide.hosts.len()), (4, 4), "each host counted once");
    assert!(why(&wide).contains("1 template on 4 hosts for 2 min"), "{}", why(&wide));
    let (total, parts) = score(&wide);
    assert_eq!((parts.breadth, total), (0.0, score(&one_host).0), "hosts add no points");
    // The same score, one level more severe for the spread over hosts.
    let mut narrow = one_host.clone();
    narrow.lines = wide.lines;
    assert!(severity(&wide, total, &config) < severity(&narrow, total, &config));
}

#[test]
fn three_components_are_a_broad_dimension() {
    let mut s = signal(2, "a <*> failed", 0);
    s.components = vec!["kernel".into(), "app".into(), "net".into()];
    assert_eq!(score(&GroupFacts::new(&s)).1.breadth, 1.0);
}

#[test]
fn breadth_is_at_most_two_points() {
    let mut facts = GroupFacts::new(&on_hosts(signal(2, "a <*> failed", 0), &["h1", "h2", "h3"]));
    for (i, (template, service)) in [("b <*> failed", "db"), ("c <*> failed", "web")].iter().enumerate() {
        let mut s = signal(2, template, i as i64);
        s.service = (*service).to_owned();
        s.components = vec!["kernel".into(), "app".into(), "net".into()];
        facts.add(&s);
    }
    assert_eq!(
        score(&facts).1.breadth,
        2.0,
        "templates, services, hosts and components all broad: capped"
    );
}

#[test]
fn a_signal_from_a_host_of_the_group_is_related_even_with_other_wording() {
    let config = AttentionConfig::default();
    let facts = GroupFacts::new(&on_hosts(signal(2, "kernel panic on cpu <*>", 0), &["node-7"]));
    let of_db = |hosts: &[&str]| {
        let mut s = on_hosts(signal(2, "payment request timeout", 0), hosts);
        s.service = "db".to_owned();
        s
    };
    assert!(facts.related_to(&of_db(&["node-7"]), &config));
    assert!(!facts.related_to(&of_db(&["node-8"]), &config));
}

#[test]
fn a_signal_of_a_service_already_in_the_group_is_related_whatever_its_wording_and_host() {
    let config = AttentionConfig::default();
    let mut facts = GroupFacts::new(&on_hosts(signal(2, "kernel panic on cpu <*>", 0), &["node-7"]));
    let mut db = on_hosts(signal(2, "disk <*> failed", 0), &["node-7"]);
    db.service = "db".to_owned();
    facts.add(&db);
    let mut later = signal(3, "WriteErrors: writes failing", 0);
    later.service = "db".to_owned();
    assert!(facts.related_to(&later, &config), "db is in the group");
    later.service = "mail".to_owned();
    assert!(!facts.related_to(&later, &config), "mail is not");
}
