//! `spec.mirrors`: each URL an `http(s)://` or `oci://` prefix naming a
//! host, given once; each path an existing folder (relative to the
//! scenario file).

use super::Cx;
use crate::gitops::mirror::{Mirror, Mirrors};
use crate::scenario::diagnostic::Collector;
use crate::scenario::file::MirrorSpec;

impl Cx<'_> {
    pub(super) fn mirrors(&self, c: &mut Collector, specs: &[MirrorSpec]) -> Mirrors {
        let mut out: Vec<Mirror> = Vec::new();
        for (i, m) in specs.iter().enumerate() {
            let field = format!("spec.mirrors[{i}]");
            let path = self.existing_dir(c, &format!("{field}.path"), &m.path);
            if !path.is_dir() {
                continue;
            }
            match Mirror::new(&m.url, path) {
                Ok(mirror) if out.iter().any(|o| o.url == mirror.url) => c.field_help(
                    format!("{field}.url"),
                    format!("{:?} is mirrored twice", m.url),
                    "keep one entry per URL",
                ),
                Ok(mirror) => out.push(mirror),
                Err(e) => c.field_help(
                    format!("{field}.url"),
                    e,
                    "write the URL the cluster's objects use, e.g. https://charts.example.com",
                ),
            }
        }
        Mirrors::new(out)
    }
}
