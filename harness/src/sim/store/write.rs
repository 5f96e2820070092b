//! Create, replace, mutate and patch (including server-side apply).

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, meta_mut};
use super::state::State;
use super::{ApiError, ApiResult, GroupResource, Gvr, ObjectRef, Patch};
use crate::clock::Clock;
use crate::sim::ownership::apply::{ApplyRequest, apply};
use crate::sim::ownership::managed::{self, Scope};
use crate::sim::registry::{Registry, ResourceType};
use crate::sim::status::Reason;
use crate::sim::{crd, defaults};

/// What a write needs besides the state.
pub(crate) struct Ctx<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) clock: &'a Clock,
}

/// Options of create / update / mutate.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Field manager recorded in managedFields (none recorded when empty).
    pub manager: String,
    /// Validate and return the result without storing it.
    pub dry_run: bool,
}

impl WriteOptions {
    /// Options with a field manager.
    pub fn manager(manager: &str) -> Self {
        WriteOptions {
            manager: manager.to_owned(),
            dry_run: false,
        }
    }
}

/// Options of [`super::Store::patch`].
#[derive(Debug, Clone, Default)]
pub struct PatchOptions {
    /// Field manager (required for apply).
    pub manager: String,
    /// Apply only: take ownership of conflicting fields.
    pub force: bool,
    /// Patch the status subresource.
    pub status: bool,
    /// Validate and return the result without storing it.
    pub dry_run: bool,
}

/// The result of a patch.
#[derive(Debug, Clone)]
pub struct Patched {
    /// The stored object.
    pub object: Arc<Value>,
    /// True when an apply created the object (HTTP 201).
    pub created: bool,
}

/// Whose managedFields a write records.
enum Fields<'a> {
    /// Record an Update by this manager.
    Update(&'a str),
    /// Already computed (server-side apply).
    Keep,
}

fn scope(rt: &ResourceType, status: bool) -> Scope {
    match (status, rt.status) {
        (true, _) => Scope::Status,
        (false, true) => Scope::NoStatus,
        (false, false) => Scope::All,
    }
}

fn is_namespace(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "namespaces"
}

/// The body for a main-resource write: the request's content with the
/// server-owned metadata (and the status, if split) of `old`.
fn main_merge(rt: &ResourceType, old: &Value, mut body: Value) -> Value {
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "managedFields",
        "name",
        "namespace",
    ] {
        let v = old.pointer(&format!("/metadata/{field}")).cloned();
        if let Some(m) = meta_mut(&mut body) {
            match v {
                Some(v) => m.insert(field.to_owned(), v),
                None => m.remove(field),
            };
        }
    }
    if rt.status
        && let Some(m) = body.as_object_mut()
    {
        match old.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    if is_namespace(rt) {
        let fin = old.pointer("/spec/finalizers").cloned();
        if let Some(m) = body.as_object_mut() {
            let spec = m.entry("spec").or_insert_with(|| json!({}));
            if let (Some(s), Some(f)) = (spec.as_object_mut(), fin) {
                s.insert("finalizers".into(), f);
            }
        }
    }
    body
}

/// `old` with the status of `body`.
fn status_merge(old: &Value, body: &Value) -> Value {
    let mut new = old.clone();
    if let Some(m) = new.as_object_mut() {
        match body.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    new
}

fn check_identity(r: &ObjectRef, body: &Value) -> ApiResult<()> {
    let name = meta::name_of(body);
    if !name.is_empty() && name != r.name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            r.name
        )));
    }
    if let (Some(ns), Some(want)) = (meta::namespace_of(body), &r.namespace)
        && &ns != want
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

fn check_precondition(gr: &GroupResource, old: &Value, body: &Value) -> ApiResult<()> {
    match meta::rv_str(body) {
        Some(rv) if Some(rv) != meta::rv_str(old) => {
            Err(ApiError::conflict(gr, meta::name_of(old)))
        }
        _ => Ok(()),
    }
}

impl State {
    /// Commits an object and runs the type hooks (CRD registration).
    fn store_obj(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        obj: Value,
        old: Option<Arc<Value>>,
    ) -> Arc<Value> {
        let gr = rt.group_resource();
        if crd::is_crd(&gr)
            && let Some(t) = crd::resource_type(&obj)
        {
            ctx.registry.register(t);
        }
        self.commit(ctx.clock, &gr, obj, old)
    }

