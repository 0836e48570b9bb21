//! Severity classes: mapping the many spellings of log levels onto four classes, so the log
//! service can alert on error-level surges whatever the source's conventions.

use serde::{Deserialize, Serialize};

/// A coarse severity class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Debug and trace output.
    Debug,
    /// Informational messages (including notices).
    Info,
    /// Warnings.
    Warn,
    /// Errors and worse (error, critical, fatal, alert, emergency, failure, severe).
    Error,
}

/// Classifies a level string (`"INFO"`, `"warn"`, `"E"`, `"[error]"`, `"Information"`, …) into a
/// [`Severity`]; `None` when the text is not a recognised level.
///
/// Single letters (`V D I W E F A`, as used by Android logcat) must be upper case.
pub fn classify_level(level: &str) -> Option<Severity> {
    // Plain words (the usual case) need no trimming.
    let trimmed = if level.bytes().all(|b| b.is_ascii_alphabetic()) {
        level
    } else {
        level
            .trim()
            .trim_start_matches(['[', '<', '('])
            .trim_end_matches([']', '>', ')', ':'])
    };
    if trimmed.len() == 1 {
        return match trimmed {
            "V" | "D" => Some(Severity::Debug),
            "I" => Some(Severity::Info),
            "W" => Some(Severity::Warn),
            "E" | "F" | "A" => Some(Severity::Error),
            _ => None,
        };
    }
    if trimmed.len() > 11 {
        return None;
    }
    let mut buf = [0u8; 16];
    for (dst, src) in buf.iter_mut().zip(trimmed.bytes()) {
        *dst = src.to_ascii_uppercase();
    }
    buf[15] = trimmed.len() as u8;
    Some(match u128::from_le_bytes(buf) {
        TRACE | DEBUG | DBG | VERBOSE | FINE | FINER | FINEST => Severity::Debug,
        INFO | INFORMATION | NOTICE | CONFIG | LOG => Severity::Info,
        WARN | WARNING => Severity::Warn,
        ERROR | ERR | SEVERE | CRITICAL | CRIT | FATAL | ALERT | EMERG | EMERGENCY | FAILURE | PANIC => Severity::Error,
        _ => return None,
    })
}

/// A level word (upper case, at most 11 bytes) and its length packed into an integer, for
/// one-compare matching.
const fn key(word: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let mut i = 0;
    while i < word.len() && i < 15 {
        buf[i] = word[i];
        i += 1;
    }
    buf[15] = word.len() as u8;
    u128::from_le_bytes(buf)
}

const TRACE: u128 = key(b"TRACE");
const DEBUG: u128 = key(b"DEBUG");
const DBG: u128 = key(b"DBG");
const VERBOSE: u128 = key(b"VERBOSE");
const FINE: u128 = key(b"FINE");
const FINER: u128 = key(b"FINER");
const FINEST: u128 = key(b"FINEST");
const INFO: u128 = key(b"INFO");
const INFORMATION: u128 = key(b"INFORMATION");
const NOTICE: u128 = key(b"NOTICE");
const CONFIG: u128 = key(b"CONFIG");
const LOG: u128 = key(b"LOG");
const WARN: u128 = key(b"WARN");
const WARNING: u128 = key(b"WARNING");
const ERROR: u128 = key(b"ERROR");
const ERR: u128 = key(b"ERR");
const SEVERE: u128 = key(b"SEVERE");
const CRITICAL: u128 = key(b"CRITICAL");
const CRIT: u128 = key(b"CRIT");
const FATAL: u128 = key(b"FATAL");
const ALERT: u128 = key(b"ALERT");
const EMERG: u128 = key(b"EMERG");
const EMERGENCY: u128 = key(b"EMERGENCY");
const FAILURE: u128 = key(b"FAILURE");
const PANIC: u128 = key(b"PANIC");

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_spellings() {
        assert_eq!(classify_level("INFO"), Some(Severity::Info));
        assert_eq!(classify_level("notice"), Some(Severity::Info));
        assert_eq!(classify_level("Info"), Some(Severity::Info));
        assert_eq!(classify_level("[error]"), Some(Severity::Error));
        assert_eq!(classify_level("FATAL"), Some(Severity::Error));
        assert_eq!(classify_level("WARNING"), Some(Severity::Warn));
        assert_eq!(classify_level("W"), Some(Severity::Warn));
        assert_eq!(classify_level("D"), Some(Severity::Debug));
        assert_eq!(classify_level("trace"), Some(Severity::Debug));
    }

    #[test]
    fn rejects_non_levels() {
        assert_eq!(classify_level("hello"), None);
        assert_eq!(classify_level("e"), None);
        assert_eq!(classify_level(""), None);
        assert_eq!(classify_level("INFORMATIONAL-LONG"), None);
        assert_eq!(classify_level("INFO\0"), None);
        assert_eq!(classify_level("INF"), None);
    }
}
