//! Naming rules several sections share: the scenario's own name, DNS-1123
//! labels, `namespace/name` references and object references.

use crate::scenario::capabilities::FLUX_NAMESPACE;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::{NamespacedName, ObjectRef};

/// Longest scenario name: it becomes part of cluster names
/// (`gameday-<name>-<run id>`), which kind limits.
const MAX_NAME_LEN: usize = 40;

pub(super) fn check_name(c: &mut Collector, name: &str) {
    if !is_dns_label(name) || name.len() > MAX_NAME_LEN {
        c.field_help(
            "metadata.name",
            format!("{name:?} is not a valid name: expected lower-case letters, digits and '-', starting and ending with a letter or digit, at most {MAX_NAME_LEN} characters"),
            "it becomes part of cluster names, e.g. `cluster-loss`",
        );
    }
}

/// True for a DNS-1123 label.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `namespace/name`, or a bare name in Flux's namespace.
pub(super) fn namespaced_name(n: &str) -> NamespacedName {
    match n.split_once('/') {
        Some((ns, name)) => NamespacedName {
            namespace: ns.into(),
            name: name.into(),
        },
        None => NamespacedName {
            namespace: FLUX_NAMESPACE.into(),
            name: n.to_owned(),
        },
    }
}

pub(super) fn object_ref(o: &file::ObjectRefSpec) -> ObjectRef {
    ObjectRef {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("cluster-loss"));
        assert!(!is_dns_label("Cluster"));
        assert!(!is_dns_label("-x"));
        assert!(!is_dns_label(""));
    }
}
