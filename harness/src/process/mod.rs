//! The one place that starts programs (git, kubectl, kind, docker, flux,
//! terraform…).
//!
//! Every call goes through [`Cmd`]: it captures output, enforces a timeout,
//! and fails with an error that keeps the pasteable command line and the end
//! of the program's stderr. "Could not start" ([`ProcessError::Spawn`]) is a
//! different error from "ran and exited non-zero" ([`ProcessError::Failed`]),
//! because the fix differs: install the tool, or read its output.
//!
//! Credentials embedded in URLs (`https://user:token@host/…`) are redacted in
//! every rendered command line and captured output, see [`redact`].

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

pub mod lookup;
pub mod tools;

pub use lookup::{Lookup, LookupError};
pub use tools::Tools;

/// How many trailing lines of stderr (or stdout) an error keeps.
pub const TAIL_LINES: usize = 20;

/// The default timeout of a command, when the caller sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Errors from running an external program.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started (not installed, not executable…).
    #[error("could not start `{program}`{hint}: {source}\n  command: {command}")]
    Spawn {
        /// The program name as given.
        program: String,
        /// The full command line, redacted.
        command: String,
        /// A hint such as " (not found on PATH)".
        hint: &'static str,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The program ran and exited unsuccessfully.
    #[error("`{command}` failed ({status}){}", render_tail(.output_tail))]
    Failed {
        /// The full command line, redacted.
        command: String,
        /// The exit status, rendered (`exit status 1`, `signal 9`).
        status: String,
        /// The exit code when there is one.
        code: Option<i32>,
        /// The last lines of stderr (or of stdout when stderr was empty).
        output_tail: String,
        /// All of stdout, redacted.
        stdout: String,
        /// All of stderr, redacted.
        stderr: String,
    },
    /// The program did not finish within its timeout and was killed.
    #[error("`{command}` timed out after {}{}", humantime::format_duration(*.after), render_tail(.output_tail))]
    TimedOut {
        /// The full command line, redacted.
        command: String,
        /// The timeout that elapsed.
        after: Duration,
        /// What the program had printed before it was killed.
        output_tail: String,
    },
    /// Reading or writing the program's pipes failed.
    #[error("I/O error while running `{command}`")]
    Io {
        /// The full command line, redacted.
        command: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    /// True when the program itself is missing (as opposed to failing).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// The captured stderr of a failed program, if it ran.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            ProcessError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

fn render_tail(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        let indented: Vec<String> = tail.lines().map(|l| format!("  | {l}")).collect();
        format!(":\n{}", indented.join("\n"))
    }
}

/// The captured result of a program that exited successfully (or, from
/// [`Cmd::output_unchecked`], of any program that ran to completion).
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded as UTF-8 (not redacted: callers parse it).
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8 and redacted.
    pub stderr: String,
}

/// The captured result of a program whose standard output is kept as raw
/// bytes (see [`Cmd::output_raw`]).
#[derive(Debug, Clone)]
pub struct RawOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output, as the program wrote it.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded as UTF-8 and redacted.
    pub stderr: String,
}

/// A command to run: program, arguments, working directory, environment,
/// standard input and a timeout.
#[derive(Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    own_group: bool,
    interrupt: Option<(CancellationToken, Duration)>,
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cmd").field(&self.display()).finish()
    }
}

