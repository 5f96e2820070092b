//! Terraform: the `terraform` provider with the `sim-cluster` fixture
//! module (a simulated cluster started by `local-exec`), bad modules, the
//! `infra-loss` drill end to end, Ctrl-C during `terraform apply`, and the
//! simulator's emulated Flux Terraform controller with the `infra-drift`
//! drill. Terraform runs for real, offline: the fixtures use only its
//! built-in `terraform_data` resource, and every test gives it an empty CLI
//! configuration of its own (`TF_CLI_CONFIG_FILE`) and plugin cache, never
//! the user's `~/.terraform.d`.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod controller;
mod env;
mod gc;
mod provider;
mod run;
