//! The simulated image registry and the nodes' image caches.
//!
//! An image is *missing* when it matches one of the profile's
//! `missing_images` patterns (pulls fail: `ErrImagePull`, then
//! `ImagePullBackOff`), *failing* when it matches `failing_images` (it pulls
//! and starts, then exits 1), and otherwise available when the registry's
//! [`Contents`] hold it. Patterns are glob-like: `*` matches any run of
//! characters (`/` included), everything else matches itself; they are
//! tried against the image as written and against its normalised form
//! (`nginx` → `docker.io/library/nginx:latest`).
//!
//! The contents behave like a registry nobody pushes to during a drill.
//! They start with the images listed (a drill lists those its source
//! references and the scenario's `spec.cluster.sim.images`). While they
//! are *open* (before the disaster) every other reference pulls too and is
//! remembered: the cluster being drilled runs it. [`Contents::seal`] closes
//! them (a drill seals at the disaster): from then on only the images held
//! pull, and a reference nobody pushed — a bad commit's `app:v9.9.9` —
//! fails as a real registry fails it. Every cluster of a drill shares one
//! [`Contents`], as they would share one registry.
//!
//! Each node caches what it pulled: the first pull of an image on a node
//! takes the profile's `image_pull` latency (jittered per node and image),
//! pods that need the image while it is being pulled wait for the same pull,
//! and later pods find it present.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use super::profile::Profile;

/// What the registry does with an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageClass {
    /// Pulls and runs.
    Available,
    /// The registry does not have it.
    Missing,
    /// Pulls, starts, and exits with code 1.
    Failing,
}

/// What the registry holds, shared by every cluster of a drill (cheap to
/// clone; clones share it). See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    inner: Arc<Mutex<ContentsState>>,
}

#[derive(Debug, Default)]
struct ContentsState {
    sealed: bool,
    /// Normalised references.
    held: BTreeSet<String>,
}

impl Contents {
    /// Open contents that also hold `listed` (references, as written).
    pub fn with_images<I: IntoIterator<Item = S>, S: AsRef<str>>(listed: I) -> Contents {
        let held = listed.into_iter().map(|i| normalize(i.as_ref())).collect();
        Contents {
            inner: Arc::new(Mutex::new(ContentsState {
                sealed: false,
                held,
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ContentsState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From now on only the images held pull (idempotent).
    pub fn seal(&self) {
        self.state().sealed = true;
    }

    /// Whether [`Contents::seal`] was called.
    pub fn is_sealed(&self) -> bool {
        self.state().sealed
    }

    /// Whether a pull of `image` finds it; while open, it is remembered.
    pub fn pull(&self, image: &str) -> bool {
        let normal = normalize(image);
        let mut state = self.state();
        if state.sealed {
            state.held.contains(&normal)
        } else {
            state.held.insert(normal);
            true
        }
    }

    /// Whether `image` is held (without pulling it).
    pub fn holds(&self, image: &str) -> bool {
        self.state().held.contains(&normalize(image))
    }
}

/// The registry's view of images: the profile's patterns and the
/// [`Contents`].
#[derive(Debug, Clone, Default)]
pub struct ImageRegistry {
    missing: Vec<String>,
    failing: Vec<String>,
    contents: Contents,
}

impl ImageRegistry {
    /// The registry of `profile`, with open contents of its own.
    pub fn new(profile: &Profile) -> ImageRegistry {
        ImageRegistry::with_contents(profile, Contents::default())
    }

    /// The registry of `profile` holding `contents`.
    pub fn with_contents(profile: &Profile, contents: Contents) -> ImageRegistry {
        ImageRegistry {
            missing: profile.missing_images.clone(),
            failing: profile.failing_images.clone(),
            contents,
        }
    }

    /// Classifies `image` (a pull: while the contents are open, the image
    /// is remembered).
    pub fn classify(&self, image: &str) -> ImageClass {
        let normal = normalize(image);
        let hit = |pats: &[String]| {
            pats.iter()
                .any(|p| glob_match(p, image) || glob_match(p, &normal))
        };
        // The test tags behave the same whatever the contents hold.
        if image.trim().is_empty() || hit(&self.missing) {
            ImageClass::Missing
        } else if hit(&self.failing) {
            ImageClass::Failing
        } else if self.contents.pull(image) {
            ImageClass::Available
        } else {
            ImageClass::Missing
        }
    }
}

/// Glob matching where `*` matches any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// The fully qualified form of an image reference, as containerd reports it:
/// `nginx` → `docker.io/library/nginx:latest`.
pub fn normalize(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_owned()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if digest.is_none() && !last.contains(':') {
        full.push_str(":latest");
    }
    if let Some(d) = digest {
        full.push('@');
        full.push_str(d);
    }
    full
}

/// The `waiting.message` of `ErrImagePull` for a missing image.
pub fn pull_error_message(image: &str) -> String {
    let n = normalize(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{n}\": failed to resolve reference \"{n}\": {n}: not found"
    )
}

/// The `waiting.message` of `ImagePullBackOff`.
pub fn backoff_message(image: &str) -> String {
    format!("Back-off pulling image \"{image}\"")
}

/// The images each node has pulled (or is pulling), with the time each is
/// present.
#[derive(Debug, Default)]
pub struct NodeImages {
    present_at: HashMap<(String, String), Timestamp>,
}

impl NodeImages {
    /// When `image` is present on `node`, starting a pull of `pull` at `now`
    /// if the node has neither the image nor a pull in progress.
    pub fn pull(&mut self, node: &str, image: &str, now: Timestamp, pull: Duration) -> Timestamp {
        *self
            .present_at
            .entry((node.to_owned(), image.to_owned()))
            .or_insert_with(|| add(now, pull))
    }

    /// True when `node` has `image` at `now`.
    pub fn has(&self, node: &str, image: &str, now: Timestamp) -> bool {
        self.present_at
            .get(&(node.to_owned(), image.to_owned()))
            .is_some_and(|t| *t <= now)
    }

    /// Since when `node` has (or will have) `image`, if it pulled it.
    pub fn present_since(&self, node: &str, image: &str) -> Option<Timestamp> {
        self.present_at
            .get(&(node.to_owned(), image.to_owned()))
            .copied()
    }

    /// Forgets what `node` pulled (the node was deleted).
    pub fn forget_node(&mut self, node: &str) {
        self.present_at.retain(|(n, _), _| n != node);
    }
}

/// `t + d`, saturating.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "*:broken",
            "ghcr.io/stefanprodan/podinfo:broken"
        ));
        assert!(!glob_match(
            "*:broken",
            "ghcr.io/stefanprodan/podinfo:6.7.0"
        ));
        assert!(glob_match("registry.invalid/*", "registry.invalid/a/b:1"));
        assert!(!glob_match(
            "registry.invalid/*",
            "docker.io/registry.invalid"
        ));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("nginx", "nginx"));
    }

