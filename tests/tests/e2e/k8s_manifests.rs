//! The Kubernetes manifests agree with the code: every ConfigMap's `config.toml` loads into its
//! service's typed configuration (`deny_unknown_fields`, so a renamed or removed setting fails
//! here and not at a rollout), every `OPSLINE_*` variable a Deployment sets names a real setting
//! (the loader ignores unknown top-level keys), every image is pinned in the kustomization, and
//! every service has its runbook; the services reach Kafka over TLS as SCRAM-SHA-512 users
//! whose ACLs allow exactly the topics of their topic plans.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    documents.into_iter().filter(|d| !d.is_null()).collect()
}

fn of_kind<'a>(documents: &'a [Value], kind: &str) -> Vec<&'a Value> {
    documents.iter().filter(|d| d["kind"] == kind).collect()
}

/// Loads the ConfigMap's config.toml of `service` into `T`, as the service does at start-up.
fn check_config<T: Serialize + DeserializeOwned + Default>(service: &str) {
    let path = repo_root().join(format!("deploy/k8s/services/{service}.yaml"));
    let documents = documents(&path);
    let maps = of_kind(&documents, "ConfigMap");
    let toml = maps
        .iter()
        .find_map(|m| m["data"]["config.toml"].as_str())
        .unwrap_or_else(|| panic!("{service}: no ConfigMap with config.toml"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, toml).unwrap();
    if let Err(error) = opsline_runtime::config::load::<T>(Some(&file)) {
        panic!("{service}: the ConfigMap's config.toml does not load: {error}");
    }

    let top_level: BTreeSet<String> = opsline_runtime::config::top_level_settings::<T>().into_iter().collect();
    for deployment in of_kind(&documents, "Deployment") {
        let spec = &deployment["spec"]["template"]["spec"];
        assert_eq!(
            spec["enableServiceLinks"],
            Value::Bool(false),
            "{service}: service links would inject unknown OPSLINE_* settings"
        );
        let containers = spec["containers"].as_array().unwrap();
        for container in containers {
            let command = container["command"][0].as_str().unwrap_or_default();
            assert_eq!(command, format!("opsline-{service}"), "{service}: runs another binary");
            for variable in container["env"].as_array().into_iter().flatten() {
                let name = variable["name"].as_str().unwrap_or_default();
                let Some(setting) = name.strip_prefix("OPSLINE_") else {
                    continue;
                };
                let first = setting.split("__").next().unwrap_or_default().to_ascii_lowercase();
                assert!(
                    top_level.contains(&first),
                    "{service}: {name} names no setting (top-level keys: {top_level:?}); it would be ignored"
                );
            }
        }
    }
}

#[test]
fn every_config_map_loads_into_its_service_config() {
    check_config::<opsline_gateway::GatewayConfig>("gateway");
    check_config::<opsline_logintel::LogintelConfig>("logintel");
    check_config::<opsline_postmortem::PostmortemConfig>("postmortem");
    check_config::<opsline_triage::TriageConfig>("triage");
    check_config::<opsline_notify::NotifyConfig>("notify");
    check_config::<opsline_selfservice::SelfServiceConfig>("selfservice");
    check_config::<opsline_console::ConsoleConfig>("console");
    check_config::<opsline_helpdesk::HelpdeskConfig>("helpdesk");
}

/// Issue 16 item 2 in the manifests: selfservice reaches the directory over LDAPS with the CA
/// from a Secret, and its one-time-code notifier and reply relay are https.
#[test]
fn selfservice_uses_ldaps_with_a_ca_from_a_secret_and_https_relays() {
    use opsline_selfservice::transport::{LdapTransport, ldap_transport, require_https};

    let path = repo_root().join("deploy/k8s/services/selfservice.yaml");
    let manifest = documents(&path);
    let toml = of_kind(&manifest, "ConfigMap")
        .iter()
        .find_map(|m| m["data"]["config.toml"].as_str().map(str::to_owned))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, toml).unwrap();
    let config: opsline_selfservice::SelfServiceConfig = opsline_runtime::config::load(Some(&file)).unwrap();
    assert_eq!(ldap_transport(&config.directory).unwrap(), LdapTransport::Ldaps);
    assert!(!config.directory.allow_insecure);
    require_https("notifier.url", &config.notifier.url).unwrap();
    require_https("reply.webhook_url", &config.reply.webhook_url).unwrap();
    let ca_file = config.directory.ca_file.expect("directory.ca_file");
    let ca_dir = ca_file.parent().unwrap().to_str().unwrap();

    let deployment = of_kind(&manifest, "Deployment")[0];
    let spec = &deployment["spec"]["template"]["spec"];
    let mount = spec["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == ca_dir)
        .unwrap_or_else(|| panic!("nothing mounted at {ca_dir}"));
    assert_eq!(mount["readOnly"], Value::Bool(true));
    let volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let secret = volume["secret"]["secretName"]
        .as_str()
        .expect("the CA volume is a Secret");
    let file_name = ca_file.file_name().unwrap().to_str().unwrap();
    let items = volume["secret"]["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["path"] == file_name),
        "{file_name} not projected"
    );
    let example = documents(&repo_root().join("deploy/k8s/secrets.example.yaml"));
    let declared = of_kind(&example, "Secret")
        .into_iter()
        .find(|s| s["metadata"]["name"] == secret)
        .unwrap_or_else(|| panic!("Secret {secret} not in secrets.example.yaml"));
    for item in items {
        let key = item["key"].as_str().unwrap();
        assert!(declared["stringData"][key].is_string(), "{secret} has no key {key}");
    }
}

#[test]
fn every_image_is_pinned_and_every_service_has_a_runbook() {
    let root = repo_root();
    let kustomization = documents(&root.join("deploy/k8s/kustomization.yaml")).remove(0);
    let pinned: BTreeSet<&str> = kustomization["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|image| image["name"].as_str())
        .collect();
    for resource in kustomization["resources"].as_array().unwrap() {
        let path = root.join("deploy/k8s").join(resource.as_str().unwrap());
        for deployment in of_kind(&documents(&path), "Deployment") {
            let spec = &deployment["spec"]["template"]["spec"];
            let containers = spec["containers"].as_array().into_iter().flatten();
            let init = spec["initContainers"].as_array().into_iter().flatten();
            for container in containers.chain(init) {
                let image = container["image"].as_str().unwrap();
                let name = image.split(':').next().unwrap();
                assert!(
                    pinned.contains(name),
                    "{}: image {name} is not in kustomization images",
                    path.display()
                );
            }
        }
    }
    // Sessions live in memory: a console with several replicas keeps each visitor on one.
    let console = documents(&root.join("deploy/k8s/services/console.yaml"));
    let replicas = of_kind(&console, "Deployment")[0]["spec"]["replicas"]
        .as_u64()
        .unwrap_or(1);
    let service = of_kind(&console, "Service")[0];
    assert!(
        replicas == 1 || service["spec"]["sessionAffinity"] == "ClientIP",
        "{replicas} console replicas without session affinity: sign-ins would be lost between them"
    );
    for service in [
        "gateway",
        "logintel",
        "postmortem",
        "triage",
        "selfservice",
        "console",
        "notify",
        "helpdesk",
    ] {
        let runbook = root.join(format!("runbooks/{service}.md"));
        assert!(runbook.is_file(), "missing {}", runbook.display());
    }
}

/// The Kafka listener the services use: TLS with SCRAM-SHA-512 users, every request authorized.
/// Returns its port and the user operator's Secret prefix.
fn secured_listener() -> (u64, String) {
    let documents = documents(&repo_root().join("deploy/k8s/kafka/kafka.yaml"));
    let kafka = of_kind(&documents, "Kafka")
        .into_iter()
        .next()
        .expect("a Kafka resource");
    let listeners = kafka["spec"]["kafka"]["listeners"].as_array().expect("listeners");
    let tls = listeners
        .iter()
        .find(|l| l["tls"] == Value::Bool(true) && l["authentication"]["type"] == "scram-sha-512")
        .expect("a TLS listener with SCRAM-SHA-512 authentication");
    assert_eq!(
        kafka["spec"]["kafka"]["authorization"]["type"], "simple",
        "ACLs are enforced (authorization: simple)"
    );
    for listener in listeners.iter().filter(|l| l["tls"] != Value::Bool(true)) {
        let peers = listener["networkPolicyPeers"]
            .as_array()
            .expect("a plain listener names its peers");
        for peer in peers {
            assert_ne!(
                peer["podSelector"]["matchLabels"]["app.kubernetes.io/part-of"], "opsline",
                "the services' pods may not reach the plain listener {}",
                listener["name"]
            );
        }
    }
    let prefix = kafka["spec"]["entityOperator"]["userOperator"]["secretPrefix"]
        .as_str()
        .expect("the user operator runs, with a Secret prefix")
        .to_owned();
    (tls["port"].as_u64().expect("listener port"), prefix)
}

/// Operations allowed per topic name.
type TopicAcls = BTreeMap<String, BTreeSet<String>>;
/// Group resources: (pattern type, name).
type GroupAcls = BTreeSet<(String, String)>;

/// `base` name of every `pub const NAME: TopicSpec` in topics.rs, by constant name.
fn topic_bases() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_root().join("crates/opsline-events/src/topics.rs")).unwrap();
    let mut bases = BTreeMap::new();
    for block in text.split("pub const ").skip(1) {
        let Some((name, body)) = block.split_once(": TopicSpec = TopicSpec {") else {
            continue;
        };
        let base = body.split("base: \"").nth(1).and_then(|b| b.split('"').next()).unwrap();
        bases.insert(name.trim().to_owned(), base.to_owned());
    }
    bases
}

