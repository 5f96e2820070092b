//! `spec.setup` → [`SetupStep`]s: files applied by hand must exist, relative
//! to the scenario file.

use super::Cx;
use super::names::object_ref;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::SetupStep;

impl Cx<'_> {
    pub(super) fn setup(&self, c: &mut Collector, steps: &[file::SetupStep]) -> Vec<SetupStep> {
        steps
            .iter()
            .enumerate()
            .map(|(i, step)| match step {
                file::SetupStep::Apply(p) => {
                    let path = self.resolve(p);
                    if !path.exists() {
                        c.field_help(
                            format!("spec.setup[{i}].apply"),
                            format!("{p:?} ({}) does not exist", path.display()),
                            "give a manifest file or a folder of manifests, relative to the scenario file",
                        );
                    }
                    SetupStep::Apply(path)
                }
                file::SetupStep::Delete(o) => SetupStep::Delete(object_ref(o)),
                file::SetupStep::Sleep(d) => SetupStep::Sleep(d.0),
            })
            .collect()
    }
}
