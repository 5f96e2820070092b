//! Source repositories through the real `git`.

use std::path::Path;

use gameday::gitops::repo::{
    Change, CloneOptions, Error, FixtureOptions, GitRef, GitSettings, Repo, Revision, ls_remote,
};
use gameday::gitops::yaml::{DocSelector, FieldPath};
use serde_json::json;

use super::{chain, fixture, git_out};

const DEPLOYMENT: &str = "apps/podinfo/deployment.yaml";
const IMAGE_PATH: &str = "spec.template.spec.containers[0].image";

fn in_dir(parent: &Path) -> FixtureOptions {
    FixtureOptions {
        parent: Some(parent.to_owned()),
        ..FixtureOptions::default()
    }
}

async fn podinfo() -> Repo {
    Repo::from_fixture(&fixture("podinfo"), &FixtureOptions::default())
        .await
        .expect("materialise podinfo")
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn same_fixture_gives_same_commit_sha_in_different_dirs() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Repo::from_fixture(&fixture("podinfo"), &in_dir(a.path()))
        .await
        .unwrap();
    let second = Repo::from_fixture(&fixture("podinfo"), &in_dir(b.path()))
        .await
        .unwrap();
    assert_ne!(first.path(), second.path());
    assert!(first.path().starts_with(a.path()));
    let (h1, h2) = (first.head().await.unwrap(), second.head().await.unwrap());
    assert_eq!(h1, h2, "same fixture, different SHAs");
    assert_eq!(h1.reference.as_deref(), Some("main"));
    assert!(
        h1.to_string().starts_with("main@sha1:") && is_sha(&h1.sha),
        "{h1}"
    );
    // The author, committer and dates are fixed, not the machine's.
    let meta = git_out(
        Some(first.path()),
        &["log", "-1", "--format=%an <%ae>|%cn|%ct|%s"],
    )
    .await;
    assert_eq!(
        meta,
        "gameday <gameday@localhost>|gameday|1704067200|Import fixture podinfo"
    );
    let shop = Repo::from_fixture(&fixture("shop"), &in_dir(a.path()))
        .await
        .unwrap();
    assert_ne!(shop.head().await.unwrap().sha, h1.sha);
}

#[tokio::test]
async fn executable_bits_do_not_change_the_sha() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("podinfo");
    super::copy_dir(&fixture("podinfo"), &copy);
    use std::os::unix::fs::PermissionsExt;
    let file = copy.join(DEPLOYMENT);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = Repo::from_fixture(&fixture("podinfo"), &in_dir(tmp.path()))
        .await
        .unwrap();
    let exec = Repo::from_fixture(&copy, &in_dir(tmp.path()))
        .await
        .unwrap();
    assert_eq!(plain.head().await.unwrap(), exec.head().await.unwrap());
    let mode = git_out(Some(exec.path()), &["ls-files", "-s", DEPLOYMENT]).await;
    assert!(mode.starts_with("100644 "), "{mode}");
}

#[tokio::test]
async fn temp_dir_is_removed_on_drop_unless_kept() {
    let repo = podinfo().await;
    let path = repo.path().to_owned();
    assert!(repo.is_temporary());
    drop(repo);
    assert!(!path.exists(), "{} left behind", path.display());

    let mut repo = podinfo().await;
    let kept = repo.keep();
    assert!(!repo.is_temporary());
    drop(repo);
    assert!(kept.join(".git").is_dir());
    std::fs::remove_dir_all(kept).unwrap();
}

