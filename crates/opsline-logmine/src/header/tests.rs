//! Header parsing and detection tests on the shapes of LogHub systems (seen and unseen).

use super::*;
use crate::{Miner, MinerConfig};

/// Feeds `lines` to a fresh default miner and returns the last line's header and template.
fn parse_stream(lines: &[&str]) -> (Header, String, Option<String>) {
    let mut miner = Miner::new(MinerConfig::default()).unwrap();
    let mut last = None;
    for _ in 0..40 {
        for l in lines {
            last = Some(miner.ingest(l.as_bytes()));
        }
    }
    let p = last.unwrap();
    (
        p.header,
        p.template.to_string(),
        miner.header_format().map(str::to_string),
    )
}

fn content_of(line: &str) -> String {
    let (_, template, _) = parse_stream(&[line]);
    template
}

#[test]
fn detects_hdfs() {
    let (h, t, f) = parse_stream(&[
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
    ]);
    assert_eq!(h.timestamp.as_deref(), Some("081109 203615"));
    assert_eq!(h.level.as_deref(), Some("INFO"));
    assert_eq!(h.component.as_deref(), Some("dfs.DataNode$PacketResponder"));
    assert_eq!(t, "PacketResponder <*> for block <*> terminating");
    assert!(f.is_some());
}

#[test]
fn detects_bgl() {
    let (h, t, _) = parse_stream(&[
        "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
    ]);
    assert_eq!(h.level.as_deref(), Some("INFO"));
    assert_eq!(h.component.as_deref(), Some("KERNEL"));
    assert_eq!(t, "instruction cache parity error corrected");
}

#[test]
fn detects_apache() {
    let (h, t, _) = parse_stream(&["[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"]);
    assert_eq!(h.timestamp.as_deref(), Some("Sun Dec 04 04:47:44 2005"));
    assert_eq!(h.level.as_deref(), Some("error"));
    assert_eq!(t, "mod_jk child workerEnv in error state <*>");
}

#[test]
fn detects_syslog_with_pid() {
    let (h, t, _) = parse_stream(&["Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown"]);
    assert_eq!(h.timestamp.as_deref(), Some("Jun 14 15:16:02"));
    assert_eq!(h.component.as_deref(), Some("sshd(pam_unix)"));
    assert_eq!(t, "check pass; user unknown");
}

#[test]
fn detects_android_windows_zookeeper_spark_openstack_hpc() {
    assert_eq!(
        content_of("03-17 16:13:38.819  1702  8671 D PowerManagerService: release lock=233570404"),
        "release lock=<*>"
    );
    assert_eq!(
        content_of("2016-09-28 04:30:31, Info                  CBS    Ending TrustedInstaller initialization."),
        "Ending TrustedInstaller initialization."
    );
    assert_eq!(
        content_of(
            "2015-07-29 19:04:29,071 - WARN  [SendWorker:188978561024:QuorumCnxManager$SendWorker@688] - Send worker leaving thread"
        ),
        "Send worker leaving thread"
    );
    assert_eq!(
        content_of("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi"),
        "Changing view acls to: yarn,curi"
    );
    assert_eq!(
        content_of(
            "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 - - -] Terminating instance"
        ),
        "Terminating instance"
    );
    assert_eq!(
        content_of("134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: ok"),
        "Component State Change: ok"
    );
}

#[test]
fn detects_unseen_shapes() {
    // Hadoop, HealthApp, Mac, OpenSSH, Proxifier, Thunderbird shapes.
    assert_eq!(
        content_of(
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster"
        ),
        "Created MRAppMaster"
    );
    assert_eq!(
        content_of("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"),
        "onStandStepChanged <*>"
    );
    assert_eq!(
        content_of(
            "Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch::listenerCallback - Thunderbolt HPD"
        ),
        "IOThunderboltSwitch::listenerCallback - Thunderbolt HPD"
    );
    assert_eq!(
        content_of("Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo failed"),
        "reverse mapping checking getaddrinfo failed"
    );
    assert_eq!(
        content_of("[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent"),
        "<*>:<*> close, <*> bytes sent"
    );
    assert_eq!(
        content_of(
            "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root"
        ),
        "session closed for user <*>"
    );
}

#[test]
fn headerless_lines_keep_whole_text() {
    assert_eq!(content_of("just some words here"), "just some words here");
}

#[test]
fn user_format_and_regex() {
    let cfg = MinerConfig {
        header_format: Some("<ts> | <level> | <content>".into()),
        ..MinerConfig::default()
    };
    let mut m = Miner::new(cfg).unwrap();
    let p = m.ingest(b"2024-01-01T00:00:00Z | WARN | disk almost full");
    assert_eq!(p.header.level.as_deref(), Some("WARN"));
    assert_eq!(&*p.template, "disk almost full");

    let cfg = MinerConfig {
        header_regex: Some(r"^(?P<timestamp>\S+) (?P<level>\w+) (?P<content>.*)$".into()),
        ..MinerConfig::default()
    };
    let mut m = Miner::new(cfg).unwrap();
    let p = m.ingest(b"12:00 ERROR boom happened");
    assert_eq!(p.header.timestamp.as_deref(), Some("12:00"));
    assert_eq!(&*p.template, "boom happened");

    let bad = MinerConfig {
        header_format: Some("<nope> <content>".into()),
        ..MinerConfig::default()
    };
    assert!(Miner::new(bad).is_err());
}

#[test]
fn strips_pid_from_component() {
    assert_eq!(strip_pid("sshd[123]"), "sshd");
    assert_eq!(strip_pid("kernel"), "kernel");
    assert_eq!(strip_pid("x[abc]"), "x[abc]");
}

#[test]
fn names_the_host_in_syslog_ras_and_cluster_shapes() {
    let (h, _, _) = parse_stream(&["Mar  3 10:00:01 web-07 nginx[311]: upstream timed out while reading"]);
    assert_eq!(h.host.as_deref(), Some("web-07"));
    assert_eq!(h.component.as_deref(), Some("nginx"));
    let (h, _, _) = parse_stream(&[
        "- 1200000000 2007.01.05 R11-M0-N3 2007-01-05-10.00.00.000000 R11-M0-N3 RAS KERNEL FATAL data storage interrupt",
    ]);
    assert_eq!(h.host.as_deref(), Some("R11-M0-N3"));
    let (h, _, _) = parse_stream(&["4411 node-12 unix.hw state_change.unavailable 1077804742 1 fan 3 failed"]);
    assert_eq!(h.host.as_deref(), Some("node-12"));
    // A format without a host field names none.
    let (h, _, _) = parse_stream(&["2024-05-01 10:00:00,001 ERROR Pool: connection refused by peer"]);
    assert_eq!(h.host, None);
}

#[test]
fn a_user_regex_may_name_the_host() {
    let mut miner = Miner::new(MinerConfig {
        header_regex: Some(r"^(?P<host>\S+) (?P<level>\w+) (?P<content>.*)$".into()),
        ..MinerConfig::default()
    })
    .unwrap();
    let parsed = miner.ingest(b"db-2 ERROR disk 3 is full");
    assert_eq!(parsed.header.host.as_deref(), Some("db-2"));
}
