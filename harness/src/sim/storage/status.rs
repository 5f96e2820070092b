//! Kubernetes API errors ([`ApiError`]) and their wire form, the `Status` object.
//!
//! Every failure of the store and of the HTTP server is an [`ApiError`]; the
//! server renders it as a `Status` body with the HTTP code, `reason`,
//! `message` and `details` that kube-rs and kubectl branch on.

use serde_json::{Map, Value, json};

use super::resource::GroupResource;

/// The machine-readable `reason` of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// 400: malformed request (body, selector, token, query).
    BadRequest,
    /// 401: missing or wrong bearer token.
    Unauthorized,
    /// 403: forbidden (terminating namespace, immortal namespace).
    Forbidden,
    /// 404: no such object or resource.
    NotFound,
    /// 405: the verb is not supported on this path.
    MethodNotAllowed,
    /// 406: no acceptable response media type.
    NotAcceptable,
    /// 409: the name is taken.
    AlreadyExists,
    /// 409: a precondition (resourceVersion, uid, apply ownership) failed.
    Conflict,
    /// 410: the requested resourceVersion or continue token is too old.
    Expired,
    /// 413: the request body is too large.
    RequestEntityTooLarge,
    /// 415: the body's media type is not supported.
    UnsupportedMediaType,
    /// 422: the object failed validation.
    Invalid,
    /// 429: throttled (fault injection).
    TooManyRequests,
    /// 500: internal error.
    InternalError,
    /// 503: unavailable (fault injection).
    ServiceUnavailable,
    /// 504: timeout (fault injection).
    Timeout,
}

impl Reason {
    /// The wire name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::NotAcceptable => "NotAcceptable",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Expired => "Expired",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::Invalid => "Invalid",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::InternalError => "InternalError",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::Timeout => "Timeout",
        }
    }

    /// The HTTP status code that goes with the reason.
    pub fn code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::NotAcceptable => 406,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Expired => 410,
            Reason::RequestEntityTooLarge => 413,
            Reason::UnsupportedMediaType => 415,
            Reason::Invalid => 422,
            Reason::TooManyRequests => 429,
            Reason::InternalError => 500,
            Reason::ServiceUnavailable => 503,
            Reason::Timeout => 504,
        }
    }

    /// The reason for an injectable HTTP code (429, 500, 503, 504, ...).
    pub fn for_code(code: u16) -> Reason {
        match code {
            400 => Reason::BadRequest,
            401 => Reason::Unauthorized,
            403 => Reason::Forbidden,
            404 => Reason::NotFound,
            405 => Reason::MethodNotAllowed,
            409 => Reason::Conflict,
            410 => Reason::Expired,
            422 => Reason::Invalid,
            429 => Reason::TooManyRequests,
            503 => Reason::ServiceUnavailable,
            504 => Reason::Timeout,
            _ => Reason::InternalError,
        }
    }
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// e.g. `FieldValueInvalid`, `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// Field path, e.g. `metadata.name`.
    pub field: String,
}

/// A failed API call, rendered as a Kubernetes `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({} {})", reason.code(), reason.as_str())]
pub struct ApiError {
    /// Reason (and thereby the HTTP code, unless `code` overrides it).
    pub reason: Reason,
    /// HTTP code.
    pub code: u16,
    /// Human-readable message, in the real API server's words.
    pub message: String,
    /// `details.name`.
    pub name: Option<String>,
    /// `details.group` and `details.kind` (the plural).
    pub resource: Option<GroupResource>,
    /// `details.causes`.
    pub causes: Vec<Cause>,
    /// `details.retryAfterSeconds` (and a `Retry-After` header).
    pub retry_after: Option<u32>,
}