#[tokio::test]
async fn set_field_write_and_delete_commit_and_revert_restores() {
    let repo = podinfo().await;
    let original = repo.head().await.unwrap();
    let before = std::fs::read(repo.path().join(DEPLOYMENT)).unwrap();

    let bad = repo
        .set_field(
            DEPLOYMENT,
            DocSelector::object("Deployment", "podinfo"),
            IMAGE_PATH,
            json!("ghcr.io/stefanprodan/podinfo:broken"),
            "Break the image",
        )
        .await
        .unwrap();
    assert_ne!(bad.sha, original.sha);
    assert_eq!(bad.reference.as_deref(), Some("main"));
    assert_eq!(repo.head().await.unwrap(), bad);
    let committed = repo.read_file_at("HEAD", DEPLOYMENT).await.unwrap();
    assert!(
        committed.contains("image: ghcr.io/stefanprodan/podinfo:broken"),
        "{committed}"
    );
    // The commit changed only the image line.
    let diff = git_out(Some(repo.path()), &["diff", "--numstat", "HEAD~1", "HEAD"]).await;
    assert_eq!(diff, format!("1\t1\t{DEPLOYMENT}"));

    let reverted = repo.revert(&bad.sha).await.unwrap();
    assert_ne!(reverted.sha, bad.sha);
    assert_eq!(std::fs::read(repo.path().join(DEPLOYMENT)).unwrap(), before);
    let subject = git_out(Some(repo.path()), &["log", "-1", "--format=%s"]).await;
    assert_eq!(subject, "Revert \"Break the image\"");

    let service = std::fs::read(repo.path().join("apps/podinfo/service.yaml")).unwrap();
    let replaced = repo
        .write_file(
            "apps/podinfo/service.yaml",
            "# emptied by a bad commit\n",
            "Empty the service",
        )
        .await
        .unwrap();
    assert_eq!(
        repo.read_file_at(&replaced.sha, "apps/podinfo/service.yaml")
            .await
            .unwrap(),
        "# emptied by a bad commit\n"
    );
    repo.revert(&replaced.sha).await.unwrap();
    assert_eq!(
        std::fs::read(repo.path().join("apps/podinfo/service.yaml")).unwrap(),
        service
    );

    let written = repo
        .write_file(
            "apps/podinfo/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
            "Add extra",
        )
        .await
        .unwrap();
    let deleted = repo
        .delete_file("apps/podinfo/hpa.yaml", "Drop the HPA")
        .await
        .unwrap();
    assert!(!repo.path().join("apps/podinfo/hpa.yaml").exists());
    repo.revert(&deleted.sha).await.unwrap();
    assert!(repo.path().join("apps/podinfo/hpa.yaml").is_file());
    repo.revert(&written.sha).await.unwrap();
    assert!(!repo.path().join("apps/podinfo/extra.yaml").exists());

    let log = repo.log(10).await.unwrap();
    let subjects: Vec<&str> = log.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Revert \"Add extra\"",
            "Revert \"Drop the HPA\"",
            "Drop the HPA",
            "Add extra",
            "Revert \"Empty the service\"",
            "Empty the service",
            "Revert \"Break the image\"",
            "Break the image",
            "Import fixture podinfo"
        ]
    );
    assert!(
        log.windows(2).all(|w| w[0].time > w[1].time),
        "fixed dates increase"
    );
}

#[tokio::test]
async fn changes_are_reproducible_too() {
    let (a, b) = (podinfo().await, podinfo().await);
    for repo in [&a, &b] {
        repo.set_field(
            DEPLOYMENT,
            DocSelector::only(),
            IMAGE_PATH,
            json!("x:1"),
            "Change",
        )
        .await
        .unwrap();
    }
    assert_eq!(a.head().await.unwrap(), b.head().await.unwrap());
}

#[tokio::test]
async fn bad_changes_are_refused_with_clear_errors() {
    let repo = podinfo().await;
    let head = repo.head().await.unwrap();
    let same = repo
        .set_field(
            DEPLOYMENT,
            DocSelector::only(),
            IMAGE_PATH,
            json!("ghcr.io/stefanprodan/podinfo:6.7.1"),
            "noop",
        )
        .await
        .unwrap_err();
    assert!(matches!(same, Error::NoChange { .. }), "{same}");
    assert!(same.to_string().contains("changes nothing"), "{same}");

    let missing = repo.delete_file("apps/nope.yaml", "x").await.unwrap_err();
    assert!(matches!(missing, Error::FileNotFound { .. }), "{missing}");
    let outside = repo
        .write_file("../escape.yaml", "x", "x")
        .await
        .unwrap_err();
    assert!(matches!(outside, Error::OutsideRepo { .. }), "{outside}");
    let bad_path = repo
        .set_field(
            DEPLOYMENT,
            DocSelector::only(),
            "spec.template.spec.containers[5].image",
            json!("x"),
            "x",
        )
        .await
        .unwrap_err();
    let msg = chain(&bad_path);
    assert!(
        msg.contains("cannot edit apps/podinfo/deployment.yaml"),
        "{msg}"
    );
    assert!(msg.contains("index 5 is out of range"), "{msg}");
    // A commit of several changes is all or nothing: the good change is not
    // written when a later one fails.
    let err = repo
        .commit(
            &[
                Change::Write {
                    file: "apps/podinfo/new.yaml".into(),
                    content: b"a: 1\n".to_vec(),
                },
                Change::SetFields {
                    file: DEPLOYMENT.into(),
                    document: DocSelector::object("Service", "podinfo"),
                    fields: vec![(FieldPath::parse("spec.type").unwrap(), json!("NodePort"))],
                },
            ],
            "two changes",
        )
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains(
            "no document matches kind Service, name podinfo; the file holds: 0: Deployment/podinfo"
        ),
        "{}",
        chain(&err)
    );
    // Nothing was written or committed by the failed attempts.
    assert_eq!(
        git_out(Some(repo.path()), &["status", "--porcelain"]).await,
        ""
    );
    assert_eq!(repo.head().await.unwrap(), head);

    // Changes to the same file in one commit build on each other.
    let both = repo
        .commit(
            &[
                Change::Write {
                    file: "apps/podinfo/new.yaml".into(),
                    content: b"a: 1\nb: 2\n".to_vec(),
                },
                Change::SetFields {
                    file: "apps/podinfo/new.yaml".into(),
                    document: DocSelector::only(),
                    fields: vec![(FieldPath::parse("b").unwrap(), json!(3))],
                },
            ],
            "two changes",
        )
        .await
        .unwrap();
    assert_eq!(
        repo.read_file_at(&both.sha, "apps/podinfo/new.yaml")
            .await
            .unwrap(),
        "a: 1\nb: 3\n"
    );
}

