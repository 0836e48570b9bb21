//! Command-line definitions (clap). Every command and flag explains itself in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::cli_ops::{AlertsArgs, BrokerTarget, IncidentsArgs, RunLocation, TicketsArgs, TokenCommand};
pub use crate::cli_train::{SplitArgs, TrainCommand, TrainTicketsArgs};

/// Opsline: self-hosted, Kafka-native ITOps automation.
///
/// Ingests logs and tickets over HTTP into Kafka, mines log templates and alerts,
/// routes tickets, and indexes postmortems for search.
#[derive(Debug, Parser)]
#[command(name = "opsline", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML); every setting can also be set as OPSLINE_<SECTION>__<KEY>.
    #[arg(long, global = true, env = "OPSLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every service in one process, against an embedded broker it starts itself
    /// (Tansu with SQLite, data under .opsline/) unless --bootstrap names an existing Kafka.
    Up(UpArgs),
    /// Create every Opsline topic (idempotent) and list them.
    Topics(TopicsArgs),
    /// Stream files into a running pipeline through the gateway, with a progress bar.
    #[command(subcommand)]
    Replay(ReplayCommand),
    /// Measure quality on reference data (never hard-coded: computed on the files given).
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measure speed and memory.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Train a model from history.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Import existing documents.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Search postmortems and runbooks in a local index, without a server.
    Search(SearchArgs),
    /// Value report: per use case, tickets handled, LLM calls, cache hits, tokens, cost,
    /// auto-routed share, deflected tickets and estimated savings (read from the broker).
    Report(ReportArgs),
    /// Open and recent incidents from the console (finds a running `opsline up` by itself).
    Incidents(IncidentsArgs),
    /// Recent alerts from the console.
    Alerts(AlertsArgs),
    /// Routed helpdesk tickets from the console.
    Tickets(TicketsArgs),
    /// API tokens for the console and the postmortem pages.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Which embedded broker `up` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrokerChoice {
    /// Tansu with its SQLite engine (default): one file in the data folder; an idle pipeline on it
    /// uses about 3% of a core (`.opsline/bin/tansu-libsql`, scripts/install-kafka-tls.sh).
    TansuSqlite,
    /// noida-db: persistent data directory; its idle consumers spin (see `opsline bench idle`).
    Noida,
    /// Tansu: memory only (data lost when it stops).
    Tansu,
}

impl BrokerChoice {
    /// The broker process this choice starts.
    pub fn kind(self) -> opsline_kafka::embedded::BrokerKind {
        use opsline_kafka::embedded::BrokerKind;
        match self {
            Self::TansuSqlite => BrokerKind::TansuSqlite,
            Self::Tansu => BrokerKind::Tansu,
            Self::Noida => BrokerKind::Noida,
        }
    }

    /// The value of `--broker` that selects it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::TansuSqlite => "tansu-sqlite",
            Self::Tansu => "tansu",
            Self::Noida => "noida",
        }
    }
}

/// `opsline up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Use this Kafka instead of starting an embedded broker (host:port[,host:port]).
    #[arg(long, env = "OPSLINE_KAFKA__BOOTSTRAP_SERVERS")]
    pub bootstrap: Option<String>,
    /// Embedded broker to start when --bootstrap is not given.
    #[arg(long, value_enum, default_value_t = BrokerChoice::TansuSqlite)]
    pub broker: BrokerChoice,
    /// Port of the embedded broker (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub broker_port: u16,
    /// Where the embedded broker keeps its data and logs.
    #[arg(long, default_value = ".opsline/data")]
    pub data_dir: PathBuf,
    /// Where the broker binaries are (installed by scripts/install-brokers.sh).
    #[arg(long, env = "OPSLINE_BIN_DIR", default_value = ".opsline/bin")]
    pub bin_dir: PathBuf,
    /// Gateway listen address (default: `gateway.listen` of the configuration, 127.0.0.1:8088).
    #[arg(long)]
    pub listen: Option<String>,
    /// Replay sample data from the reference folder, print what happened, and exit.
    #[arg(long)]
    pub demo: bool,
    /// After --demo, keep every service running (Ctrl-C to stop), so the console shows it.
    #[arg(long)]
    pub stay: bool,
    /// Reference data folder used by --demo.
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// Where the ticket classifier trained at start-up (no triage.classifier.model_path) is cached,
    /// keyed by the training file, the settings and the model format: later starts load it.
    #[arg(long, default_value = ".opsline/cache")]
    pub model_cache_dir: PathBuf,
    /// Tickets replayed by --demo.
    #[arg(long, default_value_t = 500)]
    pub demo_tickets: usize,
    /// GGUF model served by the embedded llama-server for ticket summaries (used when it and
    /// .opsline/bin/llama-server are installed and no [triage.llm] endpoint is configured).
    #[arg(
        long,
        env = "OPSLINE_LLM_MODEL",
        default_value = ".opsline/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    )]
    pub llm_model: PathBuf,
    /// Do not start the embedded model: tickets are routed without summaries.
    #[arg(long)]
    pub no_llm: bool,
    /// Refine new log templates with the embedded model (logintel's `[logintel.refine]`, off the
    /// hot path; refined templates go to opsline.logs.templates.refined.v1). Needs the embedded
    /// model (ignored with --no-llm); `[logintel.refine] enabled = true` in the file does the same.
    #[arg(long)]
    pub refine_templates: bool,
    /// How long --demo waits at most for the first LLM summary before it prints what it has and
    /// exits (on 2 idle cores the first one takes about a minute).
    #[arg(long, default_value_t = 600)]
    pub demo_llm_wait_secs: u64,
}

