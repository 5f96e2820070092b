//! SOPS decryption with the real `sops` (found by gameday's tool lookup:
//! `make tools` installs it) and the fixture's age keys.

use std::path::Path;

use base64::Engine as _;
use gameday::gitops::render::render;
use gameday::gitops::sops::{self, Decryptor, Format, Keys};
use gameday::process::{Lookup, Tools};
use serde_json::{Value, json};

use super::fixture;

fn keys(file: &str) -> Keys {
    let path = crate::common::fixtures().join("keys").join(file);
    Keys {
        secret: "flux-system/sops-age".into(),
        data: [("age.agekey".to_owned(), std::fs::read(path).unwrap())].into(),
    }
}

/// The fixture's encrypted Secret, as the build outputs it (kustomize
/// adds the namespace and sorts keys: the MAC no longer matches, which
/// Flux ignores too).
async fn built_secret() -> Value {
    let r = render(&fixture("secrets"), "./apps/web").await.unwrap();
    let s = r
        .objects
        .iter()
        .find(|o| o.name() == "web-credentials")
        .expect("the encrypted Secret is built");
    assert!(sops::needs_decryption(&s.manifest));
    s.manifest.clone()
}

fn decoded(obj: &Value, key: &str) -> String {
    let b64 = obj["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no data.{key}: {obj}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn an_age_encrypted_secret_decrypts_to_plaintext_without_sops_metadata() {
    let dec = Decryptor::new(&keys("age.agekey"), &Lookup::default())
        .await
        .unwrap();
    let mut secret = built_secret().await;
    assert!(dec.decrypt_object(&mut secret).await.unwrap());
    assert_eq!(
        secret["stringData"]["DB_PASSWORD"],
        "correct-horse-battery-staple"
    );
    assert_eq!(secret["stringData"]["DB_USER"], "web");
    assert_eq!(
        secret["metadata"]["namespace"], "web",
        "the build's namespace stays"
    );
    assert!(secret.get("sops").is_none(), "{secret}");
}

#[tokio::test]
async fn a_wrong_key_fails_with_sops_reason_and_names_the_secret() {
    let dec = Decryptor::new(&keys("wrong.agekey"), &Lookup::default())
        .await
        .unwrap();
    let mut secret = built_secret().await;
    let err = dec.decrypt_object(&mut secret).await.unwrap_err();
    let msg = gameday::error_chain::one_line(&err);
    assert!(
        msg.starts_with("failed to decrypt and format 'web/web-credentials' Secret data: cannot get sops data key: Failed to get the data key required to decrypt the SOPS file."),
        "{msg}"
    );
    assert!(
        msg.contains("age1g9lt6t8gq8m03lvcpy639lwfclv3r50sym9hsy5j5zr7fzql59kqyzcj40"),
        "the recipient is named: {msg}"
    );
    let none = Decryptor::new(&Keys::default(), &Lookup::default())
        .await
        .unwrap();
    let err = none
        .decrypt_object(&mut secret)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot get sops data key"), "{err}");
}

#[tokio::test]
async fn secret_generator_env_files_are_decrypted_in_a_scratch_copy() {
    let root = fixture("secrets");
    let artifact_before = std::fs::read(root.join("apps/web/web.enc.env")).unwrap();
    let dec = Decryptor::new(&keys("age.agekey"), &Lookup::default())
        .await
        .unwrap();
    let prepared = sops::sources::prepare(&root, Path::new("./apps/web"), &dec)
        .await
        .unwrap();
    assert_ne!(prepared.root, root, "a copy");
    let r = render(&prepared.root, "./apps/web").await.unwrap();
    let env = r
        .objects
        .iter()
        .find(|o| o.name().starts_with("web-env-"))
        .expect("the generated Secret, with its hash suffix");
    assert_eq!(decoded(&env.manifest, "API_TOKEN"), "tok-3f9a7c21");
    assert_eq!(decoded(&env.manifest, "SESSION_KEY"), "s3ss10n-k3y");
    assert!(
        env.manifest["data"].get("sops_mac").is_none(),
        "{}",
        env.manifest
    );
    assert_eq!(
        std::fs::read(root.join("apps/web/web.enc.env")).unwrap(),
        artifact_before,
        "the source tree is never written"
    );
}

#[tokio::test]
async fn encrypted_secret_data_values_decrypt_in_the_format_of_their_key() {
    let dec = Decryptor::new(&keys("age.agekey"), &Lookup::default())
        .await
        .unwrap();
    let env = std::fs::read(fixture("secrets").join("apps/web/web.enc.env")).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "gen", "namespace": "web"},
        "data": {"app.env": b64.encode(&env), "plain": b64.encode("as is")}});
    assert_eq!(Format::detect(&env), Some(Format::Dotenv));
    assert!(dec.decrypt_object(&mut secret).await.unwrap());
    assert_eq!(
        decoded(&secret, "app.env"),
        "API_TOKEN=tok-3f9a7c21\nSESSION_KEY=s3ss10n-k3y\n"
    );
    assert_eq!(decoded(&secret, "plain"), "as is");
}

#[tokio::test]
async fn a_missing_sops_binary_is_a_clear_error_naming_make_tools() {
    let empty = tempfile::tempdir().unwrap();
    let lookup = Lookup::new(
        Tools::default()
            .env("PATH", empty.path())
            .env("GAMEDAY_SOPS", ""),
        vec![empty.path().join(".tools/bin")],
    );
    let dec = Decryptor::new(&keys("age.agekey"), &lookup).await.unwrap();
    let mut secret = built_secret().await;
    let err = gameday::error_chain::one_line(&dec.decrypt_object(&mut secret).await.unwrap_err());
    assert!(err.contains("`sops` not found"), "{err}");
    assert!(err.contains("run `make tools`"), "{err}");
    assert!(err.contains("GAMEDAY_SOPS"), "{err}");
}

#[tokio::test]
async fn decryption_never_reads_the_users_sops_configuration() {
    // A SOPS_AGE_KEY in gameday's own environment must not decrypt what
    // the Kustomization's keys cannot.
    let key = std::fs::read_to_string(crate::common::fixtures().join("keys/age.agekey")).unwrap();
    let lookup = Lookup::new(
        Tools::default().env("SOPS_AGE_KEY", key),
        Lookup::default_tool_dirs(),
    );
    let dec = Decryptor::new(&Keys::default(), &lookup).await.unwrap();
    let mut secret = built_secret().await;
    assert!(dec.decrypt_object(&mut secret).await.is_err());
}

#[tokio::test]
async fn keys_that_do_not_import_name_the_entry_and_the_secret() {
    let bad = |key: &str, value: &str| Keys {
        secret: "flux-system/sops-keys".into(),
        data: [(key.to_owned(), value.as_bytes().to_vec())].into(),
    };
    let err = Decryptor::new(&bad("cluster.agekey", "not a key"), &Lookup::default())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "failed to import 'cluster.agekey' data from sops decryption Secret 'flux-system/sops-keys': no age identity (AGE-SECRET-KEY-…) in it"
    );
    // PGP keys go through `gpg` (or fail clearly without it).
    let err = Decryptor::new(&bad("team.asc", "garbage"), &Lookup::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "failed to import 'team.asc' data from sops decryption Secret 'flux-system/sops-keys': "
        ),
        "{err}"
    );
    // Entries Flux reads for other providers, and unrelated ones, are not
    // age or PGP keys: they import nothing and fail nothing here.
    assert!(
        Decryptor::new(&bad("sops.vault-token", "t"), &Lookup::default())
            .await
            .is_ok()
    );
}