impl Cmd {
    /// A command running `program` (looked up on `PATH` unless it is a path).
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Cmd {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            own_group: false,
            interrupt: None,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Runs the program in `dir`.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Sets an environment variable for the program.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes an environment variable for the program.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// Feeds `bytes` to the program's standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Kills the program (and fails) when it runs longer than `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the program in a process group of its own, so a Ctrl-C at
    /// the terminal (which signals the whole foreground group) does not
    /// reach it: gameday decides how it stops (see [`Cmd::interrupt_on`]).
    /// For programs that must not be interrupted twice, such as
    /// `terraform` (a second interrupt makes it exit without saving state).
    pub fn own_process_group(mut self) -> Self {
        self.own_group = true;
        self
    }

    /// When `token` is cancelled while the program runs, sends it SIGINT
    /// (what Ctrl-C sends) and gives it `grace` to exit on its own before
    /// it is killed; its output is kept either way. For programs that clean
    /// up on an interrupt: `terraform` finishes the resource operations in
    /// flight and saves its state.
    pub fn interrupt_on(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.interrupt = Some((token, grace));
        self
    }

    /// The program name.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments.
    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// The command line as a user could paste it into a shell, with
    /// credentials redacted.
    pub fn display(&self) -> String {
        let mut parts = Vec::with_capacity(self.args.len() + 1);
        for (k, v) in &self.env {
            if let Some(v) = v {
                parts.push(format!(
                    "{}={}",
                    k.to_string_lossy(),
                    shell_quote(&v.to_string_lossy())
                ));
            }
        }
        parts.push(shell_quote(&self.program.to_string_lossy()));
        parts.extend(self.args.iter().map(|a| shell_quote(&a.to_string_lossy())));
        let line = parts.join(" ");
        let line = match &self.cwd {
            Some(dir) => format!("(cd {} && {line})", shell_quote(&dir.to_string_lossy())),
            None => line,
        };
        redact(&line)
    }

    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if self.own_group {
            cmd.process_group(0);
        }
        cmd.kill_on_drop(true);
        cmd
    }

    fn spawn_error(&self, source: std::io::Error) -> ProcessError {
        let hint = match source.kind() {
            std::io::ErrorKind::NotFound => {
                " (not found on PATH; `gameday doctor` lists what the drills need and how to install it)"
            }
            std::io::ErrorKind::PermissionDenied => " (not executable)",
            _ => "",
        };
        ProcessError::Spawn {
            program: self.program.to_string_lossy().into_owned(),
            command: self.display(),
            hint,
            source,
        }
    }

