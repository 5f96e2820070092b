//! client-go's `EventCorrelator`, on the simulated clock: what happens to
//! an Event before it is written.
//!
//! - **spam filter**: a token bucket per (source, object): a burst of 25,
//!   then one Event per 5 minutes; Events beyond it are dropped;
//! - **aggregation**: more than 10 Events of one (source, object, type,
//!   reason) with different messages within 10 minutes are written as one
//!   Event, `(combined from similar events): <latest message>`;
//! - **deduplication**: an Event identical to one written before updates
//!   it (`count` + 1, `lastTimestamp`) instead of creating another.
//!
//! The caches are bounded (client-go keeps LRUs of 4096 entries): beyond
//! [`CACHE`] entries the oldest half is forgotten.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jiff::Timestamp;

/// Entries each cache keeps (client-go's `maxLruCacheEntries`).
pub const CACHE: usize = 4096;
const BURST: f64 = 25.0;
const REFILL: Duration = Duration::from_secs(300);
const AGGREGATE_AFTER: usize = 10;
const AGGREGATE_WINDOW: Duration = Duration::from_secs(600);

/// What the correlator decided for one Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Dropped by the spam filter.
    Drop,
    /// Create a new Event with this message.
    Create {
        /// The dedup key to remember the new Event's name under.
        key: String,
        /// The message to write.
        message: String,
    },
    /// Update the Event named `name` (one more occurrence).
    Update {
        /// The existing Event.
        name: String,
        /// The message to write.
        message: String,
    },
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

#[derive(Debug)]
struct Similar {
    messages: HashSet<String>,
    since: Timestamp,
}

/// The correlator state of one recorder.
#[derive(Debug, Default)]
pub struct Correlator {
    buckets: HashMap<String, Bucket>,
    similar: HashMap<String, Similar>,
    /// Full key (with message) → (Event name, last use).
    written: HashMap<String, (String, Timestamp)>,
}

fn secs(a: Timestamp, b: Timestamp) -> f64 {
    crate::clock::duration_between(a, b).as_secs_f64()
}

fn bound<V>(map: &mut HashMap<String, V>, at: impl Fn(&V) -> Timestamp) {
    if map.len() < CACHE {
        return;
    }
    let mut times: Vec<Timestamp> = map.values().map(&at).collect();
    times.sort_unstable();
    let cut = times[times.len() / 2];
    map.retain(|_, v| at(v) > cut);
}

impl Correlator {
    /// Decides about an Event. `object` identifies (source, involved
    /// object); `similar` adds type and reason; the message completes it.
    pub fn observe(
        &mut self,
        object: &str,
        similar: &str,
        message: &str,
        now: Timestamp,
    ) -> Decision {
        if !self.take_token(object, now) {
            return Decision::Drop;
        }
        let (key, message) = self.aggregate(similar, message, now);
        bound(&mut self.written, |(_, t)| *t);
        match self.written.get_mut(&key) {
            Some((name, at)) => {
                *at = now;
                Decision::Update {
                    name: name.clone(),
                    message,
                }
            }
            None => Decision::Create { key, message },
        }
    }

    /// Remembers the name of the Event created after
    /// [`Decision::Create`] with `key`.
    pub fn created(&mut self, key: &str, name: &str, now: Timestamp) {
        self.written.insert(key.to_owned(), (name.to_owned(), now));
    }

    /// Forgets an Event that could not be updated (expired or deleted).
    pub fn forget(&mut self, name: &str) {
        self.written.retain(|_, (n, _)| n != name);
    }

    fn take_token(&mut self, object: &str, now: Timestamp) -> bool {
        bound(&mut self.buckets, |b| b.at);
        let b = self.buckets.entry(object.to_owned()).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        let refill = secs(b.at, now) / REFILL.as_secs_f64();
        b.tokens = (b.tokens + refill).min(BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The dedup key and the message to write.
    fn aggregate(&mut self, similar: &str, message: &str, now: Timestamp) -> (String, String) {
        bound(&mut self.similar, |s| s.since);
        let s = self.similar.entry(similar.to_owned()).or_insert(Similar {
            messages: HashSet::new(),
            since: now,
        });
        if secs(s.since, now) > AGGREGATE_WINDOW.as_secs_f64() {
            s.messages.clear();
            s.since = now;
        }
        s.messages.insert(message.to_owned());
        if s.messages.len() < AGGREGATE_AFTER {
            return (format!("{similar}\u{0}{message}"), message.to_owned());
        }
        // client-go's aggregate key is the similar key alone, so every
        // further similar Event updates the one combined Event.
        (
            format!("{similar}\u{0}"),
            format!("(combined from similar events): {message}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + i64::try_from(s).unwrap()).unwrap()
    }

    #[test]
    fn repeats_update_and_similar_messages_combine() {
        let mut c = Correlator::default();
        let Decision::Create { key, message } = c.observe("o", "o/Normal/Pulled", "m", t(0)) else {
            panic!("not created")
        };
        assert_eq!(message, "m");
        c.created(&key, "e.1", t(0));
        assert!(matches!(
            c.observe("o", "o/Normal/Pulled", "m", t(1)),
            Decision::Update { ref name, .. } if name == "e.1"
        ));
        for i in 0..8 {
            let d = c.observe("o", "o/Normal/Pulled", &format!("m{i}"), t(2));
            assert!(matches!(d, Decision::Create { .. }), "{i}: {d:?}");
        }
        let Decision::Create { key, message } = c.observe("o", "o/Normal/Pulled", "m9", t(3))
        else {
            panic!("not created")
        };
        assert_eq!(message, "(combined from similar events): m9");
        c.created(&key, "e.2", t(3));
        assert!(matches!(
            c.observe("o", "o/Normal/Pulled", "m10", t(4)),
            Decision::Update { ref name, ref message }
                if name == "e.2" && message == "(combined from similar events): m10"
        ));
    }

    #[test]
    fn spam_filter_allows_a_burst_then_one_per_five_minutes() {
        let mut c = Correlator::default();
        let allowed = (0..40)
            .filter(|i| c.observe("o", &format!("s{i}"), "m", t(0)) != Decision::Drop)
            .count();
        assert_eq!(allowed, 25);
        assert_eq!(c.observe("o", "x", "m", t(1)), Decision::Drop);
        assert_ne!(c.observe("o", "x", "m", t(301)), Decision::Drop);
    }
}
