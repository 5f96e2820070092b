//! Terraform, as gameday drives it: its command line ([`Terraform`]), the
//! values of a module's outputs ([`outputs`]), and per-run copies of
//! modules ([`module`]).
//!
//! Three parts of gameday run Terraform, all through this module: the
//! `terraform` cluster provider (the pipeline model, `terraform apply` of
//! a module from the repository), the simulator's emulated Flux Terraform
//! controller (the controller model), and the `infra-drift` fault (a change
//! made by hand against a controller's state). It names none of them: it
//! sits below them, beside the GitOps layer.
//!
//! Every command runs through [`crate::process::Cmd`] with `-input=false
//! -no-color`, a timeout, `CHECKPOINT_DISABLE=1` (no version check over the
//! network) and `TF_IN_AUTOMATION=1`, in a process group of its own so that
//! a Ctrl-C at the terminal reaches gameday only: gameday then interrupts
//! Terraform once ([`Terraform::interruptible`]), which lets it finish the
//! resource operations in flight and save its state, as a single Ctrl-C
//! does. `TF_CLI_CONFIG_FILE`, `TF_PLUGIN_CACHE_DIR` and the other
//! variables of the environment (or of the [`Tools`] overlay) pass through.

pub mod backend;
pub mod module;
pub mod outputs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::process::Tools;
use crate::process::{Cmd, Output, ProcessError};
pub use outputs::{OutputValue, Outputs};

/// How long Terraform gets to stop after an interrupt before it is killed.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(60);

/// Timeout of the quick commands (`init`, `output`, `state list`, `workspace`).
const QUICK_TIMEOUT: Duration = Duration::from_secs(300);

/// Errors of running Terraform.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `terraform` program is missing.
    #[error(
        "terraform is not installed: looked for `{program}` on PATH; install Terraform (https://developer.hashicorp.com/terraform/install) or run the drill on another provider"
    )]
    Missing {
        /// The program looked for.
        program: String,
        /// The spawn error.
        #[source]
        source: ProcessError,
    },
    /// A command failed (its error keeps the command and Terraform's last lines).
    #[error("terraform {step} failed for module {}", .module.display())]
    Failed {
        /// The module (its source folder, not the per-run copy).
        module: PathBuf,
        /// `init`, `apply`, `destroy`…
        step: &'static str,
        /// The command and its output.
        #[source]
        source: ProcessError,
    },
    /// `terraform output -json` printed something that is not its JSON.
    #[error("cannot read the outputs of module {}: {why}", .module.display())]
    Outputs {
        /// The module.
        module: PathBuf,
        /// Why.
        why: String,
    },
    /// Reading or writing the module's files failed.
    #[error("cannot prepare a working copy of module {} in {}", .module.display(), .dir.display())]
    Copy {
        /// The module.
        module: PathBuf,
        /// The copy.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Terraform run in one working directory (a copy of a module).
#[derive(Debug, Clone)]
pub struct Terraform {
    program: PathBuf,
    tools: Tools,
    /// The working directory (where state and `.terraform` live).
    dir: PathBuf,
    /// The module as the user knows it, for messages.
    module: PathBuf,
    interrupt: Option<CancellationToken>,
    lock_timeout: Option<Duration>,
}

/// What `terraform plan` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// True when the plan has changes (exit code 2 of `-detailed-exitcode`).
    pub changes: bool,
    /// The resource lines and the summary of the plan (`# terraform_data.x
    /// must be replaced`, `Plan: 1 to add, …`).
    pub summary: String,
}

impl Terraform {
    /// Terraform (`terraform` on the overlay's `PATH`) working in `dir`, a
    /// copy of `module`.
    pub fn new(dir: impl Into<PathBuf>, module: impl Into<PathBuf>, tools: Tools) -> Terraform {
        Terraform {
            program: PathBuf::from("terraform"),
            tools,
            dir: dir.into(),
            module: module.into(),
            interrupt: None,
            lock_timeout: None,
        }
    }

