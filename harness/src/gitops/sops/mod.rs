//! SOPS decryption as Flux's kustomize-controller does it for a
//! Kustomization with `spec.decryption: {provider: sops, secretRef}`, with
//! the real `sops` CLI (found by [`crate::process::Lookup`]):
//!
//! - [`Keys`]: the keys of the decryption Secret, matched by name as Flux
//!   does: `*.agekey` (age identities, given to sops as `SOPS_AGE_KEY`),
//!   `*.asc` (armored PGP keys, imported into a scratch GnuPG home with
//!   `gpg`, which must exist — otherwise a clear error). Cloud KMS and Vault
//!   entries are not emulated: an object that needs them fails to decrypt
//!   with sops' own message;
//! - [`Decryptor::decrypt_object`]: after the build, an object with a
//!   top-level `sops` entry is decrypted whole (as JSON); any other Secret
//!   has its `data` values that carry a SOPS marker decrypted one by one,
//!   in the format of the key's extension. Flux skips the MAC check (the
//!   build adds namespaces and labels to what was encrypted), so does
//!   gameday (`--ignore-mac`). The result holds no `sops` metadata;
//! - [`sources`]: before the build, the files `secretGenerator`s read and
//!   local patch files, decrypted in a scratch copy of the tree (never in
//!   the artifact).
//!
//! sops runs with a scratch `HOME` (and `XDG_CONFIG_HOME`, `GNUPGHOME`),
//! and every `SOPS_*` variable of the environment removed, so the user's
//! own keys and configuration never take part.

pub mod format;
pub mod sources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

pub use format::Format;

use crate::process::{Cmd, Lookup, LookupError, ProcessError};

/// The annotation that opts an object out of decryption (any case of
/// `disabled`).
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/decrypt";

