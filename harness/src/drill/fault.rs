//! Faults: what breaks, injected in the order the scenario lists them.
//! Each one records an operation on the timeline saying exactly what was
//! done, so a report shows what the drill broke.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use super::error::{Error, Result};
use super::repeat::Drill;
use crate::scenario::model::{Fault, ResourceTarget};

/// Injects every fault of the scenario's disaster.
///
/// # Errors
/// When a fault cannot be injected (an API call, git, the provider).
pub(super) async fn inject_all(d: &mut Drill) -> Result<()> {
    let faults = d.scenario().disaster.clone();
    for f in &faults {
        inject(d, f).await?;
    }
    Ok(())
}

fn kube_err(what: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

async fn inject(d: &mut Drill, f: &Fault) -> Result<()> {
    let t = d.timeline().clone();
    // The provider's guard rails, against the cluster actually in use
    // (existing: allowed namespaces, the user's confirmation).
    if let Some(cluster) = &d.cluster {
        cluster.check_fault(f)?;
    }
    match f {
        Fault::ClusterLoss => {
            let _acting = d.clock().busy();
            if let Some(cluster) = d.cluster.take() {
                let name = cluster.name().to_owned();
                if let Some(tooling) = d.tooling.take() {
                    tooling.shutdown().await;
                }
                cluster.destroy(&d.cx.cleanup).await?;
                t.operation(&format!(
                    "cluster {name} destroyed: every object, node and controller is gone"
                ));
            }
        }
        Fault::NamespaceLoss { namespace } => {
            let _acting = d.clock().busy();
            let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(d.cluster()?.client());
            api.delete(namespace, &DeleteParams::background())
                .await
                .map_err(kube_err(format!("deleting namespace {namespace}")))?;
            t.operation(&format!("namespace {namespace} deleted"));
        }
        Fault::ResourceLoss {
            api_version,
            kind,
            namespace,
            target,
        } => {
            let _acting = d.clock().busy();
            let client = d.cluster()?.client();
            let gvk = gvk(api_version, kind);
            let (ar, caps) =
                kube::discovery::pinned_kind(&client, &gvk)
                    .await
                    .map_err(kube_err(format!(
                        "finding the resource of {api_version} {kind}"
                    )))?;
            let api: Api<DynamicObject> = match (namespace, caps.scope) {
                (Some(ns), kube::discovery::Scope::Namespaced) => {
                    Api::namespaced_with(client, ns, &ar)
                }
                _ => Api::all_with(client, &ar),
            };
            let names: Vec<String> = match target {
                ResourceTarget::Name(n) => vec![n.clone()],
                ResourceTarget::Selector(sel) => api
                    .list(&ListParams::default().labels(sel))
                    .await
                    .map_err(kube_err(format!("listing {kind} with selector {sel}")))?
                    .items
                    .into_iter()
                    .filter_map(|o| o.metadata.name)
                    .collect(),
            };
            for n in &names {
                api.delete(n, &DeleteParams::background())
                    .await
                    .map_err(kube_err(format!("deleting {kind} {n}")))?;
            }
            t.operation(&format!(
                "{} {kind}(s) deleted{}: {}",
                names.len(),
                namespace
                    .as_ref()
                    .map(|n| format!(" in {n}"))
                    .unwrap_or_default(),
                names.join(", ")
            ));
        }
        Fault::ControllerLoss => {
            let _acting = d.clock().busy();
            let what = match d.tooling.as_mut() {
                Some(tooling) => tooling.lose_controller(d.cluster.as_ref()).await?,
                None => "no GitOps controller was running".to_owned(),
            };
            t.operation(&what);
        }
        Fault::NodeLoss { count } => {
            let _acting = d.clock().busy();
            let names = d.cluster()?.lose_workers(*count).await?;
            t.operation(&format!("node(s) lost: {}", names.join(", ")));
            d.lost_nodes.extend(names);
        }
        Fault::BadCommit {
            file,
            change,
            message,
        } => {
            let _acting = d.clock().busy();
            let rev = d.source.commit_change(file, change, message).await?;
            t.operation(&format!(
                "committed {} to {file}: {message}",
                rev.short_sha()
            ));
            d.bad_commit = Some(rev.sha.clone());
            d.revision = rev.to_string();
        }
        Fault::ApiOutage { duration } => {
            let cluster = d.cluster()?;
            {
                let _acting = d.clock().busy();
                cluster.stop_api().await?;
            }
            t.operation(&format!(
                "API server unreachable for {}",
                crate::scenario::duration::format_duration(*duration)
            ));
            let acting = d.clock().sleep(*duration).await;
            cluster.start_api().await?;
            drop(acting);
            t.operation("API server reachable again");
        }
        Fault::InfraDrift { terraform, vars } => {
            let _acting = d.clock().busy();
            let what = super::drift::inject(d, terraform, vars).await?;
            t.operation(&what);
        }
        Fault::InfraLoss { targets } => {
            let _acting = d.clock().busy();
            if d.cluster()?.terraform().is_none() {
                return Err(Error::Cluster(crate::cluster::Error::Unsupported {
                    provider: d.cluster()?.provider(),
                    what: "inject infra-loss (it needs provider terraform)",
                }));
            }
            // The tooling in this process stops with the infrastructure.
            if let Some(tooling) = d.tooling.take() {
                tooling.shutdown().await;
            }
            let Some(infra) = d.cluster()?.terraform() else {
                return Ok(());
            };
            let destroyed = infra
                .destroy_infra(targets)
                .await
                .map_err(crate::cluster::Error::from)?;
            let scope = if targets.is_empty() {
                String::new()
            } else {
                format!(" -target {}", targets.join(" -target "))
            };
            t.operation(&format!(
                "terraform destroy{scope} of {}: {} resource(s) destroyed ({})",
                infra.module().display(),
                destroyed.len(),
                destroyed.join(", ")
            ));
        }
    }
    Ok(())
}

fn gvk(api_version: &str, kind: &str) -> kube::api::GroupVersionKind {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    kube::api::GroupVersionKind::gvk(group, version, kind)
}
