//! Whether a drafted reply asks the requester for a secret.
//!
//! The prompt forbids it, and a small model still writes "Please provide the client's email
//! address and the new passwords." A helpdesk that sends that teaches users to mail passwords,
//! so such a reply is withheld (the agent writes one) whatever the prompt said. Pure text rules,
//! per sentence: a verb of handing over (provide, send, share, ...) before a secret (password,
//! one-time code, PIN, ...), unless the sentence says not to ("never share your password").

/// Verbs of handing something over.
const HAND_OVER: &[&str] = &[
    "provide",
    "send",
    "share",
    "give",
    "tell",
    "enter",
    "confirm",
    "include",
    "type",
    "reply with",
    "let me know",
    "let us know",
    "what is",
    "what's",
    "forward",
];

/// What a helpdesk must never ask for (whole words).
const SECRETS: &[&str] = &[
    "password",
    "passwords",
    "passcode",
    "passphrase",
    "pin",
    "one-time code",
    "one time code",
    "otp",
    "verification code",
    "mfa code",
    "2fa code",
    "credential",
    "credentials",
    "security answer",
    "secret",
];

/// Words that turn the request around ("never send your password").
const NEGATIONS: &[&str] = &["never", "do not", "don't", "dont", "not", "no one", "nobody"];

/// Whether `reply` asks the requester for a password, a code or another secret.
pub fn asks_for_secret(reply: &str) -> bool {
    let lower = reply.to_lowercase();
    lower.split(['.', '?', '!', '\n']).any(|sentence| {
        let Some(verb) = HAND_OVER.iter().filter_map(|v| find_phrase(sentence, v)).min() else {
            return false;
        };
        let asks = SECRETS.iter().any(|s| find_phrase(&sentence[verb..], s).is_some());
        let negated = NEGATIONS.iter().any(|n| find_phrase(&sentence[..verb], n).is_some());
        asks && !negated
    })
}

/// Where `phrase` starts in `text` as whole words.
fn find_phrase(text: &str, phrase: &str) -> Option<usize> {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(phrase)
        .map(|(at, _)| at)
        .find(|&at| boundary(text[..at].chars().next_back()) && boundary(text[at + phrase.len()..].chars().next()))
}

#[cfg(test)]
mod tests {
    use super::asks_for_secret;

    #[test]
    fn replies_asking_for_a_secret_are_caught() {
        for reply in [
            "Please provide the client's email address and the new passwords.",
            "Thanks. Could you send me your one-time code?",
            "What is your current password",
            "What is the expiry date, and what is the current password for each account?",
            "Please confirm your PIN, then we reset it.",
            "Reply with the OTP you received.",
        ] {
            assert!(asks_for_secret(reply), "{reply}");
        }
    }

    #[test]
    fn ordinary_and_warning_replies_are_not() {
        for reply in [
            "Please reset your password in the self-service portal.",
            "Never share your password with anyone, including the helpdesk.",
            "Please provide the printer name and the error shown on its display.",
            "Do not send us your one-time code.",
            "Your password was reset; you will be asked to change it at sign-in.",
            "Please provide the spinning wheel's model and the secretary's name.",
        ] {
            assert!(!asks_for_secret(reply), "{reply}");
        }
    }
}