/// What one service's topic plan (services/<service>/src/app.rs) lets it do: operations per
/// topic (Create on each: services create their plan's topics at start) and group resources.
fn planned_acls(service: &str) -> (TopicAcls, GroupAcls) {
    let text = std::fs::read_to_string(repo_root().join(format!("services/{service}/src/app.rs"))).unwrap();
    let bases = topic_bases();
    let specs = opsline_events::topics::ALL;
    let mut topics: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut groups = BTreeSet::new();
    let mut grant = |topic: String, operations: &[&str]| {
        let entry = topics.entry(topic).or_default();
        entry.extend(operations.iter().map(|op| (*op).to_owned()));
        entry.insert("Create".to_owned());
    };
    for method in ["consume", "follow", "read", "produce", "dead_letters_of"] {
        let needle = format!("plan.{method}(");
        for call in text.split(needle.as_str()).skip(1) {
            let list = call
                .split_once("&[")
                .expect("a topic list")
                .1
                .split(']')
                .next()
                .unwrap();
            for constant in list.split("topics::").skip(1) {
                let constant: String = constant
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                let base = bases[&constant].clone();
                let has_dead_letter = specs.iter().any(|s| s.base == base && s.has_dead_letter);
                match method {
                    "consume" => {
                        grant(base.clone(), &["Read", "Describe"]);
                        if has_dead_letter {
                            grant(format!("{base}.dlq"), &["Write", "Describe"]);
                        }
                        groups.insert(("prefix".to_owned(), format!("opsline-{service}")));
                    }
                    "follow" | "read" => {
                        grant(base, &["Read", "Describe"]);
                        groups.insert(("literal".to_owned(), opsline_kafka::config::READER_GROUP_ID.to_owned()));
                    }
                    "produce" => grant(base, &["Write", "Describe"]),
                    _ => grant(format!("{base}.dlq"), &["Write", "Describe"]),
                }
            }
        }
    }
    (topics, groups)
}

