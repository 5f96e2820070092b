//! PATCH: merge, JSON and strategic patches, and server-side apply.

use serde_json::{Value, json};

use super::meta::{self, meta_mut};
use super::state::State;
use super::write::{
    Ctx, Fields, PatchOptions, check_identity, check_precondition, main_merge, scope, status_merge,
};
use super::{ApiError, ApiResult, ObjectRef, Patch};
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::ownership::apply::{ApplyRequest, apply};
use crate::sim::storage::status::Reason;

impl State {
    pub(crate) fn patch(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        patch: &Patch,
        opts: &PatchOptions,
    ) -> ApiResult<super::Patched> {
        if opts.status && !rt.status {
            return Err(ApiError::unknown_resource());
        }
        let gr = rt.group_resource();
        let Patch::Apply(cfg) = patch else {
            if opts.force {
                return Err(ApiError::new(
                    Reason::Invalid,
                    "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
                ));
            }
            let old = self.current(rt, r)?;
            let mut patched = patch.apply_to(&old, !rt.custom)?;
            meta::check_type_meta(rt, &r.gvr, &mut patched)?;
            check_identity(r, &patched)?;
            check_precondition(&gr, &old, &patched)?;
            let new = if opts.status {
                status_merge(&old, &patched)
            } else {
                main_merge(rt, &old, patched)
            };
            let object = self.finish_update(
                ctx,
                rt,
                &r.gvr,
                old,
                new,
                opts.status,
                Fields::Update(&opts.manager),
                opts.dry_run,
            )?;
            return Ok(super::Patched {
                object,
                created: false,
            });
        };
        if opts.manager.is_empty() {
            return Err(ApiError::new(Reason::Invalid, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
                .with_cause("FieldValueRequired", "Required value: is required for apply patch", "fieldManager"));
        }
        let mut cfg = cfg.clone();
        for field in ["apiVersion", "kind"] {
            if cfg
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request(format!(
                    "invalid object type: {field} must be set in an apply configuration"
                )));
            }
        }
        meta::check_type_meta(rt, &r.gvr, &mut cfg)?;
        check_identity(r, &cfg)?;
        if let Some(m) = meta_mut(&mut cfg) {
            m.insert("name".into(), json!(r.name));
            m.remove("managedFields");
            if let Some(ns) = &r.namespace
                && rt.namespaced
            {
                m.insert("namespace".into(), json!(ns));
            }
        }
        let now = meta::rfc3339(ctx.clock.now());
        let api_version = r.gvr.api_version();
        let req = ApplyRequest {
            manager: &opts.manager,
            force: opts.force,
            scope: scope(rt, opts.status),
            api_version: &api_version,
            time: &now,
            builtin: !rt.custom,
        };
        let conflict_err = |conflicts: Vec<crate::sim::storage::ownership::apply::Conflict>| {
            let mut e = ApiError::conflict(&gr, &r.name);
            e.message = format!(
                "Apply failed with {} conflict{}: {}",
                conflicts.len(),
                if conflicts.len() == 1 { "" } else { "s" },
                conflicts
                    .iter()
                    .map(|c| format!("conflict with \"{}\": {}", c.manager, c.field))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            for c in &conflicts {
                e = e.with_cause(
                    "FieldManagerConflict",
                    &format!("conflict with \"{}\"", c.manager),
                    &c.field,
                );
            }
            e
        };
        match self.get(&gr, r.namespace.as_deref(), &r.name) {
            None => {
                if opts.status {
                    return Err(ApiError::not_found(&gr, &r.name));
                }
                if meta::rv_str(&cfg).is_some() {
                    return Err(ApiError::not_found(&gr, &r.name));
                }
                let mut skeleton = json!({"apiVersion": cfg["apiVersion"], "kind": cfg["kind"], "metadata": {"name": r.name}});
                if let Some(ns) = &r.namespace
                    && rt.namespaced
                {
                    skeleton["metadata"]["namespace"] = json!(ns);
                }
                let obj = apply(&skeleton, &cfg, &req).map_err(conflict_err)?;
                let object = self.create_with(
                    ctx,
                    rt,
                    &r.gvr,
                    r.namespace.as_deref(),
                    obj,
                    Fields::Keep,
                    opts.dry_run,
                )?;
                Ok(super::Patched {
                    object,
                    created: true,
                })
            }
            Some(old) => {
                check_precondition(&gr, &old, &cfg)?;
                if let Some(m) = meta_mut(&mut cfg) {
                    m.remove("resourceVersion");
                }
                let merged = apply(&old, &cfg, &req).map_err(conflict_err)?;
                let new = if opts.status {
                    status_merge(&old, &merged)
                } else {
                    main_merge_keep_fields(rt, &old, merged)
                };
                let object = self.finish_update(
                    ctx,
                    rt,
                    &r.gvr,
                    old,
                    new,
                    opts.status,
                    Fields::Keep,
                    opts.dry_run,
                )?;
                Ok(super::Patched {
                    object,
                    created: false,
                })
            }
        }
    }
}

/// [`main_merge`] for apply results, which carry their own managedFields.
fn main_merge_keep_fields(rt: &ResourceType, old: &Value, merged: Value) -> Value {
    let fields = merged.pointer("/metadata/managedFields").cloned();
    let mut out = main_merge(rt, old, merged);
    if let Some(m) = meta_mut(&mut out) {
        match fields {
            Some(f) => m.insert("managedFields".into(), f),
            None => m.remove("managedFields"),
        };
    }
    out
}