    /// Removes an object and runs the type hooks (CRD unregistration).
    pub(crate) fn remove_obj(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        last: Value,
        old: Arc<Value>,
    ) -> Arc<Value> {
        let gr = rt.group_resource();
        if crd::is_crd(&gr)
            && let Some(t) = crd::resource_type(&last)
        {
            let served = t.group_resource();
            ctx.registry.unregister(&served);
            self.drop_table(&served);
        }
        self.commit_delete(ctx.clock, &gr, last, old)
    }

    pub(crate) fn create(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        gvr: &Gvr,
        ns: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Arc<Value>> {
        self.create_with(
            ctx,
            rt,
            gvr,
            ns,
            body,
            Fields::Update(&opts.manager),
            opts.dry_run,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn create_with(
        &mut self,
        ctx: &Ctx<'_>,
        rt: &ResourceType,
        gvr: &Gvr,
        ns: Option<&str>,
        mut obj: Value,
        fields: Fields<'_>,
        dry_run: bool,
    ) -> ApiResult<Arc<Value>> {
        meta::check_type_meta(rt, gvr, &mut obj)?;
        let gr = rt.group_resource();
        let ns = if rt.namespaced {
            let ns = match (ns, meta::namespace_of(&obj)) {
                (Some(u), Some(b)) if u != b => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                (Some(u), _) => u.to_owned(),
                (None, Some(b)) => b,
                (None, None) => {
                    return Err(ApiError::bad_request(
                        "a namespace is required to create a namespaced object",
                    ));
                }
            };
            if let Some(m) = meta_mut(&mut obj) {
                m.insert("namespace".into(), json!(ns));
            }
            Some(ns)
        } else {
            if let Some(m) = meta_mut(&mut obj) {
                m.remove("namespace");
            }
            None
        };
        if meta::rv_str(&obj).is_some() {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let name = meta::name_for_create(rt, &mut obj, &mut self.rng)?;
        if let Some(ns) = &ns {
            match self.namespace_state(ns) {
                None => {
                    return Err(ApiError::not_found(
                        &GroupResource::new("", "namespaces"),
                        ns,
                    ));
                }
                Some(true) => {
                    let why = format!(
                        "unable to create new content in namespace {ns} because it is being terminated"
                    );
                    return Err(ApiError::forbidden(&gr, &name, &why).with_cause(
                        "NamespaceTerminating",
                        &why,
                        "metadata.namespace",
                    ));
                }
                Some(false) => {}
            }
        }
        if self.get(&gr, ns.as_deref(), &name).is_some() {
            return Err(ApiError::already_exists(&gr, &name));
        }
        let now = meta::rfc3339(ctx.clock.now());
        if let Some(m) = meta_mut(&mut obj) {
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "selfLink",
            ] {
                m.remove(f);
            }
            if matches!(fields, Fields::Update(_)) {
                m.remove("managedFields");
            }
        }
        if rt.status
            && let Some(m) = obj.as_object_mut()
        {
            m.remove("status");
        }
        defaults::apply(rt, &mut obj);
        if crd::is_crd(&gr) {
            crd::prepare(&mut obj, None, &now)?;
        }
        let uid = meta::new_uid(&mut self.rng);
        if let Some(m) = meta_mut(&mut obj) {
            m.insert("uid".into(), json!(uid));
            m.insert("creationTimestamp".into(), json!(now));
            m.insert("generation".into(), json!(1));
        }
        if let Fields::Update(manager) = fields {
            let mut entries = Vec::new();
            managed::record_update(
                &mut entries,
                manager,
                scope(rt, false),
                &gvr.api_version(),
                &now,
                None,
                &obj,
                !rt.custom,
            );
            managed::write(&mut obj, &entries);
        }
        if dry_run {
            return Ok(Arc::new(obj));
        }
        Ok(self.store_obj(ctx, rt, obj, None))
    }

    fn current(&self, rt: &ResourceType, r: &ObjectRef) -> ApiResult<Arc<Value>> {
        let gr = rt.group_resource();
        self.get(&gr, r.namespace.as_deref(), &r.name)
            .ok_or_else(|| ApiError::not_found(&gr, &r.name))
    }

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
        let conflict_err = |conflicts: Vec<crate::sim::ownership::apply::Conflict>| {
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

    #[allow(clippy::too_many_arguments)]
    fn finish_update(
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
