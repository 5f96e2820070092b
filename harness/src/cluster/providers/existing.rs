//! The `existing` provider: a cluster someone else owns (a staging cluster
//! the team already has), reached through a kubeconfig context, behind
//! guard rails because nothing in it is gameday's to break:
//!
//! - the context in use must be listed in `spec.cluster.existing.allowContexts`,
//!   checked before any client is built, so before anything is written;
//! - every namespace a fault touches must be listed in `allowNamespaces`
//!   (validation checks the file; [`ExistingCluster::check_fault`] checks
//!   again right before the fault);
//! - `cluster-loss`, `node-loss` and `api-outage` are refused, and so is a
//!   `resource-loss` without a namespace;
//! - every fault is destructive here, so it needs the user's confirmation
//!   (a terminal prompt, or `--yes`; the CLI asks, the provider checks);
//! - the cluster is never deleted, and no ownership marker is written.
//!
//! Tools gameday runs against the cluster get a kubeconfig holding only the
//! allowed context (`<repeat dir>/existing.kubeconfig`, mode 0600), so they
//! cannot wander into another one.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::{Backend, Cluster, Context};
use crate::scenario::capabilities::{self, FaultScope};
use crate::scenario::model::{BootstrapMethod, Fault, Scenario};

/// Errors of the existing provider.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario has no `existing` block.
    #[error("provider existing needs spec.cluster.existing (with allowContexts) in the scenario")]
    NoSettings,
    /// The kubeconfig cannot be read.
    #[error("cannot read the kubeconfig {origin}")]
    Kubeconfig {
        /// The file, or `$KUBECONFIG` / `~/.kube/config`.
        origin: String,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// Neither the scenario nor the kubeconfig names a context.
    #[error(
        "no context to use: {origin} has no current-context; set spec.cluster.existing.context"
    )]
    NoContext {
        /// The kubeconfig.
        origin: String,
    },
    /// The context is not allowed.
    #[error(
        "refusing to touch context {context:?}: spec.cluster.existing.allowContexts lists only [{}]; add it there if gameday may break things in that cluster",
        .allowed.join(", ")
    )]
    ContextNotAllowed {
        /// The context in use.
        context: String,
        /// The allowed ones.
        allowed: Vec<String>,
    },
    /// The context is not in the kubeconfig.
    #[error("context {context:?} is not in {origin}")]
    UnknownContext {
        /// The context.
        context: String,
        /// The kubeconfig.
        origin: String,
    },
    /// No client could be built, or the scoped kubeconfig not written.
    #[error("cannot reach context {context:?}: {why}")]
    Client {
        /// The context.
        context: String,
        /// Why.
        why: String,
    },
    /// The API does not answer.
    #[error("the API server of context {context:?} does not answer")]
    Unreachable {
        /// The context.
        context: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// A fault would touch a namespace that is not allowed.
    #[error(
        "refusing {fault}: it would touch namespace {namespace:?}, which spec.cluster.existing.allowNamespaces does not list ([{}])",
        .allowed.join(", ")
    )]
    NamespaceNotAllowed {
        /// The fault.
        fault: &'static str,
        /// The namespace.
        namespace: String,
        /// The allowed ones.
        allowed: Vec<String>,
    },
    /// A fault would touch every namespace or cluster-scoped objects.
    #[error(
        "refusing {fault} without a namespace on an existing cluster: it would touch every namespace or cluster-scoped objects"
    )]
    AllNamespaces {
        /// The fault.
        fault: &'static str,
    },
    /// A fault the provider never injects.
    #[error("refusing {fault} on an existing cluster: {why}")]
    FaultRefused {
        /// The fault.
        fault: &'static str,
        /// Why.
        why: &'static str,
    },
    /// Destructive faults were not confirmed.
    #[error(
        "refusing {fault} on context {context:?}: destructive faults on an existing cluster need confirmation; answer the prompt on a terminal, or pass --yes"
    )]
    NotConfirmed {
        /// The fault.
        fault: &'static str,
        /// The context.
        context: String,
    },
}

/// A cluster gameday does not own.
#[derive(Debug, Clone)]
pub struct ExistingCluster {
    context: String,
    allow_namespaces: Vec<String>,
    bootstrap: BootstrapMethod,
    confirmed: bool,
}

/// Refuses a context that `allowContexts` does not list.
///
/// # Errors
/// [`Error::ContextNotAllowed`].
pub fn check_context(context: &str, allowed: &[String]) -> Result<(), Error> {
    if allowed.iter().any(|a| a == context) {
        Ok(())
    } else {
        Err(Error::ContextNotAllowed {
            context: context.to_owned(),
            allowed: allowed.to_vec(),
        })
    }
}

fn load(path: Option<&Path>) -> Result<(Kubeconfig, String), Error> {
    match path {
        Some(p) => {
            let origin = p.display().to_string();
            Kubeconfig::read_from(p)
                .map(|kc| (kc, origin.clone()))
                .map_err(|source| Error::Kubeconfig { origin, source })
        }
        None => {
            let origin = if std::env::var_os("KUBECONFIG").is_some() {
                "$KUBECONFIG".to_owned()
            } else {
                "~/.kube/config".to_owned()
            };
            Kubeconfig::read()
                .map(|kc| (kc, origin.clone()))
                .map_err(|source| Error::Kubeconfig { origin, source })
        }
    }
}

