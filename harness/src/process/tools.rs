//! How gameday starts the external programs it drives (`kind`, `docker`,
//! `podman`…): by name on `PATH`, through [`super::Cmd`], with an
//! optional environment overlay. The overlay is a value passed down, not a
//! global, so tests point one drill at fake binaries (`PATH`, state folders)
//! while others run beside it in the same process.

use std::ffi::{OsStr, OsString};

use super::Cmd;

/// Environment overlay for provider commands (empty: inherit everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tools {
    env: Vec<(OsString, OsString)>,
}

impl Tools {
    /// Sets a variable for every command (`PATH` included: programs are
    /// then looked up on that `PATH`).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Tools {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// A command running `program` with the overlay.
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Cmd {
        self.env
            .iter()
            .fold(Cmd::new(program), |cmd, (k, v)| cmd.env(k, v))
    }

    /// The names the overlay sets.
    pub fn names(&self) -> impl Iterator<Item = &OsStr> {
        self.env.iter().map(|(k, _)| k.as_os_str())
    }

    /// A variable as the commands see it: the overlay's (last one wins),
    /// else this process's.
    pub fn var(&self, key: &str) -> Option<String> {
        match self.env.iter().rev().find(|(k, _)| k == key) {
            Some((_, v)) => Some(v.to_string_lossy().into_owned()),
            None => std::env::var(key).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_wins_over_the_process_environment() {
        let t = Tools::default()
            .env("GAMEDAY_TOOLS_TEST", "a")
            .env("GAMEDAY_TOOLS_TEST", "b");
        assert_eq!(t.var("GAMEDAY_TOOLS_TEST").as_deref(), Some("b"));
        assert_eq!(Tools::default().var("GAMEDAY_TOOLS_TEST_UNSET"), None);
    }

    #[tokio::test]
    async fn commands_get_the_overlay() {
        let out = Tools::default()
            .env("GAMEDAY_TOOLS_TEST", "seen")
            .cmd("sh")
            .args(["-c", "echo $GAMEDAY_TOOLS_TEST"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, "seen\n");
    }
}
