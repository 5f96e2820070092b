//! Deletion: preconditions, finalizers, `deletionTimestamp`, propagation.

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, meta_mut};
use super::state::State;
use super::write::Ctx;
use super::{ApiError, ApiResult, ObjectRef};
use crate::sim::storage::kinds::ResourceType;

/// How dependents (objects whose `ownerReferences` name the deleted
/// object) are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Remove the owner now; the garbage collector deletes dependents.
    #[default]
    Background,
    /// Delete dependents first; the owner waits (`foregroundDeletion` finalizer).
    Foreground,
    /// Keep dependents, strip their owner references (`orphan` finalizer).
    Orphan,
}

impl Propagation {
    /// Parses `Background` / `Foreground` / `Orphan`.
    pub fn parse(s: &str) -> Option<Propagation> {
        match s {
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            "Orphan" => Some(Propagation::Orphan),
            _ => None,
        }
    }
}

/// Options of a delete.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Propagation policy (Background when None).
    pub propagation: Option<Propagation>,
    /// Precondition: the object's uid.
    pub uid: Option<String>,
    /// Precondition: the object's resourceVersion.
    pub resource_version: Option<String>,
    /// Validate and return without deleting.
    pub dry_run: bool,
}

/// The outcome of a delete.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object is gone (its last state, with the deletion's revision).
    Removed(Arc<Value>),
    /// The object got a `deletionTimestamp` and waits for its finalizers.
    Pending(Arc<Value>),
}

impl Deleted {
    /// The object, whichever the outcome.
    pub fn into_object(self) -> Arc<Value> {
        match self {
            Deleted::Removed(o) | Deleted::Pending(o) => o,
        }
    }
}

/// Namespaces that cannot be deleted.
pub const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public"];

/// Finalizer the garbage collector removes after deleting dependents.
pub const FOREGROUND: &str = "foregroundDeletion";
/// Finalizer the garbage collector removes after orphaning dependents.
pub const ORPHAN: &str = "orphan";

impl State {
    pub(crate) fn delete(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        opts: &DeleteOptions,
    ) -> ApiResult<Deleted> {
        let gr = rt.group_resource();
        let old = self
            .get(&gr, r.namespace.as_deref(), &r.name)
            .ok_or_else(|| ApiError::not_found(&gr, &r.name))?;
        if let Some(uid) = &opts.uid
            && meta::uid_of(&old) != Some(uid.as_str())
        {
            return Err(ApiError::conflict_msg(
                &gr,
                &r.name,
                format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta::uid_of(&old).unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &opts.resource_version
            && meta::rv_str(&old) != Some(rv.as_str())
        {
            return Err(ApiError::conflict_msg(
                &gr,
                &r.name,
                format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta::rv_str(&old).unwrap_or_default()
                ),
            ));
        }
        let is_ns = rt.group.is_empty() && rt.plural == "namespaces";
        if is_ns && IMMORTAL_NAMESPACES.contains(&r.name.as_str()) {
            return Err(ApiError::forbidden(
                &gr,
                &r.name,
                "this namespace may not be deleted",
            ));
        }
        if meta::is_deleting(&old) {
            return Ok(Deleted::Pending(old));
        }
        let mut finalizers = meta::finalizers(&old);
        let has_dependents =
            meta::uid_of(&old).is_some_and(|u| !self.dependents(u, ctx.registry).is_empty());
        match opts.propagation.unwrap_or_default() {
            Propagation::Foreground if has_dependents => finalizers.push(FOREGROUND.into()),
            Propagation::Orphan if has_dependents => finalizers.push(ORPHAN.into()),
            _ => {}
        }
        finalizers.dedup();
        let ns_pending = is_ns
            && old
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        let mut new = (*old).clone();
        if finalizers.is_empty() && !ns_pending {
            if opts.dry_run {
                return Ok(Deleted::Removed(old));
            }
            return Ok(Deleted::Removed(self.remove_obj(ctx, rt, new, old)));
        }
        let now = meta::rfc3339(ctx.clock.now());
        let had_finalizers =
            !meta::finalizers(&old).is_empty() || finalizers.len() > meta::finalizers(&old).len();
        if let Some(m) = meta_mut(&mut new) {
            m.insert("deletionTimestamp".into(), json!(now));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            if !finalizers.is_empty() {
                m.insert("finalizers".into(), json!(finalizers));
            }
            if had_finalizers {
                let generation = m.get("generation").and_then(Value::as_i64).unwrap_or(0) + 1;
                m.insert("generation".into(), json!(generation));
            }
        }
        if is_ns && let Some(m) = new.as_object_mut() {
            let status = m.entry("status").or_insert_with(|| json!({}));
            if !status.is_object() {
                *status = json!({});
            }
            status["phase"] = json!("Terminating");
        }
        if opts.dry_run {
            return Ok(Deleted::Pending(Arc::new(new)));
        }
        Ok(Deleted::Pending(self.commit(
            ctx.clock,
            &gr,
            new,
            Some(old),
        )))
    }
}
