//! The log-service replicas behind `logintel_url`. Each replica knows only the incidents and
//! line counts of the services on its partitions, so the console asks every one: the host of
//! an `http` URL is resolved, and each address it resolves to is a replica (a Kubernetes
//! headless Service resolves to every pod; a loopback or single host to itself). An `https`
//! URL is used as given, since a certificate names the host, not the pod addresses.

use std::net::SocketAddr;

/// Where the log service is: its URL, or the URLs of its replicas when they are listed.
#[derive(Debug, Clone, Default)]
pub struct LogService {
    /// `logintel_url`.
    pub url: String,
    /// `logintel_replicas` (empty: the addresses of `url`'s host).
    pub replicas: Vec<String>,
}

impl LogService {
    /// The base URL of every replica, without trailing slashes.
    pub async fn urls(&self) -> Vec<String> {
        if self.replicas.is_empty() {
            return replica_urls(&self.url).await;
        }
        self.replicas
            .iter()
            .map(|r| r.trim_end_matches('/').to_owned())
            .collect()
    }

    /// Whether no log service is configured.
    pub fn is_empty(&self) -> bool {
        self.url.trim().is_empty() && self.replicas.is_empty()
    }
}

/// The base URL of every replica behind `base` (without a trailing slash): `base` itself when
/// it is https, names one address or does not resolve.
pub async fn replica_urls(base: &str) -> Vec<String> {
    let base = base.trim_end_matches('/');
    let Some(authority) = base.strip_prefix("http://") else {
        return vec![base.to_owned()];
    };
    let authority = authority.split('/').next().unwrap_or(authority);
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addresses: Vec<SocketAddr> = match tokio::net::lookup_host(with_port.as_str()).await {
        Ok(found) => found.collect(),
        Err(_) => Vec::new(),
    };
    expand(base, addresses)
}

/// `base` when `addresses` hold fewer than two distinct addresses, else one `http` URL each.
fn expand(base: &str, mut addresses: Vec<SocketAddr>) -> Vec<String> {
    addresses.sort();
    addresses.dedup();
    if addresses.len() <= 1 {
        return vec![base.to_owned()];
    }
    addresses
        .into_iter()
        .map(|address| format!("http://{address}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_address_or_https_is_the_url_itself() {
        assert_eq!(replica_urls("http://127.0.0.1:8091/").await, ["http://127.0.0.1:8091"]);
        assert_eq!(
            replica_urls("https://logs.example.org").await,
            ["https://logs.example.org"]
        );
        assert_eq!(
            replica_urls("http://no-such-host.invalid:8091").await,
            ["http://no-such-host.invalid:8091"],
            "an unresolved host is left to the call, which says so"
        );
    }

    #[test]
    fn a_name_with_several_addresses_is_several_replicas() {
        let address = |a: &str| a.parse::<SocketAddr>().unwrap();
        let pods = vec![
            address("10.1.0.7:8091"),
            address("10.1.0.5:8091"),
            address("10.1.0.7:8091"),
        ];
        assert_eq!(
            expand("http://logintel-headless:8091", pods),
            ["http://10.1.0.5:8091", "http://10.1.0.7:8091"]
        );
        assert_eq!(
            expand(
                "http://localhost:8091",
                vec![address("127.0.0.1:8091"), address("[::1]:8091")]
            ),
            ["http://127.0.0.1:8091", "http://[::1]:8091"]
        );
        assert_eq!(
            expand("http://one:8091", vec![address("10.0.0.1:8091")]),
            ["http://one:8091"]
        );
    }
}