#[test]
fn services_reach_kafka_over_tls_as_scram_users_allowed_only_their_own_topics() {
    let root = repo_root();
    let (tls_port, secret_prefix) = secured_listener();
    let users = documents(&root.join("deploy/k8s/kafka/users.yaml"));
    let kustomization = documents(&root.join("deploy/k8s/kustomization.yaml")).remove(0);
    assert!(
        kustomization["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "kafka/users.yaml"),
        "kustomization applies kafka/users.yaml"
    );
    let known_topics: BTreeSet<String> = of_kind(&documents(&root.join("deploy/k8s/kafka/topics.yaml")), "KafkaTopic")
        .iter()
        .map(|t| t["spec"]["topicName"].as_str().unwrap().to_owned())
        .collect();
    for service in [
        "gateway",
        "logintel",
        "postmortem",
        "triage",
        "selfservice",
        "console",
        "notify",
        "helpdesk",
    ] {
        let path = root.join(format!("deploy/k8s/services/{service}.yaml"));
        let documents = documents(&path);
        let toml = of_kind(&documents, "ConfigMap")
            .iter()
            .find_map(|m| m["data"]["config.toml"].as_str())
            .unwrap()
            .to_owned();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), &toml).unwrap();
        let kafka = kafka_section(&dir.path().join("config.toml")).kafka;
        assert_eq!(
            kafka.security_protocol,
            opsline_kafka::security::SecurityProtocol::SaslSsl,
            "{service}"
        );
        assert!(
            kafka.bootstrap_servers.ends_with(&format!(":{tls_port}")),
            "{service}: bootstrap {} is not the TLS listener's port {tls_port}",
            kafka.bootstrap_servers
        );
        assert_eq!(
            kafka.sasl.mechanism,
            Some(opsline_kafka::security::SaslMechanism::ScramSha512),
            "{service}"
        );
        assert!(kafka.sasl.password.is_none(), "{service}: no password in a ConfigMap");
        let user_name = kafka.sasl.username.clone();

        // The Deployment mounts the user's Secret where password_file points, and the CA.
        let deployment = of_kind(&documents, "Deployment")[0];
        let spec = &deployment["spec"]["template"]["spec"];
        let mounted = |file: &Path, secret: &str| {
            let dir = file.parent().unwrap().to_str().unwrap();
            let volume = spec["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["secret"]["secretName"] == secret)
                .unwrap_or_else(|| panic!("{service}: no volume of Secret {secret}"));
            let container = &spec["containers"][0];
            assert!(
                container["volumeMounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == volume["name"] && m["mountPath"] == dir),
                "{service}: Secret {secret} is not mounted at {dir}"
            );
        };
        mounted(
            kafka.sasl.password_file.as_deref().expect("password_file"),
            &format!("{secret_prefix}{user_name}"),
        );
        mounted(
            kafka.tls.ca_file.as_deref().expect("ca_file"),
            "opsline-kafka-cluster-ca-cert",
        );

        // Its KafkaUser: SCRAM-SHA-512, literal ACLs, exactly what its topic plan needs.
        let user = of_kind(&users, "KafkaUser")
            .into_iter()
            .find(|u| u["metadata"]["name"] == user_name.as_str())
            .unwrap_or_else(|| panic!("{service}: no KafkaUser {user_name}"));
        assert_eq!(user["spec"]["authentication"]["type"], "scram-sha-512", "{service}");
        assert_eq!(user["spec"]["authorization"]["type"], "simple", "{service}");
        let mut topics = TopicAcls::new();
        let mut groups = GroupAcls::new();
        for acl in user["spec"]["authorization"]["acls"].as_array().unwrap() {
            let resource = &acl["resource"];
            let name = resource["name"].as_str().unwrap().to_owned();
            let pattern = resource["patternType"].as_str().unwrap_or("literal").to_owned();
            let operations: BTreeSet<String> = acl["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_owned())
                .collect();
            match resource["type"].as_str().unwrap() {
                "topic" => {
                    assert_eq!(pattern, "literal", "{service}: topic ACL {name} must name one topic");
                    // A dead-letter twin a service writes for its own deliveries (dead_letters_of) has
                    // no KafkaTopic: the service creates it at start-up.
                    let declared = known_topics.contains(&name)
                        || name
                            .strip_suffix(".dlq")
                            .is_some_and(|base| known_topics.contains(base));
                    assert!(declared, "{service}: ACL for unknown topic {name}");
                    topics.entry(name).or_default().extend(operations);
                }
                "group" => {
                    assert_eq!(
                        operations,
                        BTreeSet::from(["Read".to_owned()]),
                        "{service}: group {name}"
                    );
                    groups.insert((pattern, name));
                }
                other => panic!("{service}: unexpected ACL resource type {other}"),
            }
        }
        let (planned_topics, planned_groups) = planned_acls(service);
        assert_eq!(
            topics, planned_topics,
            "{service}: topic ACLs differ from its topic plan (rerun deploy/k8s/kafka/gen-users.py)"
        );
        assert_eq!(
            groups, planned_groups,
            "{service}: group ACLs differ from its topic plan"
        );
    }
}

/// The `[kafka]` section of a config file, loaded as the services load it.
fn kafka_section(file: &Path) -> KafkaSection {
    opsline_runtime::config::load::<KafkaSection>(Some(file)).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Just the `[kafka]` section (other keys are skipped, not refused).
#[derive(serde::Deserialize, Serialize, Default)]
struct KafkaSection {
    #[serde(default)]
    kafka: opsline_kafka::KafkaConfig,
}