#[tokio::test]
async fn missing_revisions_are_clear_errors() {
    let repo = podinfo().await;
    let err = repo.revision(&GitRef::tag("v9.9.9")).await.unwrap_err();
    assert!(matches!(err, Error::RevisionNotFound { .. }), "{err}");
    assert!(
        err.to_string().starts_with("tag v9.9.9 does not exist in "),
        "{err}"
    );
    let err = repo
        .revert("0123456789abcdef0123456789abcdef01234567")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");

    let url = repo.path().to_string_lossy().into_owned();
    let opts = |r: GitRef| CloneOptions {
        reference: Some(r),
        ..CloneOptions::default()
    };
    let err = Repo::clone_url(&url, &opts(GitRef::branch("nope")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RevisionNotFound { .. }),
        "{}",
        chain(&err)
    );
    assert_eq!(
        err.to_string(),
        format!("branch nope does not exist in {url}")
    );
    let msg = chain(&err);
    assert!(
        msg.contains("git clone") && msg.contains("exit status 128"),
        "{msg}"
    );
    let err = Repo::clone_url(
        &url,
        &opts(GitRef::commit("0123456789abcdef0123456789abcdef01234567")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::RevisionNotFound { .. }),
        "{}",
        chain(&err)
    );
}

#[tokio::test]
async fn credentials_are_redacted_from_clone_errors() {
    let opts = CloneOptions {
        git: GitSettings {
            network_timeout: std::time::Duration::from_secs(30),
            ..GitSettings::for_remote()
        },
        ..CloneOptions::default()
    };
    let err = Repo::clone_url("https://user:secret@127.0.0.1:1/x.git", &opts)
        .await
        .unwrap_err();
    let msg = chain(&err);
    assert!(!msg.contains("secret"), "credentials leaked: {msg}");
    assert!(
        msg.contains("cloning https://***@127.0.0.1:1/x.git failed"),
        "{msg}"
    );
    // The command line, its exit status and git's own words are there.
    assert!(
        msg.contains("git clone --quiet -- https://***@127.0.0.1:1/x.git"),
        "{msg}"
    );
    assert!(msg.contains("exit status 128"), "{msg}");
    assert!(msg.contains("127.0.0.1"), "{msg}");
    let debug = format!("{err:?}");
    assert!(
        !debug.contains("secret"),
        "credentials leaked in Debug: {debug}"
    );
}

/// A bare "remote" holding the podinfo fixture, with a tag `v1.2.0` on its
/// first commit and a second commit on main.
async fn bare_remote(dir: &Path) -> (std::path::PathBuf, Revision, Revision) {
    let src = Repo::from_fixture(&fixture("podinfo"), &in_dir(dir))
        .await
        .unwrap();
    let first = src.head().await.unwrap();
    git_out(
        Some(src.path()),
        &["tag", "-a", "v1.2.0", "-m", "release 1.2.0"],
    )
    .await;
    let second = src
        .write_file("apps/podinfo/note.txt", "second\n", "Second commit")
        .await
        .unwrap();
    let bare = dir.join("remote.git");
    git_out(
        None,
        &[
            "clone",
            "--quiet",
            "--bare",
            &src.path().to_string_lossy(),
            &bare.to_string_lossy(),
        ],
    )
    .await;
    (bare, first, second)
}