/// Errors of SOPS decryption, worded as Flux's.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `sops` (or `gpg`, for PGP keys) is not installed.
    #[error(transparent)]
    Tool(#[from] LookupError),
    /// The scratch folder could not be made or written.
    #[error("cannot create decryptor: {0}")]
    Scratch(#[source] std::io::Error),
    /// A key of the decryption Secret could not be imported.
    #[error("failed to import '{key}' data from sops decryption Secret '{secret}': {message}")]
    Import {
        /// The Secret's data key.
        key: String,
        /// `<namespace>/<name>`.
        secret: String,
        /// Why.
        message: String,
    },
    /// sops could not decrypt (no or wrong key, corrupt file…).
    #[error("{0}")]
    Sops(String),
    /// A whole object failed to decrypt.
    #[error("failed to decrypt and format '{namespace}/{name}' {kind} data: {source}")]
    Object {
        /// The object's namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Its kind.
        kind: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// One Secret data value failed to decrypt.
    #[error("failed to decrypt and format '{namespace}/{name}' Secret field '{key}': {source}")]
    Field {
        /// The Secret's namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The data key.
        key: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// The decrypted text is not an object.
    #[error("failed to unmarshal decrypted '{namespace}/{name}' {kind} to JSON: {message}")]
    Unmarshal {
        /// The object's namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Its kind.
        kind: String,
        /// The parser's message.
        message: String,
    },
}

/// The decryption keys of a Kustomization: the data of its
/// `decryption.secretRef` Secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// `<namespace>/<name>` of the Secret, for messages.
    pub secret: String,
    /// The Secret's data, decoded.
    pub data: BTreeMap<String, Vec<u8>>,
}

impl Keys {
    /// The keys of a Secret object (its `data`, base64-decoded; values
    /// that do not decode are skipped, as the API server would refuse them).
    pub fn from_secret(secret: &Value) -> Keys {
        let s = |p: &str| secret.pointer(p).and_then(Value::as_str).unwrap_or("");
        let data = secret
            .get("data")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(v.as_str()?)
                            .ok()?;
                        Some((k.clone(), bytes))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Keys {
            secret: format!("{}/{}", s("/metadata/namespace"), s("/metadata/name")),
            data,
        }
    }
}

/// Runs `sops` with a Kustomization's keys, in a scratch home that is
/// removed when the decryptor is dropped.
#[derive(Debug)]
pub struct Decryptor {
    /// Looked up when the decryptor is made, reported when first needed:
    /// a Kustomization with nothing encrypted needs no `sops`.
    sops: Result<PathBuf, LookupError>,
    home: crate::scratch::Scratch,
    age: String,
    lookup: Lookup,
}

impl Decryptor {
    /// A decryptor with `keys`, finding `sops` (and `gpg` for PGP keys)
    /// with `lookup`.
    ///
    /// # Errors
    /// [`Error::Scratch`]; [`Error::Import`] for a key that does not
    /// import (an `*.asc` key without `gpg` installed included).
    pub async fn new(keys: &Keys, lookup: &Lookup) -> Result<Decryptor, Error> {
        let sops = lookup.find("sops");
        let home = crate::scratch::Scratch::new("sops").map_err(Error::Scratch)?;
        let mut age = String::new();
        for (key, value) in &keys.data {
            let import = |message: String| Error::Import {
                key: key.clone(),
                secret: keys.secret.clone(),
                message,
            };
            match Format::extension(key) {
                Some("agekey") => {
                    let text = String::from_utf8(value.clone())
                        .map_err(|_| import("the age key file is not UTF-8 text".into()))?;
                    if !text
                        .lines()
                        .any(|l| l.trim_start().starts_with("AGE-SECRET-KEY-"))
                    {
                        return Err(import("no age identity (AGE-SECRET-KEY-…) in it".into()));
                    }
                    age.push_str(&text);
                    age.push('\n');
                }
                Some("asc") => {
                    let gpg = lookup.find("gpg").map_err(|e| {
                        import(format!("PGP keys need `gpg`, which is not installed: {e}"))
                    })?;
                    Cmd::new(gpg)
                        .args(["--batch", "--no-tty", "--homedir"])
                        .arg(home.path().join("gnupg"))
                        .arg("--import")
                        .env("HOME", home.path())
                        .stdin(value.clone())
                        .output()
                        .await
                        .map_err(|e| import(crate::error_chain::one_line(&e)))?;
                }
                _ => {}
            }
        }
        let gnupg = home.path().join("gnupg");
        std::fs::create_dir_all(&gnupg).map_err(Error::Scratch)?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700))
                .map_err(Error::Scratch)?;
        }
        Ok(Decryptor {
            sops,
            home,
            age,
            lookup: lookup.clone(),
        })
    }

    /// Decrypts `data` from `input` to `output` format.
    ///
    /// # Errors
    /// [`Error::Tool`] when `sops` is not installed; [`Error::Sops`] with
    /// sops' message (Flux's wording for a missing key: `cannot get sops
    /// data key: …`).
    pub async fn decrypt(
        &self,
        data: &[u8],
        input: Format,
        output: Format,
    ) -> Result<Vec<u8>, Error> {
        let sops = self.sops.clone()?;
        let file = tempfile::Builder::new()
            .prefix("in-")
            .tempfile_in(self.home.path())
            .map_err(Error::Scratch)?;
        std::fs::write(file.path(), data).map_err(Error::Scratch)?;
        let out = self
            .cmd(&sops)
            .args(["decrypt", "--ignore-mac", "--input-type", input.sops_name()])
            .args(["--output-type", output.sops_name()])
            .arg(file.path())
            .output_raw()
            .await
            .map_err(|e| Error::Sops(sops_message(&e)))?;
        Ok(out.stdout)
    }

    fn cmd(&self, sops: &Path) -> Cmd {
        let home = self.home.path();
        let overlay = self.lookup.env();
        let names: Vec<std::ffi::OsString> = std::env::vars_os()
            .map(|(k, _)| k)
            .chain(overlay.names().map(ToOwned::to_owned))
            .filter(|k| k.to_string_lossy().starts_with("SOPS_"))
            .collect();
        let cmd = names
            .into_iter()
            .fold(overlay.cmd(sops), |c, k| c.env_remove(k));
        let cmd = cmd
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("GNUPGHOME", home.join("gnupg"));
        if self.age.is_empty() {
            cmd
        } else {
            cmd.env("SOPS_AGE_KEY", &self.age)
        }
    }

    /// Decrypts one built object in place (see the module docs). Returns
    /// whether anything was decrypted.
    ///
    /// # Errors
    /// [`Error::Object`], [`Error::Field`], [`Error::Unmarshal`].
    pub async fn decrypt_object(&self, obj: &mut Value) -> Result<bool, Error> {
        if disabled(obj) {
            return Ok(false);
        }
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let (namespace, name, kind) = (s("/metadata/namespace"), s("/metadata/name"), s("/kind"));
        if is_encrypted_object(obj) {
            let json = serde_json::to_vec(obj).unwrap_or_default();
            let out = self
                .decrypt(&json, Format::Json, Format::Json)
                .await
                .map_err(|e| Error::Object {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    kind: kind.clone(),
                    source: Box::new(e),
                })?;
            *obj = serde_json::from_slice(&out).map_err(|e| Error::Unmarshal {
                namespace,
                name,
                kind,
                message: e.to_string(),
            })?;
            return Ok(true);
        }
        if kind != "Secret" {
            return Ok(false);
        }
        let mut changed = false;
        let b64 = base64::engine::general_purpose::STANDARD;
        let fields: Vec<(String, Vec<u8>, Format)> = obj
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let bytes = b64.decode(v.as_str()?).ok()?;
                let f = Format::detect(&bytes)?;
                Some((k.clone(), bytes, f))
            })
            .collect();
        for (key, bytes, input) in fields {
            let out = self
                .decrypt(&bytes, input, Format::for_path(&key))
                .await
                .map_err(|e| Error::Field {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    key: key.clone(),
                    source: Box::new(e),
                })?;
            obj["data"][&key] = Value::String(b64.encode(out));
            changed = true;
        }
        Ok(changed)
    }

    /// The scratch folder (for [`sources`]' copies).
    pub fn scratch(&self) -> &Path {
        self.home.path()
    }
}

/// Whether `obj` opted out of decryption.
pub fn disabled(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(DISABLE_KEY))
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("disabled"))
}

/// Whether `obj` was encrypted whole by sops (a top-level `sops` entry
/// with a MAC).
pub fn is_encrypted_object(obj: &Value) -> bool {
    obj.pointer("/sops/mac").is_some()
}

/// Whether `obj` holds anything for SOPS to decrypt (whole, or a Secret
/// data value with a marker).
pub fn needs_decryption(obj: &Value) -> bool {
    if is_encrypted_object(obj) {
        return true;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("data").and_then(Value::as_object).is_some_and(|m| {
            m.values().any(|v| {
                v.as_str()
                    .and_then(|s| b64.decode(s).ok())
                    .is_some_and(|b| Format::detect(&b).is_some())
            })
        })
}

/// sops' message, without the command line: what a Flux user reads.
fn sops_message(e: &ProcessError) -> String {
    let text = match e {
        ProcessError::Failed { stderr, stdout, .. } => {
            if stderr.trim().is_empty() {
                stdout
            } else {
                stderr
            }
        }
        other => return crate::error_chain::one_line(other),
    };
    let text = text.trim();
    if text.starts_with("Failed to get the data key") {
        format!("cannot get sops data key: {text}")
    } else {
        text.to_owned()
    }
}
