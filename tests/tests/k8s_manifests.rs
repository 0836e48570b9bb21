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
