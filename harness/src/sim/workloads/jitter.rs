//! Deterministic jitter: every "random" choice of the simulated cluster is a
//! hash of the seed and *what* is being decided, never of *when* or in which
//! order it is decided.
//!
//! A latency of a pod is `hash(seed, "ns/name", stage, attempt)`, so the same
//! seed gives the same simulated durations however tokio schedules the
//! controllers, and a different seed gives different ones. Object identity is
//! the namespace and name, not the uid (uids differ between runs that create
//! the same objects).
//!
//! The hash is FNV-1a over the parts followed by the splitmix64 finaliser:
//! stable across Rust versions and platforms (unlike `DefaultHasher`).

use std::time::Duration;

use super::profile::Latency;

/// A seeded source of deterministic jitter.
///
/// Identities are hashed without the cluster's name (`gameday-x-1a2b3c-worker`
/// hashes as `worker`): cluster names carry the run id, and the same seed
/// must give the same durations in every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jitter {
    seed: u64,
    strip: Option<std::sync::Arc<str>>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Jitter {
    /// Jitter from `seed`.
    pub fn new(seed: u64) -> Jitter {
        Jitter { seed, strip: None }
    }

    /// Jitter from `seed` for the cluster `name`: identities starting with
    /// `<name>-` hash as if they did not.
    pub fn for_cluster(seed: u64, name: &str) -> Jitter {
        Jitter {
            seed,
            strip: (!name.is_empty()).then(|| std::sync::Arc::from(format!("{name}-"))),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A 64-bit hash of the seed, the parts (separated, so `("ab","c")`
    /// and `("a","bc")` differ) and the attempt.
    pub fn hash(&self, parts: &[&str], attempt: u64) -> u64 {
        let mut h = fnv(FNV_OFFSET, &self.seed.to_le_bytes());
        for p in parts {
            let p = match &self.strip {
                Some(prefix) => p.strip_prefix(prefix.as_ref()).unwrap_or(p),
                None => p,
            };
            h = fnv(h, p.as_bytes());
            h = fnv(h, &[0xff]);
        }
        h = fnv(h, &attempt.to_le_bytes());
        splitmix(h)
    }

    /// A number in `[0, 1)` for the parts and attempt.
    pub fn unit(&self, parts: &[&str], attempt: u64) -> f64 {
        // 53 random bits: exactly representable in an f64 mantissa.
        (self.hash(parts, attempt) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A sample of `latency` for `identity` (`"ns/name"` or a node name) at
    /// `stage`, attempt `attempt`.
    pub fn sample(&self, latency: Latency, identity: &str, stage: &str, attempt: u64) -> Duration {
        latency.at(self.unit(&[identity, stage], attempt))
    }

    /// Picks an index among `weights` (zero weights never win). None when
    /// every weight is zero.
    pub fn pick(&self, weights: &[u64], parts: &[&str], attempt: u64) -> Option<usize> {
        let total: u64 = weights.iter().sum();
        if total == 0 {
            return None;
        }
        let mut ticket = self.hash(parts, attempt) % total;
        for (i, w) in weights.iter().enumerate() {
            if ticket < *w {
                return Some(i);
            }
            ticket -= w;
        }
        None
    }

    /// A name suffix in Kubernetes' style: `len` characters of the
    /// alphabet `bcdfghjklmnpqrstvwxz2456789` (no vowels, no look-alikes),
    /// as generated names and pod-template hashes use.
    pub fn suffix(&self, parts: &[&str], attempt: u64, len: usize) -> String {
        encode(self.hash(parts, attempt), len)
    }
}

/// The alphabet of Kubernetes generated names.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Encodes `v` as `len` characters of the generated-name alphabet.
pub fn encode(mut v: u64, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        let i = (v % ALPHABET.len() as u64) as usize;
        out.push(char::from(ALPHABET[i]));
        v /= ALPHABET.len() as u64;
        if v == 0 {
            v = splitmix(v ^ len as u64);
        }
    }
    out
}

/// FNV-1a 32 of `bytes`, as Kubernetes hashes pod templates.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_output_and_parts_are_separated() {
        let j = Jitter::new(7);
        assert_eq!(j.hash(&["a", "b"], 0), j.hash(&["a", "b"], 0));
        assert_ne!(j.hash(&["ab", "c"], 0), j.hash(&["a", "bc"], 0));
        assert_ne!(j.hash(&["a"], 0), j.hash(&["a"], 1));
        assert_ne!(Jitter::new(8).hash(&["a"], 0), j.hash(&["a"], 0));
    }

    #[test]
    fn unit_is_in_range_and_spread() {
        let j = Jitter::new(1);
        let xs: Vec<f64> = (0..1000).map(|i| j.unit(&["pod"], i)).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
        assert!(xs.iter().any(|x| *x < 0.1) && xs.iter().any(|x| *x > 0.9));
    }

    #[test]
    fn samples_stay_within_the_latency_bounds() {
        let j = Jitter::new(3);
        let l = Latency::between(Duration::from_secs(12), Duration::from_secs(17));
        for i in 0..200 {
            let d = j.sample(l, "default/web", "pull", i);
            assert!(d >= Duration::from_secs(12) && d <= Duration::from_secs(17));
        }
        assert_eq!(
            j.sample(Latency::ZERO, "x", "y", 0),
            Duration::ZERO,
            "a zero latency has no jitter"
        );
    }

    #[test]
    fn pick_honours_weights() {
        let j = Jitter::new(5);
        assert_eq!(j.pick(&[0, 0], &["x"], 0), None);
        assert_eq!(j.pick(&[0, 3], &["x"], 0), Some(1));
        let firsts = (0..1000)
            .filter(|i| j.pick(&[1, 3], &["x"], *i) == Some(0))
            .count();
        assert!((150..350).contains(&firsts), "{firsts} of 1000");
    }

    #[test]
    fn suffixes_use_the_kubernetes_alphabet() {
        let s = Jitter::new(1).suffix(&["default", "web"], 0, 5);
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(encode(0, 3).len(), 3);
    }
}
