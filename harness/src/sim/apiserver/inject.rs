//! Injected errors: [`ErrorRule`]s the server checks every request
//! against before serving it (429/500/503/504 on route globs, counted or
//! forever, with `Retry-After`). Drills add them through the cluster's
//! fault hooks (`SimCluster::inject_error`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http::Method;

use crate::sim::storage::status::{ApiError, Reason};

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