    /// Runs the program to completion and returns its output; a non-zero
    /// exit is an error.
    ///
    /// # Errors
    /// [`ProcessError::Spawn`] when it cannot start, [`ProcessError::Failed`]
    /// on a non-zero exit, [`ProcessError::TimedOut`] after the timeout.
    pub async fn output(&self) -> Result<Output, ProcessError> {
        let out = self.output_unchecked().await?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(self.failure(&out))
        }
    }

    /// The [`ProcessError::Failed`] of this command for an output it
    /// produced, for callers of [`Cmd::output_unchecked`] that accept more
    /// exit codes than 0 (`terraform plan -detailed-exitcode` exits 2 when
    /// the plan has changes).
    pub fn failure(&self, out: &Output) -> ProcessError {
        let tail_source = if out.stderr.trim().is_empty() {
            redact(&out.stdout)
        } else {
            out.stderr.clone()
        };
        ProcessError::Failed {
            command: self.display(),
            status: render_status(out.status),
            code: out.status.code(),
            output_tail: tail(&tail_source, TAIL_LINES),
            stdout: redact(&out.stdout),
            stderr: out.stderr.clone(),
        }
    }

    /// Runs the program to completion and returns its output whatever its
    /// exit status (for commands whose non-zero exit is an answer, such as
    /// `git diff --quiet`).
    ///
    /// # Errors
    /// [`ProcessError::Spawn`], [`ProcessError::TimedOut`] or
    /// [`ProcessError::Io`].
    pub async fn output_unchecked(&self) -> Result<Output, ProcessError> {
        let raw = self.output_raw_unchecked().await?;
        Ok(Output {
            status: raw.status,
            stdout: String::from_utf8_lossy(&raw.stdout).into_owned(),
            stderr: raw.stderr,
        })
    }

    /// Like [`Cmd::output`], but keeps standard output as raw bytes, for
    /// programs whose output is binary (`git http-backend` sends packfiles).
    ///
    /// # Errors
    /// As [`Cmd::output`].
    pub async fn output_raw(&self) -> Result<RawOutput, ProcessError> {
        let out = self.output_raw_unchecked().await?;
        if out.status.success() {
            Ok(out)
        } else {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let tail_source = if out.stderr.trim().is_empty() {
                redact(&stdout)
            } else {
                out.stderr.clone()
            };
            Err(ProcessError::Failed {
                command: self.display(),
                status: render_status(out.status),
                code: out.status.code(),
                output_tail: tail(&tail_source, TAIL_LINES),
                stdout: redact(&stdout),
                stderr: out.stderr,
            })
        }
    }

    /// Like [`Cmd::output_unchecked`], but keeps standard output as raw bytes.
    ///
    /// # Errors
    /// [`ProcessError::Spawn`], [`ProcessError::TimedOut`] or
    /// [`ProcessError::Io`].
    pub async fn output_raw_unchecked(&self) -> Result<RawOutput, ProcessError> {
        tracing::debug!(command = %self.display(), "running");
        let mut cmd = self.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        if let (Some(bytes), Some(mut pipe)) = (self.stdin.clone(), child.stdin.take()) {
            // Written concurrently with reading the output, so a program that
            // answers before it has read everything cannot deadlock us.
            tokio::spawn(async move {
                let _ = pipe.write_all(&bytes).await;
                let _ = pipe.shutdown().await;
            });
        }
        let out_buf = SharedBuf::default();
        let err_buf = SharedBuf::default();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let pid = child.id();
        // Boxed: the two 8 KiB read buffers would otherwise sit inline in
        // every future that runs a program (and in the drill's, which runs
        // many), overflowing the stack of debug builds.
        let mut read_all = Box::pin(async {
            let (o, e) = tokio::join!(
                read_pipe(stdout, out_buf.clone()),
                read_pipe(stderr, err_buf.clone())
            );
            let status = child.wait().await;
            (o, e, status)
        });
        let io = |source| ProcessError::Io {
            command: self.display(),
            source,
        };
        // None: interrupted, and still running after the grace period.
        let run = async {
            let Some((token, grace)) = &self.interrupt else {
                return Some(read_all.await);
            };
            tokio::select! {
                done = &mut read_all => Some(done),
                () = token.cancelled() => {
                    tracing::debug!(command = %self.display(), "interrupting (SIGINT)");
                    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGINT,
                        );
                    }
                    tokio::time::timeout(*grace, &mut read_all).await.ok()
                }
            }
        };
        let finished = match tokio::time::timeout(self.timeout, run).await {
            Ok(Some(done)) => Ok(done),
            Ok(None) => Err(self.interrupt.as_ref().map_or(self.timeout, |(_, g)| *g)),
            Err(_) => Err(self.timeout),
        };
        match finished {
            Ok((o, e, status)) => {
                o.map_err(io)?;
                e.map_err(io)?;
                let status = status.map_err(io)?;
                let stdout = out_buf.bytes();
                let stderr = redact(&err_buf.text());
                tracing::debug!(command = %self.display(), status = %render_status(status), "finished");
                Ok(RawOutput {
                    status,
                    stdout,
                    stderr,
                })
            }
            Err(after) => {
                // The future holding the child was dropped: kill_on_drop has
                // already sent SIGKILL. Keep what it printed so far.
                let err = err_buf.text();
                let printed = if err.trim().is_empty() {
                    out_buf.text()
                } else {
                    err
                };
                Err(ProcessError::TimedOut {
                    command: self.display(),
                    after,
                    output_tail: tail(&redact(&printed), TAIL_LINES),
                })
            }
        }
    }

    /// Starts the program in the background with its output sent to the
    /// given files (or discarded), for servers such as `git http-backend`
    /// hosts or `gameday sim serve`. The child is killed when the returned
    /// handle is dropped.
    ///
    /// # Errors
    /// [`ProcessError::Spawn`] when it cannot start.
    pub fn spawn(
        &self,
        stdout: Stdio,
        stderr: Stdio,
    ) -> Result<tokio::process::Child, ProcessError> {
        tracing::debug!(command = %self.display(), "starting in the background");
        let mut cmd = self.command();
        cmd.stdout(stdout).stderr(stderr).stdin(Stdio::null());
        cmd.spawn().map_err(|e| self.spawn_error(e))
    }
}