/// `opsline topics`.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    /// Which broker and topics.
    #[command(flatten)]
    pub broker: BrokerTarget,
}

/// `opsline replay ...`.
#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// Post raw log files line by line (header included) to the gateway's /v1/logs.
    Logs(ReplayLogsArgs),
    /// Post tickets from a CSV (one ticket per row) or JSON Lines file to /v1/tickets.
    Tickets(ReplayTicketsArgs),
}

/// `opsline replay logs`.
#[derive(Debug, Args)]
pub struct ReplayLogsArgs {
    /// Log files (one service per file).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Gateway base URL (default: that of a running `opsline up`, else http://127.0.0.1:8088).
    #[arg(long, env = "OPSLINE_GATEWAY_URL")]
    pub gateway: Option<String>,
    /// Ingest key sent as `Authorization: Bearer` (default: that of a running `opsline up`).
    #[arg(long, env = "OPSLINE_INGEST_KEY", hide_env_values = true)]
    pub ingest_key: Option<String>,
    /// Where a running `opsline up` is.
    #[command(flatten)]
    pub run: RunLocation,
    /// Service name; by default the file name up to the first `_` or `.`, lower-cased.
    #[arg(long)]
    pub service: Option<String>,
    /// Lines per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

/// `opsline replay tickets`.
#[derive(Debug, Args)]
pub struct ReplayTicketsArgs {
    /// CSV or JSON Lines file.
    pub file: PathBuf,
    /// Gateway base URL (default: that of a running `opsline up`, else http://127.0.0.1:8088).
    #[arg(long, env = "OPSLINE_GATEWAY_URL")]
    pub gateway: Option<String>,
    /// Ingest key sent as `Authorization: Bearer` (default: that of a running `opsline up`).
    #[arg(long, env = "OPSLINE_INGEST_KEY", hide_env_values = true)]
    pub ingest_key: Option<String>,
    /// Where a running `opsline up` is.
    #[command(flatten)]
    pub run: RunLocation,
    /// CSV column(s) used as the ticket text (first one is also the subject); default: every column but the last.
    #[arg(long = "text-col")]
    pub text_cols: Vec<String>,
    /// Stop after this many tickets.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Tickets per request.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
}

/// `opsline eval ...`.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Log parsing accuracy (GA, PA, FGA, FTA as in Loghub-2.0) on LogHub-style folders.
    Logs(EvalLogsArgs),
    /// Ticket routing accuracy: train on --train, evaluate on --test.
    Tickets(EvalTicketsArgs),
    /// Chat intent accuracy on a Rasa NLU YAML file, with the confusion matrix.
    Intents(EvalIntentsArgs),
    /// Alert recall on a labelled log (BGL: first column `-` = normal) and alerts per line.
    Alerts(EvalAlertsArgs),
    /// Incidents and postmortems from replayed LogHub files (directories or *_2k.log), per system.
    Incidents(EvalIncidentsArgs),
    /// The model on real data through the production paths: ticket enrichment and postmortem
    /// narratives (validity, grounding, latency, tokens, throughput, cache).
    Llm(EvalLlmArgs),
}

