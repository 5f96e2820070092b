//! What one client, careless or hostile, may take of the API server: its
//! connections, its requests in flight, and how long it may take to send
//! them. The figures are kube-apiserver's defaults where it has one.
//!
//! - **Requests in flight** (`--max-requests-inflight` 400 reads,
//!   `--max-mutating-requests-inflight` 200 writes): beyond them, `429
//!   TooManyRequests` with `Retry-After: 1`, as the API server answers.
//!   Watches are long-running and not counted, as there.
//! - **Connections**: at most [`MAX_CONNECTIONS`] open at once; a
//!   connection beyond that is closed at once (the file descriptors of the
//!   process are finite, and an idle flood must not lock out `kubectl`).
//! - **Time**: a TLS handshake must finish within [`HANDSHAKE_TIMEOUT`],
//!   request headers arrive within [`HEADER_TIMEOUT`], a body within
//!   [`BODY_TIMEOUT`] (slowloris clients are dropped).
//! - **Memory of responses**: lists are encoded as they are sent, a chunk
//!   of [`LIST_CHUNK`] bytes whenever the connection can take one, and a
//!   connection buffers at most [`CONNECTION_BUFFER`] bytes not yet handed
//!   to the kernel. A client that reads slowly, or not at all, holds at
//!   most that much (times [`MAX_CONNECTIONS`]: 384 MiB in all), whatever
//!   the size of the list, and in the kernel a send buffer of
//!   [`SOCKET_SEND_BUFFER`] (doubled by Linux for its bookkeeping) instead
//!   of one auto-tuned up to `tcp_wmem`'s 4 MiB.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::sim::storage::status::{ApiError, Reason};

/// Read-only requests served at once (kube-apiserver's default).
pub const MAX_READS_IN_FLIGHT: usize = 400;
/// Mutating requests served at once (kube-apiserver's default).
pub const MAX_WRITES_IN_FLIGHT: usize = 200;
/// Connections open at once.
pub const MAX_CONNECTIONS: usize = 2048;
/// Time a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time the headers of a request may take to arrive.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Time the body of a request may take to arrive.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The size of one chunk of an encoded list.
pub const LIST_CHUNK: usize = 64 * 1024;
/// Bytes a connection buffers (request head, response not yet written).
pub const CONNECTION_BUFFER: usize = 128 * 1024;
/// The kernel send buffer of an accepted connection (`SO_SNDBUF`).
pub const SOCKET_SEND_BUFFER: u32 = 128 * 1024;

/// The in-flight counters of one API server.
#[derive(Debug, Clone)]
pub struct InFlight {
    reads: Arc<Semaphore>,
    writes: Arc<Semaphore>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight::new(MAX_READS_IN_FLIGHT, MAX_WRITES_IN_FLIGHT)
    }
}

impl InFlight {
    /// Counters with these limits.
    pub fn new(reads: usize, writes: usize) -> Self {
        InFlight {
            reads: Arc::new(Semaphore::new(reads)),
            writes: Arc::new(Semaphore::new(writes)),
        }
    }

    /// A slot for a request, held until the response is produced; `None`
    /// for a watch (long-running, not counted).
    ///
    /// # Errors
    /// 429 with `Retry-After: 1` when every slot of its kind is taken.
    pub fn admit(
        &self,
        method: &Method,
        watch: bool,
    ) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        if watch {
            return Ok(None);
        }
        let pool = match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => &self.reads,
            _ => &self.writes,
        };
        pool.clone()
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| too_many())
    }
}

/// `429 TooManyRequests` with `Retry-After: 1`, as the API server answers.
pub fn too_many() -> ApiError {
    let mut e = ApiError::new(
        Reason::TooManyRequests,
        "Too many requests, please try again later.",
    );
    e.retry_after = Some(1);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_have_their_own_slots_and_watches_none() {
        let limits = InFlight::new(1, 1);
        let read = limits.admit(&Method::GET, false).unwrap();
        let e = limits.admit(&Method::GET, false).unwrap_err();
        assert_eq!((e.code, e.retry_after), (429, Some(1)));
        assert!(limits.admit(&Method::GET, true).unwrap().is_none());
        let write = limits.admit(&Method::PATCH, false).unwrap();
        assert!(limits.admit(&Method::DELETE, false).is_err());
        drop((read, write));
        assert!(limits.admit(&Method::GET, false).is_ok());
        assert!(limits.admit(&Method::POST, false).is_ok());
    }
}
