//! Partitions of a catalogue (`gameday run --partition K/N`), so that N CI
//! runners share a large catalogue between them.
//!
//! As cargo-nextest's `hash:K/N`, a scenario belongs to the partition its
//! **name** hashes to: the shares are disjoint and cover the catalogue for
//! any N, and adding a scenario never moves another one to a different
//! runner (counting-based splits, `count:K/N`, would shift every scenario
//! after it). The hash is the first 8 bytes of the SHA-256 of the name,
//! read big-endian: stable across platforms, Rust versions and gameday
//! releases.

use std::fmt;
use std::str::FromStr;

/// Partition `index` of `total` (1-based, as on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    index: u32,
    total: u32,
}

/// A `--partition` value that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid partition {given:?}: {why}; write K/N with 1 <= K <= N, e.g. 2/3")]
pub struct PartitionError {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl Partition {
    /// Partition `index` of `total`; None unless 1 ≤ index ≤ total.
    pub fn new(index: u32, total: u32) -> Option<Partition> {
        (index >= 1 && index <= total).then_some(Partition { index, total })
    }

    /// K, 1-based.
    pub fn index(self) -> u32 {
        self.index
    }

    /// N.
    pub fn total(self) -> u32 {
        self.total
    }

    /// Whether the scenario named `name` belongs to this partition.
    pub fn contains(self, name: &str) -> bool {
        slot(name, self.total) == self.index
    }

    /// This partition's share of `items` (named by `name`), in their order.
    pub fn select<T>(self, items: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
        items
            .into_iter()
            .filter(|i| self.contains(name(i)))
            .collect()
    }
}

/// The 1-based partition of `total` that `name` belongs to.
pub fn slot(name: &str, total: u32) -> u32 {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    let hash = u64::from_be_bytes(first);
    // The remainder is below `total`, so it fits in a u32.
    u32::try_from(hash % u64::from(total.max(1))).unwrap_or(0) + 1
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| PartitionError {
            given: s.to_owned(),
            why,
        };
        // nextest's spelling (`hash:2/3`) is accepted too.
        let body = s.trim().strip_prefix("hash:").unwrap_or(s.trim());
        let (k, n) = body.split_once('/').ok_or_else(|| err("no '/'"))?;
        let k: u32 = k.trim().parse().map_err(|_| err("K is not a number"))?;
        let n: u32 = n.trim().parse().map_err(|_| err("N is not a number"))?;
        if n == 0 {
            return Err(err("N is 0"));
        }
        Partition::new(k, n).ok_or_else(|| err("K is not between 1 and N"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!(
            "2/3".parse::<Partition>().unwrap(),
            Partition::new(2, 3).unwrap()
        );
        assert_eq!("hash:1/1".parse::<Partition>().unwrap().to_string(), "1/1");
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", ""] {
            let e = bad.parse::<Partition>().unwrap_err().to_string();
            assert!(e.contains("K/N") && e.contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn the_hash_is_pinned() {
        // A change here moves scenarios between CI runners: never by accident.
        let slots: Vec<u32> = ["cluster-loss", "node-loss", "bad-commit"]
            .iter()
            .map(|n| slot(n, 7))
            .collect();
        assert_eq!(slots, PINNED_SLOTS);
    }

    /// The catalogue's scenario names (scenarios/*.yaml, `metadata.name`).
    fn catalogue() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let files = crate::scenario::discover(&[dir]).unwrap();
        let names: Vec<String> = files
            .iter()
            .flat_map(|f| crate::scenario::load(f).unwrap())
            .map(|s| s.name)
            .collect();
        assert!(names.len() >= 5, "{names:?}");
        names
    }

    #[test]
    fn partitions_of_the_catalogue_are_disjoint_and_cover_it_for_n_1_to_5() {
        let names = catalogue();
        for total in 1..=5 {
            let mut seen: Vec<String> = Vec::new();
            for k in 1..=total {
                let share = Partition::new(k, total)
                    .unwrap()
                    .select(names.clone(), String::as_str);
                for n in &share {
                    assert!(!seen.contains(n), "{n} in two partitions of {total}");
                }
                seen.extend(share);
            }
            seen.sort();
            let mut all = names.clone();
            all.sort();
            assert_eq!(seen, all, "N = {total} covers the catalogue");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_names_split_disjointly_and_adding_one_moves_no_other(
            names in proptest::collection::btree_set("[a-z][a-z0-9-]{0,20}", 0..40),
            extra in "[a-z][a-z0-9-]{0,20}",
            total in 1u32..9,
        ) {
            proptest::prop_assume!(!names.contains(&extra));
            let names: Vec<String> = names.into_iter().collect();
            let shares: Vec<Vec<String>> = (1..=total)
                .map(|k| Partition::new(k, total).unwrap().select(names.clone(), String::as_str))
                .collect();
            proptest::prop_assert_eq!(shares.iter().map(Vec::len).sum::<usize>(), names.len());
            for n in &names {
                proptest::prop_assert_eq!(shares.iter().filter(|s| s.contains(n)).count(), 1);
            }
            let mut grown = names.clone();
            grown.push(extra.clone());
            for (k, share) in (1..=total).zip(&shares) {
                let mut again = Partition::new(k, total).unwrap().select(grown.clone(), String::as_str);
                again.retain(|n| *n != extra);
                proptest::prop_assert_eq!(&again, share);
            }
        }
    }

    const PINNED_SLOTS: [u32; 3] = [5, 4, 1];
}
