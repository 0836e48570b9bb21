//! Issue 16 item 2, LDAPS and StartTLS: self-service's directory client (`ldap3` over rustls,
//! the workspace's one TLS stack) against a real slapd configured with a test CA made by
//! `rcgen`, which refuses simple binds without TLS. Over `ldaps://` and over StartTLS on
//! `ldap://` with the CA as `ca_file`: the user is found and a temporary password is set
//! (it binds afterwards, the old one does not). Without TLS the bind is refused; with another
//! CA, or none, the certificate is not trusted; plain `ldap://` is refused by the client at
//! start-up unless `allow_insecure = true` on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use opsline_e2e::ldap::{SERVICE_DN, SERVICE_PASSWORD, spawn_ldap_tls, test_pki, user_dn};
use opsline_selfservice::config::DirectoryConfig;
use opsline_selfservice::directory::{Directory, Lookup};
use opsline_selfservice::transport::LdapTransport;
use secrecy::SecretString;

fn config(url: &str, starttls: bool, ca_file: Option<std::path::PathBuf>) -> DirectoryConfig {
    DirectoryConfig {
        url: url.to_owned(),
        starttls,
        ca_file,
        bind_dn: SERVICE_DN.to_owned(),
        bind_password: SecretString::from(SERVICE_PASSWORD),
        ..DirectoryConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldaps_and_starttls_against_slapd_with_a_test_ca() {
    let ldap = spawn_ldap_tls();
    let ca = ldap.ca_file.clone().unwrap();
    let ldaps_url = ldap.ldaps_url.clone().unwrap();

    for (url, starttls, uid, chat_id, transport) in [
        (ldaps_url.as_str(), false, "bob", "U0BOB", LdapTransport::Ldaps),
        (ldap.url.as_str(), true, "carol", "U0CAROL", LdapTransport::StartTls),
    ] {
        let directory = Directory::new(config(url, starttls, Some(ca.clone()))).unwrap();
        assert_eq!(directory.transport(), transport);
        let Lookup::One(entry) = directory.lookup("slack", chat_id).await.unwrap() else {
            panic!("{chat_id} not found over {transport:?}");
        };
        assert_eq!(entry.dn, user_dn(uid));
        let temporary = SecretString::from(format!("Tls-{uid}-Temp-9!x"));
        directory.set_password(&entry.dn, &temporary).await.unwrap();
        assert!(
            ldap.binds(&entry.dn, &format!("Tls-{uid}-Temp-9!x")),
            "{transport:?}: new password binds"
        );
        assert!(
            !ldap.binds(&entry.dn, &format!("{uid}-old-Pass1")),
            "{transport:?}: old password fails"
        );
        let read = ldap.read_entry(&entry.dn);
        assert!(read.contains("pwdReset: TRUE"), "{transport:?}: must change\n{read}");
    }

    // This slapd needs TLS for a bind: plain LDAP (allowed on loopback only) is refused there.
    let mut plain = config(&ldap.url, false, None);
    plain.allow_insecure = true;
    let plain = Directory::new(plain).unwrap();
    assert_eq!(plain.transport(), LdapTransport::PlainLoopback);
    let refused = plain.lookup("slack", "U0ALICE").await.unwrap_err().to_string();
    assert!(refused.contains("service bind refused (result code 13)"), "{refused}");

    // Another CA, or only the system roots: the directory's certificate is not trusted.
    let other = tempfile::tempdir().unwrap();
    let other_ca = other.path().join("other-ca.pem");
    std::fs::write(&other_ca, test_pki().0).unwrap();
    for (ca_file, starttls, url) in [
        (Some(other_ca.clone()), false, ldaps_url.as_str()),
        (Some(other_ca), true, ldap.url.as_str()),
        (None, false, ldaps_url.as_str()),
    ] {
        let Ok(directory) = Directory::new(config(url, starttls, ca_file.clone())) else {
            // No system roots on this machine: refused at start-up, which is fine too.
            assert!(ca_file.is_none());
            continue;
        };
        let error = directory.lookup("slack", "U0ALICE").await.unwrap_err().to_string();
        assert!(error.contains("certificate"), "{url} starttls={starttls}: {error}");
    }
    assert!(ldap.binds(&user_dn("alice"), "alice-old-Pass1"), "alice untouched");

    // Plain ldap:// is refused at start-up without allow_insecure, and off loopback even with it.
    let error = Directory::new(config(&ldap.url, false, None)).unwrap_err().to_string();
    assert!(error.contains("allow_insecure"), "{error}");
    let mut remote = config("ldap://ldap.identity.svc:389", false, None);
    remote.allow_insecure = true;
    assert!(Directory::new(remote).is_err());
}