#[tokio::test]
async fn clones_by_branch_tag_commit_and_name_and_pushes_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, first, second) = bare_remote(tmp.path()).await;
    let url = bare.to_string_lossy().into_owned();
    let clone = |r: Option<GitRef>| {
        let url = url.clone();
        let parent = tmp.path().to_owned();
        async move {
            Repo::clone_url(
                &url,
                &CloneOptions {
                    reference: r,
                    parent: Some(parent),
                    ..CloneOptions::default()
                },
            )
            .await
            .unwrap()
        }
    };

    let default = clone(None).await;
    assert_eq!(default.follows(), &GitRef::branch("main"));
    assert_eq!(default.head().await.unwrap(), second);

    let tagged = clone(Some(GitRef::tag("v1.2.0"))).await;
    let rev = tagged.head().await.unwrap();
    assert_eq!(
        rev.to_string(),
        format!("v1.2.0@sha1:{}", first.sha),
        "annotated tag peels to its commit"
    );
    let err = tagged
        .write_file("x.yaml", "a: 1\n", "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotOnBranch { .. }), "{err}");

    let pinned = clone(Some(GitRef::commit(&first.sha[..12]))).await;
    assert_eq!(
        pinned.head().await.unwrap().to_string(),
        format!("sha1:{}", first.sha)
    );
    assert_eq!(
        git_out(Some(pinned.path()), &["rev-parse", "HEAD"]).await,
        first.sha
    );

    let named = clone(Some(GitRef::Name("refs/heads/main".into()))).await;
    assert_eq!(
        named.head().await.unwrap().to_string(),
        format!("refs/heads/main@sha1:{}", second.sha)
    );

    // A commit on the branch is pushed to the remote at once.
    let main = clone(Some(GitRef::branch("main"))).await;
    assert!(main.pushes_commits());
    let pushed = main
        .set_field(
            "apps/podinfo/deployment.yaml",
            DocSelector::only(),
            IMAGE_PATH,
            json!("ghcr.io/stefanprodan/podinfo:6.7.2"),
            "Bump podinfo",
        )
        .await
        .unwrap();
    let remote = ls_remote(&url, &GitRef::branch("main"), &GitSettings::default())
        .await
        .unwrap();
    assert_eq!(remote, pushed);
    let reverted = main.revert("HEAD").await.unwrap();
    let remote = ls_remote(&url, &GitRef::branch("main"), &GitSettings::default())
        .await
        .unwrap();
    assert_eq!(remote, reverted);
    let tag = ls_remote(&url, &GitRef::tag("v1.2.0"), &GitSettings::default())
        .await
        .unwrap();
    assert_eq!(tag.sha, first.sha);
    let err = ls_remote(&url, &GitRef::branch("nope"), &GitSettings::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RevisionNotFound { .. }), "{err}");

    // A fixture repository has no remote.
    let fixture_repo = podinfo().await;
    assert!(matches!(
        fixture_repo.push().await,
        Err(Error::NoRemote { .. })
    ));
}

#[tokio::test]
async fn export_writes_an_old_tree_without_touching_the_working_copy() {
    let repo = podinfo().await;
    let first = repo.head().await.unwrap();
    repo.delete_file("apps/podinfo/hpa.yaml", "Drop the HPA")
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    repo.export(&first.sha, &out.path().join("tree"))
        .await
        .unwrap();
    assert!(out.path().join("tree/apps/podinfo/hpa.yaml").is_file());
    assert!(!repo.path().join("apps/podinfo/hpa.yaml").exists());
    let status = git_out(Some(repo.path()), &["status", "--porcelain"]).await;
    assert_eq!(status, "", "working copy touched");
}

#[tokio::test]
async fn init_in_place_and_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("generated");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    )
    .unwrap();
    let repo = Repo::init(&dir, &FixtureOptions::default()).await.unwrap();
    assert!(!repo.is_temporary());
    let head = repo.head().await.unwrap();
    drop(repo);
    assert!(
        dir.join(".git").is_dir(),
        "init must not delete the caller's folder"
    );
    let reopened = Repo::open(&dir, GitRef::branch("main"), GitSettings::default())
        .await
        .unwrap();
    assert_eq!(reopened.head().await.unwrap(), head);
    let err = Repo::from_fixture(&tmp.path().join("missing"), &FixtureOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FixtureNotFound { .. }), "{err}");
}
