//! API tokens (moved here from the postmortem service, which uses them as the console does): configured as SHA-256 hashes, checked in constant time, mapped to a search
//! [`Viewer`] (role and teams) and a name (recorded as the reviewer).
//!
//! A token's clear text never appears in the configuration, in logs or on Kafka: the
//! configuration holds `{name, role, teams, sha256}` where `sha256` is [`hash_token`] of the
//! token (lower-case hex). A presented token is hashed and compared against every configured
//! hash with [`subtle::ConstantTimeEq`], without stopping at the first match, so the time taken
//! does not tell which hash or how many bytes matched.

use opsline_runtime::secret_hash::{hex, parse_sha256_hex, sha256, sha256_hex};
use opsline_search::{DocKind, DocStatus, Role, Viewer};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// One configured API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds the token; recorded as the reviewer of postmortems they review.
    pub name: String,
    /// `sre`, `helpdesk` or `viewer`.
    pub role: Role,
    /// Teams the holder belongs to (gives access to postmortems restricted to those teams).
    #[serde(default)]
    pub teams: Vec<String>,
    /// [`hash_token`] of the token: 64 lower-case hex digits.
    pub sha256: String,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token holder's name.
    pub name: String,
    /// Role and teams, as the search index enforces them.
    pub viewer: Viewer,
}

impl Principal {
    /// Whether the caller may review and publish postmortems (SREs only).
    pub fn may_review(&self) -> bool {
        self.viewer.role == Role::Sre
    }

    /// The caller's role as written in the configuration (`sre`, `helpdesk`, `viewer`).
    pub fn role_name(&self) -> &'static str {
        role_name(self.viewer.role)
    }

    /// Whether the caller may act on incidents: acknowledge, assign, resolve, declare a
    /// postmortem (SREs only; helpdesk agents and viewers read).
    pub fn may_act_on_incidents(&self) -> bool {
        self.viewer.role == Role::Sre
    }

    /// Whether the caller may comment on postmortems it can read (SREs and helpdesk agents;
    /// viewers only read).
    pub fn may_comment(&self) -> bool {
        matches!(self.viewer.role, Role::Sre | Role::Helpdesk)
    }

    /// Whether the caller may re-route helpdesk tickets (SREs and helpdesk agents).
    pub fn may_reroute(&self) -> bool {
        matches!(self.viewer.role, Role::Sre | Role::Helpdesk)
    }

    /// Whether the caller may see an incident restricted to `team` (`None`: unrestricted).
    /// A restricted incident is shown only to members of its team.
    pub fn may_see_team(&self, team: Option<&str>) -> bool {
        // The index's own team rule (a published postmortem is readable by every role, so
        // only the team decides).
        self.viewer.can_read(DocKind::Postmortem, DocStatus::Published, team)
    }
}

/// A role as written in the configuration (`sre`, `helpdesk`, `viewer`).
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Sre => "sre",
        Role::Helpdesk => "helpdesk",
        Role::Viewer => "viewer",
    }
}

/// A new random token (32 bytes from the OS, as 64 hex digits) to hand to a person once; only
/// its [`hash_token`] is configured.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// The SHA-256 of `token`, as 64 lower-case hex digits: the value to put in a token's
/// `sha256` setting.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token)
}

/// Why the token configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token `{name}`: sha256 must be 64 hex digits (use hash_token)")]
pub struct TokenConfigError {
    /// The token entry's name.
    pub name: String,
}

struct KnownToken {
    digest: [u8; 32],
    principal: Principal,
}

/// The configured tokens, ready to authenticate requests.
pub struct TokenStore {
    tokens: Vec<KnownToken>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

impl TokenStore {
    /// Checks every entry and builds the store.
    pub fn new(configs: &[TokenConfig]) -> Result<Self, TokenConfigError> {
        let tokens = configs
            .iter()
            .map(|config| {
                let digest = parse_sha256_hex(&config.sha256).ok_or_else(|| TokenConfigError {
                    name: config.name.clone(),
                })?;
                Ok(KnownToken {
                    digest,
                    principal: Principal {
                        name: config.name.clone(),
                        viewer: Viewer::new(config.role, config.teams.iter().cloned()),
                    },
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { tokens })
    }

    /// The holder of `token`, if it is configured. Every configured hash is compared, in
    /// constant time each.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let presented = sha256(token);
        let mut found = None;
        for known in &self.tokens {
            let equal: bool = known.digest.ct_eq(presented.as_slice()).into();
            if equal && found.is_none() {
                found = Some(&known.principal);
            }
        }
        found.cloned()
    }

    /// Number of configured tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is configured (then every request is refused).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, role: Role, token: &str) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            role,
            teams: vec!["payments".into()],
            sha256: hash_token(token),
        }
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            parse_sha256_hex(&hash_token("abc")).map(|d| hex(&d)),
            Some(hash_token("abc"))
        );
    }

    #[test]
    fn authenticates_known_tokens_only() {
        let store = TokenStore::new(&[
            config("alice", Role::Sre, "s3cret"),
            config("bob", Role::Viewer, "other"),
        ])
        .unwrap();
        let alice = store.authenticate("s3cret").unwrap();
        assert_eq!(alice.name, "alice");
        assert!(alice.may_review());
        assert_eq!(alice.viewer.teams, vec!["payments".to_string()]);
        assert!(!store.authenticate("other").unwrap().may_review());
        assert!(store.authenticate("s3cret ").is_none());
        assert!(store.authenticate("").is_none());
    }

    #[test]
    fn roles_decide_actions_and_teams_decide_visibility() {
        let principal = |role| Principal {
            name: "x".into(),
            viewer: Viewer::new(role, ["payments"]),
        };
        assert!(principal(Role::Sre).may_act_on_incidents());
        assert!(!principal(Role::Helpdesk).may_act_on_incidents());
        assert!(!principal(Role::Viewer).may_act_on_incidents());
        assert!(principal(Role::Helpdesk).may_reroute());
        assert!(!principal(Role::Viewer).may_reroute());
        assert!(principal(Role::Viewer).may_see_team(None));
        assert!(principal(Role::Viewer).may_see_team(Some("payments")));
        assert!(!principal(Role::Sre).may_see_team(Some("identity")));
    }

    #[test]
    fn generated_tokens_are_distinct_and_authenticate() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let store = TokenStore::new(&[config("gen", Role::Sre, &a)]).unwrap();
        assert_eq!(store.authenticate(&a).unwrap().name, "gen");
    }

    #[test]
    fn rejects_malformed_hashes() {
        let mut bad = config("x", Role::Sre, "t");
        bad.sha256 = "zz".repeat(32);
        assert!(TokenStore::new(&[bad]).is_err());
        let mut short = config("y", Role::Sre, "t");
        short.sha256 = "ab".into();
        assert!(TokenStore::new(&[short]).is_err());
    }
}
