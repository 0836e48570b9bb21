//! `opsline bench idle`: how much CPU the pipeline uses with nothing to do.
//!
//! Runs `opsline up --no-llm` itself (this very binary, as a child process, so the
//! measured code path *is* `up`'s), on a fresh data folder, with every service on a
//! free port. It waits until `up` says it is running and every service's `/readyz`
//! answers 200, lets it settle, then reads the CPU time of the `up` process and of
//! each process it started (the broker, slapd) from `/proc` at the start and the end
//! of the window, and prints each one's share of one core, the total, and the busiest
//! threads (librdkafka names its threads `rdk:main`, `rdk:broker<id>`, ...). Reported,
//! never asserted. Linux only (`/proc`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::bench_idle_proc::{self as proc, Stat};
use crate::cli::BenchIdleArgs;

/// The line `opsline up` prints once every service runs.
const RUNNING_LINE: &str = "running; Ctrl-C to stop";

/// One process's share of a core over the window.
#[derive(Debug, Serialize)]
struct ProcessCpu {
    name: String,
    pid: u32,
    cpu_percent: f64,
}

/// One thread's share of a core over the window.
#[derive(Debug, Serialize)]
struct ThreadCpu {
    process: String,
    thread: String,
    tid: u32,
    cpu_percent: f64,
}

/// What the command prints.
#[derive(Debug, Serialize)]
struct Report {
    broker: &'static str,
    seconds: f64,
    settle_seconds: u64,
    /// The machine's 1-minute load average when the window started (other work skews the figures).
    load_average: f64,
    /// `opsline up` itself (every service and its Kafka clients).
    opsline_percent: f64,
    /// The embedded broker process.
    broker_percent: f64,
    /// Every process of the tree together.
    total_percent: f64,
    processes: Vec<ProcessCpu>,
    busiest_threads: Vec<ThreadCpu>,
}

/// Starts the pipeline, measures it idle, stops it, prints the figures.
pub async fn run(args: BenchIdleArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let broker = args.broker.flag();
    if args.work_dir.exists() {
        std::fs::remove_dir_all(&args.work_dir).with_context(|| format!("cannot clear {}", args.work_dir.display()))?;
    }
    std::fs::create_dir_all(&args.work_dir).with_context(|| format!("cannot create {}", args.work_dir.display()))?;
    let mut child = spawn_up(&args, broker, config_file)?;
    let measured = measure(&mut child, &args, broker).await;
    stop(&mut child).await;
    let report = measured?;
    if args.json {
        return super::print_json(&report);
    }
    print_report(&report);
    Ok(())
}

