//! What the direct reconciler applies: the source path rendered, with the
//! Flux Kustomizations of the same repository followed instead of applied.
//!
//! A repository laid out for Flux (`clusters/staging` holding
//! Kustomizations `infrastructure` and `apps` with `sourceRef:
//! {kind: GitRepository, name: flux-system}`) works with the direct method
//! unchanged: each such Kustomization's `spec.path` is rendered in its
//! place — dependencies (`dependsOn`) first, built as kustomize-controller
//! builds it ([`crate::gitops::render::fluxbuild`]) —
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
    /// How many Flux Kustomizations of this source the path rendered
    /// (followed, not applied, by the direct method; Flux applies them).
    pub followed: usize,
}

/// Objects a plan's units apply (the followed Kustomizations not counted).
pub fn object_count(units: &[Unit]) -> usize {
    units.iter().map(|u| u.manifests.len()).sum()
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
            return Err(format!("{}: {e}", unit.label));
        }
        let (followed, manifests): (Vec<_>, Vec<_>) = unit
            .objects
            .into_iter()
            .partition(|o| tree::follows(&o.manifest, sync::NAME));
        units.push(Unit {
            label: unit.label,
            manifests: manifests.into_iter().map(Manifest::from).collect(),
            followed: followed.len(),
        });
    }
    Ok(units)
}