/// The kubeconfig reduced to one context, its cluster and its user.
pub fn scoped(kc: &Kubeconfig, context: &str) -> Kubeconfig {
    let ctx = kc.contexts.iter().find(|c| c.name == context).cloned();
    let (cluster, user) = ctx
        .as_ref()
        .and_then(|c| c.context.as_ref())
        .map(|c| (c.cluster.clone(), c.user.clone()))
        .unwrap_or_default();
    Kubeconfig {
        current_context: Some(context.to_owned()),
        contexts: ctx.into_iter().collect(),
        clusters: kc
            .clusters
            .iter()
            .filter(|c| c.name == cluster)
            .cloned()
            .collect(),
        auth_infos: kc
            .auth_infos
            .iter()
            .filter(|a| user.as_deref() == Some(a.name.as_str()))
            .cloned()
            .collect(),
        api_version: kc.api_version.clone().or_else(|| Some("v1".to_owned())),
        kind: kc.kind.clone().or_else(|| Some("Config".to_owned())),
        ..Kubeconfig::default()
    }
}

pub(in crate::cluster) async fn connect(
    scenario: &Scenario,
    cx: &Context,
) -> Result<Cluster, crate::cluster::Error> {
    let settings = scenario
        .cluster
        .existing
        .as_ref()
        .ok_or(Error::NoSettings)?;
    let (kc, origin) = load(settings.kubeconfig.as_deref())?;
    let context = settings
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::NoContext {
            origin: origin.clone(),
        })?;
    // The guard rail comes first: nothing has talked to the cluster yet.
    check_context(&context, &settings.allow_contexts)?;
    if !kc.contexts.iter().any(|c| c.name == context) {
        return Err(Error::UnknownContext { context, origin }.into());
    }
    let client_err = |why: String| Error::Client {
        context: context.clone(),
        why,
    };
    let scoped = scoped(&kc, &context);
    let path: PathBuf = cx.dir.join("existing.kubeconfig");
    let yaml = serde_yaml::to_string(&scoped).map_err(|e| client_err(e.to_string()))?;
    std::fs::create_dir_all(&cx.dir).map_err(|e| client_err(e.to_string()))?;
    crate::sim::apiserver::kubeconfig::write(&path, &yaml)
        .map_err(|e| client_err(e.to_string()))?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(scoped, &options)
        .await
        .map_err(|e| client_err(e.to_string()))?;
    let client = kube::Client::try_from(config).map_err(|e| client_err(e.to_string()))?;
    // A read: does it answer?
    client
        .apiserver_version()
        .await
        .map_err(|source| Error::Unreachable {
            context: context.clone(),
            source,
        })?;
    Ok(Cluster {
        name: context.clone(),
        kubeconfig: path,
        client,
        clock: cx.clock.clone(),
        cleanup: None,
        backend: Backend::Existing(ExistingCluster {
            context,
            allow_namespaces: settings.allow_namespaces.clone(),
            bootstrap: scenario.bootstrap.method.clone(),
            confirmed: cx.confirmed,
        }),
    })
}

impl ExistingCluster {
    /// The context in use.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Checks a fault against the guard rails, right before it is injected.
    ///
    /// # Errors
    /// [`Error::FaultRefused`], [`Error::AllNamespaces`],
    /// [`Error::NamespaceNotAllowed`] or [`Error::NotConfirmed`].
    pub fn check_fault(&self, fault: &Fault) -> Result<(), Error> {
        let name = fault.name();
        match capabilities::fault_scope(fault, &self.bootstrap) {
            FaultScope::Cluster => {
                return Err(Error::FaultRefused {
                    fault: name,
                    why: capabilities::why_not(
                        crate::scenario::model::Provider::Existing,
                        fault.kind(),
                    ),
                });
            }
            FaultScope::AllNamespaces => return Err(Error::AllNamespaces { fault: name }),
            FaultScope::Namespace(ns) if !self.allow_namespaces.contains(&ns) => {
                return Err(Error::NamespaceNotAllowed {
                    fault: name,
                    namespace: ns,
                    allowed: self.allow_namespaces.clone(),
                });
            }
            FaultScope::Namespace(_) | FaultScope::Nothing => {}
        }
        if !self.confirmed {
            return Err(Error::NotConfirmed {
                fault: name,
                context: self.context.clone(),
            });
        }
        Ok(())
    }
}

/// What a scenario on an existing cluster will break, one line per fault,
/// for the confirmation prompt. Empty for other providers.
pub fn destructive_plan(s: &Scenario) -> Vec<String> {
    if s.cluster.provider != crate::scenario::model::Provider::Existing {
        return Vec::new();
    }
    let context = s
        .cluster
        .existing
        .as_ref()
        .and_then(|e| e.context.clone())
        .unwrap_or_else(|| "the current context".to_owned());
    s.disaster
        .iter()
        .map(|f| {
            let what = match f {
                Fault::NamespaceLoss { namespace } => format!("delete namespace {namespace}"),
                Fault::ResourceLoss {
                    kind,
                    namespace,
                    target,
                    ..
                } => {
                    let which = match target {
                        crate::scenario::model::ResourceTarget::Name(n) => format!("{kind} {n}"),
                        crate::scenario::model::ResourceTarget::Selector(sel) => {
                            format!("every {kind} matching {sel}")
                        }
                    };
                    format!(
                        "delete {which} in namespace {}",
                        namespace.as_deref().unwrap_or("(all)")
                    )
                }
                Fault::ControllerLoss => match capabilities::fault_scope(f, &s.bootstrap.method) {
                    FaultScope::Namespace(ns) => {
                        format!("delete the GitOps controller (namespace {ns})")
                    }
                    _ => "stop the GitOps reconciler".to_owned(),
                },
                Fault::BadCommit { file, .. } => {
                    format!("commit a breaking change to {file} in the source repository")
                }
                other => format!("{} (refused on existing clusters)", other.name()),
            };
            format!("{}: {what} ({context})", s.name)
        })
        .collect()
}
