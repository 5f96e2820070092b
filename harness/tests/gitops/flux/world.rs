//! A simulated cluster with Flux emulation, a served fixture repository,
//! and helpers to bootstrap and wait.
#![allow(dead_code)]

use std::time::Duration;

use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap, FluxReport};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::scenario::model::FluxSettings;
use gameday::sim::SimOptions;
use gameday::sim::flux::{FluxEmulation, FluxOptions};
use gameday::sim::profile::Profile;
use kube::api::{Api, DynamicObject};
use kube::core::discovery::ApiResource;
use serde_json::Value;

use crate::fixture;
use crate::testbed::{Testbed, epoch};

/// A cluster, its Flux emulation, a repository and its server.
pub struct World {
    pub tb: Testbed,
    pub flux: FluxEmulation,
    pub repo: Repo,
    pub server: GitServer,
    pub applier: Applier,
}

pub fn kustomizations() -> ApiResource {
    ApiResource {
        group: "kustomize.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
        kind: "Kustomization".into(),
        plural: "kustomizations".into(),
    }
}

pub fn git_repositories() -> ApiResource {
    ApiResource {
        group: "source.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "source.toolkit.fluxcd.io/v1".into(),
        kind: "GitRepository".into(),
        plural: "gitrepositories".into(),
    }
}

impl World {
    /// A cluster on a virtual clock with `profile`, and `fixture` served.
    pub async fn new(fixture_name: &str, profile: Profile) -> World {
        let tb = Testbed::with(SimOptions {
            profile,
            ..SimOptions::new("flux", Clock::simulated(epoch()))
        })
        .await;
        let flux = tb
            .cluster
            .enable_flux(FluxOptions::default())
            .await
            .expect("flux emulation starts");
        let repo = Repo::from_fixture(&fixture(fixture_name), &FixtureOptions::default())
            .await
            .expect("fixture repository");
        let server = GitServer::serve(repo.path(), fixture_name, ServeOptions::default())
            .await
            .expect("git server");
        let applier = tb.applier(ApplyOptions::default()).await;
        World {
            tb,
            flux,
            repo,
            server,
            applier,
        }
    }

    pub fn source(&self, path: &str) -> SyncSource {
        SyncSource {
            url: self.server.url(),
            reference: GitRef::branch("main"),
            path: path.to_owned(),
        }
    }

    pub async fn head(&self) -> String {
        self.repo.head().await.expect("head").to_string()
    }

    /// Bootstraps Flux the simulator's way.
    pub async fn bootstrap(
        &self,
        path: &str,
    ) -> Result<FluxReport, gameday::gitops::bootstrap::Error> {
        let cfg = FluxBootstrap::simulated(
            &FluxSettings {
                manifests: None,
                interval: Duration::from_secs(60),
            },
            &[],
        );
        flux::bootstrap(&self.applier, &cfg, &self.source(path), &self.head().await).await
    }

    pub async fn kustomization(&self, name: &str) -> Value {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.tb.client().await, "flux-system", &kustomizations());
        serde_json::to_value(api.get(name).await.expect("kustomization exists")).unwrap()
    }

    pub async fn git_repository(&self, name: &str) -> Value {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.tb.client().await, "flux-system", &git_repositories());
        serde_json::to_value(api.get(name).await.expect("gitrepository exists")).unwrap()
    }

    /// Waits (cluster clock) until every named Kustomization is Ready at
    /// the head revision.
    pub async fn wait_kustomizations(&self, names: &[&str], timeout: Duration) {
        let head = self.head().await;
        let targets: Vec<_> = names
            .iter()
            .map(|n| gameday::gitops::apply::Versioned {
                id: gameday::gitops::apply::ObjectId::namespaced(
                    "kustomize.toolkit.fluxcd.io",
                    "Kustomization",
                    "flux-system",
                    n,
                ),
                version: "v1".into(),
            })
            .collect();
        self.applier
            .wait_healthy_patiently(&targets, timeout)
            .await
            .unwrap_or_else(|e| panic!("Kustomizations not ready: {e}"));
        for n in names {
            let k = self.kustomization(n).await;
            assert_eq!(
                k["status"]["lastAppliedRevision"],
                head.as_str(),
                "{n}: {k:#}"
            );
        }
    }
}

/// The Ready condition of an object as (status, reason, message).
pub fn ready(obj: &Value) -> (String, String, String) {
    let c = obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or_default();
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    (s("status"), s("reason"), s("message"))
}