/// Output collected while a program runs, readable even when the program
/// is killed halfway.
#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn read_pipe<R: tokio::io::AsyncRead + Unpin>(
    pipe: Option<R>,
    buf: SharedBuf,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let Some(mut p) = pipe else { return Ok(()) };
    let mut chunk = [0u8; 8192];
    loop {
        let n = p.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(&chunk[..n]);
    }
}

fn render_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => status.to_string(),
    }
}

/// The last `n` non-empty lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

/// Quotes `s` for a POSIX shell when it needs quoting.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Replaces the user-info part of every URL in `text`
/// (`scheme://user:secret@host` → `scheme://***@host`).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, after) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace, quote, or end.
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_in_urls() {
        assert_eq!(
            redact("git clone https://bob:s3cr3t@git.example/fleet.git x"),
            "git clone https://***@git.example/fleet.git x"
        );
        assert_eq!(redact("https://git.example/a"), "https://git.example/a");
        assert_eq!(
            redact("a ssh://git@host/x and http://u:p@h:8080"),
            "a ssh://***@host/x and http://***@h:8080"
        );
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("plain-arg"), "plain-arg");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn tail_keeps_last_non_empty_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }

    #[tokio::test]
    async fn captures_output_of_a_successful_command() {
        let out = Cmd::new("sh")
            .args(["-c", "echo out; echo err >&2"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[tokio::test]
    async fn failure_keeps_command_status_and_stderr() {
        let err = Cmd::new("sh")
            .args(["-c", "echo 'fatal: https://u:pw@h/r not found' >&2; exit 3"])
            .output()
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("exit status 3"), "{msg}");
        assert!(msg.contains("https://***@h/r"), "{msg}");
        assert!(!msg.contains("pw"), "{msg}");
        assert!(matches!(err, ProcessError::Failed { code: Some(3), .. }));
    }

    #[tokio::test]
    async fn missing_program_is_a_spawn_error() {
        let err = Cmd::new("gameday-no-such-program")
            .output()
            .await
            .unwrap_err();
        assert!(err.is_not_found());
        assert!(err.to_string().contains("not found on PATH"), "{err}");
    }

    #[tokio::test]
    async fn timeout_kills_the_program() {
        let err = Cmd::new("sh")
            .args(["-c", "echo started >&2; exec sleep 5"])
            .timeout(Duration::from_millis(300))
            .output()
            .await
            .unwrap_err();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err}");
        assert!(
            err.to_string().contains("started"),
            "keeps what it printed: {err}"
        );
    }

    #[tokio::test]
    async fn an_interrupted_program_gets_sigint_and_may_clean_up() {
        let token = CancellationToken::new();
        let cmd = Cmd::new("sh")
            .args([
                "-c",
                "trap 'echo cleaned up >&2; exit 3' INT; echo started >&2; while :; do sleep 0.05; done",
            ])
            .own_process_group()
            .interrupt_on(token.clone(), Duration::from_secs(5));
        let run = tokio::spawn(async move { cmd.output_unchecked().await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel();
        let out = run.await.unwrap().unwrap();
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert!(out.stderr.contains("cleaned up"), "{out:?}");
    }

    #[tokio::test]
    async fn an_interrupted_program_that_ignores_it_is_killed_after_the_grace() {
        let token = CancellationToken::new();
        let cmd = Cmd::new("sh")
            .args(["-c", "trap '' INT; echo stubborn >&2; exec sleep 5"])
            .interrupt_on(token.clone(), Duration::from_millis(200));
        let run = tokio::spawn(async move { cmd.output().await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel();
        let err = run.await.unwrap().unwrap_err();
        assert!(
            matches!(err, ProcessError::TimedOut { after, .. } if after == Duration::from_millis(200)),
            "{err}"
        );
    }

    #[tokio::test]
    async fn raw_output_keeps_binary_bytes() {
        let out = Cmd::new("printf")
            .arg(r"\377\000\376")
            .output_raw()
            .await
            .unwrap();
        assert_eq!(out.stdout, vec![0xff, 0x00, 0xfe]);
    }

    #[tokio::test]
    async fn feeds_stdin() {
        let out = Cmd::new("cat").stdin("hello").output().await.unwrap();
        assert_eq!(out.stdout, "hello");
    }
}