/// The result type of store and server operations.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a reason and message and no details.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            reason,
            code: reason.code(),
            message: message.into(),
            name: None,
            resource: None,
            causes: Vec::new(),
            retry_after: None,
        }
    }

    fn with_target(mut self, gr: &GroupResource, name: &str) -> Self {
        self.resource = Some(gr.clone());
        self.name = Some(name.to_owned());
        self
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(Reason::BadRequest, message)
    }

    /// 404 for an object: `configmaps "x" not found`.
    pub fn not_found(gr: &GroupResource, name: &str) -> Self {
        ApiError::new(
            Reason::NotFound,
            format!("{} \"{name}\" not found", gr.qualified()),
        )
        .with_target(gr, name)
    }

    /// 404 for an unknown path or resource type.
    pub fn unknown_resource() -> Self {
        ApiError::new(
            Reason::NotFound,
            "the server could not find the requested resource",
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(gr: &GroupResource, name: &str) -> Self {
        ApiError::new(
            Reason::AlreadyExists,
            format!("{} \"{name}\" already exists", gr.qualified()),
        )
        .with_target(gr, name)
    }

    /// 409 Conflict on a stale resourceVersion or failed precondition.
    pub fn conflict(gr: &GroupResource, name: &str) -> Self {
        ApiError::new(
            Reason::Conflict,
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                gr.qualified()
            ),
        )
        .with_target(gr, name)
    }

    /// 409 Conflict with a custom message (e.g. a uid precondition).
    pub fn conflict_msg(gr: &GroupResource, name: &str, message: impl Into<String>) -> Self {
        let mut e = ApiError::conflict(gr, name);
        e.message = message.into();
        e
    }

    /// 410 Expired.
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError::new(Reason::Expired, message)
    }

    /// 422 Invalid: `<Kind> "<name>" is invalid: <field>: <detail>`.
    pub fn invalid(kind: &str, gr: &GroupResource, name: &str, field: &str, detail: &str) -> Self {
        let qualified_kind = if gr.group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{}", gr.group)
        };
        let mut e = ApiError::new(
            Reason::Invalid,
            format!("{qualified_kind} \"{name}\" is invalid: {field}: {detail}"),
        )
        .with_target(gr, name);
        e.causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: detail.to_owned(),
            field: field.to_owned(),
        });
        e
    }

    /// 403 Forbidden.
    pub fn forbidden(gr: &GroupResource, name: &str, why: &str) -> Self {
        ApiError::new(
            Reason::Forbidden,
            format!("{} \"{name}\" is forbidden: {why}", gr.qualified()),
        )
        .with_target(gr, name)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(Reason::InternalError, message)
    }

    /// 415 for a patch type the resource does not support.
    pub fn unsupported_patch() -> Self {
        ApiError::new(
            Reason::UnsupportedMediaType,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )
    }

    /// Adds a cause to `details.causes`.
    pub fn with_cause(mut self, reason: &str, message: &str, field: &str) -> Self {
        self.causes.push(Cause {
            reason: reason.to_owned(),
            message: message.to_owned(),
            field: field.to_owned(),
        });
        self
    }

    /// True for 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.reason == Reason::NotFound
    }

    /// True for 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.reason == Reason::Conflict
    }

    /// The `Status` object, as served.
    pub fn to_status(&self) -> Value {
        let mut details = Map::new();
        if let Some(name) = &self.name {
            details.insert("name".into(), json!(name));
        }
        if let Some(gr) = &self.resource {
            if !gr.group.is_empty() {
                details.insert("group".into(), json!(gr.group));
            }
            details.insert("kind".into(), json!(gr.resource));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(secs) = self.retry_after {
            details.insert("retryAfterSeconds".into(), json!(secs));
        }
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
            "details": Value::Object(details),
            "code": self.code,
        })
    }
}

/// A success `Status` (what DELETE returns for most types).
pub fn success_status(gr: &GroupResource, name: &str, uid: Option<&str>) -> Value {
    let mut details = json!({"name": name, "kind": gr.resource});
    if !gr.group.is_empty() {
        details["group"] = json!(gr.group);
    }
    if let Some(uid) = uid {
        details["uid"] = json!(uid);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_group_qualified_plural() {
        let e = ApiError::not_found(
            &GroupResource::new("kustomize.toolkit.fluxcd.io", "kustomizations"),
            "x",
        );
        let s = e.to_status();
        assert_eq!(
            s["message"],
            "kustomizations.kustomize.toolkit.fluxcd.io \"x\" not found"
        );
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["group"], "kustomize.toolkit.fluxcd.io");
        assert_eq!(s["details"]["kind"], "kustomizations");
    }

    #[test]
    fn unknown_resource_has_empty_details() {
        let s = ApiError::unknown_resource().to_status();
        assert_eq!(s["details"], json!({}));
        assert_eq!(s["reason"], "NotFound");
    }
}