/// `opsline eval llm`.
#[derive(Debug, Args)]
pub struct EvalLlmArgs {
    /// Tickets CSV (one per row, e.g. ../shared/data/tickets/topic-train.csv).
    #[arg(long)]
    pub tickets: PathBuf,
    /// LogHub log file (or folder) replayed through the log engine for incidents.
    #[arg(long)]
    pub incidents: PathBuf,
    /// Tickets and incidents to run (each).
    #[arg(long, default_value_t = 20)]
    pub n: usize,
    /// GGUF model started in the embedded llama-server when no --llm-url is given (its file
    /// stem is the model name).
    #[arg(
        long,
        env = "OPSLINE_LLM_MODEL",
        default_value = ".opsline/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    )]
    pub llm_model: PathBuf,
    /// An OpenAI-compatible endpoint to use instead (e.g. http://127.0.0.1:8080/v1).
    #[arg(long)]
    pub llm_url: Option<String>,
    /// Where llama-server is installed.
    #[arg(long, env = "OPSLINE_BIN_DIR", default_value = ".opsline/bin")]
    pub bin_dir: PathBuf,
    /// Runbooks used as enrichment context.
    #[arg(long, default_value = "runbooks")]
    pub runbooks: PathBuf,
    /// Where the embedded server's log goes.
    #[arg(long, default_value = ".opsline/data")]
    pub data_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline eval incidents`.
#[derive(Debug, Args)]
pub struct EvalIncidentsArgs {
    /// Log files, folders holding them, or their parent (e.g. ../shared/data/loghub).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline eval alerts`.
#[derive(Debug, Args)]
pub struct EvalAlertsArgs {
    /// Labelled log file, e.g. ../shared/data/loghub/BGL/BGL_2k.log.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline eval logs`.
#[derive(Debug, Args)]
pub struct EvalLogsArgs {
    /// Folders holding <Name>_2k.log and <Name>_2k.log_structured.csv, or their parent.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Leave one out: score each system with settings chosen on the other systems only.
    #[arg(long)]
    pub leave_one_out: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline eval tickets`.
#[derive(Debug, Args)]
pub struct EvalTicketsArgs {
    /// Training CSV.
    #[arg(long)]
    pub train: PathBuf,
    /// Test CSV.
    #[arg(long)]
    pub test: PathBuf,
    /// Text column(s), joined in order; repeat the flag or separate names with commas.
    #[arg(long = "text-col", required = true, value_delimiter = ',')]
    pub text_cols: Vec<String>,
    /// Label column.
    #[arg(long = "label-col")]
    pub label_col: String,
    /// Human-review threshold: tickets below this confidence go to a person.
    #[arg(long, default_value_t = 0.6)]
    pub threshold: f32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline eval intents`.
#[derive(Debug, Args)]
pub struct EvalIntentsArgs {
    /// Rasa NLU YAML file.
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// CPU of an idle pipeline: runs `opsline up --no-llm`, waits until it is ready and
    /// settled, and prints each process's share of one core (Opsline, broker) and the total.
    Idle(BenchIdleArgs),
    /// Single-core throughput and peak memory of the log template miner.
    Logs(BenchLogsArgs),
    /// Gateway -> Kafka -> consumer throughput and latency, beside the raw broker ceiling.
    Pipeline(BenchPipelineArgs),
    /// Records per second through each source: NDJSON, OTLP (protobuf, JSON), syslog (TCP,
    /// UDP) and the Alertmanager webhook.
    Sources(BenchSourcesArgs),
    /// Postmortem search: indexing rate, size, latency p50/p99 vs a linear scan.
    Search(BenchSearchArgs),
}

/// `opsline bench idle`.
#[derive(Debug, Args)]
pub struct BenchIdleArgs {
    /// Embedded broker `up` starts.
    #[arg(long, value_enum, default_value_t = BrokerChoice::TansuSqlite)]
    pub broker: BrokerChoice,
    /// Seconds measured.
    #[arg(long, default_value_t = 20)]
    pub secs: u64,
    /// Seconds waited after every service is ready, before measuring (start-up work ends).
    #[arg(long, default_value_t = 10)]
    pub settle_secs: u64,
    /// Longest wait for `up` to be running and ready.
    #[arg(long, default_value_t = 300)]
    pub start_timeout_secs: u64,
    /// Busiest threads listed.
    #[arg(long, default_value_t = 8)]
    pub threads: usize,
    /// Folder for the broker's data and `up`'s log (emptied first).
    #[arg(long, default_value = ".opsline/bench-idle")]
    pub work_dir: PathBuf,
    /// Where the broker binaries are.
    #[arg(long, env = "OPSLINE_BIN_DIR", default_value = ".opsline/bin")]
    pub bin_dir: PathBuf,
    /// Reference data folder (the ticket classifier is trained from it when not cached).
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// Ticket classifier cache, as for `up`.
    #[arg(long, default_value = ".opsline/cache")]
    pub model_cache_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline bench logs`.
#[derive(Debug, Args)]
pub struct BenchLogsArgs {
    /// Log files, concatenated and repeated to --lines.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Lines to parse.
    #[arg(long, default_value_t = 10_000_000)]
    pub lines: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline bench pipeline`.
#[derive(Debug, Args)]
pub struct BenchPipelineArgs {
    /// Records to send.
    #[arg(long, default_value_t = 200_000)]
    pub records: usize,
    /// Records per gateway request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent gateway requests.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Embedded broker.
    #[arg(long, value_enum, default_value_t = BrokerChoice::TansuSqlite)]
    pub broker: BrokerChoice,
    /// Where the broker binaries are.
    #[arg(long, env = "OPSLINE_BIN_DIR", default_value = ".opsline/bin")]
    pub bin_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline bench sources`.
#[derive(Debug, Args)]
pub struct BenchSourcesArgs {
    /// Records sent through each log path (alerts: a tenth of it).
    #[arg(long, default_value_t = 50_000)]
    pub records: usize,
    /// Records per request (NDJSON, OTLP) or per write (syslog TCP).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Embedded broker.
    #[arg(long, value_enum, default_value_t = BrokerChoice::TansuSqlite)]
    pub broker: BrokerChoice,
    /// Where the broker binaries are.
    #[arg(long, env = "OPSLINE_BIN_DIR", default_value = ".opsline/bin")]
    pub bin_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline bench search`.
#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    /// Folder of real postmortems to replicate.
    #[arg(long, default_value = "../shared/data/postmortems")]
    pub corpus: PathBuf,
    /// Documents to index.
    #[arg(long, default_value_t = 100_000)]
    pub docs: usize,
    /// Queries to time.
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// Index folder (emptied first).
    #[arg(long, default_value = ".opsline/bench-search-index")]
    pub index: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Index Markdown (YAML front matter) and JSON Lines postmortems.
    Postmortems(ImportPostmortemsArgs),
}

/// Review status given to imported documents that do not state one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportStatus {
    /// Only SREs see them until reviewed.
    Draft,
    /// Everyone allowed to read postmortems sees them.
    Published,
}

/// `opsline import postmortems`.
#[derive(Debug, Args)]
pub struct ImportPostmortemsArgs {
    /// File or folder.
    pub path: PathBuf,
    /// Index folder.
    #[arg(long, default_value = ".opsline/index")]
    pub index: PathBuf,
    /// Status of documents whose source does not say.
    #[arg(long, value_enum, default_value_t = ImportStatus::Published)]
    pub status: ImportStatus,
}

/// `opsline search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Query: words, "phrases", AND/OR/NOT, field:value, created:[2024-01-01 TO 2024-06-30].
    pub query: String,
    /// Index folder, read directly (default: ask the postmortem service of a running
    /// `opsline up`, which holds the live index; without one, .opsline/index).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Base URL of a postmortem service to ask (default: that of a running `opsline up`).
    #[arg(long, env = "OPSLINE_POSTMORTEM_URL")]
    pub postmortem: Option<String>,
    /// API token for the postmortem service (default: the local token in run.json).
    #[arg(long, env = "OPSLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where a running `opsline up` is.
    #[command(flatten)]
    pub run: RunLocation,
    /// Hits to show.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `opsline report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which broker and topics.
    #[command(flatten)]
    pub broker: BrokerTarget,
    /// Estimated helpdesk cost of one ticket handled by a person (for the savings).
    #[arg(long, default_value_t = 15.0)]
    pub cost_per_ticket: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
