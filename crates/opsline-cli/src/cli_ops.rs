//! Command-line definitions of the operations commands (clap): `incidents`, `alerts`,
//! `tickets` (the console's JSON API from the terminal) and `token create`, and where a
//! command finds the running pipeline (`--data-dir`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Where a running `opsline up` wrote its `run.json`.
#[derive(Debug, Clone, Args)]
pub struct RunLocation {
    /// Data directory of a running `opsline up` (its run.json says where everything is).
    #[arg(long, env = "OPSLINE_DATA_DIR", default_value = ".opsline/data")]
    pub data_dir: PathBuf,
}

/// Which broker and topics a command reads: the flags, else the --config file, else a running
/// `opsline up` (its run.json), else 127.0.0.1:9092 without a prefix.
#[derive(Debug, Clone, Args)]
pub struct BrokerTarget {
    /// Kafka bootstrap servers (default: a running `opsline up`, else 127.0.0.1:9092).
    #[arg(long, env = "OPSLINE_KAFKA__BOOTSTRAP_SERVERS")]
    pub bootstrap: Option<String>,
    /// Topic name prefix (default: that of the --config file or of a running `opsline up`).
    #[arg(long, env = "OPSLINE_TOPIC_PREFIX")]
    pub prefix: Option<String>,
    /// Where a running `opsline up` is.
    #[command(flatten)]
    pub run: RunLocation,
}

/// How the terminal reaches the console.
#[derive(Debug, Clone, Args)]
pub struct ConsoleTarget {
    /// Console base URL (default: from run.json, else the --config file, else http://127.0.0.1:8094).
    #[arg(long, env = "OPSLINE_CONSOLE_URL")]
    pub console: Option<String>,
    /// API token (default: the local token in run.json). Create one with `opsline token create`.
    #[arg(long, env = "OPSLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where a running `opsline up` is.
    #[command(flatten)]
    pub run: RunLocation,
    /// Print one JSON array (with --follow: one JSON object per line as items change).
    #[arg(long)]
    pub json: bool,
    /// Keep watching: print items as they appear or change (Ctrl-C to stop).
    #[arg(long)]
    pub follow: bool,
    /// Seconds between two looks with --follow.
    #[arg(long, default_value_t = 2)]
    pub interval_secs: u64,
    /// Items to show at most (newest or most urgent first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Not before this time: RFC 3339, or a duration back from now (30m, 24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Not after this time.
    #[arg(long)]
    pub until: Option<String>,
}

/// `opsline incidents`.
#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// Only this service.
    #[arg(long)]
    pub service: Option<String>,
    /// Only this severity (critical, warning, info) or level (sev1..sev4).
    #[arg(long)]
    pub severity: Option<String>,
    /// open, unacknowledged, acknowledged or resolved.
    #[arg(long)]
    pub status: Option<String>,
    /// Console, output and time window.
    #[command(flatten)]
    pub target: ConsoleTarget,
}

/// `opsline alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only this service.
    #[arg(long)]
    pub service: Option<String>,
    /// Only this severity (critical, warning, info).
    #[arg(long)]
    pub severity: Option<String>,
    /// Only this kind (new_template, rate_burst, error_surge, silence).
    #[arg(long)]
    pub kind: Option<String>,
    /// Console, output and time window.
    #[command(flatten)]
    pub target: ConsoleTarget,
}

/// `opsline tickets`.
#[derive(Debug, Args)]
pub struct TicketsArgs {
    /// Only this helpdesk queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only this priority (p1..p4).
    #[arg(long)]
    pub priority: Option<String>,
    /// Only tickets linked to this incident id.
    #[arg(long)]
    pub incident: Option<String>,
    /// Console, output and time window.
    #[command(flatten)]
    pub target: ConsoleTarget,
}

/// `opsline token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a new API token for the console and the postmortem pages: prints it once, and
    /// adds its hash to the --config file (or prints the lines to add).
    Create(TokenCreateArgs),
}

/// `opsline token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Who holds it (shown as "signed in as", recorded on their actions).
    #[arg(long)]
    pub name: String,
    /// sre (acts on incidents, reviews), helpdesk (re-routes tickets) or viewer (reads).
    #[arg(long)]
    pub role: String,
    /// Team giving access to incidents and postmortems restricted to it (repeatable).
    #[arg(long)]
    pub team: Vec<String>,
}
