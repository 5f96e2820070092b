//! File format → internal model: defaults, path resolution and semantic
//! validation, reporting every problem at once.
//!
//! [`convert`] walks the sections in the order a scenario is written, each
//! in its own file with its defaults and its rules (`cluster`, `source`,
//! `bootstrap`, `steady_state`, `setup`, `disaster`, `recovery`, `rto`), then
//! checks what no single section can decide alone (`combinations`: what
//! the provider can inject, what the recovery can repair, which phases
//! exist). Diagnostics come out in that order, which the golden files of
//! `fixtures/scenarios/invalid` pin. `paths` resolves the file's relative
//! paths; `names` holds the naming rules several sections share.

mod alternatives;
mod bootstrap;
mod cluster;
mod combinations;
mod disaster;
mod mirrors;
mod names;
mod paths;
mod recovery;
mod rto;
mod setup;
mod source;
mod steady_state;

use std::path::Path;

use super::diagnostic::{Collector, Diagnostic};
use super::file::ScenarioFile;
use super::model::{Expect, Scenario};

pub(crate) use alternatives::convert_all;
pub(crate) use combinations::check_combinations;
pub use names::is_dns_label;

/// Converts a parsed file into the model. Relative paths resolve against
/// `base_dir` (the file's folder).
pub(crate) fn convert(
    f: &ScenarioFile,
    file: &Path,
    base_dir: &Path,
) -> Result<Scenario, Vec<Diagnostic>> {
    let mut c = Collector::default();
    let cx = Cx { base_dir };

    names::check_name(&mut c, &f.metadata.name);
    let cluster = cx.cluster(&mut c, f.spec.cluster.as_ref());
    let source = cx.source(&mut c, &f.spec.source);
    let mirrors = cx.mirrors(&mut c, &f.spec.mirrors);
    let bootstrap = cx.bootstrap(&mut c, f.spec.bootstrap.as_ref());
    let steady_state = steady_state::steady_state(&mut c, f.spec.steady_state.as_ref(), &bootstrap);
    let setup = cx.setup(&mut c, &f.spec.setup);
    let disaster = disaster::disaster(&mut c, &f.spec.disaster);
    let rto_total = f.spec.rto.total.0;
    let recovery = recovery::recovery(&f.spec.recovery, rto_total);
    let rto = rto::rto(&mut c, &f.spec.rto);
    let expect = Expect {
        lost: f
            .spec
            .expect
            .as_ref()
            .map(|e| e.lost.iter().map(names::object_ref).collect())
            .unwrap_or_default(),
    };
    let repeat = f.spec.repeat.unwrap_or(1);
    if repeat < 1 {
        c.field_help(
            "spec.repeat",
            "must be at least 1",
            "remove it to run the drill once",
        );
    }

    let scenario = Scenario {
        file: file.to_owned(),
        name: f.metadata.name.clone(),
        description: f.metadata.description.clone().unwrap_or_default(),
        cluster,
        source,
        mirrors,
        bootstrap,
        steady_state,
        setup,
        disaster,
        recovery,
        rto,
        expect,
        repeat,
    };
    check_combinations(&mut c, &scenario);
    if c.items.is_empty() {
        Ok(scenario)
    } else {
        Err(c.items)
    }
}

/// What the sections that name files need: the folder relative paths
/// resolve against. Its path helpers live in `paths`; the sections that
/// take files (`cluster`, `source`, `bootstrap`, `setup`) add methods.
struct Cx<'a> {
    base_dir: &'a Path,
}
