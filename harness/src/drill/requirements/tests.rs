use std::path::{Path, PathBuf};

use super::probe::{Status, parse_version, probe};
use super::*;
use crate::process::{Lookup, Tools};

fn catalogue(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/{name}.yaml"));
    crate::scenario::load_one(&path).unwrap()
}

fn tools(needs: &[Need]) -> Vec<Tool> {
    needs.iter().map(|n| n.tool).collect()
}

#[test]
fn each_provider_needs_its_own_programs() {
    let s = catalogue("cluster-loss");
    assert_eq!(tools(&from_scenario(&s)), [Tool::Git, Tool::Kubectl]);
    let kind = crate::scenario::with_provider(&s, Provider::Kind).unwrap();
    assert_eq!(
        tools(&from_scenario(&kind)),
        [Tool::Git, Tool::Kind, Tool::ContainerEngine, Tool::Flux]
    );
    // Its terraform module (sim-cluster) outputs the Flux manifests; a
    // module that does not leaves it to the flux CLI.
    let mut tf = crate::scenario::with_provider(&s, Provider::Terraform).unwrap();
    assert_eq!(tools(&from_scenario(&tf)), [Tool::Git, Tool::Terraform]);
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("main.tf"), "output \"kubeconfig\" {}\n").unwrap();
    tf.cluster.terraform.as_mut().unwrap().dir = plain.path().to_owned();
    assert_eq!(
        tools(&from_scenario(&tf)),
        [Tool::Git, Tool::Terraform, Tool::Flux]
    );
    // infra-loss's module outputs the Flux manifests: no CLI needed.
    assert_eq!(
        tools(&from_scenario(&catalogue("infra-loss"))),
        [Tool::Git, Tool::Terraform]
    );
    let mut with_url = kind.clone();
    if let BootstrapMethod::Flux(f) = &mut with_url.bootstrap.method {
        f.manifests = Some("https://example.com/install.yaml".into());
    }
    assert_eq!(
        tools(&from_scenario(&with_url)),
        [Tool::Git, Tool::Kind, Tool::ContainerEngine, Tool::Curl]
    );
    let mut with_file = kind;
    if let BootstrapMethod::Flux(f) = &mut with_file.bootstrap.method {
        f.manifests = Some("install.yaml".into());
    }
    assert_eq!(
        tools(&from_scenario(&with_file)),
        [Tool::Git, Tool::Kind, Tool::ContainerEngine]
    );
}

#[tokio::test]
async fn the_source_adds_sops_and_terraform_on_the_simulator() {
    let sops = for_scenario(&catalogue("sops-secrets")).await;
    assert_eq!(
        tools(&sops),
        [Tool::Git, Tool::Kubectl, Tool::Sops],
        "{sops:?}"
    );
    assert!(sops[2].why.contains("decrypts SOPS"), "{sops:?}");
    // podinfo decrypts nothing; infra holds Terraform objects.
    assert_eq!(
        tools(&for_scenario(&catalogue("controller-loss")).await),
        [Tool::Git, Tool::Kubectl]
    );
    assert_eq!(
        tools(&for_scenario(&catalogue("infra-drift")).await),
        [Tool::Git, Tool::Kubectl, Tool::Terraform]
    );
    // On kind, real controllers decrypt in the cluster: no local sops.
    let on_kind =
        crate::scenario::with_provider(&catalogue("sops-secrets"), Provider::Kind).unwrap();
    assert!(!tools(&for_scenario(&on_kind).await).contains(&Tool::Sops));
}

#[test]
fn versions_are_read_from_each_tools_own_words() {
    for (text, want) in [
        ("git version 2.47.3\n", "2.47.3"),
        (
            "Client Version: v1.32.4\nKustomize Version: v5.5.0\n",
            "v1.32.4",
        ),
        ("kind v0.27.0 go1.24.0 linux/amd64\n", "v0.27.0"),
        ("Docker version 27.0.3, build 7d4bcd8\n", "27.0.3"),
        ("Terraform v1.11.4\non linux_amd64\n", "v1.11.4"),
        ("flux: v2.6.4\n", "v2.6.4"),
        ("sops 3.11.0 (latest)\n", "3.11.0"),
        ("gpg (GnuPG) 2.2.40\nlibgcrypt 1.10.1\n", "2.2.40"),
        ("v3.17.0+g301108e\n", "v3.17.0+g301108e"),
    ] {
        assert_eq!(parse_version(text).as_deref(), Some(want), "{text}");
    }
    assert_eq!(parse_version("no version here\n"), None);
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[tokio::test]
async fn probes_find_versions_paths_and_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let tools_bin = tmp.path().join(".tools/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&tools_bin).unwrap();
    let git = script(&bin, "git", "echo 'git version 9.8.7'");
    let sops = script(&tools_bin, "sops", "echo 'sops 3.11.0 (latest)'");
    script(&bin, "podman", "[ \"$1\" = info ] && exit 125; echo 5.4.0");
    let env = Tools::default()
        .env("PATH", &bin)
        .env("GAMEDAY_SOPS", "")
        .env("KIND_EXPERIMENTAL_PROVIDER", "");
    let lookup = Lookup::new(env, vec![tools_bin]);

    let p = probe(Tool::Git, &lookup, false).await;
    assert_eq!(
        (p.status, p.path, p.version.as_deref()),
        (Status::Ok, Some(git), Some("9.8.7"))
    );
    let p = probe(Tool::Sops, &lookup, false).await;
    assert_eq!(
        (p.status, p.path, p.version.as_deref()),
        (Status::Ok, Some(sops), Some("3.11.0"))
    );
    let p = probe(Tool::Kubectl, &lookup, false).await;
    assert_eq!(p.status, Status::Missing);
    assert!(p.detail.unwrap().contains("not on PATH"));
    // Podman is installed: found; a kind drill needs it to answer `info`.
    let p = probe(Tool::ContainerEngine, &lookup, false).await;
    assert_eq!(
        (p.status, p.program.as_deref()),
        (Status::Ok, Some("podman"))
    );
    let p = probe(Tool::ContainerEngine, &lookup, true).await;
    assert_eq!(p.status, Status::Unusable);
    assert!(p.detail.unwrap().contains("`podman info` failed"));
}
