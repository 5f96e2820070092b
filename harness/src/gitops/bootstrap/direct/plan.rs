//! What the direct reconciler applies: the source path rendered, with the
//! Flux Kustomizations of the same repository followed instead of applied.
//!
//! A repository laid out for Flux (`clusters/staging` holding
//! Kustomizations `infrastructure` and `apps` with `sourceRef:
//! {kind: GitRepository, name: flux-system}`) works with the direct method
//! unchanged: each such Kustomization's `spec.path` is rendered in its
//! place — dependencies (`dependsOn`) first, with its `targetNamespace` —
//! as Flux would, recursively. Kustomizations of other sources are applied
//! as objects (and fail without Flux's CRDs, naming themselves).

use std::path::Path;

use crate::gitops::apply::Manifest;
use crate::gitops::bootstrap::flux::sync;
use crate::gitops::render::RenderOptions;
use crate::gitops::tree;

/// One batch of the plan: the objects of one path, applied together.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// `./clusters/staging`, or `Kustomization/apps (./apps/podinfo)`.
    pub label: String,
    /// Its objects.
    pub manifests: Vec<Manifest>,
    /// The Kustomization's `targetNamespace`.
    pub target_namespace: Option<String>,
}

/// Renders `path` of the checkout at `root` into units (see the module
/// docs; the walk is [`tree::scan`]'s).
///
/// # Errors
/// The first rendering error, prefixed with the Kustomization it belongs
/// to.
pub async fn plan(root: &Path, path: &str, opts: &RenderOptions) -> Result<Vec<Unit>, String> {
    let scanned = tree::scan(root, path, sync::NAME, opts).await;
    let mut units = Vec::with_capacity(scanned.units.len());
    for unit in scanned.units {
        if let Some(e) = &unit.error {
            return Err(format!(
                "{}: {}",
                unit.label,
                crate::error_chain::one_line(e)
            ));
        }
        units.push(Unit {
            label: unit.label,
            manifests: unit
                .objects
                .into_iter()
                .filter(|o| !tree::follows(&o.manifest, sync::NAME))
                .map(Manifest::from)
                .collect(),
            target_namespace: unit.target_namespace,
        });
    }
    Ok(units)
}
