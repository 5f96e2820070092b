//! Fault hooks the drill runner calls (a Rust API, not Kubernetes API):
//! API outages, injected errors on routes, watch-history compaction,
//! closing watches, destroying the cluster. See the `impl SimCluster`
//! block below for the hooks themselves, and [`nodes`] for losing and
//! restoring nodes.

pub mod nodes;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::Method;

use super::cluster::SimCluster;
use super::status::{ApiError, Reason};

/// An injected error on matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRule {
    /// Only this method (all when None).
    pub method: Option<Method>,
    /// Path glob: `*` matches any run of characters, e.g.
    /// `/apis/apps/v1/*` or `*/configmaps*`.
    pub path: String,
    /// HTTP code: 429, 500, 503 or 504 (others are accepted too).
    pub code: u16,
    /// `Retry-After` seconds (and `details.retryAfterSeconds`).
    pub retry_after: Option<u32>,
    /// How many requests to fail (forever when None).
    pub count: Option<u32>,
}

impl ErrorRule {
    /// Fails every request matching `path` with `code`.
    pub fn new(path: &str, code: u16) -> Self {
        ErrorRule {
            method: None,
            path: path.to_owned(),
            code,
            retry_after: None,
            count: None,
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, m: Method) -> Self {
        self.method = Some(m);
        self
    }

    /// With a `Retry-After`.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }
}

/// Handle of an injected rule, to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(u64);

/// The set of injected error rules of one cluster.
#[derive(Debug, Clone, Default)]
pub struct ErrorInjector {
    rules: Arc<Mutex<Vec<(RuleId, ErrorRule)>>>,
    next: Arc<AtomicU64>,
}

/// `*` glob match.
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(p) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(idx) => rest = &rest[idx + p.len()..],
                None => return false,
            }
        }
    }
    true
}

impl ErrorInjector {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(RuleId, ErrorRule)>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule.
    pub fn add(&self, rule: ErrorRule) -> RuleId {
        let id = RuleId(self.next.fetch_add(1, Ordering::Relaxed));
        self.lock().push((id, rule));
        id
    }

    /// Removes a rule.
    pub fn remove(&self, id: RuleId) {
        self.lock().retain(|(i, _)| *i != id);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The error for this request, if a rule matches (counting it down).
    pub fn check(&self, method: &Method, path: &str) -> Option<ApiError> {
        let mut rules = self.lock();
        let idx = rules.iter().position(|(_, r)| {
            r.method.as_ref().is_none_or(|m| m == method) && glob(&r.path, path)
        })?;
        let rule = rules[idx].1.clone();
        if let Some(n) = rules[idx].1.count.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                rules.remove(idx);
            }
        }
        let reason = Reason::for_code(rule.code);
        let message = match rule.code {
            429 => "Too many requests, please try again later.",
            503 => "The API server is temporarily unavailable (injected fault)",
            504 => "The request timed out (injected fault)",
            _ => "Internal error (injected fault)",
        };
        let mut e = ApiError::new(reason, message);
        e.code = rule.code;
        e.retry_after = rule.retry_after;
        Some(e)
    }
}

impl SimCluster {
    /// Stops the API listener: new connections are refused and open ones
    /// (watches included) are dropped. State is kept.
    pub async fn stop_api(&self) {
        self.listener().stop().await;
    }

    /// Starts the API listener again on the same port.
    ///
    /// # Errors
    /// When the port cannot be bound again.
    pub async fn start_api(&self) -> super::Result<()> {
        self.listener().start().await
    }

    /// True while the API listener accepts connections.
    pub fn api_running(&self) -> bool {
        self.listener().is_running()
    }

    /// Injects an error on matching requests (see [`ErrorRule`]).
    pub fn inject_error(&self, rule: ErrorRule) -> RuleId {
        self.faults().add(rule)
    }

    /// Removes one injected error.
    pub fn remove_error(&self, id: RuleId) {
        self.faults().remove(id);
    }

    /// Removes every injected error.
    pub fn clear_errors(&self) {
        self.faults().clear();
    }

    /// Compacts the watch history: running watches get an in-stream 410
    /// `Expired` and clients must relist.
    pub fn compact(&self) {
        self.store().compact();
    }

    /// Closes every open watch, as an API server restart does.
    pub fn close_watches(&self) {
        self.store().close_watches();
    }

    /// Destroys the cluster: every object is gone (including the
    /// namespaces and nodes), watches are closed and the simulated
    /// controllers stop. The listener keeps serving an empty API; use
    /// [`SimCluster::stop_api`] for an unreachable one.
    pub fn destroy(&self) {
        self.abort_controllers();
        self.store().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("/apis/apps/*", "/apis/apps/v1/deployments"));
        assert!(glob("*/configmaps*", "/api/v1/namespaces/x/configmaps/y"));
        assert!(!glob("/api/v1/pods", "/api/v1/pods/x"));
        assert!(glob("*", "/anything"));
    }

    #[test]
    fn counted_rules_expire() {
        let f = ErrorInjector::default();
        f.add(ErrorRule::new("/api/*", 503).times(1).retry_after(2));
        let e = f.check(&Method::GET, "/api/v1").unwrap();
        assert_eq!((e.code, e.retry_after), (503, Some(2)));
        assert!(f.check(&Method::GET, "/api/v1").is_none());
    }
}