/// `opsline up --no-llm` on a fresh data folder, every service on a free port.
fn spawn_up(args: &BenchIdleArgs, broker: &str, config_file: Option<&Path>) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("cannot find the opsline binary")?;
    let log = std::fs::File::create(args.work_dir.join("up.log"))?;
    let mut command = Command::new(exe);
    command
        .arg("up")
        .arg("--no-llm")
        .args(["--broker", broker, "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(args.work_dir.join("data"))
        .arg("--bin-dir")
        .arg(&args.bin_dir)
        .arg("--data")
        .arg(&args.data)
        .arg("--model-cache-dir")
        .arg(&args.model_cache_dir);
    if let Some(file) = config_file {
        command.arg("--config").arg(file);
    }
    for service in ["LOGINTEL", "POSTMORTEM", "TRIAGE", "SELFSERVICE", "CONSOLE"] {
        command.env(format!("OPSLINE_{service}__LISTEN"), "127.0.0.1:0");
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    command.spawn().context("cannot start opsline up")
}

/// Waits for readiness, settles, and samples the process tree of `child`.
async fn measure(child: &mut Child, args: &BenchIdleArgs, broker: &'static str) -> anyhow::Result<Report> {
    let pid = child.id().context("opsline up exited at once")?;
    let stdout = child.stdout.take().context("no stdout of opsline up")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut urls = Vec::new();
    let started = Instant::now();
    let log = args.work_dir.join("up.log");
    loop {
        let line = tokio::time::timeout(Duration::from_secs(args.start_timeout_secs), lines.next_line())
            .await
            .with_context(|| {
                format!(
                    "opsline up not running after {}s (see {})",
                    args.start_timeout_secs,
                    log.display()
                )
            })?
            .context("reading the output of opsline up")?
            .with_context(|| format!("opsline up stopped before it was running (see {})", log.display()))?;
        eprintln!("  | {line}");
        urls.extend(
            line.split_whitespace()
                // A service's base address; not the pages some lines name (`.../login`).
                .filter(|word| word.strip_prefix("http://").is_some_and(|rest| !rest.contains('/')))
                .map(str::to_owned),
        );
        if line.trim() == RUNNING_LINE {
            break;
        }
    }
    // Keep reading (and dropping) what `up` prints so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    wait_ready(&urls, Duration::from_secs(args.start_timeout_secs)).await?;
    eprintln!(
        "ready after {:.1}s; settling {}s, then sampling {}s ...",
        started.elapsed().as_secs_f64(),
        args.settle_secs,
        args.secs
    );
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    sample(pid, broker, args).await.map(|report| Report {
        settle_seconds: args.settle_secs,
        ..report
    })
}

/// Waits until every service's `/readyz` answers 200.
async fn wait_ready(urls: &[String], timeout: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let deadline = Instant::now() + timeout;
    for url in urls {
        let readyz = format!("{}/readyz", url.trim_end_matches('/'));
        loop {
            let ready = client
                .get(&readyz)
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{readyz} not ready within {}s",
                timeout.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// CPU time of the tree under `root` and of its threads, before and after `args.secs`.
async fn sample(root: u32, broker: &'static str, args: &BenchIdleArgs) -> anyhow::Result<Report> {
    let hz = proc::ticks_per_second();
    let load_average = proc::load_average();
    let before = proc::process_tree(root);
    anyhow::ensure!(!before.is_empty(), "opsline up (pid {root}) is gone");
    let threads_before: Vec<(Stat, BTreeMap<u32, Stat>)> =
        before.iter().map(|p| (p.clone(), proc::threads(p.pid))).collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut processes = Vec::new();
    let mut busiest_threads = Vec::new();
    for (first, first_threads) in threads_before {
        let Some(last) = proc::process(first.pid) else {
            anyhow::bail!("{} (pid {}) stopped during the measurement", first.name, first.pid);
        };
        processes.push(ProcessCpu {
            name: first.name.clone(),
            pid: first.pid,
            cpu_percent: proc::percent_of_core(last.ticks.saturating_sub(first.ticks), hz, seconds),
        });
        for (tid, thread) in proc::threads(first.pid) {
            let used = thread
                .ticks
                .saturating_sub(first_threads.get(&tid).map_or(0, |t| t.ticks));
            busiest_threads.push(ThreadCpu {
                process: first.name.clone(),
                thread: thread.name,
                tid,
                cpu_percent: proc::percent_of_core(used, hz, seconds),
            });
        }
    }
    busiest_threads.sort_by(|a, b| b.cpu_percent.total_cmp(&a.cpu_percent));
    busiest_threads.truncate(args.threads);
    let opsline_percent = processes.first().map_or(0.0, |p| p.cpu_percent);
    let broker_binary = args.broker.kind().binary_name();
    let broker_percent = processes
        .iter()
        .filter(|p| p.name == broker_binary)
        .map(|p| p.cpu_percent)
        .sum();
    let total_percent = processes.iter().map(|p| p.cpu_percent).sum();
    Ok(Report {
        broker,
        seconds,
        settle_seconds: 0,
        load_average,
        opsline_percent,
        broker_percent,
        total_percent,
        processes,
        busiest_threads,
    })
}

/// Stops `up` as Ctrl-C would (SIGTERM), so it stops its broker too; kills it after 30 s.
async fn stop(child: &mut Child) {
    opsline_runtime::shutdown::terminate_child(child, Duration::from_secs(30)).await;
}

fn print_report(report: &Report) {
    println!(
        "idle pipeline (opsline up --no-llm, broker {}), {:.1}s after {}s settling, load average {:.2}; CPU in % of one core",
        report.broker, report.seconds, report.settle_seconds, report.load_average
    );
    println!("{:<16} {:>8} {:>8}", "process", "pid", "cpu %");
    for p in &report.processes {
        println!("{:<16} {:>8} {:>8.1}", p.name, p.pid, p.cpu_percent);
    }
    println!("{:<16} {:>8} {:>8.1}", "total", "", report.total_percent);
    if !report.busiest_threads.is_empty() {
        println!("busiest threads:");
        for t in &report.busiest_threads {
            println!(
                "  {:<14} {:<18} {:>8} {:>8.1}",
                t.process, t.thread, t.tid, t.cpu_percent
            );
        }
    }
}
