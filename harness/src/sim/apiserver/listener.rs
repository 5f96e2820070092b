//! The TCP (and TLS) listener: accept loop, one hyper HTTP/1.1 connection
//! per client with keep-alive, and stop/start on the same port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::debug;

use super::limits;
use super::server::{self, ApiState};
use crate::sim::{Error, Result};

struct Running {
    cancel: CancellationToken,
    tracker: TaskTracker,
    task: JoinHandle<()>,
}

/// The API listener of one cluster.
pub struct Listener {
    state: Arc<ApiState>,
    tls: Option<TlsAcceptor>,
    port: AtomicU16,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Listener(127.0.0.1:{}, running: {})",
            self.port(),
            self.is_running()
        )
    }
}

impl Listener {
    /// A stopped listener; `port` 0 picks a free port at the first start.
    pub fn new(state: Arc<ApiState>, tls: Option<Arc<rustls::ServerConfig>>, port: u16) -> Self {
        Listener {
            state,
            tls: tls.map(TlsAcceptor::from),
            port: AtomicU16::new(port),
            running: Mutex::new(None),
        }
    }

    /// The bound port (0 before the first start with a random port).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::SeqCst)
    }

    /// True while accepting.
    pub fn is_running(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Binds 127.0.0.1 on the port and starts accepting (no-op if running).
    ///
    /// # Errors
    /// [`Error::Bind`] when the port cannot be bound.
    pub async fn start(&self) -> Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let port = self.port();
        let listener = bind(port).map_err(|source| Error::Bind { port, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| Error::Bind { port, source })?
            .port();
        self.port.store(bound, Ordering::SeqCst);
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let task = tokio::spawn(accept_loop(
            listener,
            self.state.clone(),
            self.tls.clone(),
            cancel.clone(),
            tracker.clone(),
        ));
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Running {
            cancel,
            tracker,
            task,
        });
        Ok(())
    }

    /// Stops accepting and drops every open connection; returns once the
    /// port is closed.
    pub async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = running {
            r.cancel.cancel();
            let _ = r.task.await;
            r.tracker.close();
            r.tracker.wait().await;
        }
    }
}

impl Drop for Listener {
    /// A dropped cluster stops serving: the accept loop and connections end.
    fn drop(&mut self) {
        if let Some(r) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            r.cancel.cancel();
        }
    }
}

/// A listener on 127.0.0.1:`port` whose accepted connections inherit a
/// send buffer of [`limits::SOCKET_SEND_BUFFER`]: the kernel's memory for
/// a client that does not read is bounded too, not only the process's (on
/// Linux an auto-tuned send buffer grows to megabytes, and a thousand
/// silent readers then exhaust the machine's TCP memory, which resets
/// connections of every program on it).
fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_send_buffer_size(limits::SOCKET_SEND_BUFFER)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    // tokio's TcpListener::bind backlog.
    socket.listen(1024)
}

/// Serves one accepted connection until it ends or the listener stops.
async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<ApiState>,
    tls: Option<TlsAcceptor>,
    cancel: CancellationToken,
) {
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(server::handle(state, req).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits::HEADER_TIMEOUT)
        // What a slow reader can make the server hold (see `limits`).
        .max_buf_size(limits::CONNECTION_BUFFER);
    let served = async {
        match tls {
            Some(acceptor) => {
                match tokio::time::timeout(limits::HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    Ok(Err(e)) => {
                        debug!(%peer, error = %e, "TLS handshake failed");
                        Ok(())
                    }
                    Err(_) => {
                        debug!(%peer, "TLS handshake timed out");
                        Ok(())
                    }
                }
            }
            None => builder.serve_connection(TokioIo::new(tcp), service).await,
        }
    };
    tokio::select! {
        () = cancel.cancelled() => {}
        r = served => if let Err(e) = r { debug!(%peer, error = %e, "connection ended with an error") },
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<ApiState>,
    tls: Option<TlsAcceptor>,
    cancel: CancellationToken,
    tracker: TaskTracker,
) {
    let connections = Arc::new(tokio::sync::Semaphore::new(limits::MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors (EMFILE) fails every accept at
                // once: back off instead of spinning.
                debug!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        // Beyond the cap the connection is closed at once: an idle flood
        // must not take every file descriptor (kubectl would time out).
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            debug!(%peer, max = limits::MAX_CONNECTIONS, "too many connections: closed");
            drop(tcp);
            continue;
        };
        let (state, tls, cancel) = (state.clone(), tls.clone(), cancel.clone());
        tracker.spawn(async move {
            serve_connection(tcp, peer, state, tls, cancel).await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the cap an accepted socket's send buffer is auto-tuned by
    /// the kernel (from `tcp_wmem`'s 16 KiB up to 4 MiB).
    #[tokio::test]
    async fn accepted_connections_have_a_bounded_kernel_send_buffer() {
        let listener = bind(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = tokio::net::TcpStream::connect(("127.0.0.1", port));
        let (accepted, client) = tokio::join!(listener.accept(), client);
        let (accepted, _) = accepted.unwrap();
        let _client = client.unwrap();
        let socket = tokio::net::TcpSocket::from_std_stream(accepted.into_std().unwrap());
        let size = socket.send_buffer_size().unwrap();
        // Linux doubles what is set (its bookkeeping) and locks it there.
        assert!(
            (limits::SOCKET_SEND_BUFFER..=2 * limits::SOCKET_SEND_BUFFER).contains(&size),
            "SO_SNDBUF {size}"
        );
    }
}
