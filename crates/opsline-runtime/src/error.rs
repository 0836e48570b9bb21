//! The three kinds of failure, and how a service reports them.
//!
//! Every service keeps its own `thiserror` enum for its domain and says, through
//! [`Classify`], which of three kinds each variant is:
//!
//! | kind | meaning | consumer loop | HTTP |
//! |---|---|---|---|
//! | [`ErrorKind::BadRecord`] | the input itself is wrong | dead letter at once | 4xx |
//! | [`ErrorKind::Unavailable`] | a dependency is down or slow | retried, then dead letter | 503 |
//! | [`ErrorKind::Startup`] | the service cannot start or go on | dead letter (never stops a consumer) | 500 |
//!
//! A service that cannot start returns a [`StartupError`]; a running one that stops
//! abnormally returns a [`RunError`]. Both keep their source chain, which
//! [`report_exit`] prints once, cause by cause, before the process exits.

use std::error::Error;
use std::fmt::Write as _;
use std::process::ExitCode;

/// A boxed error that can cross tasks.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What a failure means for the record being processed, or for the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong: retrying cannot help; it is dead-lettered at once.
    BadRecord,
    /// A dependency (broker, directory, model, webhook) is unavailable: retried, then dead-lettered.
    Unavailable,
    /// The configuration or the environment is wrong: the service cannot start.
    Startup,
}

impl ErrorKind {
    /// Whether trying again may succeed.
    pub fn is_retryable(self) -> bool {
        self == Self::Unavailable
    }
}

/// Implemented by every service's error enum: its kind and a stable, bounded code
/// (a metrics label and the dead-letter `error_code`).
pub trait Classify: Error + Send + Sync + 'static {
    /// Which of the three kinds this error is.
    fn kind(&self) -> ErrorKind;
    /// A stable code, e.g. `invalid_input`.
    fn code(&self) -> &'static str;
}

/// The error's message followed by each of its sources: `a: b: c`.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    std::iter::once(error.to_string())
        .chain(causes(error))
        .collect::<Vec<_>>()
        .join(": ")
}

/// The texts of `error`'s sources, each once: a message that already ends with its
/// source's text (`#[error("x: {0}")]`) has said it.
fn causes(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut said = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !said.ends_with(&text) {
            out.push(text.clone());
        }
        said = text;
        source = cause.source();
    }
    out
}

/// Why a service could not start: what it was doing, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct StartupError {
    context: String,
    #[source]
    source: Option<BoxError>,
}

impl StartupError {
    /// A failure with no underlying error (e.g. a missing setting).
    pub fn new(context: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn caused_by(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            context: context.into(),
            source: Some(source.into()),
        }
    }
}

/// `result.startup("cannot create the producer")?`: a start-up failure with its cause.
pub trait StartupContext<T> {
    /// Wraps the error as a [`StartupError`] saying what was being done.
    fn startup(self, context: impl Into<String>) -> Result<T, StartupError>;
}

impl<T, E: Into<BoxError>> StartupContext<T> for Result<T, E> {
    fn startup(self, context: impl Into<String>) -> Result<T, StartupError> {
        self.map_err(|source| StartupError::caused_by(context, source))
    }
}

/// Why a running service stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A critical task (a consumer loop, a follower) failed or panicked.
    #[error("{task} failed")]
    Task {
        /// The task's name.
        task: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The HTTP server stopped with an I/O error.
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}

/// Prints the outcome of a process once and returns its exit code: nothing on
/// success; on failure `opsline-<name>: <error>` and one `caused by:` line per source.
pub fn report_exit(process: &str, result: Result<(), BoxError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", exit_message(process, error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The text [`report_exit`] prints for `error`.
pub fn exit_message(process: &str, error: &(dyn Error + 'static)) -> String {
    let mut text = format!("{process}: {error}");
    for cause in causes(error) {
        let _ = write!(text, "\n  caused by: {cause}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_error_keeps_its_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        let error: Result<(), _> = Err(io);
        let error = error.startup("cannot listen on 127.0.0.1:8088").unwrap_err();
        assert_eq!(chain(&error), "cannot listen on 127.0.0.1:8088: address in use");
        let printed = exit_message("opsline-gateway", &error);
        assert_eq!(
            printed,
            "opsline-gateway: cannot listen on 127.0.0.1:8088\n  caused by: address in use"
        );
    }

    #[test]
    fn chain_does_not_repeat_a_cause_already_in_the_message() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&error), "outer: inner");
    }

    #[test]
    fn exit_message_prints_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("kafka client error: {0}")]
        struct Client(#[source] std::io::Error);
        let error = StartupError::caused_by("cannot create the topics", Client(std::io::Error::other("timed out")));
        assert_eq!(
            exit_message("opsline-gateway", &error),
            "opsline-gateway: cannot create the topics\n  caused by: kafka client error: timed out"
        );
    }

    #[test]
    fn only_unavailable_is_retryable() {
        assert!(ErrorKind::Unavailable.is_retryable());
        assert!(!ErrorKind::BadRecord.is_retryable());
        assert!(!ErrorKind::Startup.is_retryable());
    }
}