    /// Uses another `terraform` executable.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Terraform {
        self.program = program.into();
        self
    }

    /// Commands are interrupted (SIGINT, then killed after
    /// [`INTERRUPT_GRACE`]) when `token` is cancelled.
    pub fn interruptible(mut self, token: CancellationToken) -> Terraform {
        self.interrupt = Some(token);
        self
    }

    /// Commands that take the state lock wait for it this long
    /// (`-lock-timeout`) instead of failing at once: for state another
    /// process may be using (a controller's).
    pub fn lock_timeout(mut self, wait: Duration) -> Terraform {
        self.lock_timeout = Some(wait);
        self
    }

    fn lock_args(&self) -> Vec<String> {
        self.lock_timeout
            .map(|d| format!("-lock-timeout={}s", d.as_secs()))
            .into_iter()
            .collect()
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The module, as given.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The environment overlay commands run with.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    fn cmd(&self, timeout: Duration) -> Cmd {
        let cmd = self
            .tools
            .cmd(&self.program)
            .cwd(&self.dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .own_process_group()
            .timeout(timeout);
        match &self.interrupt {
            Some(t) => cmd.interrupt_on(t.clone(), INTERRUPT_GRACE),
            None => cmd,
        }
    }

    fn fail(&self, step: &'static str) -> impl FnOnce(ProcessError) -> Error + '_ {
        move |source| {
            if source.is_not_found() {
                Error::Missing {
                    program: self.program.display().to_string(),
                    source,
                }
            } else {
                Error::Failed {
                    module: self.module.clone(),
                    step,
                    source,
                }
            }
        }
    }

    async fn run(&self, step: &'static str, cmd: Cmd) -> Result<Output> {
        cmd.output().await.map_err(self.fail(step))
    }

    /// `terraform version`: is Terraform installed?
    ///
    /// # Errors
    /// [`Error::Missing`] when it is not.
    pub async fn version(&self) -> Result<String> {
        let out = self
            .run(
                "version",
                self.cmd(QUICK_TIMEOUT).args(["version", "-json"]),
            )
            .await?;
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        Ok(v.get("terraform_version")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned())
    }

    /// `terraform init -input=false -no-color`.
    ///
    /// # Errors
    /// [`Error::Failed`] with Terraform's last lines (a syntax error, a
    /// provider that cannot be downloaded).
    pub async fn init(&self) -> Result<()> {
        let cmd = self
            .cmd(QUICK_TIMEOUT)
            .args(["init", "-input=false", "-no-color"]);
        self.run("init", cmd).await.map(|_| ())
    }

    /// `terraform workspace select -or-create=true NAME`.
    ///
    /// # Errors
    /// [`Error::Failed`].
    pub async fn select_workspace(&self, name: &str) -> Result<()> {
        let cmd = self.cmd(QUICK_TIMEOUT).args([
            "workspace",
            "select",
            "-or-create=true",
            "-no-color",
            name,
        ]);
        self.run("workspace select", cmd).await.map(|_| ())
    }

    /// `terraform apply -auto-approve -input=false -no-color [-var k=v]…
    /// [-target=ADDR]…`.
    ///
    /// # Errors
    /// [`Error::Failed`] with Terraform's last lines.
    pub async fn apply(
        &self,
        vars: &BTreeMap<String, String>,
        targets: &[String],
        timeout: Duration,
    ) -> Result<()> {
        self.change("apply", vars, targets, timeout).await
    }

    /// `terraform destroy -auto-approve -input=false -no-color [-var k=v]…
    /// [-target=ADDR]…`.
    ///
    /// # Errors
    /// [`Error::Failed`] with Terraform's last lines.
    pub async fn destroy(
        &self,
        vars: &BTreeMap<String, String>,
        targets: &[String],
        timeout: Duration,
    ) -> Result<()> {
        self.change("destroy", vars, targets, timeout).await
    }

    async fn change(
        &self,
        verb: &'static str,
        vars: &BTreeMap<String, String>,
        targets: &[String],
        timeout: Duration,
    ) -> Result<()> {
        let cmd = self
            .cmd(timeout)
            .args([verb, "-auto-approve", "-input=false", "-no-color"])
            .args(self.lock_args())
            .args(var_args(vars))
            .args(targets.iter().map(|t| format!("-target={t}")));
        self.run(verb, cmd).await.map(|_| ())
    }

    /// `terraform plan -input=false -no-color -detailed-exitcode -out=FILE`
    /// (variables from `*.auto.tfvars.json` files of the working directory).
    ///
    /// # Errors
    /// [`Error::Failed`] when the plan fails (exit code 1).
    pub async fn plan(&self, out: &str, timeout: Duration) -> Result<Plan> {
        let cmd = self.cmd(timeout).args([
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &format!("-out={out}"),
        ]);
        let cmd = cmd.args(self.lock_args());
        let output = cmd.output_unchecked().await.map_err(self.fail("plan"))?;
        match output.status.code() {
            Some(0) | Some(2) => Ok(Plan {
                changes: output.status.code() == Some(2),
                summary: plan_summary(&output.stdout),
            }),
            _ => Err(self.fail("plan")(cmd.failure(&output))),
        }
    }

    /// `terraform apply -input=false -no-color FILE` of a saved plan.
    ///
    /// # Errors
    /// [`Error::Failed`] with Terraform's last lines.
    pub async fn apply_plan(&self, plan: &str, timeout: Duration) -> Result<()> {
        let cmd = self
            .cmd(timeout)
            .args(["apply", "-input=false", "-no-color"])
            .args(self.lock_args())
            .arg(plan);
        self.run("apply", cmd).await.map(|_| ())
    }

    /// `terraform output -json`.
    ///
    /// # Errors
    /// [`Error::Failed`], or [`Error::Outputs`] when the JSON is not Terraform's.
    pub async fn outputs(&self) -> Result<Outputs> {
        let out = self
            .run(
                "output",
                self.cmd(QUICK_TIMEOUT)
                    .args(["output", "-json", "-no-color"]),
            )
            .await?;
        Outputs::parse(&out.stdout).map_err(|why| Error::Outputs {
            module: self.module.clone(),
            why,
        })
    }

    /// `terraform state list`: the resource addresses in the state.
    ///
    /// # Errors
    /// [`Error::Failed`].
    pub async fn state_list(&self) -> Result<Vec<String>> {
        let out = self
            .run(
                "state list",
                self.cmd(QUICK_TIMEOUT).args(["state", "list", "-no-color"]),
            )
            .await?;
        Ok(out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

fn var_args(vars: &BTreeMap<String, String>) -> impl Iterator<Item = String> + '_ {
    vars.iter()
        .flat_map(|(k, v)| ["-var".to_owned(), format!("{k}={v}")])
}

/// The lines of a plan worth showing: one per resource change, and the
/// `Plan:` summary.
pub fn plan_summary(stdout: &str) -> String {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("# ") || l.starts_with("Plan:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_summary_keeps_resource_lines_and_the_total() {
        let text = "Terraform will perform the following actions:\n\n  # terraform_data.network must be replaced\n-/+ resource \"terraform_data\" \"network\" {\n  ~ input = \"a\" -> \"b\"\n    }\n\nPlan: 1 to add, 0 to change, 1 to destroy.\n";
        assert_eq!(
            plan_summary(text),
            "# terraform_data.network must be replaced\nPlan: 1 to add, 0 to change, 1 to destroy."
        );
    }

    #[test]
    fn variables_become_var_flags_in_order() {
        let vars = BTreeMap::from([
            ("b".to_owned(), "2".to_owned()),
            ("a".to_owned(), "x y".to_owned()),
        ]);
        let args: Vec<String> = var_args(&vars).collect();
        assert_eq!(args, ["-var", "a=x y", "-var", "b=2"]);
    }

    #[tokio::test]
    async fn a_missing_terraform_is_named() {
        let tf = Terraform::new(".", "fixtures/m", Tools::default())
            .with_program("gameday-no-such-terraform");
        let err = tf.init().await.unwrap_err();
        assert!(matches!(err, Error::Missing { .. }), "{err}");
        assert!(
            err.to_string().contains("terraform is not installed"),
            "{err}"
        );
    }
}
