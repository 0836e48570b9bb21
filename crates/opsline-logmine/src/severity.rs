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
    let trimmed = level
        .trim()
        .trim_start_matches(['[', '<', '('])
        .trim_end_matches([']', '>', ')', ':']);
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
    let mut buf = [0u8; 11];
    for (dst, src) in buf.iter_mut().zip(trimmed.bytes()) {
        *dst = src.to_ascii_uppercase();
    }
    let upper = &buf[..trimmed.len()];
    Some(match upper {
        b"TRACE" | b"DEBUG" | b"DBG" | b"VERBOSE" | b"FINE" | b"FINER" | b"FINEST" => Severity::Debug,
        b"INFO" | b"INFORMATION" | b"NOTICE" | b"CONFIG" | b"LOG" => Severity::Info,
        b"WARN" | b"WARNING" => Severity::Warn,
        b"ERROR" | b"ERR" | b"SEVERE" | b"CRITICAL" | b"CRIT" | b"FATAL" | b"ALERT" | b"EMERG" | b"EMERGENCY"
        | b"FAILURE" | b"PANIC" => Severity::Error,
        _ => return None,
    })
}

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
    }
}
