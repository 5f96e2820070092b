//! The minimal client that measures the simulator's own limit: hyper's
//! HTTP/1.1 connection API over rustls (the same TLS and token as every
//! client), `conns` keep-alive connections each sending its next request as
//! soon as the previous answer is read. No kube-rs, no discovery, no JSON
//! decoding of answers: what remains is the server's cost (and the
//! unavoidable TLS and HTTP framing on both sides).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use gameday::sim::SimCluster;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where and how to connect.
#[derive(Clone)]
pub struct Target {
    addr: SocketAddr,
    authorization: Option<String>,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({}, tls: {})", self.addr, self.tls.is_some())
    }
}

impl Target {
    /// The API server of `cluster`, trusting its CA, with its token.
    pub fn of(cluster: &SimCluster) -> Target {
        let addr = SocketAddr::from(([127, 0, 0, 1], cluster.port()));
        let tls = cluster.ca_pem().map(|pem| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.expect("CA PEM")).expect("CA certificate");
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
            TlsConnector::from(Arc::new(cfg))
        });
        Target {
            addr,
            authorization: cluster.token().map(|t| format!("Bearer {t}")),
            tls,
        }
    }
}

/// One request: a server-side apply PATCH of `body` at `path`.
#[derive(Debug, Clone)]
pub struct Apply {
    path: String,
    body: Bytes,
}

impl Apply {
    /// Server-side apply of a namespaced core object (`configmaps`), as
    /// the apply engine sends it (field manager, forced conflicts).
    pub fn core(resource: &str, object: &Value) -> Apply {
        let ns = object["metadata"]["namespace"].as_str().expect("namespace");
        let name = object["metadata"]["name"].as_str().expect("name");
        Apply {
            path: format!("/api/v1/namespaces/{ns}/{resource}/{name}?fieldManager=raw&force=true"),
            body: Bytes::from(serde_json::to_vec(object).expect("JSON")),
        }
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(target: &Target) -> Sender {
    let tcp = TcpStream::connect(target.addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    match &target.tls {
        Some(tls) => {
            let name = ServerName::IpAddress(target.addr.ip().into());
            let stream = tls.connect(name, tcp).await.expect("TLS handshake");
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("HTTP handshake");
            tokio::spawn(conn);
            sender
        }
        None => {
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                .await
                .expect("HTTP handshake");
            tokio::spawn(conn);
            sender
        }
    }
}

/// Sends every request over `conns` keep-alive connections (opened before
/// the first request is sent, so only the requests are timed when the
/// caller times [`Loop::run`]).
pub struct Loop {
    target: Target,
    senders: Vec<Sender>,
}

impl Loop {
    /// Opens `conns` connections.
    pub async fn open(target: &Target, conns: usize) -> Loop {
        let mut senders = Vec::new();
        for _ in 0..conns.max(1) {
            senders.push(connect(target).await);
        }
        Loop {
            target: target.clone(),
            senders,
        }
    }

    /// Sends every request; returns how many were answered 200 or 201.
    pub async fn run(&mut self, requests: Arc<Vec<Apply>>) -> usize {
        let next = Arc::new(AtomicUsize::new(0));
        let auth = self.target.authorization.clone();
        let tasks: Vec<_> = self
            .senders
            .drain(..)
            .map(|mut sender| {
                let (next, requests, auth) = (next.clone(), requests.clone(), auth.clone());
                tokio::spawn(async move {
                    let mut ok = 0;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = requests.get(i) else { break };
                        let mut req = http::Request::patch(r.path.as_str())
                            .header(http::header::HOST, "127.0.0.1")
                            .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
                            .header(http::header::ACCEPT, "application/json");
                        if let Some(a) = &auth {
                            req = req.header(http::header::AUTHORIZATION, a.as_str());
                        }
                        let req = req.body(Full::new(r.body.clone())).expect("request");
                        sender.ready().await.expect("connection ready");
                        let resp = sender.send_request(req).await.expect("response");
                        let status = resp.status();
                        // Read the whole answer, as any client must.
                        let _ = resp.into_body().collect().await.expect("body");
                        if status.is_success() {
                            ok += 1;
                        }
                    }
                    (sender, ok)
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            let (sender, n) = t.await.expect("client task");
            self.senders.push(sender);
            ok += n;
        }
        ok
    }
}

/// `n` ConfigMaps shaped as `gitops::synth` writes them (a label, an index
/// and a 64-byte payload), as apply requests into namespace `ns`.
pub fn config_maps(ns: &str, n: usize) -> Vec<Apply> {
    (0..n)
        .map(|i| {
            let payload: String = format!("object-{i}-").chars().cycle().take(64).collect();
            Apply::core(
                "configmaps",
                &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{i:05}"), "namespace": ns,
                        "labels": {"app.kubernetes.io/part-of": "synth"}},
                    "data": {"index": i.to_string(), "payload": payload}}),
            )
        })
        .collect()
}
