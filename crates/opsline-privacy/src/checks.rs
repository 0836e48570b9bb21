//! Checksums and validity rules that turn a pattern match into a finding:
//! Luhn (payment cards), ISO 13616 mod-97 (IBAN), US SSN and UK NINO number
//! rules, and the Shannon entropy of a token. Pure functions, no allocation
//! beyond small buffers, no panics on any input.

/// Whether `digits` (ASCII digits only) passes the Luhn check.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Expected IBAN lengths of common countries (others: 15..=34 is accepted).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AT", 20),
    ("BE", 16),
    ("CH", 21),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("IE", 22),
    ("IT", 27),
    ("LU", 20),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("SE", 24),
];

/// Whether `iban` (upper-case letters and digits, no spaces) is a valid IBAN:
/// country code, check digits, plausible length and mod-97 remainder 1.
pub(crate) fn iban_valid(iban: &[u8]) -> bool {
    if iban.len() < 15 || iban.len() > 34 {
        return false;
    }
    if !iban[..2].iter().all(u8::is_ascii_uppercase)
        || !iban[2..4].iter().all(u8::is_ascii_digit)
        || !iban.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    if let Some((_, len)) = IBAN_LENGTHS.iter().find(|(cc, _)| cc.as_bytes() == &iban[..2])
        && *len != iban.len()
    {
        return false;
    }
    let mut remainder = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        if c.is_ascii_digit() {
            remainder = (remainder * 10 + u32::from(c - b'0')) % 97;
        } else {
            let v = u32::from(c - b'A') + 10;
            remainder = (remainder * 100 + v) % 97;
        }
    }
    remainder == 1
}

/// US Social Security Number rules: area not 000, 666 or 900-999; group not
/// 00; serial not 0000.
pub(crate) fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    let (Ok(area), Ok(group), Ok(serial)) = (area.parse::<u32>(), group.parse::<u32>(), serial.parse::<u32>()) else {
        return false;
    };
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// UK National Insurance number prefixes that are never issued.
pub(crate) fn nino_prefix_valid(prefix: &str) -> bool {
    !matches!(prefix, "BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ")
}

/// Shannon entropy of `token` in bits per byte.
pub(crate) fn shannon_entropy(token: &[u8]) -> f64 {
    if token.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in token {
        counts[usize::from(b)] += 1;
    }
    let len = token.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"378282246310005"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(!luhn_valid(b""));
        assert!(!luhn_valid(b"41a1"));
    }

    #[test]
    fn iban() {
        assert!(iban_valid(b"DE89370400440532013000"));
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"DE89370400440532013001"));
        assert!(!iban_valid(b"DE8937040044053201300"));
        assert!(!iban_valid(b"de89370400440532013000"));
    }

    #[test]
    fn ssn_and_nino() {
        assert!(ssn_valid("123", "45", "6789"));
        assert!(!ssn_valid("000", "45", "6789"));
        assert!(!ssn_valid("666", "45", "6789"));
        assert!(!ssn_valid("912", "45", "6789"));
        assert!(!ssn_valid("123", "00", "6789"));
        assert!(!ssn_valid("123", "45", "0000"));
        assert!(nino_prefix_valid("AB"));
        assert!(!nino_prefix_valid("GB"));
    }

    #[test]
    fn entropy() {
        assert!(shannon_entropy(b"aaaaaaaa") < 0.01);
        assert!(shannon_entropy(b"Zx9Qm2Lr7Tb4Wk8Jc1Vn5Hd3") > 4.0);
    }
}
