//! The LDAP directory (`ldap3` over rustls: LDAPS, or StartTLS on `ldap://`; plain LDAP only to
//! loopback with `allow_insecure`, see [`crate::transport`]): finds the one entry of a verified
//! chat user, sets a temporary password (flagged must-change), clears a lockout, and locks an
//! account pending the helpdesk. The modify operations of each mode (OpenLDAP, Active Directory)
//! are built in [`crate::modify`]. Every operation opens its own connection bound as the service
//! account and has a timeout. Passwords are never logged; errors name no secret.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{DirectoryConfig, DirectoryMode};
use crate::error::SelfServiceError;
use crate::modify::{self, ByteMod};
use crate::transport::{LdapTransport, ldap_transport};

/// LDAP result code `noSuchAttribute` (deleting a lock that is not there).
const NO_SUCH_ATTRIBUTE: u32 = 16;

/// A directory entry of a chat user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Its DN.
    pub dn: String,
    /// Its registered e-mail, if any.
    pub mail: Option<String>,
    /// Locked until the helpdesk acts (OpenLDAP: ppolicy's administrative lock; Active
    /// Directory: the account disabled); self-service then neither resets nor unlocks it.
    pub locked_by_helpdesk: bool,
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
    transport: LdapTransport,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Directory {
    /// A client for `config` (connects per operation); refuses a plain transport outside
    /// loopback and an unusable `ca_file`.
    pub fn new(config: DirectoryConfig) -> Result<Self, SelfServiceError> {
        let transport = ldap_transport(&config)?;
        let tls = match transport {
            LdapTransport::PlainLoopback => None,
            LdapTransport::Ldaps | LdapTransport::StartTls => Some(
                opsline_runtime::client_tls::client_config(config.ca_file.as_deref())
                    .map_err(|e| SelfServiceError::Startup(format!("directory TLS: {e}")))?,
            ),
        };
        Ok(Self { config, transport, tls })
    }

    /// How the connection is secured.
    pub fn transport(&self) -> LdapTransport {
        self.transport
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms.max(100))
    }

    async fn connect(&self) -> Result<Ldap, SelfServiceError> {
        let mut settings = LdapConnSettings::new().set_conn_timeout(self.timeout());
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        settings = settings.set_starttls(self.transport == LdapTransport::StartTls);
        let (connection, mut ldap) = LdapConnAsync::with_settings(settings, &self.config.url)
            .await
            .map_err(|e| {
                let hint = if e.to_string().contains("certificate") {
                    " (is directory.ca_file the CA of the directory's certificate?)"
                } else {
                    ""
                };
                SelfServiceError::Directory(format!("cannot connect to {}: {e}{hint}", self.config.url))
            })?;
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

    /// The search filter of `chat_user_id` on `platform`: the platform's own attribute
    /// (`platform_attributes`), else `user_id_attribute`, value escaped (RFC 4515).
    fn user_search_filter(&self, platform: &str, chat_user_id: &str) -> String {
        let attribute = self
            .config
            .platform_attributes
            .get(platform)
            .unwrap_or(&self.config.user_id_attribute);
        format!(
            "(&{}({}={}))",
            self.config.user_filter,
            attribute,
            ldap_escape(chat_user_id)
        )
    }

    /// Finds the entries whose user-id attribute for `platform` equals `chat_user_id`.
    pub async fn lookup(&self, platform: &str, chat_user_id: &str) -> Result<Lookup, SelfServiceError> {
        let mut ldap = self.connect().await?;
        let filter = self.user_search_filter(platform, chat_user_id);
        let lock_attribute = match self.config.mode {
            DirectoryMode::Openldap => "pwdAccountLockedTime",
            DirectoryMode::ActiveDirectory => "userAccountControl",
        };
        let searched = tokio::time::timeout(
            self.timeout(),
            ldap.search(
                &self.config.base_dn,
                Scope::Subtree,
                &filter,
                vec![self.config.mail_attribute.as_str(), lock_attribute],
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
                locked_by_helpdesk: entry
                    .attrs
                    .get(lock_attribute)
                    .and_then(|values| values.first())
                    .is_some_and(|value| modify::is_helpdesk_lock(self.config.mode, value)),
            }),
            many => Lookup::Ambiguous(many.len()),
        })
    }

    /// Applies `mods` to `dn` (`what` names the operation in errors); the LDAP result code.
    async fn modify(&self, dn: &str, mods: Vec<ByteMod>, what: &str) -> Result<u32, SelfServiceError> {
        let mut ldap = self.connect().await?;
        let modified = tokio::time::timeout(self.timeout(), ldap.modify(dn, mods))
            .await
            .map_err(|_| SelfServiceError::Directory(format!("{what} timed out")))?
            .map_err(|e| SelfServiceError::Directory(format!("{what}: {e}")))?;
        let _ = ldap.unbind().await;
        Ok(modified.rc)
    }

    /// Replaces the password of `dn` and flags it must-change (per mode and `must_change`).
    pub async fn set_password(&self, dn: &str, password: &SecretString) -> Result<(), SelfServiceError> {
        let mods = modify::set_password(&self.config, password);
        match self.modify(dn, mods, "password change").await? {
            0 => Ok(()),
            rc => Err(SelfServiceError::DirectoryRefused(format!(
                "password change refused (result code {rc})"
            ))),
        }
    }

    /// Clears the lockout of `dn`; `Ok(false)` when it was not locked (OpenLDAP mode; Active
    /// Directory answers the same either way, so it says `true`).
    pub async fn unlock(&self, dn: &str) -> Result<bool, SelfServiceError> {
        match self.modify(dn, modify::unlock(self.config.mode), "unlock").await? {
            0 => Ok(true),
            NO_SUCH_ATTRIBUTE => Ok(false),
            rc => Err(SelfServiceError::DirectoryRefused(format!(
                "unlock refused (result code {rc})"
            ))),
        }
    }

    /// Locks `dn` until the helpdesk unlocks it (OpenLDAP: an administrative ppolicy lock;
    /// Active Directory: the account disabled).
    pub async fn lock(&self, dn: &str) -> Result<(), SelfServiceError> {
        let control = match self.config.mode {
            DirectoryMode::Openldap => None,
            DirectoryMode::ActiveDirectory => self.user_account_control(dn).await?,
        };
        match self.modify(dn, modify::lock(self.config.mode, control), "lock").await? {
            0 => Ok(()),
            rc => Err(SelfServiceError::DirectoryRefused(format!(
                "lock refused (result code {rc})"
            ))),
        }
    }

    /// The `userAccountControl` of `dn` (Active Directory), if readable.
    async fn user_account_control(&self, dn: &str) -> Result<Option<u32>, SelfServiceError> {
        let mut ldap = self.connect().await?;
        let searched = tokio::time::timeout(
            self.timeout(),
            ldap.search(dn, Scope::Base, "(objectClass=*)", vec!["userAccountControl"]),
        )
        .await
        .map_err(|_| SelfServiceError::Directory("read timed out".to_owned()))?
        .map_err(|e| SelfServiceError::Directory(format!("read: {e}")))?;
        let _ = ldap.unbind().await;
        let (entries, _) = searched
            .success()
            .map_err(|e| SelfServiceError::DirectoryRefused(format!("read: {e}")))?;
        Ok(entries.into_iter().map(SearchEntry::construct).find_map(|entry| {
            entry
                .attrs
                .get("userAccountControl")
                .and_then(|values| values.first())
                .and_then(|value| value.parse().ok())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #16 item 5: each platform's ids are looked up in that platform's attribute.
    #[test]
    fn identity_includes_the_platform_each_platform_searches_its_own_attribute() {
        let mut config = DirectoryConfig {
            url: "ldap://127.0.0.1:3389".to_owned(),
            allow_insecure: true,
            ..DirectoryConfig::default()
        };
        config
            .platform_attributes
            .insert("slack".to_owned(), "slackMemberId".to_owned());
        let directory = Directory::new(config).unwrap();
        assert_eq!(
            directory.user_search_filter("slack", "U123"),
            "(&(objectClass=inetOrgPerson)(slackMemberId=U123))"
        );
        assert_eq!(
            directory.user_search_filter("webhook", "U123*)(uid=*"),
            "(&(objectClass=inetOrgPerson)(employeeNumber=U123\\2a\\29\\28uid=\\2a))",
            "other platforms use user_id_attribute; values are escaped"
        );
    }
}
