//! What one careless or hostile client may take of the simulator's API
//! server (see `sim::apiserver::limits`): requests in flight, connections,
//! and the time a TLS handshake may take. Each probe is bounded in time.

use std::time::Duration;

use gameday::clock::Clock;
use gameday::sim::SimOptions;
use gameday::sim::apiserver::limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Fixture;

async fn plain() -> Fixture {
    Fixture::with(SimOptions {
        tls: false,
        ..SimOptions::new("limits", Clock::wall())
    })
    .await
}

/// Sends a raw HTTP/1.1 request and returns the status line and the body.
async fn http(port: u16, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.lines().next().unwrap_or_default().to_owned();
    (status, text)
}

#[tokio::test]
async fn writes_beyond_the_in_flight_limit_get_429_with_retry_after_and_reads_still_pass() {
    let f = plain().await;
    let port = f.cluster.port();
    // Every write slot held by a POST whose body never comes.
    let mut held = Vec::new();
    for _ in 0..limits::MAX_WRITES_IN_FLIGHT {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        held.push(s);
    }
    // Let the server take them in.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}"#;
    let post = format!(
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, text) = loop {
        let got = http(port, &post).await;
        if got.0.contains(" 429 ") || tokio::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.contains(" 429 "), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    assert!(text.contains("\"reason\":\"TooManyRequests\""), "{text}");
    let (status, text) = http(
        port,
        "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(status.contains(" 200 "), "{text}");
    drop(held);
}

#[tokio::test]
async fn a_flood_of_silent_connections_is_closed_and_the_server_serves_again() {
    let f = Fixture::start().await;
    let port = f.cluster.port();
    // More than the connection cap, none of them starting a handshake.
    let mut flood = Vec::new();
    for _ in 0..limits::MAX_CONNECTIONS + 50 {
        flood.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    // Each is closed by the server: beyond the cap at once, the others when
    // their handshake times out.
    let guard = limits::HANDSHAKE_TIMEOUT + Duration::from_secs(20);
    let closed = tokio::time::timeout(guard, async {
        let mut n = 0;
        for s in &mut flood {
            let mut buf = [0u8; 1];
            if matches!(s.read(&mut buf).await, Ok(0) | Err(_)) {
                n += 1;
            }
        }
        n
    })
    .await
    .expect("every silent connection is closed within the handshake timeout");
    assert_eq!(closed, flood.len());
    let (code, body) = f.raw("GET", "/api/v1/namespaces", None, Vec::new()).await;
    assert_eq!(code, 200, "{body}");
}
