//! An out-of-process control channel for a served simulated cluster: a
//! small line protocol on a unix socket, so another program (the fake
//! `docker` of the provider tests, or a person exploring a simulated
//! cluster) can inject the faults the in-process hooks offer.
//!
//! `gameday sim serve --control PATH` listens; `gameday sim control
//! --socket PATH <command…>` sends one command. The protocol, one request
//! per line (several per connection are fine):
//!
//! | request | effect |
//! |---|---|
//! | `node stop NAME` | the node's kubelet stops ([`ControllerHandle::lose_node`]) |
//! | `node start NAME` | it starts again ([`ControllerHandle::restore_node`]) |
//! | `api stop` | the API server stops listening ([`SimCluster::stop_api`]) |
//! | `api start` | it listens again on the same port |
//! | `nodes` | one `NAME up` / `NAME down` line per node |
//! | `help` | the commands |
//!
//! Each answer is zero or more data lines, then a last line `ok` or
//! `error: <why>`.
//!
//! [`ControllerHandle::lose_node`]: crate::sim::workloads::controllers::ControllerHandle::lose_node
//! [`ControllerHandle::restore_node`]: crate::sim::workloads::controllers::ControllerHandle::restore_node

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::sim::SimCluster;

/// The commands, as `help` lists them.
pub const HELP: &[&str] = &[
    "node stop NAME    the node's kubelet stops (as `docker stop <node>` does)",
    "node start NAME   the node's kubelet starts again",
    "api stop          the API server stops listening (connections are refused)",
    "api start         the API server listens again on the same port",
    "nodes             every node and whether its kubelet runs (up/down)",
    "help              this list",
];

/// Longest request line accepted (commands are a few words).
const MAX_LINE: usize = 4096;

/// Errors of the control channel.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket could not be created.
    #[error("cannot listen on the control socket {}", .path.display())]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Nothing listens on the socket.
    #[error("cannot connect to the control socket {}: is `gameday sim serve --control` running?", .path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection failed halfway.
    #[error("the control connection to {} failed", .path.display())]
    Io {
        /// The socket path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The simulator refused the command.
    #[error("the simulator refused `{command}`: {why}")]
    Refused {
        /// The command sent.
        command: String,
        /// What it answered.
        why: String,
    },
}

/// A running control server; stops listening and removes its socket when
/// dropped.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl ControlServer {
    /// Listens on `path` (a stale socket file there is replaced) and serves
    /// commands for `cluster`.
    ///
    /// # Errors
    /// [`Error::Listen`] when the socket cannot be created.
    pub fn start(cluster: SimCluster, path: &Path) -> Result<ControlServer, Error> {
        let err = |source| Error::Listen {
            path: path.to_owned(),
            source,
        };
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let listener = UnixListener::bind(path).map_err(err)?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve_connection(cluster.clone(), stream));
            }
        });
        Ok(ControlServer {
            path: path.to_owned(),
            task,
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn serve_connection(cluster: SimCluster, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = match execute(&cluster, &line).await {
            Ok(data) => {
                let mut out: String = data.iter().map(|l| format!("{l}\n")).collect();
                out.push_str("ok\n");
                out
            }
            Err(why) => format!("error: {}\n", why.replace('\n', " ")),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Runs one command line against the cluster; the data lines of the answer.
async fn execute(cluster: &SimCluster, line: &str) -> Result<Vec<String>, String> {
    if line.len() > MAX_LINE {
        return Err("request too long".to_owned());
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let nodes = cluster.controllers();
    match words.as_slice() {
        ["node", "stop", name] => nodes.lose_node(name).await.map_err(|e| e.to_string())?,
        ["node", "start", name] => nodes.restore_node(name).await.map_err(|e| e.to_string())?,
        ["api", "stop"] => cluster.stop_api().await,
        ["api", "start"] => cluster.start_api().await.map_err(|e| e.to_string())?,
        ["nodes"] => {
            let states = nodes.node_states().await.map_err(|e| e.to_string())?;
            return Ok(states
                .into_iter()
                .map(|(n, up)| format!("{n} {}", if up { "up" } else { "down" }))
                .collect());
        }
        ["help"] => return Ok(HELP.iter().map(|s| (*s).to_owned()).collect()),
        _ => {
            return Err(format!(
                "unknown command {line:?}; send `help` for the list"
            ));
        }
    }
    Ok(Vec::new())
}

/// Sends one command and returns the data lines of the answer.
///
/// # Errors
/// [`Error::Connect`] when nothing listens, [`Error::Refused`] when the
/// simulator answers `error: …`, [`Error::Io`] when the connection fails
/// or times out (after `timeout`).
pub async fn request(path: &Path, command: &str, timeout: Duration) -> Result<Vec<String>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let exchange = async {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| Error::Connect {
                path: path.to_owned(),
                source,
            })?;
        let (read, mut write) = stream.into_split();
        write
            .write_all(format!("{}\n", command.trim()).as_bytes())
            .await
            .map_err(io)?;
        let mut lines = BufReader::new(read).lines();
        let mut data = Vec::new();
        loop {
            let line = lines.next_line().await.map_err(io)?.ok_or_else(|| {
                io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the simulator closed the connection before answering",
                ))
            })?;
            if line == "ok" {
                return Ok(data);
            }
            if let Some(why) = line.strip_prefix("error: ") {
                return Err(Error::Refused {
                    command: command.trim().to_owned(),
                    why: why.to_owned(),
                });
            }
            data.push(line);
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {}", humantime::format_duration(timeout)),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::sim::SimOptions;

    #[tokio::test]
    async fn node_and_api_commands_reach_the_cluster() {
        let mut options = SimOptions::new("ctl", Clock::wall());
        options.nodes = 2;
        let cluster = SimCluster::start(options).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("control.sock");
        let server = ControlServer::start(cluster.clone(), &sock).unwrap();
        let t = Duration::from_secs(10);

        let nodes = request(&sock, "nodes", t).await.unwrap();
        assert_eq!(nodes, ["ctl-control-plane up", "ctl-worker up"]);
        request(&sock, "node stop ctl-worker", t).await.unwrap();
        let nodes = request(&sock, "nodes", t).await.unwrap();
        assert_eq!(nodes, ["ctl-control-plane up", "ctl-worker down"]);
        let again = request(&sock, "node stop ctl-worker", t).await.unwrap_err();
        assert!(
            matches!(&again, Error::Refused { why, .. } if why.contains("already lost")),
            "{again}"
        );
        request(&sock, "node start ctl-worker", t).await.unwrap();

        request(&sock, "api stop", t).await.unwrap();
        assert!(!cluster.api_running());
        request(&sock, "api start", t).await.unwrap();
        assert!(cluster.api_running());

        let unknown = request(&sock, "reboot", t).await.unwrap_err();
        assert!(unknown.to_string().contains("send `help`"), "{unknown}");
        assert_eq!(request(&sock, "help", t).await.unwrap().len(), HELP.len());

        drop(server);
        assert!(!sock.exists(), "the socket is removed with the server");
        let gone = request(&sock, "nodes", t).await.unwrap_err();
        assert!(matches!(gone, Error::Connect { .. }), "{gone}");
        cluster.shutdown().await;
    }
}
