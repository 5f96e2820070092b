//! Replace, mutate, and the common end of every update: defaults,
//! generation, managedFields, no-op suppression, finalization.

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, meta_mut};
use super::state::State;
use super::write::{
    Ctx, Fields, WriteOptions, check_identity, check_precondition, is_namespace, main_merge, scope,
    status_merge,
};
use super::{ApiError, ApiResult, Gvr, ObjectRef};
use crate::sim::storage::crd;
use crate::sim::storage::defaults;
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::ownership::managed;

impl State {
    pub(crate) fn replace(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        mut body: Value,
        status: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Arc<Value>> {
        if status && !rt.status {
            return Err(ApiError::unknown_resource());
        }
        let old = self.current(rt, r)?;
        meta::check_type_meta(rt, &r.gvr, &mut body)?;
        check_identity(r, &body)?;
        let gr = rt.group_resource();
        check_precondition(&gr, &old, &body)?;
        if meta::rv_str(&body).is_none() && rt.custom && !status {
            return Err(ApiError::invalid(
                &rt.kind,
                &gr,
                &r.name,
                "metadata.resourceVersion",
                "Invalid value: 0x0: must be specified for an update",
            ));
        }
        self.update_with(ctx, rt, r, old, body, status, opts)
    }

    pub(crate) fn mutate<F>(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        status: bool,
        opts: &WriteOptions,
        f: F,
    ) -> ApiResult<Arc<Value>>
    where
        F: FnOnce(&mut Value) -> ApiResult<()>,
    {
        if status && !rt.status {
            return Err(ApiError::unknown_resource());
        }
        let old = self.current(rt, r)?;
        let mut body = (*old).clone();
        f(&mut body)?;
        self.update_with(ctx, rt, r, old, body, status, opts)
    }

    /// An update of `old` to `body` by `opts.manager`: the status
    /// subresource takes only `status` from `body`, the main resource
    /// everything else.
    #[allow(clippy::too_many_arguments)]
    fn update_with(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        old: Arc<Value>,
        body: Value,
        status: bool,
        opts: &WriteOptions,
    ) -> ApiResult<Arc<Value>> {
        let new = if status {
            status_merge(&old, &body)
        } else {
            main_merge(rt, &old, body)
        };
        self.finish_update(
            ctx,
            rt,
            &r.gvr,
            old,
            new,
            status,
            Fields::Update(&opts.manager),
            opts.dry_run,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish_update(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        gvr: &Gvr,
        old: Arc<Value>,
        mut new: Value,
        status: bool,
        fields: Fields<'_>,
        dry_run: bool,
    ) -> ApiResult<Arc<Value>> {
        let gr = rt.group_resource();
        let now = meta::rfc3339(ctx.clock.now());
        if !status {
            defaults::apply(rt, &mut new);
            if crd::is_crd(&gr) {
                crd::prepare(&mut new, Some(&old), &now)?;
            }
        }
        if meta::is_deleting(&old) {
            let before = meta::finalizers(&old);
            if meta::finalizers(&new).iter().any(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    &rt.kind,
                    &gr,
                    meta::name_of(&old),
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted",
                ));
            }
        }
        if !status && meta::spec_part(&old) != meta::spec_part(&new) {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            if let Some(m) = meta_mut(&mut new) {
                m.insert("generation".into(), json!(generation));
            }
        }
        if let Fields::Update(manager) = fields {
            let mut entries = managed::read(&old);
            managed::record_update(
                &mut entries,
                manager,
                scope(rt, status),
                &gvr.api_version(),
                &now,
                Some(&old),
                &new,
                !rt.custom,
            );
            managed::write(&mut new, &entries);
        }
        if meta::same_content(&old, &new) && same_owners(&old, &new) {
            return Ok(old);
        }
        if dry_run {
            return Ok(Arc::new(new));
        }
        let pending_ns_finalizers = is_namespace(rt)
            && new
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        if meta::is_deleting(&new) && meta::finalizers(&new).is_empty() && !pending_ns_finalizers {
            return Ok(self.remove_obj(ctx, rt, new, old));
        }
        Ok(self.store_obj(ctx, rt, new, Some(old)))
    }

    /// Replaces `spec.finalizers` of a terminating namespace (the
    /// `finalize` subresource).
    pub(crate) fn finalize_namespace(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        r: &ObjectRef,
        finalizers: Value,
    ) -> ApiResult<Arc<Value>> {
        let old = self.current(rt, r)?;
        let mut new = (*old).clone();
        new["spec"]["finalizers"] = finalizers;
        self.finish_update(ctx, rt, &r.gvr, old, new, false, Fields::Update(""), false)
    }
}

fn same_owners(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| -> Vec<(String, String, Option<String>, Value)> {
        managed::read(v)
            .into_iter()
            .map(|e| {
                (
                    e.manager,
                    format!("{:?}", e.operation),
                    e.subresource,
                    e.fields.to_fields_v1(),
                )
            })
            .collect()
    };
    strip(a) == strip(b)
}
