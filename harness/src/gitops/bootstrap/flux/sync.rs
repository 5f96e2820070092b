//! The sync objects `flux bootstrap` creates: a GitRepository and a
//! Kustomization, both named `flux-system` in namespace `flux-system`, so
//! that repositories written for Flux — whose nested Kustomizations say
//! `sourceRef: {kind: GitRepository, name: flux-system}` — work unchanged.
//! For an OCI artifact source the source is an OCIRepository of the same
//! name (as a fleet synced from OCI, e.g. `flux-operator`'s
//! `FluxInstance` with `sync.kind: OCIRepository`, is laid out).

use std::time::Duration;

use serde_json::{Value, json};

use crate::flux::duration;
use crate::gitops::apply::Manifest;
use crate::gitops::bootstrap::SyncSource;
use crate::gitops::repo::GitRef;

/// The name of both sync objects (and of the credentials Secret).
pub const NAME: &str = "flux-system";

/// `spec.ref` of a GitRepository following `reference`.
pub fn git_ref(reference: &GitRef) -> Value {
    match reference {
        GitRef::Branch(b) => json!({"branch": b}),
        GitRef::Tag(t) => json!({"tag": t}),
        GitRef::Commit { sha, branch: None } => json!({"commit": sha}),
        GitRef::Commit {
            sha,
            branch: Some(b),
        } => json!({"branch": b, "commit": sha}),
        GitRef::Name(n) => json!({"name": n}),
    }
}

/// The source kind the sync follows.
pub fn source_kind(source: &SyncSource) -> &'static str {
    if source.artifact.is_some() {
        "OCIRepository"
    } else {
        "GitRepository"
    }
}

/// The source (GitRepository, or OCIRepository for an artifact) and the
/// Kustomization, in this order.
pub fn manifests(
    namespace: &str,
    source: &SyncSource,
    interval: Duration,
    kustomization_interval: Duration,
    secret: bool,
) -> Vec<Manifest> {
    let reference = match &source.artifact {
        Some(a) => a.flux_ref(),
        None => git_ref(&source.reference),
    };
    let mut repo = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": source_kind(source),
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {
            "interval": duration::format(interval),
            "ref": reference,
            "url": source.url,
        },
    });
    if secret {
        repo["spec"]["secretRef"] = json!({"name": NAME});
    }
    let kustomization = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {
            "interval": duration::format(kustomization_interval),
            "path": source.flux_path(),
            "prune": true,
            "sourceRef": {"kind": source_kind(source), "name": NAME},
        },
    });
    vec![
        Manifest::new(repo).with_origin("gotk-sync.yaml, document 1"),
        Manifest::new(kustomization).with_origin("gotk-sync.yaml, document 2"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::oci::artifact::ArtifactRef;

    /// The sync objects of `url` at `reference` (an artifact when given).
    fn sync(url: &str, artifact: Option<ArtifactRef>) -> Vec<Manifest> {
        let source = SyncSource {
            url: url.into(),
            reference: GitRef::branch("main"),
            path: "clusters/staging".into(),
            artifact,
        };
        manifests(
            "flux-system",
            &source,
            Duration::from_secs(60),
            Duration::from_secs(600),
            false,
        )
    }

    #[test]
    fn sync_objects_are_named_as_flux_bootstrap_names_them() {
        let m = sync("http://127.0.0.1:8080/podinfo.git", None);
        assert_eq!(
            m[0].object,
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "flux-system", "namespace": "flux-system"},
                "spec": {"interval": "1m0s", "ref": {"branch": "main"}, "url": "http://127.0.0.1:8080/podinfo.git"}})
        );
        assert_eq!(
            m[1].object["spec"],
            json!({"interval": "10m0s", "path": "./clusters/staging", "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}})
        );
        assert_eq!(git_ref(&GitRef::commit("abc")), json!({"commit": "abc"}));
        assert_eq!(git_ref(&GitRef::tag("v1")), json!({"tag": "v1"}));
    }

    #[test]
    fn an_artifact_source_is_synced_by_an_oci_repository() {
        let m = sync(
            "oci://ghcr.io/acme/fleet",
            Some(ArtifactRef::Semver("1.x".into())),
        );
        assert_eq!(
            m[0].object,
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                "metadata": {"name": "flux-system", "namespace": "flux-system"},
                "spec": {"interval": "1m0s", "ref": {"semver": "1.x"}, "url": "oci://ghcr.io/acme/fleet"}})
        );
        assert_eq!(
            m[1].object["spec"]["sourceRef"],
            json!({"kind": "OCIRepository", "name": "flux-system"})
        );
    }
}
