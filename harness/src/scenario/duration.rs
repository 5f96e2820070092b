//! Durations as people write them in scenario files: `90s`, `5m`, `1h30m`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The units a duration accepts, for error messages.
pub const ACCEPTED: &str = "a number and a unit, such as 500ms, 90s, 5m, 1h30m";

/// A duration written as a humantime string (`90s`, `5m`, `1h30m`).
///
/// Parsing accepts what [`humantime::parse_duration`] accepts (`ms`, `s`,
/// `m`, `h`, `d`, and combinations); formatting writes the compact form
/// (`1h30m`, `2m5s`, `250ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: expected {ACCEPTED}{detail}")]
pub struct ParseDurationError {
    input: String,
    detail: String,
}

impl FromStr for HumanDuration {
    type Err = ParseDurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let fail = |detail: String| ParseDurationError {
            input: s.to_owned(),
            detail,
        };
        if trimmed.is_empty() {
            return Err(fail(String::new()));
        }
        if trimmed.starts_with('-') {
            return Err(fail(" (durations cannot be negative)".into()));
        }
        if trimmed.chars().all(|c| c.is_ascii_digit()) {
            return Err(fail(format!(
                " (a bare number has no unit; did you mean {trimmed}s?)"
            )));
        }
        humantime::parse_duration(trimmed)
            .map(HumanDuration)
            .map_err(|e| fail(format!(" ({e})")))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Formats a duration compactly: `1h30m`, `2m5s`, `250ms`, `0s`.
/// Sub-millisecond parts are kept as `us`/`ns` so formatting round-trips.
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hours, rem) = (rem / 3600, rem % 3600);
    let (mins, s) = (rem / 60, rem % 60);
    let nanos = d.subsec_nanos();
    let (ms, rem_ns) = (nanos / 1_000_000, nanos % 1_000_000);
    let (us, ns) = (rem_ns / 1000, rem_ns % 1000);
    for (value, unit) in [
        (days, "d"),
        (hours, "h"),
        (mins, "m"),
        (s, "s"),
        (u64::from(ms), "ms"),
        (u64::from(us), "us"),
        (u64::from(ns), "ns"),
    ] {
        if value > 0 {
            out.push_str(&value.to_string());
            out.push_str(unit);
        }
    }
    out
}

/// Formats a duration for people, rounded to what matters at its scale:
/// `3m40s`, `12.4s`, `850ms`, `1h2m`.
pub fn format_rounded(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        let s = d.as_secs();
        format!("{}m{}s", s / 60, s % 60)
    } else {
        let s = d.as_secs();
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a duration string: {ACCEPTED}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "invalid duration {v}: expected {ACCEPTED} (a bare number has no unit; did you mean \"{v}s\"?)"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "invalid duration {v}: expected {ACCEPTED}"
                )))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "invalid duration {v}: expected {ACCEPTED}"
                )))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration: a number and a unit (ms, s, m, h, d), combinable: 500ms, 90s, 5m, 1h30m.",
            "pattern": r"^\s*([0-9]+\s*(ns|us|ms|s|sec|m|min|h|hr|d|days?|hours?|minutes?|seconds?)\s*)+$",
            "examples": ["90s", "5m", "1h30m"]
        })
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        HumanDuration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        for (text, secs) in [
            ("90s", 90),
            ("5m", 300),
            ("1h30m", 5400),
            ("1h 30m", 5400),
            ("2d", 172_800),
        ] {
            assert_eq!(
                text.parse::<HumanDuration>().unwrap().0,
                Duration::from_secs(secs),
                "{text}"
            );
        }
        assert_eq!(
            "250ms".parse::<HumanDuration>().unwrap().0,
            Duration::from_millis(250)
        );
    }

    #[test]
    fn rejects_with_guidance() {
        let err = "5 minutes please"
            .parse::<HumanDuration>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a number and a unit"), "{err}");
        let err = "45".parse::<HumanDuration>().unwrap_err().to_string();
        assert!(err.contains("did you mean 45s?"), "{err}");
        assert!(
            "-5s"
                .parse::<HumanDuration>()
                .unwrap_err()
                .to_string()
                .contains("negative")
        );
        assert!("".parse::<HumanDuration>().is_err());
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m5s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_rounded(Duration::from_millis(220_400)), "3m40s");
        assert_eq!(format_rounded(Duration::from_millis(12_400)), "12.4s");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(nanos in 0u64..=10_000_000_000_000_000) {
            let d = HumanDuration(Duration::from_nanos(nanos));
            let back: HumanDuration = d.to_string().parse().unwrap();
            prop_assert_eq!(back, d);
        }

        #[test]
        fn yaml_round_trips(secs in 0u64..=10_000_000, ms in 0u32..1000) {
            let d = HumanDuration(Duration::from_secs(secs) + Duration::from_millis(u64::from(ms)));
            let yaml = serde_yaml::to_string(&d).unwrap();
            let back: HumanDuration = serde_yaml::from_str(&yaml).unwrap();
            prop_assert_eq!(back, d);
        }
    }
}
