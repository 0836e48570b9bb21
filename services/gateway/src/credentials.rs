//! Credentials and card numbers are masked at the edge, before anything is produced: raw
//! tickets, raw log lines, chat messages and dead letters carry `<SECRET>` / `<CARD>` instead
//! of the value, so no topic ever holds them in clear. Personal data (names, e-mail addresses)
//! passes unchanged: triage needs it and redacts it before any model call.

use opsline_privacy::Redactor;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::metrics::MaskLabel;

/// Masks credentials in the fields of incoming records and counts what it masked.
#[derive(Debug, Clone)]
pub(crate) struct CredentialMasker {
    redactor: Redactor,
    masked: Family<MaskLabel, Counter>,
}

impl CredentialMasker {
    /// A masker counting into `masked` (`opsline_gateway_masked_values_total`).
    pub(crate) fn new(masked: Family<MaskLabel, Counter>) -> Self {
        Self {
            redactor: Redactor::default(),
            masked,
        }
    }

    /// Masks credentials in `field` in place, counting by `endpoint`.
    pub(crate) fn mask(&self, endpoint: &'static str, field: &mut String) {
        if let Some(masked) = self.masked_text(endpoint, field) {
            *field = masked;
        }
    }

    /// The bytes of a rejected item with credentials masked. Bytes without a credential are
    /// kept exactly (even invalid UTF-8); otherwise the dead letter holds the text read
    /// lossily, with the credentials masked.
    pub(crate) fn mask_bytes(&self, endpoint: &'static str, raw: &[u8]) -> Vec<u8> {
        match self.masked_text(endpoint, &String::from_utf8_lossy(raw)) {
            Some(masked) => masked.into_bytes(),
            None => raw.to_vec(),
        }
    }

    fn masked_text(&self, endpoint: &'static str, text: &str) -> Option<String> {
        let masked = self.redactor.mask_credentials(text)?;
        let labels = |t: &str| t.matches("<SECRET>").count() + t.matches("<CARD>").count();
        let added = labels(&masked).saturating_sub(labels(text)).max(1);
        self.masked.get_or_create(&MaskLabel { endpoint }).inc_by(added as u64);
        Some(masked)
    }

    /// Whether the text holds a credential (for tests and assertions).
    #[cfg(test)]
    pub(crate) fn holds_credential(&self, text: &str) -> bool {
        self.redactor.mask_credentials(text).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_fields_and_dead_letter_bytes() {
        let masker = CredentialMasker::new(Family::default());
        let mut field = "vpn fails, password: Hunter2!xyz card 4111 1111 1111 1111".to_owned();
        masker.mask("tickets", &mut field);
        assert_eq!(field, "vpn fails, password: <SECRET> card <CARD>");
        assert!(!masker.holds_credential(&field));
        let raw = br#"{"subject": "x", "description": "api_key=sk-abcdefghijklmnop1234" "#;
        let masked = masker.mask_bytes("tickets", raw);
        assert!(!String::from_utf8_lossy(&masked).contains("sk-abcdefghijklmnop1234"));
        let clean = b"nothing to hide";
        assert_eq!(masker.mask_bytes("tickets", clean), clean.to_vec());
        let invalid_utf8 = [b'x', 0xff, 0xfe];
        assert_eq!(masker.mask_bytes("tickets", &invalid_utf8), invalid_utf8.to_vec());
    }
}
