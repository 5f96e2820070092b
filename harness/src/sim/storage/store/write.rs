//! Create, replace, mutate and patch (including server-side apply).

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{self, meta_mut};
use super::state::State;
use super::{ApiError, ApiResult, GroupResource, Gvr, ObjectRef};
use crate::clock::Clock;
use crate::sim::storage::kinds::{Registry, ResourceType};
use crate::sim::storage::ownership::managed::{self, Scope};
use crate::sim::storage::{crd, defaults};

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
pub(super) enum Fields<'a> {
    /// Record an Update by this manager.
    Update(&'a str),
    /// Already computed (server-side apply).
    Keep,
}

pub(super) fn scope(rt: &ResourceType, status: bool) -> Scope {
    match (status, rt.status) {
        (true, _) => Scope::Status,
        (false, true) => Scope::NoStatus,
        (false, false) => Scope::All,
    }
}

pub(super) fn is_namespace(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "namespaces"
}

/// The body for a main-resource write: the request's content with the
/// server-owned metadata (and the status, if split) of `old`.
pub(super) fn main_merge(rt: &ResourceType, old: &Value, mut body: Value) -> Value {
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
pub(super) fn status_merge(old: &Value, body: &Value) -> Value {
    let mut new = old.clone();
    if let Some(m) = new.as_object_mut() {
        match body.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    new
}

pub(super) fn check_identity(r: &ObjectRef, body: &Value) -> ApiResult<()> {
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

pub(super) fn check_precondition(gr: &GroupResource, old: &Value, body: &Value) -> ApiResult<()> {
    match meta::rv_str(body) {
        Some(rv) if Some(rv) != meta::rv_str(old) => {
            Err(ApiError::conflict(gr, meta::name_of(old)))
        }
        _ => Ok(()),
    }
}

impl State {
    /// Commits an object and runs the type hooks (CRD registration).
    pub(super) fn store_obj(
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
    pub(super) fn create_with(
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

    pub(super) fn current(&self, rt: &ResourceType, r: &ObjectRef) -> ApiResult<Arc<Value>> {
        let gr = rt.group_resource();
        self.get(&gr, r.namespace.as_deref(), &r.name)
            .ok_or_else(|| ApiError::not_found(&gr, &r.name))
    }
}
