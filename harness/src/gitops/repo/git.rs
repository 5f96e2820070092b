//! How gameday runs `git`: isolated from the user's configuration, with a
//! fixed identity, and with fixed commit dates when commits must be
//! reproducible.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::Cmd;

/// Environment variables that would redirect git to another repository,
/// index or identity if inherited (from a git hook, a CI job…).
const INHERITED_GIT_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
];

/// The author and committer of gameday's commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `user.name`.
    pub name: String,
    /// `user.email`.
    pub email: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            name: "gameday".into(),
            email: "gameday@localhost".into(),
        }
    }
}

/// The dates gameday's commits carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitDates {
    /// Reproducible: the first commit is dated `start`, every later one one
    /// second after its parent. The same changes give the same SHAs.
    Fixed {
        /// Date of a repository's first commit.
        start: jiff::Timestamp,
    },
    /// The current time, as plain `git commit` does (for real remotes).
    Now,
}

impl CommitDates {
    /// Fixed dates starting at 2024-01-01T00:00:00Z.
    pub fn fixed() -> Self {
        CommitDates::Fixed {
            start: jiff::Timestamp::from_second(1_704_067_200)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        }
    }
}

/// How gameday runs `git`.
#[derive(Debug, Clone)]
pub struct GitSettings {
    /// The git program (default `git` on `PATH`).
    pub program: PathBuf,
    /// Author and committer of every commit gameday makes.
    pub identity: Identity,
    /// Dates of the commits.
    pub dates: CommitDates,
    /// Ignore the user's global and system git configuration
    /// (`GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`). On by
    /// default so results do not depend on the machine; turn it off to use
    /// the user's credential helpers or `url.*.insteadOf` rules.
    pub isolate_config: bool,
    /// Timeout of local commands.
    pub timeout: Duration,
    /// Timeout of commands that talk to a remote (clone, fetch, push,
    /// ls-remote).
    pub network_timeout: Duration,
}

impl Default for GitSettings {
    fn default() -> Self {
        GitSettings {
            program: PathBuf::from("git"),
            identity: Identity::default(),
            dates: CommitDates::fixed(),
            isolate_config: true,
            timeout: Duration::from_secs(60),
            network_timeout: Duration::from_secs(300),
        }
    }
}

impl GitSettings {
    /// Settings for a clone of a real remote: commits dated now.
    pub fn for_remote() -> Self {
        GitSettings {
            dates: CommitDates::Now,
            ..GitSettings::default()
        }
    }

    /// A `git` command, in `dir` when given, with the environment isolated.
    pub(crate) fn cmd(&self, dir: Option<&Path>) -> Cmd {
        let mut cmd = Cmd::new(&self.program).timeout(self.timeout);
        for var in INHERITED_GIT_ENV {
            cmd = cmd.env_remove(var);
        }
        // A remote asking for a password must fail, not wait for a terminal.
        cmd = cmd.env("GIT_TERMINAL_PROMPT", "0");
        if self.isolate_config {
            cmd = cmd
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1");
        }
        if let Some(dir) = dir {
            cmd = cmd.arg("-C").arg(dir);
        }
        cmd
    }

    /// A `git` command that talks to a remote.
    pub(crate) fn network_cmd(&self, dir: Option<&Path>) -> Cmd {
        self.cmd(dir).timeout(self.network_timeout)
    }

    /// A `git` command that creates commits: identity, no signing, no
    /// hooks, no editor, and the dates for a commit whose parent was
    /// committed at `parent_time` (Unix seconds).
    pub(crate) fn committing_cmd(&self, dir: &Path, parent_time: Option<i64>) -> Cmd {
        let id = &self.identity;
        let mut cmd = self
            .cmd(Some(dir))
            .arg("-c")
            .arg(format!("user.name={}", id.name))
            .arg("-c")
            .arg(format!("user.email={}", id.email))
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "init.defaultBranch=main",
            ])
            .env("GIT_EDITOR", "true");
        if let CommitDates::Fixed { start } = self.dates {
            let when = match parent_time {
                Some(t) => t.saturating_add(1).max(start.as_second()),
                None => start.as_second(),
            };
            let date = format!("@{when} +0000");
            cmd = cmd
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date);
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_dates_follow_the_parent() {
        let s = GitSettings::default();
        let first = s.committing_cmd(Path::new("/r"), None).display();
        assert!(
            first.contains("GIT_AUTHOR_DATE='@1704067200 +0000'"),
            "{first}"
        );
        let next = s
            .committing_cmd(Path::new("/r"), Some(1_704_067_205))
            .display();
        assert!(
            next.contains("GIT_COMMITTER_DATE='@1704067206 +0000'"),
            "{next}"
        );
        let now = GitSettings::for_remote()
            .committing_cmd(Path::new("/r"), None)
            .display();
        assert!(!now.contains("GIT_AUTHOR_DATE"), "{now}");
    }

    #[test]
    fn isolation_is_visible_in_the_command_line() {
        let line = GitSettings::default().cmd(Some(Path::new("/r"))).display();
        assert!(line.contains("GIT_CONFIG_GLOBAL=/dev/null"), "{line}");
        assert!(line.contains("GIT_CONFIG_NOSYSTEM=1"), "{line}");
        assert!(line.contains("git -C /r"), "{line}");
    }
}
