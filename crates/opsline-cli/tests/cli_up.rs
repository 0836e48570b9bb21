//! The terminal commands against a running `opsline up` (the real binary, every service, an
//! embedded broker chosen by `OPSLINE_TEST_BROKER`): `up` writes `<data-dir>/run.json`;
//! `replay`, `incidents`, `alerts`, `tickets`, `topics`, `report` and `search` find the pipeline
//! through it without any address flag; `up` removes the file when it stops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn opsline(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsline"))
        .current_dir(repo_root())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("opsline runs")
}

fn ok_json(data_dir: &Path, args: &[&str]) -> Value {
    let output = opsline(data_dir, args);
    assert!(
        output.status.success(),
        "opsline {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "opsline {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn wait_for<T>(what: &str, max: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + max;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} within {max:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn terminal_commands_find_a_running_up_through_its_run_file() {
    let broker = std::env::var("OPSLINE_TEST_BROKER").unwrap_or_else(|_| "noida".into());
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let config = dir.path().join("opsline.toml");
    let listen: String = ["gateway", "logintel", "postmortem", "triage", "selfservice", "console"]
        .iter()
        .map(|s| format!("[{s}]\nlisten = \"127.0.0.1:0\"\n"))
        .collect();
    std::fs::write(&config, listen).unwrap();
    let log = std::fs::File::create(dir.path().join("up.log")).unwrap();
    let mut up = Command::new(env!("CARGO_BIN_EXE_opsline"))
        .current_dir(repo_root())
        .arg("--config")
        .arg(&config)
        .args([
            "up",
            "--no-llm",
            "--broker",
            &broker,
            "--data",
            "../shared/data",
            "--data-dir",
        ])
        .arg(&data_dir)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("opsline up starts");
    let run_file = data_dir.join("run.json");
    let run: Value = wait_for("run.json written", Duration::from_secs(180), || {
        if let Ok(Some(status)) = up.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default();
            panic!("opsline up exited ({status}): {log}");
        }
        std::fs::read_to_string(&run_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
    });
    for field in [
        "broker",
        "gateway",
        "console",
        "console_token",
        "syslog_tcp",
        "syslog_udp",
        "ingest_key",
    ] {
        assert!(
            run[field].as_str().is_some_and(|v| !v.is_empty()),
            "run.json without {field}: {run}"
        );
    }
    assert_eq!(run["services"].as_object().unwrap().len(), 6, "{run}");

    let apache = "../shared/data/loghub/Apache/Apache_2k.log";
    // The gateway takes only its keys: a wrong one is refused, the run file's is sent by default.
    let refused = opsline(&data_dir, &["replay", "logs", "--ingest-key", "not-a-key", apache]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let replayed = opsline(&data_dir, &["replay", "logs", apache]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let tickets = opsline(
        &data_dir,
        &[
            "replay",
            "tickets",
            "--limit",
            "20",
            "../shared/data/tickets/topic-train.csv",
        ],
    );
    assert!(tickets.status.success(), "{}", String::from_utf8_lossy(&tickets.stderr));

    let incidents = wait_for("incidents in the console", Duration::from_secs(120), || {
        let list = ok_json(&data_dir, &["incidents", "--json"]);
        list.as_array().filter(|l| !l.is_empty()).cloned()
    });
    for incident in &incidents {
        for field in ["id", "service", "severity", "status", "title", "opened_at", "why"] {
            assert!(!incident[field].is_null(), "incident without {field}: {incident}");
        }
        assert_eq!(incident["service"], "apache");
    }
    let resolved = ok_json(
        &data_dir,
        &["incidents", "--json", "--status", "resolved", "--service", "apache"],
    );
    for incident in resolved.as_array().unwrap() {
        assert_eq!(incident["status"], "resolved");
    }
    let alerts = ok_json(
        &data_dir,
        &["alerts", "--json", "--service", "apache", "--limit", "1000"],
    );
    assert!(!alerts.as_array().unwrap().is_empty());
    assert!(alerts.as_array().unwrap().iter().all(|a| a["service"] == "apache"));
    let routed = wait_for("routed tickets in the console", Duration::from_secs(120), || {
        let list = ok_json(&data_dir, &["tickets", "--json"]);
        list.as_array().filter(|l| !l.is_empty()).cloned()
    });
    let queue = routed[0]["queue"].as_str().unwrap().to_owned();
    let in_queue = ok_json(&data_dir, &["tickets", "--json", "--queue", &queue]);
    assert!(
        in_queue
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["queue"] == queue.as_str())
    );
    // A person re-routes a ticket in the console; `train tickets --feedback` learns that queue.
    let ticket_id = routed[0]["ticket_id"].as_str().unwrap().to_owned();
    let target = routed
        .iter()
        .filter_map(|t| t["queue"].as_str())
        .find(|q| *q != queue)
        .unwrap_or("human-triage")
        .to_owned();
    let rerouted = Command::new("curl")
        .args(["-fsS", "-X", "POST", "-H", "content-type: application/json", "-H"])
        .arg(format!(
            "authorization: Bearer {}",
            run["console_token"].as_str().unwrap()
        ))
        .arg("--data")
        .arg(serde_json::json!({"queue": target, "note": "belongs there"}).to_string())
        .arg(format!(
            "{}/v1/tickets/{ticket_id}/reroute",
            run["console"].as_str().unwrap()
        ))
        .output()
        .unwrap();
    assert!(
        rerouted.status.success(),
        "{}",
        String::from_utf8_lossy(&rerouted.stderr)
    );
    let history = dir.path().join("history.csv");
    std::fs::write(
        &history,
        "Document,Topic_group\nprinter jams on floor two,Printing\nprinter out of toner,Printing\n\
         toner cartridge empty,Printing\nlaptop screen cracked,Repair\nkeyboard keys stuck,Repair\n\
         laptop battery swollen,Repair\n",
    )
    .unwrap();
    let model_file = dir.path().join("tickets.model");
    let trained = opsline(
        &data_dir,
        &[
            "train",
            "tickets",
            history.to_str().unwrap(),
            "--feedback",
            "--out",
            model_file.to_str().unwrap(),
        ],
    );
    let said = String::from_utf8_lossy(&trained.stderr);
    assert!(trained.status.success(), "{said}");
    assert!(said.contains("1 re-routes of 1 tickets; 1 added"), "{said}");
    let model = opsline_classify::Model::load(&model_file).unwrap();
    assert!(
        model.labels().contains(&target),
        "the re-routed ticket's queue {target} among {:?}",
        model.labels()
    );

    let table = opsline(&data_dir, &["incidents"]);
    assert!(
        String::from_utf8_lossy(&table.stdout).starts_with("ID "),
        "a table with a header"
    );

    let topics = opsline(&data_dir, &["topics"]);
    assert!(topics.status.success(), "{}", String::from_utf8_lossy(&topics.stderr));
    assert!(String::from_utf8_lossy(&topics.stdout).contains("opsline.tickets.feedback.v1"));
    let report = ok_json(&data_dir, &["report", "--json"]);
    assert!(report.is_object(), "{report}");
    // Search asks the running postmortem service (its index is locked by it), which indexed runbooks/.
    let hits = ok_json(&data_dir, &["search", "consumer lag", "--json"]);
    let hits = hits.as_array().unwrap();
    assert!(
        hits.iter().any(|h| h.to_string().contains("consumer-lag")),
        "the consumer lag runbook among {hits:?}"
    );
    let unknown = opsline(&data_dir, &["search", "foo:bar"]);
    assert!(!unknown.status.success(), "an unknown field is an error");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("answered 400"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    // A clean stop removes the run file; then the commands say where they looked.
    let stopped = Command::new("kill")
        .args(["-TERM", &up.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = wait_for("opsline up stops", Duration::from_secs(90), || up.try_wait().unwrap());
    assert!(status.success(), "opsline up exit status {status}");
    assert!(!run_file.exists(), "run.json removed on a clean exit");
    let refused = opsline(
        &data_dir,
        &["incidents", "--token", "x", "--console", "http://127.0.0.1:9"],
    );
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("http://127.0.0.1:9") && message.contains("--console"),
        "{message}"
    );
    assert_eq!(message.matches("error:").count(), 1, "one error: {message}");
}