    #[test]
    fn normalisation_matches_containerd() {
        assert_eq!(normalize("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize("fluxcd/flux:v2"), "docker.io/fluxcd/flux:v2");
        assert_eq!(normalize("ghcr.io/a/b"), "ghcr.io/a/b:latest");
        assert_eq!(normalize("localhost:5000/x:1"), "localhost:5000/x:1");
        assert_eq!(
            normalize("busybox@sha256:ab"),
            "docker.io/library/busybox@sha256:ab"
        );
    }

    #[test]
    fn classification_uses_the_profile_patterns() {
        let r = ImageRegistry::new(&Profile::instant());
        assert_eq!(r.classify("ghcr.io/x/podinfo:broken"), ImageClass::Missing);
        assert_eq!(r.classify("nginx:does-not-exist"), ImageClass::Missing);
        assert_eq!(r.classify("busybox:crashloop"), ImageClass::Failing);
        assert_eq!(r.classify("nginx:1.27"), ImageClass::Available);
        assert_eq!(r.classify(""), ImageClass::Missing);
        let custom = Profile::instant()
            .to_builder()
            .missing_images(["docker.io/library/*"])
            .build();
        assert_eq!(
            ImageRegistry::new(&custom).classify("nginx"),
            ImageClass::Missing
        );
    }

    #[test]
    fn sealed_contents_hold_what_was_pulled_and_listed() {
        let contents = Contents::with_images(["ghcr.io/org/app:2.0"]);
        let r = ImageRegistry::with_contents(&Profile::instant(), contents.clone());
        assert_eq!(r.classify("nginx:1.27"), ImageClass::Available);
        assert_eq!(r.classify("busybox:crashloop"), ImageClass::Failing);
        contents.seal();
        assert!(contents.is_sealed());
        // Pulled before the seal, in either spelling.
        assert_eq!(
            r.classify("docker.io/library/nginx:1.27"),
            ImageClass::Available
        );
        assert_eq!(r.classify("busybox:crashloop"), ImageClass::Failing);
        assert_eq!(r.classify("ghcr.io/org/app:2.0"), ImageClass::Available);
        assert_eq!(
            r.classify("ghcr.io/org/app:v9.9.9-doesnotexist"),
            ImageClass::Missing
        );
        assert_eq!(r.classify("nginx:1.28"), ImageClass::Missing);
        assert!(!contents.holds("nginx:1.28"));
        // The magic tags stay missing whatever is held.
        let listed = Contents::with_images(["x:broken"]);
        let r = ImageRegistry::with_contents(&Profile::instant(), listed);
        assert_eq!(r.classify("x:broken"), ImageClass::Missing);
    }

    #[test]
    fn a_node_pulls_each_image_once() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut c = NodeImages::default();
        let ready = c.pull("n1", "img", t0, Duration::from_secs(5));
        assert_eq!(ready, add(t0, Duration::from_secs(5)));
        // A second pod asking one second later waits for the same pull.
        let later = add(t0, Duration::from_secs(1));
        assert_eq!(c.pull("n1", "img", later, Duration::from_secs(9)), ready);
        assert!(!c.has("n1", "img", later));
        assert!(c.has("n1", "img", ready));
        // Another node pulls on its own.
        assert_eq!(
            c.pull("n2", "img", later, Duration::from_secs(2)),
            add(later, Duration::from_secs(2))
        );
        c.forget_node("n1");
        assert!(!c.has("n1", "img", ready));
    }

    #[test]
    fn messages_name_the_image() {
        assert!(pull_error_message("x:broken").contains("docker.io/library/x:broken: not found"));
        assert_eq!(
            backoff_message("x:broken"),
            "Back-off pulling image \"x:broken\""
        );
    }
}
