//! Request dispatch: authentication, injected faults, routing.

use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::{Method, Request};
use hyper::body::Incoming;
use serde_json::json;

use super::inject::ErrorInjector;
use super::negotiate::{self, Output};
use super::query::Query;
use super::response::{self, Resp};
use super::route::{self, Route};
use super::{handlers, list::Snapshots};
use crate::sim::apiserver::discovery;
use crate::sim::apiserver::openapi;
use crate::sim::storage::status::{ApiError, Reason};
use crate::sim::storage::store::Store;

/// What `/version` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    /// Major, e.g. `1`.
    pub major: u32,
    /// Minor, e.g. `33`.
    pub minor: u32,
    /// Patch, e.g. `0`.
    pub patch: u32,
}

impl Default for KubeVersion {
    fn default() -> Self {
        KubeVersion {
            major: 1,
            minor: 33,
            patch: 0,
        }
    }
}

impl KubeVersion {
    /// Parses `v1.33.0` / `1.33` / `1.33.2`.
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let mut it = s.trim_start_matches('v').split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = it.next().map(|p| p.parse()).transpose().ok()?.unwrap_or(0);
        Some(KubeVersion {
            major,
            minor,
            patch,
        })
    }

    /// `v1.33.0`.
    pub fn git_version(&self) -> String {
        format!("v{}.{}.{}", self.major, self.minor, self.patch)
    }

    fn document(&self) -> serde_json::Value {
        json!({"major": self.major.to_string(), "minor": self.minor.to_string(),
            "emulationMajor": self.major.to_string(), "emulationMinor": self.minor.to_string(),
            "minCompatibilityMajor": self.major.to_string(), "minCompatibilityMinor": self.minor.saturating_sub(1).to_string(),
            "gitVersion": self.git_version(), "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-04-23T00:00:00Z", "goVersion": "go1.24.2",
            "compiler": "gc", "platform": "linux/amd64"})
    }
}

/// Server-wide settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer token every request must carry (None: no authentication).
    pub token: Option<String>,
    /// `/version`.
    pub version: KubeVersion,
    /// Idle time after which a watch with bookmarks gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// `host:port` for `serverAddressByClientCIDRs`.
    pub address: String,
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct ApiState {
    /// The object store.
    pub store: Store,
    /// Settings.
    pub config: ServerConfig,
    /// Injected errors.
    pub faults: ErrorInjector,
    /// List pagination snapshots.
    pub snapshots: Snapshots,
    /// Requests in flight (see [`super::limits`]).
    pub in_flight: super::limits::InFlight,
}

/// The field manager of a non-apply write: `fieldManager`, else the
/// User-Agent's program name.
pub fn manager(q: &Query, headers: &http::HeaderMap) -> String {
    if let Some(m) = q.get("fieldManager") {
        return m.to_owned();
    }
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn authorized(state: &ApiState, headers: &http::HeaderMap, route: &Route) -> Result<(), ApiError> {
    let Some(token) = &state.config.token else {
        return Ok(());
    };
    let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match given {
        Some(h) if h.strip_prefix("Bearer ").is_some_and(|t| t.trim() == token) => Ok(()),
        // Anonymous callers may read health and version, as on a real cluster.
        None if matches!(route, Route::Health | Route::Version) => Ok(()),
        _ => Err(ApiError::new(Reason::Unauthorized, "Unauthorized")),
    }
}

/// Refuses a `dryRun` other than `All` before anything is done, as the API
/// server's options validation does: an unknown directive must never
/// persist as if it were no dry run at all.
fn dry_run_supported(method: &Method, q: &Query) -> Result<(), ApiError> {
    let Some(value) = q.get("dryRun") else {
        return Ok(());
    };
    if value == "All" {
        return Ok(());
    }
    let options = match *method {
        Method::POST => "CreateOptions",
        Method::PUT => "UpdateOptions",
        Method::PATCH => "PatchOptions",
        Method::DELETE => "DeleteOptions",
        _ => return Ok(()),
    };
    Err(ApiError::new(
        Reason::Invalid,
        format!(
            "{options}.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{{\"{value}\"}}: supported values: \"All\""
        ),
    ))
}

/// Serves one request. Holds a Busy guard while doing so: simulated time
/// does not move while the API is answering (watches release it once
/// their stream is set up).
pub async fn handle(state: Arc<ApiState>, req: Request<Incoming>) -> Resp {
    let _busy = state.store.busy();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let route = route::parse(&path);
    if let Err(e) = authorized(&state, &parts.headers, &route) {
        return response::error(&e);
    }
    if let Some(e) = state.faults.check(&parts.method, &path) {
        return response::error(&e);
    }
    let q = Query::parse(parts.uri.query());
    let _slot = match state.in_flight.admit(&parts.method, q.flag("watch")) {
        Ok(slot) => slot,
        Err(e) => return response::error(&e),
    };
    if let Err(e) = dry_run_supported(&parts.method, &q) {
        return response::error(&e);
    }
    let accept = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let registry = state.store.registry();
    let result: Result<Resp, ApiError> = async {
        if !matches!(route, Route::Resource(_)) && parts.method != Method::GET {
            return Err(ApiError::new(
                Reason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ));
        }
        let discovery_output = || negotiate::choose(accept.as_deref(), None, true);
        Ok(match &route {
            Route::Version => response::json(200, &state.config.version.document()),
            Route::Health => response::text(200, "ok"),
            Route::CoreVersions => match discovery_output()? {
                Output::Aggregated => response::discovery(
                    &discovery::aggregated_core(registry),
                    discovery::AGGREGATED_CONTENT_TYPE,
                ),
                _ => response::discovery(
                    &discovery::core_versions(&state.config.address),
                    "application/json",
                ),
            },
            Route::Groups => match discovery_output()? {
                Output::Aggregated => response::discovery(
                    &discovery::aggregated_groups(registry),
                    discovery::AGGREGATED_CONTENT_TYPE,
                ),
                _ => response::discovery(&discovery::group_list(registry), "application/json"),
            },
            Route::Group(g) => {
                let doc = discovery::group(registry, g).ok_or_else(ApiError::unknown_resource)?;
                response::discovery(&doc, "application/json")
            }
            Route::ResourceList { group, version } => {
                if group.is_empty() && version != "v1" {
                    return Err(ApiError::unknown_resource());
                }
                let doc = discovery::resource_list(registry, group, version)
                    .ok_or_else(ApiError::unknown_resource)?;
                response::discovery(&doc, "application/json")
            }
            Route::OpenApiIndex => {
                response::discovery(&openapi::index(registry), "application/json")
            }
            Route::OpenApiDoc { group, version } => {
                let doc = openapi::document(
                    registry,
                    group,
                    version,
                    &state.config.version.git_version(),
                )
                .ok_or_else(ApiError::unknown_resource)?;
                response::discovery(&doc, "application/json")
            }
            Route::Resource(rp) => return handlers::resource(&state, parts, body, rp, &q).await,
            Route::Unknown => return Err(ApiError::unknown_resource()),
        })
    }
    .await;
    result.unwrap_or_else(|e| response::error(&e))
}
