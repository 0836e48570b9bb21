//! Deterministic screening of a message before anything is looked up: on top of the
//! intent classifier's guard, catches prompt-injection phrasing (instructions to the
//! bot, role play, "skip the code") and requests that name an account other than the
//! writer's own (a DN, an e-mail address, "<name>'s password", a privileged account).
//! Screening can only refuse; it never chooses whom to act on.

use opsline_classify::{GuardReason, Intent, IntentPrediction};
use regex::Regex;

use crate::error::SelfServiceError;

/// Why a message was refused by screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screened {
    /// Instructions aimed at the assistant.
    PromptInjection,
    /// Names an account that is not (provably) the writer's own.
    OtherAccount,
}

impl Screened {
    /// The audit reason.
    pub fn reason(self) -> &'static str {
        match self {
            Self::PromptInjection => "prompt_injection",
            Self::OtherAccount => "other_account",
        }
    }
}

/// The screening rules.
#[derive(Debug, Clone)]
pub struct Screen {
    injection: Regex,
    account_words: Regex,
    names_account: Regex,
}

impl Screen {
    /// Compiles the rules.
    pub fn new() -> Result<Self, SelfServiceError> {
        let compile = |pattern: &str| Regex::new(pattern).map_err(|e| SelfServiceError::Startup(e.to_string()));
        Ok(Self {
            injection: compile(concat!(
                r"(?i)\b(ignore|disregard|forget|override)\b.{0,40}\b(rules?|instructions?|directives?|polic(y|ies)|prompt|messages?|above)\b",
                r"|system prompt|new (system )?(instructions?|task|prompt)|</?\s*system\s*>|\[/?inst\]|#{3}",
                r"|\b(developer|debug|maintenance|god) mode\b|\bjailbreak|\byou are now\b|\bpretend (you are|to be)\b",
                r"|\bact as\b|\bas an ai\b|\bbypass\b|\bskip(_otp| the (one-time|otp|code|verification))|\bsudo\b",
                r"|\byou must obey\b|\bi authori[sz]e you\b|^\s*(assistant|system|user)\s*:|<!--",
                r"|\b(reveal|show|print|tell me)\b.{0,30}\bpasswords?\b|\b(target_user|action)\s*=",
            ))?,
            account_words: compile(r"(?i)\b(password|passwd|account|login|unlock|locked|reset)\b")?,
            names_account: compile(concat!(
                r"(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}|\b(uid|cn|dn)\s*=",
                r"|\b[a-z]+'s\s+(password|account|login|pw)\b",
                r"|\b(admin|administrator|root|ceo|service account|domain admin\w*)\b",
                r"|\b(his|her|their|everyone'?s?|every|all)\s+(password|account|passwords|accounts)\b",
                r"|\bfor (user|account)\s+\w+",
            ))?,
        })
    }

    /// Screens `text` with the classifier's `prediction`; `None` lets it through.
    pub fn check(&self, prediction: &IntentPrediction, text: &str) -> Option<Screened> {
        if prediction.guard == Some(GuardReason::Injection) || self.injection.is_match(text) {
            return Some(Screened::PromptInjection);
        }
        let about_accounts = prediction.intent == Intent::PasswordReset || self.account_words.is_match(text);
        if prediction.guard == Some(GuardReason::OtherAccount) || (about_accounts && self.names_account.is_match(text))
        {
            return Some(Screened::OtherAccount);
        }
        None
    }
}
