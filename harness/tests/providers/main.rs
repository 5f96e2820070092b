//! Provider tests: kind through fake `kind`/`docker` binaries
//! (`fixtures/bin/`) that serve simulated clusters, `gameday gc`, and the
//! guard rails of the `existing` provider. Nothing here needs Docker; the
//! `real_tools` tests (ignored, `make test-kind`) do the same against the
//! real kind and Docker.

#[path = "../common/mod.rs"]
mod common;

mod existing;
mod fakes;
mod flux_on_kind;
mod gc;
mod kind;
mod real_tools;
mod run;
