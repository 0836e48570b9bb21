//! The exact LDAP modify operations of each directory mode, built as `ldap3` [`Mod`] values
//! (pure, so they are unit-tested byte for byte; Active Directory is not available here to
//! run them against).
//!
//! | operation | OpenLDAP (ppolicy) | Active Directory |
//! |---|---|---|
//! | set a temporary password | replace `userPassword` (+ `pwdReset: TRUE` with `must_change = "attribute"`) | replace `unicodePwd` with `"password"` (quotes included) in UTF-16LE, `pwdLastSet: 0` |
//! | unlock | delete `pwdAccountLockedTime` | replace `lockoutTime: 0` |
//! | lock pending the helpdesk | replace `pwdAccountLockedTime: 000001010000Z` (locked until an administrator clears it) | set the ACCOUNTDISABLE bit (2) of `userAccountControl` |

use std::collections::HashSet;

use ldap3::Mod;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{DirectoryConfig, DirectoryMode};

/// The ppolicy value of an account locked until an administrator unlocks it.
pub const ADMIN_LOCK_TIME: &str = "000001010000Z";
/// Active Directory's `userAccountControl` ACCOUNTDISABLE flag.
pub const ACCOUNTDISABLE: u32 = 0x2;

/// One modification with byte-string attribute names and values.
pub type ByteMod = Mod<Vec<u8>>;

fn replace(attribute: &str, value: impl Into<Vec<u8>>) -> ByteMod {
    Mod::Replace(attribute.as_bytes().to_vec(), HashSet::from([value.into()]))
}

/// Active Directory's `unicodePwd` value: the password in double quotes, UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Sets `password` and flags it must-change at the next sign-in.
pub fn set_password(config: &DirectoryConfig, password: &SecretString) -> Vec<ByteMod> {
    match config.mode {
        DirectoryMode::Openldap => {
            let mut mods = vec![replace("userPassword", password.expose_secret().as_bytes())];
            if config.must_change == "attribute" {
                mods.push(replace("pwdReset", "TRUE"));
            }
            mods
        }
        DirectoryMode::ActiveDirectory => vec![
            replace("unicodePwd", unicode_pwd(password.expose_secret())),
            replace("pwdLastSet", "0"),
        ],
    }
}

/// Clears a lockout.
pub fn unlock(mode: DirectoryMode) -> Vec<ByteMod> {
    match mode {
        DirectoryMode::Openldap => vec![Mod::Delete(b"pwdAccountLockedTime".to_vec(), HashSet::new())],
        DirectoryMode::ActiveDirectory => vec![replace("lockoutTime", "0")],
    }
}

/// Locks the account until the helpdesk acts; `user_account_control` is the entry's current
/// `userAccountControl` (Active Directory mode only).
pub fn lock(mode: DirectoryMode, user_account_control: Option<u32>) -> Vec<ByteMod> {
    match mode {
        DirectoryMode::Openldap => vec![replace("pwdAccountLockedTime", ADMIN_LOCK_TIME)],
        DirectoryMode::ActiveDirectory => {
            // A normal account (512) when the value could not be read.
            let current = user_account_control.unwrap_or(0x200);
            vec![replace("userAccountControl", (current | ACCOUNTDISABLE).to_string())]
        }
    }
}

/// Whether `value` of the lock attribute (OpenLDAP `pwdAccountLockedTime`, Active Directory
/// `userAccountControl`) means locked until the helpdesk acts.
pub fn is_helpdesk_lock(mode: DirectoryMode, value: &str) -> bool {
    match mode {
        DirectoryMode::Openldap => value == ADMIN_LOCK_TIME,
        DirectoryMode::ActiveDirectory => value
            .trim()
            .parse::<u32>()
            .is_ok_and(|flags| flags & ACCOUNTDISABLE != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(m: &ByteMod) -> (&str, Vec<Vec<u8>>, &'static str) {
        match m {
            Mod::Replace(a, v) => (std::str::from_utf8(a).unwrap(), v.iter().cloned().collect(), "replace"),
            Mod::Delete(a, v) => (std::str::from_utf8(a).unwrap(), v.iter().cloned().collect(), "delete"),
            Mod::Add(a, v) => (std::str::from_utf8(a).unwrap(), v.iter().cloned().collect(), "add"),
            Mod::Increment(a, v) => (std::str::from_utf8(a).unwrap(), vec![v.clone()], "increment"),
        }
    }

    /// Issue 16 item 2 (Active Directory mode): `unicodePwd` is the quoted password in UTF-16LE
    /// and `pwdLastSet = 0` forces a change at the next sign-in.
    #[test]
    fn active_directory_sets_quoted_utf16le_unicode_pwd_and_pwd_last_set_zero() {
        let config = DirectoryConfig {
            mode: DirectoryMode::ActiveDirectory,
            ..DirectoryConfig::default()
        };
        let mods = set_password(&config, &SecretString::from("Pä1!"));
        assert_eq!(mods.len(), 2);
        let (attribute, value, op) = values(&mods[0]);
        assert_eq!((attribute, op), ("unicodePwd", "replace"));
        // '"' 'P' 'ä' '1' '!' '"' as UTF-16LE code units.
        let expected: Vec<u8> = vec![0x22, 0x00, 0x50, 0x00, 0xE4, 0x00, 0x31, 0x00, 0x21, 0x00, 0x22, 0x00];
        assert_eq!(value, vec![expected]);
        assert_eq!(values(&mods[1]), ("pwdLastSet", vec![b"0".to_vec()], "replace"));
        assert_eq!(unicode_pwd("password").len(), 2 * "\"password\"".len());

        assert_eq!(
            values(&unlock(DirectoryMode::ActiveDirectory)[0]),
            ("lockoutTime", vec![b"0".to_vec()], "replace")
        );
        assert_eq!(
            values(&lock(DirectoryMode::ActiveDirectory, Some(0x10200))[0]),
            ("userAccountControl", vec![b"66050".to_vec()], "replace")
        );
        assert!(is_helpdesk_lock(DirectoryMode::ActiveDirectory, "66050"));
        assert!(!is_helpdesk_lock(DirectoryMode::ActiveDirectory, "66048"));
    }

    #[test]
    fn openldap_mode_is_as_before() {
        let mut config = DirectoryConfig::default();
        let mods = set_password(&config, &SecretString::from("secret"));
        assert_eq!(mods.len(), 1);
        assert_eq!(values(&mods[0]), ("userPassword", vec![b"secret".to_vec()], "replace"));
        config.must_change = "attribute".to_owned();
        let mods = set_password(&config, &SecretString::from("secret"));
        assert_eq!(values(&mods[1]), ("pwdReset", vec![b"TRUE".to_vec()], "replace"));
        assert_eq!(
            values(&unlock(DirectoryMode::Openldap)[0]),
            ("pwdAccountLockedTime", vec![], "delete")
        );
        assert_eq!(
            values(&lock(DirectoryMode::Openldap, None)[0]),
            (
                "pwdAccountLockedTime",
                vec![ADMIN_LOCK_TIME.as_bytes().to_vec()],
                "replace"
            )
        );
        assert!(is_helpdesk_lock(DirectoryMode::Openldap, ADMIN_LOCK_TIME));
        // A lockout after too many wrong passwords is not the helpdesk's lock.
        assert!(!is_helpdesk_lock(DirectoryMode::Openldap, "20261206120000Z"));
    }
}
