//! Random temporary passwords from the OS random number generator that meet the
//! configured [`PasswordPolicy`]. The result is a `SecretString` from the start.

use secrecy::SecretString;

use crate::config::PasswordPolicy;
use crate::error::SelfServiceError;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#%+-=?@_";

/// A uniformly random index below `bound` (rejection sampling over OS random bytes).
pub(crate) fn random_below(bound: u32) -> Result<u32, SelfServiceError> {
    let bound = bound.max(1);
    let zone = u32::MAX - (u32::MAX % bound);
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|e| SelfServiceError::Startup(format!("OS random source: {e}")))?;
        let value = u32::from_le_bytes(bytes);
        if value < zone {
            return Ok(value % bound);
        }
    }
}

fn pick(set: &[u8]) -> Result<char, SelfServiceError> {
    let index = random_below(u32::try_from(set.len()).unwrap_or(1))?;
    Ok(char::from(set.get(index as usize).copied().unwrap_or(b'x')))
}

/// Generates a password meeting `policy` (length at least 8 and at least the number of required classes).
pub fn generate(policy: &PasswordPolicy) -> Result<SecretString, SelfServiceError> {
    let mut classes: Vec<&[u8]> = Vec::new();
    for (wanted, set) in [
        (policy.lower, LOWER),
        (policy.upper, UPPER),
        (policy.digit, DIGITS),
        (policy.symbol, SYMBOLS),
    ] {
        if wanted {
            classes.push(set);
        }
    }
    if classes.is_empty() {
        classes = vec![LOWER, UPPER, DIGITS];
    }
    let length = policy.length.max(8).max(classes.len());
    let all: Vec<u8> = classes.iter().flat_map(|c| c.iter().copied()).collect();
    let mut chars: Vec<char> = Vec::with_capacity(length);
    for class in &classes {
        chars.push(pick(class)?);
    }
    while chars.len() < length {
        chars.push(pick(&all)?);
    }
    // Fisher-Yates, so the required classes are not always first.
    for i in (1..chars.len()).rev() {
        let j = random_below(u32::try_from(i + 1).unwrap_or(1))? as usize;
        chars.swap(i, j);
    }
    Ok(SecretString::from(chars.into_iter().collect::<String>()))
}

/// Whether `password` meets `policy` (used by tests and as a guard before setting it).
pub fn meets(policy: &PasswordPolicy, password: &str) -> bool {
    let has = |set: &[u8]| password.bytes().any(|b| set.contains(&b));
    password.chars().count() >= policy.length.max(8)
        && (!policy.lower || has(LOWER))
        && (!policy.upper || has(UPPER))
        && (!policy.digit || has(DIGITS))
        && (!policy.symbol || has(SYMBOLS))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let policy = PasswordPolicy::default();
        let a = generate(&policy).unwrap();
        let b = generate(&policy).unwrap();
        assert!(meets(&policy, a.expose_secret()));
        assert_eq!(a.expose_secret().len(), 16);
        assert_ne!(a.expose_secret(), b.expose_secret());
        let short = PasswordPolicy {
            length: 3,
            symbol: false,
            ..PasswordPolicy::default()
        };
        let c = generate(&short).unwrap();
        assert!(meets(&short, c.expose_secret()));
        assert!(!meets(&policy, "short"));
    }
}
