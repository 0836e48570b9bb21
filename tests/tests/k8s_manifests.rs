//! The Kubernetes manifests agree with the code: every ConfigMap's `config.toml` loads into its
//! service's typed configuration (`deny_unknown_fields`, so a renamed or removed setting fails
//! here and not at a rollout), every `OPSLINE_*` variable a Deployment sets names a real setting
//! (the loader ignores unknown top-level keys), every image is pinned in the kustomization, and
//! every service has its runbook.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
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
    check_config::<opsline_selfservice::SelfServiceConfig>("selfservice");
    check_config::<opsline_console::ConsoleConfig>("console");
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
    for service in ["gateway", "logintel", "postmortem", "triage", "selfservice", "console"] {
        let runbook = root.join(format!("runbooks/{service}.md"));
        assert!(runbook.is_file(), "missing {}", runbook.display());
    }
}
