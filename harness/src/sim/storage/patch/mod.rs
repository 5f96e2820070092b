//! Patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! strategic merge patch (built-in types).

pub mod merge;
pub mod strategic;

use serde_json::Value;

use super::status::{ApiError, ApiResult};

/// A patch, as the `Content-Type` of a PATCH request selects it.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// `application/merge-patch+json`.
    Merge(Value),
    /// `application/json-patch+json`.
    Json(json_patch::Patch),
    /// `application/strategic-merge-patch+json` (built-in types only).
    Strategic(Value),
    /// `application/apply-patch+yaml`: server-side apply.
    Apply(Value),
}

impl Patch {
    /// The patch's body for a `Content-Type` (parsing JSON, or YAML for apply).
    ///
    /// # Errors
    /// 415 for an unknown type, 400 for a body that does not parse.
    pub fn parse(content_type: &str, body: &[u8]) -> ApiResult<Patch> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        let json = || -> ApiResult<Value> {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
        };
        match mime {
            "application/merge-patch+json" => Ok(Patch::Merge(json()?)),
            "application/strategic-merge-patch+json" => Ok(Patch::Strategic(json()?)),
            "application/json-patch+json" => serde_json::from_slice(body)
                .map(Patch::Json)
                .map_err(|e| ApiError::bad_request(format!("error decoding JSON patch: {e}"))),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                let v = match serde_json::from_slice::<Value>(body) {
                    Ok(v) => v,
                    Err(_) => {
                        crate::nesting::check(body, crate::nesting::MAX_DEPTH).map_err(|e| {
                            ApiError::bad_request(format!("error decoding YAML: the body {e}"))
                        })?;
                        serde_yaml::from_slice::<Value>(body).map_err(|e| {
                            ApiError::bad_request(format!("error decoding YAML: {e}"))
                        })?
                    }
                };
                if !v.is_object() {
                    return Err(ApiError::bad_request("the apply body must be an object"));
                }
                Ok(Patch::Apply(v))
            }
            _ => Err(ApiError::unsupported_patch()),
        }
    }

    /// Applies a merge, JSON or strategic patch to `target` (not apply).
    ///
    /// # Errors
    /// 422 when a JSON patch operation fails (bad path, failed `test`);
    /// 500 if called with an apply patch.
    pub fn apply_to(&self, target: &Value, builtin: bool) -> ApiResult<Value> {
        match self {
            Patch::Merge(p) => Ok(merge::merge_patch(target, p)),
            Patch::Strategic(p) => strategic::patch(target, p, builtin),
            Patch::Json(p) => {
                let mut out = target.clone();
                json_patch::patch(&mut out, p).map_err(|e| {
                    ApiError::new(
                        super::status::Reason::Invalid,
                        format!(
                            "the server rejected our request due to an error in our request: {e}"
                        ),
                    )
                })?;
                Ok(out)
            }
            Patch::Apply(_) => Err(ApiError::internal("apply is not a plain patch")),
        }
    }
}
