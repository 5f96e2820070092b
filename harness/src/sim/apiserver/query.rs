//! Tolerant query-string parsing: empty pairs (`?&limit=500`), unknown
//! parameters and form-url-encoding are all accepted.

use std::collections::HashMap;

use crate::sim::storage::status::{ApiError, ApiResult};

/// Decoded query parameters (the last occurrence of a key wins).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: HashMap<String, String>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: Option<&str>) -> Query {
        let mut pairs = HashMap::new();
        for pair in raw.unwrap_or("").split('&') {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.insert(decode(k), decode(v));
        }
        Query { pairs }
    }

    /// A parameter's value; empty values count as absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter (`true`/`1`; absent = false).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1" | "True"))
    }

    /// An integer parameter.
    ///
    /// # Errors
    /// 400 when present but not a number.
    pub fn int(&self, k: &str) -> ApiResult<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("invalid value for {k}: {v:?} is not an integer"))
            }),
        }
    }

    /// `dryRun=All`.
    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_parsing() {
        let q = Query::parse(Some(
            "&limit=500&fieldSelector=metadata.name%3Dfoo&&watch=1&x",
        ));
        assert_eq!(q.get("limit"), Some("500"));
        assert_eq!(q.get("fieldSelector"), Some("metadata.name=foo"));
        assert!(q.flag("watch"));
        assert_eq!(q.get("x"), None);
        assert_eq!(q.int("limit").unwrap(), Some(500));
        assert!(Query::parse(Some("limit=abc")).int("limit").is_err());
        assert_eq!(Query::parse(Some("a=%zz%4")).get("a"), Some("%zz%4"));
    }
}
