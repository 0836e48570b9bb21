//! Log line headers: splitting a raw line into timestamp, level, component and content.
//!
//! A small set of built-in header *shapes* (syslog, log4j, logcat, RAS, …; see [`BUILTIN_FORMATS`])
//! is matched against the first lines of a stream; the shape that matches most of them (ties go to
//! the more specific shape) is locked in and used for the rest of the stream. A user format string
//! (same syntax) or a regex with named groups can replace auto-detection. Lines the chosen format
//! does not match keep an empty header and their whole text as content.

mod format;
mod step;

use std::ops::Range;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub use format::FormatError;
pub(crate) use format::{HeaderFormat, HeaderMatch};

/// Header fields extracted from one line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The timestamp text as written in the line (all date/time fields joined).
    pub timestamp: Option<String>,
    /// The level/severity text as written (`INFO`, `E`, `notice`, …).
    pub level: Option<String>,
    /// The component/logger/program name (a trailing `[pid]` is removed).
    pub component: Option<String>,
    /// The host (node, machine) that wrote the line, when the format names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Built-in header shapes, in the Loghub format syntax understood by
/// [`crate::MinerConfig::header_format`]. They describe common logging conventions, not data sets.
pub const BUILTIN_FORMATS: &[&str] = &[
    // RAS / supercomputer alert streams: label epoch date node datetime node type comp level.
    "<word> <num> <date> <host> <date> <word> <word> <comp> <level> <content>",
    // Alert label + epoch + date + host, followed by a classic syslog line.
    "<word> <num> <date> <host> <month> <day> <time> <word> <comp>: <content>",
    // Cluster event logs: id node component state epoch flag.
    "<num> <host> <comp> <word> <num> <num> <content>",
    // Python/OpenStack style with a source prefix and a request context in brackets.
    "<word> <date> <time> <num> <level> <comp> [<any>] <content>",
    "<date> <time> <num> <level> <comp> [<any>] <content>",
    // Android logcat (threadtime).
    "<date> <time> <num> <num> <level> <comp>: <content>",
    // date time pid level component: (Hadoop/HDFS classic).
    "<date> <time> <num> <level> <comp>: <content>",
    // log4j with a thread in brackets.
    "<date> <time> <level> [<any>] <comp>: <content>",
    // log4j with dashes and a bracketed thread/location.
    "<date> <time> - <level> [<any>] - <content>",
    // log4j/slf4j simple.
    "<date> <time> <level> <comp>: <content>",
    "<date> <time> <level> <comp> - <content>",
    // Windows CBS/CSI.
    "<date> <time>, <level> <comp> <content>",
    // BSD syslog: Mon day time host program[pid]: content.
    "<month> <day> <time> <host> <comp>: <content>",
    // ISO syslog (RFC 5424-ish without structured data).
    "<date> <host> <comp>: <content>",
    // Apache error log.
    "[<ts>] [<level>] <content>",
    // Bracketed time then program - content.
    "[<ts>] <comp> - <content>",
    // Pipe separated: time|component|pid|content.
    "<date>|<comp>|<num>|<content>",
    // Generic fallbacks.
    "<date> <time> <level> <content>",
    "[<ts>] <level> <content>",
    "<date> <time> <content>",
    "<date> <level> <content>",
];

/// Number of leading lines used for format auto-detection.
pub(crate) const DETECT_LINES: u32 = 32;

/// How a stream's headers are parsed.
#[derive(Debug, Clone)]
pub(crate) enum HeaderStrategy {
    /// No header: the whole line is content.
    None,
    /// One fixed format (user supplied, or locked in by detection).
    Fixed(Box<HeaderFormat>),
    /// A user regex with optional named groups `timestamp`, `level`, `component`, `host`, `content`.
    Regex(Box<Regex>),
    /// Auto-detection in progress over the built-in formats.
    Detecting(Box<Detector>),
}

/// Auto-detection state: per built-in format, how many of the first lines it matched.
#[derive(Debug, Clone)]
pub(crate) struct Detector {
    pub(crate) formats: Vec<HeaderFormat>,
    pub(crate) hits: Vec<u32>,
    pub(crate) seen: u32,
}

impl Detector {
    pub(crate) fn new() -> Self {
        let formats: Vec<HeaderFormat> = BUILTIN_FORMATS
            .iter()
            .filter_map(|f| HeaderFormat::compile(f).ok())
            .collect();
        let hits = vec![0; formats.len()];
        Self { formats, hits, seen: 0 }
    }

    /// Index of the best format so far: most hits, then most specific, then earliest.
    fn best(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, f) in self.formats.iter().enumerate() {
            if self.hits[i] == 0 {
                continue;
            }
            best = match best {
                Some(b) if (self.hits[b], self.formats[b].specificity) >= (self.hits[i], f.specificity) => Some(b),
                _ => Some(i),
            };
        }
        best
    }
}

impl HeaderStrategy {
    /// Splits `line` into header ranges and content range, updating detection state.
    pub(crate) fn split(&mut self, line: &str) -> format::HeaderMatch {
        let whole = format::HeaderMatch {
            content: 0..line.len(),
            ..Default::default()
        };
        match self {
            Self::None => whole,
            Self::Fixed(f) => f.matches(line).unwrap_or(whole),
            Self::Regex(re) => regex_split(re, line).unwrap_or(whole),
            Self::Detecting(det) => {
                let mut matched: Vec<Option<format::HeaderMatch>> = Vec::with_capacity(det.formats.len());
                for (i, f) in det.formats.iter().enumerate() {
                    let m = f.matches(line);
                    if m.is_some() {
                        det.hits[i] += 1;
                    }
                    matched.push(m);
                }
                if !line.trim().is_empty() {
                    det.seen += 1;
                }
                // Use the best format so far that matches this line.
                let mut choice: Option<usize> = None;
                for (i, m) in matched.iter().enumerate() {
                    if m.is_none() {
                        continue;
                    }
                    let key = (det.hits[i], det.formats[i].specificity);
                    choice = match choice {
                        Some(c) if (det.hits[c], det.formats[c].specificity) >= key => Some(c),
                        _ => Some(i),
                    };
                }
                let result = choice
                    .and_then(|c| matched.get_mut(c).and_then(Option::take))
                    .unwrap_or(whole);
                if det.seen >= DETECT_LINES {
                    let locked = det.best().and_then(|b| det.formats.get(b).cloned());
                    *self = match locked {
                        Some(f) => Self::Fixed(Box::new(f)),
                        None => Self::None,
                    };
                }
                result
            }
        }
    }

    /// The format string in use, if one is locked in.
    pub(crate) fn locked_format(&self) -> Option<&str> {
        match self {
            Self::Fixed(f) => Some(&f.source),
            _ => None,
        }
    }
}

fn regex_split(re: &Regex, line: &str) -> Option<format::HeaderMatch> {
    let caps = re.captures(line)?;
    let range = |name: &str| caps.name(name).map(|m| m.range());
    let content: Range<usize> = range("content").unwrap_or(0..line.len());
    Some(format::HeaderMatch {
        timestamp: range("timestamp"),
        level: range("level"),
        component: range("component"),
        host: range("host"),
        content,
        severity: None,
    })
}

/// Removes a trailing `[digits]` (a pid) from a component name.
pub(crate) fn strip_pid(component: &str) -> &str {
    let trimmed = component.trim_end();
    if trimmed.ends_with(']')
        && let Some(open) = trimmed.rfind('[')
        && open + 2 < trimmed.len()
        && trimmed[open + 1..trimmed.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        return &trimmed[..open];
    }
    trimmed
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
