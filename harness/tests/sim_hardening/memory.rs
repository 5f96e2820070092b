//! 1,000 concurrent reads of a 5.3 MB list (issue 19, defect 4): the
//! server's memory stays bounded by what each connection may buffer
//! instead of growing by one encoding per reader (70 MB → over 4 GB
//! before).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `gameday sim serve --insecure` child and its port.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    /// Where its stderr goes.
    log: std::path::PathBuf,
}

impl Server {
    /// Whether it still runs, and the end of what it wrote on stderr:
    /// what a failure of this test needs to be understood.
    fn state(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(None) => "running".to_owned(),
            Ok(Some(s)) => format!("exited: {s}"),
            Err(e) => format!("unknown: {e}"),
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "server {status}; its stderr ends with:\n{}",
            tail.join("\n")
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let log = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args([
            "sim",
            "serve",
            "--insecure",
            "--profile",
            "instant",
            "--kubeconfig",
        ])
        .arg(&kc)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(line.starts_with("ready: "), "{line}");
    let yaml = std::fs::read_to_string(&kc).unwrap();
    let server = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_owned();
    let port = server.rsplit(':').next().unwrap().parse().unwrap();
    Server {
        child,
        port,
        _dir: dir,
        log,
    }
}

/// The resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

/// One HTTP/1.1 request on a new connection; the response as text.
fn request(port: u16, method: &str, path: &str, body: &str) -> String {
    try_request(port, method, path, body).unwrap()
}

/// [`request`], its I/O error returned.
fn try_request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    // One write: the request whole, before the server may answer.
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(text.as_bytes())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The memory all TCP sockets of the machine hold, in MiB
/// (`/proc/net/sockstat`: `TCP: … mem <pages>`).
fn tcp_mib() -> u64 {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let pages: u64 = text
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| l.split_whitespace().skip_while(|w| *w != "mem").nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * 4096 / (1024 * 1024)
}

/// Decodes a chunked HTTP/1.1 body.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

#[test]
fn a_thousand_readers_of_a_5_mb_list_keep_memory_bounded() {
    let mut server = serve();
    let port = server.port;
    // 530 ConfigMaps of 10 KB: a 5.3 MB list.
    let value = "x".repeat(10_000);
    for i in 0..530 {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"big-{i}"}},"data":{{"v":"{value}"}}}}"#
        );
        let out = request(port, "POST", "/api/v1/namespaces/default/configmaps", &body);
        assert!(
            out.starts_with("HTTP/1.1 201"),
            "{}",
            &out[..out.len().min(300)]
        );
    }
    let before = rss_mib(server.child.id());
    let tcp_before = tcp_mib();
    // 1,000 readers that send their request and read nothing: the worst
    // case for the server, which cannot hand their bytes to anyone.
    // Their own receive buffers are small, so what the machine's TCP
    // memory shows is mostly the server's side.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let connect = || {
        rt.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_recv_buffer_size(16 * 1024)?;
            let stream = socket.connect(([127, 0, 0, 1], port).into()).await?;
            let stream = stream.into_std()?;
            stream.set_nonblocking(false)?;
            std::io::Result::Ok(stream)
        })
        .unwrap()
    };
    let mut readers = Vec::new();
    for _ in 0..1000 {
        let mut s = connect();
        s.write_all(b"GET /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        readers.push(s);
    }
    // Let the server take them all in, then measure its peak, and the
    // machine's TCP memory (what the kernel holds for these sockets).
    let started = Instant::now();
    let mut peak = before;
    let mut tcp_peak = tcp_before;
    while started.elapsed() < Duration::from_secs(10) {
        peak = peak.max(rss_mib(server.child.id()));
        tcp_peak = tcp_peak.max(tcp_mib());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Each silent connection holds at most its buffer (128 KiB) and a
    // chunk (64 KiB): under 200 MiB for 1,000 of them, far below one
    // encoding per reader (5 GB).
    #[allow(clippy::print_stderr)] // the figure, with --no-capture
    {
        eprintln!("RSS {before} MiB before, {peak} MiB at most with 1,000 silent readers");
        eprintln!("TCP memory of the machine {tcp_before} MiB before, {tcp_peak} MiB at most");
    }
    assert!(
        peak - before < 300,
        "RSS grew from {before} MiB to {peak} MiB"
    );
    // The kernel's share: a send buffer fixed at 2 x 128 KiB per accepted
    // connection, not auto-tuned up to 4 MiB (which ran the machine out
    // of TCP memory — `TCP: out of memory` in dmesg — and reset sockets,
    // this test's own reader among them). Measured on 2 vCPUs: 264 MiB with
    // the cap, 837 MiB without (and the limit, 2.2 GB, under a loaded CI
    // run); the bound leaves room for the sockets of tests running beside.
    assert!(
        tcp_peak.saturating_sub(tcp_before) < 600,
        "the machine's TCP memory grew from {tcp_before} MiB to {tcp_peak} MiB"
    );
    // A reader that reads gets the whole list meanwhile.
    let list = try_request(port, "GET", "/api/v1/namespaces/default/configmaps", "")
        .unwrap_or_else(|e| panic!("the reading client: {e}; {}", server.state()));
    assert!(
        list.starts_with("HTTP/1.1 200"),
        "{}",
        &list[..list.len().min(300)]
    );
    let (_, body) = list.split_once("\r\n\r\n").unwrap();
    let body = if list
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let big = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["name"].as_str().unwrap().starts_with("big-"))
        .count();
    assert_eq!(big, 530);
    drop(readers);
}
