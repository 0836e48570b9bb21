//! The LDAP directory (`ldap3`, plain LDAP): finds the one entry of a verified chat user,
//! sets a temporary password (flagged must-change) and clears a lockout. Every operation
//! opens its own connection bound as the service account and has a timeout.
//! Passwords are never logged; errors name no secret.

use std::collections::HashSet;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope, SearchEntry, ldap_escape};
use secrecy::{ExposeSecret, SecretString};

use crate::config::DirectoryConfig;
use crate::error::SelfServiceError;

/// LDAP result code `noSuchAttribute` (deleting a lock that is not there).
const NO_SUCH_ATTRIBUTE: u32 = 16;

/// A directory entry of a chat user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Its DN.
    pub dn: String,
    /// Its registered e-mail, if any.
    pub mail: Option<String>,
}

/// How a chat user id matched the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No entry.
    Unknown,
    /// Exactly one entry.
    One(UserEntry),
    /// More than one entry (refused: the identity is ambiguous).
    Ambiguous(usize),
}

/// The LDAP directory client.
#[derive(Debug, Clone)]
pub struct Directory {
    config: DirectoryConfig,
}

impl Directory {
    /// A client for `config` (connects per operation).
    pub fn new(config: DirectoryConfig) -> Self {
        Self { config }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms.max(100))
    }

    async fn connect(&self) -> Result<Ldap, SelfServiceError> {
        let settings = LdapConnSettings::new().set_conn_timeout(self.timeout());
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, &self.config.url)
            .await
            .map_err(|e| SelfServiceError::Directory(format!("cannot connect to {}: {e}", self.config.url)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%error, "ldap connection ended");
            }
        });
        let bound = tokio::time::timeout(
            self.timeout(),
            ldap.simple_bind(&self.config.bind_dn, self.config.bind_password.expose_secret()),
        )
        .await
        .map_err(|_| SelfServiceError::Directory("service bind timed out".to_owned()))?
        .map_err(|e| SelfServiceError::Directory(format!("service bind: {e}")))?;
        if bound.rc != 0 {
            return Err(SelfServiceError::DirectoryRefused(format!(
                "service bind refused (result code {})",
                bound.rc
            )));
        }
        Ok(ldap)
    }

    /// Finds the entries whose user-id attribute equals `chat_user_id` (escaped).
    pub async fn lookup(&self, chat_user_id: &str) -> Result<Lookup, SelfServiceError> {
        let mut ldap = self.connect().await?;
        let filter = format!(
            "(&{}({}={}))",
            self.config.user_filter,
            self.config.user_id_attribute,
            ldap_escape(chat_user_id)
        );
        let searched = tokio::time::timeout(
            self.timeout(),
            ldap.search(
                &self.config.base_dn,
                Scope::Subtree,
                &filter,
                vec![self.config.mail_attribute.as_str()],
            ),
        )
        .await
        .map_err(|_| SelfServiceError::Directory("search timed out".to_owned()))?
        .map_err(|e| SelfServiceError::Directory(format!("search: {e}")))?;
        let _ = ldap.unbind().await;
        let (entries, _) = searched
            .success()
            .map_err(|e| SelfServiceError::DirectoryRefused(format!("search: {e}")))?;
        let entries: Vec<SearchEntry> = entries.into_iter().map(SearchEntry::construct).collect();
        Ok(match entries.as_slice() {
            [] => Lookup::Unknown,
            [entry] => Lookup::One(UserEntry {
                dn: entry.dn.clone(),
                mail: entry
                    .attrs
                    .get(&self.config.mail_attribute)
                    .and_then(|values| values.first().cloned()),
            }),
            many => Lookup::Ambiguous(many.len()),
        })
    }

    /// Replaces the password of `dn` and flags it must-change (per `must_change`).
    pub async fn set_password(&self, dn: &str, password: &SecretString) -> Result<(), SelfServiceError> {
        let mut ldap = self.connect().await?;
        let mut mods = vec![Mod::Replace(
            "userPassword".to_owned(),
            HashSet::from([password.expose_secret().to_owned()]),
        )];
        if self.config.must_change == "attribute" {
            mods.push(Mod::Replace("pwdReset".to_owned(), HashSet::from(["TRUE".to_owned()])));
        }
        let modified = tokio::time::timeout(self.timeout(), ldap.modify(dn, mods))
            .await
            .map_err(|_| SelfServiceError::Directory("password change timed out".to_owned()))?
            .map_err(|e| SelfServiceError::Directory(format!("password change: {e}")))?;
        let _ = ldap.unbind().await;
        if modified.rc != 0 {
            return Err(SelfServiceError::DirectoryRefused(format!(
                "password change refused (result code {})",
                modified.rc
            )));
        }
        Ok(())
    }

    /// Clears the lockout of `dn` (`pwdAccountLockedTime`); `Ok(false)` when it was not locked.
    pub async fn unlock(&self, dn: &str) -> Result<bool, SelfServiceError> {
        let mut ldap = self.connect().await?;
        let mods = vec![Mod::Delete("pwdAccountLockedTime".to_owned(), HashSet::new())];
        let modified = tokio::time::timeout(self.timeout(), ldap.modify(dn, mods))
            .await
            .map_err(|_| SelfServiceError::Directory("unlock timed out".to_owned()))?
            .map_err(|e| SelfServiceError::Directory(format!("unlock: {e}")))?;
        let _ = ldap.unbind().await;
        match modified.rc {
            0 => Ok(true),
            NO_SUCH_ATTRIBUTE => Ok(false),
            rc => Err(SelfServiceError::DirectoryRefused(format!(
                "unlock refused (result code {rc})"
            ))),
        }
    }
}
