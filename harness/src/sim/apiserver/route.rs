//! URL grammar: which endpoint a path names.

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/readyz`, `/livez` (and sub-paths).
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1`, `/apis/{g}/{v}`.
    ResourceList {
        /// Group (`""` = core).
        group: String,
        /// Version.
        version: String,
    },
    /// `/openapi/v3`.
    OpenApiIndex,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`.
    OpenApiDoc {
        /// Group.
        group: String,
        /// Version.
        version: String,
    },
    /// A resource endpoint.
    Resource(ResourcePath),
    /// Anything else.
    Unknown,
}

/// `{prefix}/[namespaces/{ns}/]{plural}[/{name}[/{sub}]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// Group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Namespace in the URL.
    pub namespace: Option<String>,
    /// Plural.
    pub plural: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `finalize`, `scale`, ...).
    pub sub: Option<String>,
}

/// Parses a path.
pub fn parse(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        [h, ..] if matches!(*h, "healthz" | "readyz" | "livez") => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group((*g).to_owned()),
        ["api", v] => Route::ResourceList {
            group: String::new(),
            version: (*v).to_owned(),
        },
        ["apis", g, v] => Route::ResourceList {
            group: (*g).to_owned(),
            version: (*v).to_owned(),
        },
        ["openapi", "v3"] => Route::OpenApiIndex,
        ["openapi", "v3", "api", v] => Route::OpenApiDoc {
            group: String::new(),
            version: (*v).to_owned(),
        },
        ["openapi", "v3", "apis", g, v] => Route::OpenApiDoc {
            group: (*g).to_owned(),
            version: (*v).to_owned(),
        },
        ["api", v, rest @ ..] => resource("", v, rest),
        ["apis", g, v, rest @ ..] => resource(g, v, rest),
        _ => Route::Unknown,
    }
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Route {
    let own = |s: &&str| (*s).to_owned();
    let (namespace, rest) = match rest {
        ["namespaces", ns, next, tail @ ..] if !matches!(*next, "status" | "finalize") => {
            (Some((*ns).to_owned()), {
                let mut v = vec![*next];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (own(p), None, None),
        [p, n] => (own(p), Some(own(n)), None),
        [p, n, s] => (own(p), Some(own(n)), Some(own(s))),
        _ => return Route::Unknown,
    };
    Route::Resource(ResourcePath {
        group: group.to_owned(),
        version: version.to_owned(),
        namespace,
        plural,
        name,
        sub,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        assert_eq!(parse("/api"), Route::CoreVersions);
        assert_eq!(
            parse("/apis/apps/v1"),
            Route::ResourceList {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        let r = res("/api/v1/namespaces/x/configmaps/y");
        assert_eq!(
            (r.namespace.as_deref(), r.plural.as_str(), r.name.as_deref()),
            (Some("x"), "configmaps", Some("y"))
        );
        let r = res("/api/v1/namespaces/x");
        assert_eq!(
            (r.namespace, r.plural.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("x"))
        );
        let r = res("/api/v1/namespaces/x/finalize");
        assert_eq!(
            (r.plural.as_str(), r.sub.as_deref()),
            ("namespaces", Some("finalize"))
        );
        let r = res("/apis/apps/v1/namespaces/x/deployments/d/status");
        assert_eq!(r.sub.as_deref(), Some("status"));
        let r = res("/apis/apps/v1/deployments");
        assert_eq!((r.namespace, r.name), (None, None));
        assert_eq!(parse("/apis/a/b/c/d/e/f/g"), Route::Unknown);
    }
}
