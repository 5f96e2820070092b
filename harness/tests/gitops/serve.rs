//! Git smart HTTP with the real `git` client.

use gameday::gitops::repo::{CloneOptions, FixtureOptions, GitRef, GitSettings, Repo, ls_remote};
use gameday::gitops::serve::{GitServer, ServeOptions};

use super::{chain, fixture, git, git_out};

async fn served_podinfo() -> (Repo, GitServer) {
    let repo = Repo::from_fixture(&fixture("podinfo"), &FixtureOptions::default())
        .await
        .unwrap();
    let server = GitServer::serve(repo.path(), "podinfo", ServeOptions::default())
        .await
        .unwrap();
    (repo, server)
}

#[tokio::test]
async fn real_git_clones_and_lists_refs_over_http() {
    let (repo, server) = served_podinfo().await;
    let url = server.url();
    let port = server.local_addr().port();
    assert_eq!(url, format!("http://127.0.0.1:{port}/podinfo.git"));
    let head = repo.head().await.unwrap();

    let refs = git_out(None, &["ls-remote", &url]).await;
    assert!(
        refs.contains(&format!("{}\trefs/heads/main", head.sha)),
        "{refs}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("clone");
    git_out(None, &["clone", "--quiet", &url, &dest.to_string_lossy()]).await;
    assert_eq!(git_out(Some(&dest), &["rev-parse", "HEAD"]).await, head.sha);
    assert!(dest.join("apps/podinfo/deployment.yaml").is_file());

    // Protocol v0 (older clients) works too.
    let v0 = tmp.path().join("clone-v0");
    git_out(
        None,
        &[
            "-c",
            "protocol.version=0",
            "clone",
            "--quiet",
            &url,
            &v0.to_string_lossy(),
        ],
    )
    .await;
    assert_eq!(git_out(Some(&v0), &["rev-parse", "HEAD"]).await, head.sha);

    // New commits are visible at once; gameday's own clone and ls-remote work.
    let next = repo
        .write_file("apps/podinfo/note.txt", "hello\n", "Add a note")
        .await
        .unwrap();
    let remote = ls_remote(&url, &GitRef::branch("main"), &GitSettings::default())
        .await
        .unwrap();
    assert_eq!(remote, next);
    let clone = Repo::clone_url(&url, &CloneOptions::default())
        .await
        .unwrap();
    assert_eq!(clone.head().await.unwrap(), next);
    assert_eq!(server.git_dir_for_url(&url), Some(repo.path().join(".git")));
}

#[tokio::test]
async fn pushing_is_refused() {
    let (repo, server) = served_podinfo().await;
    let before = repo.head().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("clone");
    git_out(
        None,
        &["clone", "--quiet", &server.url(), &dest.to_string_lossy()],
    )
    .await;
    std::fs::write(dest.join("evil.yaml"), "a: 1\n").unwrap();
    git_out(Some(&dest), &["add", "evil.yaml"]).await;
    git_out(Some(&dest), &["commit", "--quiet", "-m", "evil"]).await;
    let err = git(Some(&dest))
        .args(["push", "origin", "HEAD:main"])
        .output()
        .await
        .unwrap_err();
    let msg = chain(&err);
    assert!(msg.contains("403"), "{msg}");
    assert_eq!(repo.head().await.unwrap(), before);
}

#[tokio::test]
async fn unknown_repositories_are_not_found_and_several_can_be_served() {
    let (_repo, mut server) = served_podinfo().await;
    let missing = server.url().replace("podinfo.git", "nope.git");
    let err = git(None)
        .args(["ls-remote", &missing])
        .output()
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains("404") || chain(&err).contains("not found"),
        "{}",
        chain(&err)
    );

    let shop = Repo::from_fixture(&fixture("shop"), &FixtureOptions::default())
        .await
        .unwrap();
    let url = server.add("shop", shop.path()).await.unwrap();
    assert_eq!(server.url_for("shop.git"), Some(url.clone()));
    let refs = git_out(None, &["ls-remote", &url, "refs/heads/main"]).await;
    assert!(refs.starts_with(&shop.head().await.unwrap().sha), "{refs}");

    assert!(
        server.add("shop", shop.path()).await.is_err(),
        "duplicate name accepted"
    );
    assert!(
        server.add("../x", shop.path()).await.is_err(),
        "bad name accepted"
    );
    let not_repo = tempfile::tempdir().unwrap();
    assert!(
        server.add("plain", not_repo.path()).await.is_err(),
        "non-repository accepted"
    );
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let (_repo, server) = served_podinfo().await;
    let addr = server.local_addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    server.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening on {addr}"
    );
}

#[tokio::test]
async fn credentials_in_a_served_url_never_show() {
    let (_repo, server) = served_podinfo().await;
    // The server ignores credentials, so the clone succeeds with them.
    let url = server.url().replace("http://", "http://bot:s3cr3t@");
    let clone = Repo::clone_url(&url, &CloneOptions::default())
        .await
        .unwrap();
    assert_eq!(
        clone.origin(),
        Some(server.url().replace("http://", "http://***@"))
    );
    let debug = format!("{clone:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    // Pushing is refused by the server; the error names the redacted URL.
    let err = clone.write_file("x.yaml", "a: 1\n", "x").await.unwrap_err();
    let msg = chain(&err);
    assert!(
        msg.contains("pushing main to http://***@127.0.0.1"),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t"), "{msg}");
    assert!(!format!("{err:?}").contains("s3cr3t"));
}
