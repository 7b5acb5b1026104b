//! `--rate_limits` JSON → [`RateLimits`], strictly: the first problem is
//! reported with its line:column and JSON path.

use std::collections::HashSet;

use super::{DEFAULT_MAX_BYTES, RateLimit, RateLimitError, RateLimits};
use crate::json::{self, Json, JsonPath, JsonValue, KeyProblem, Member};
use crate::principal::Principal;
use crate::span::LineIndex;

struct Reader<'s> {
    src: &'s str,
    index: LineIndex<'s>,
}

impl Reader<'_> {
    fn invalid(&self, at: usize, path: &JsonPath, message: impl Into<String>) -> RateLimitError {
        RateLimitError::Invalid {
            location: self.index.location(at),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// `value` is not the kind of JSON value the schema wants there.
    fn wrong_kind(&self, value: &Json, path: &JsonPath, want: &str) -> RateLimitError {
        self.invalid(
            value.span.start,
            path,
            format!("expected {want}, found {}", value.kind()),
        )
    }

    fn object<'j>(
        &self,
        value: &'j Json,
        path: &JsonPath,
        known: &[&str],
    ) -> Result<&'j [Member], RateLimitError> {
        let members = value
            .as_object()
            .ok_or_else(|| self.wrong_kind(value, path, "an object"))?;
        match json::key_problems(members, known).first() {
            None => Ok(members),
            Some(KeyProblem::Unknown(m)) => Err(self.invalid(
                m.key_span.start,
                &path.key(&m.key),
                format!("unknown key (known: {})", known.join(", ")),
            )),
            Some(KeyProblem::Duplicate { first, again }) => Err(self.invalid(
                again.key_span.start,
                &path.key(&again.key),
                format!(
                    "repeated key (first at {})",
                    self.index.location(first.key_span.start)
                ),
            )),
        }
    }

    /// A positive, finite number: what Mesos requires of every qps.
    fn qps(&self, value: &Json, path: &JsonPath) -> Result<f64, RateLimitError> {
        let text = self.number(value, path)?;
        match text.parse::<f64>() {
            Ok(q) if q.is_finite() && q > 0.0 => Ok(q),
            _ => Err(self.invalid(value.span.start, path, "must be a positive number")),
        }
    }

    /// A whole number from 0 to 2^64 - 1 (`uint64` in Mesos's protobuf).
    fn capacity(&self, value: &Json, path: &JsonPath) -> Result<u64, RateLimitError> {
        let text = self.number(value, path)?;
        text.parse::<u64>().map_err(|_| {
            self.invalid(
                value.span.start,
                path,
                "must be a whole number from 0 to 18446744073709551615",
            )
        })
    }

    fn number<'a>(&'a self, value: &Json, path: &JsonPath) -> Result<&'a str, RateLimitError> {
        match value.value {
            JsonValue::Number => Ok(self.src.get(value.span.start..value.span.end).unwrap_or("")),
            _ => Err(self.wrong_kind(value, path, "a number")),
        }
    }
}

pub(super) fn parse(src: &str) -> Result<RateLimits, RateLimitError> {
    if src.len() > DEFAULT_MAX_BYTES {
        return Err(RateLimitError::TooLarge {
            len: src.len(),
            max: DEFAULT_MAX_BYTES,
        });
    }
    let r = Reader {
        src,
        index: LineIndex::new(src),
    };
    let root = json::parse(src, json::Options::default()).map_err(|e| RateLimitError::Json {
        location: r.index.location(e.offset),
        message: e.to_string(),
    })?;
    let path = JsonPath::root();
    let members = r.object(
        &root,
        &path,
        &[
            "limits",
            "aggregate_default_qps",
            "aggregate_default_capacity",
        ],
    )?;
    let mut out = RateLimits::default();
    let mut seen = HashSet::new();
    for m in members {
        let here = path.key(&m.key);
        match m.key.as_str() {
            "limits" => {
                let items = m
                    .value
                    .as_array()
                    .ok_or_else(|| r.wrong_kind(&m.value, &here, "an array"))?;
                out.limits.reserve(items.len());
                for (i, item) in items.iter().enumerate() {
                    let at = here.index(i);
                    let limit = read_limit(&r, item, &at)?;
                    if !seen.insert(limit.principal.as_str().to_owned()) {
                        // Mesos exits at start-up on a duplicate principal.
                        return Err(r.invalid(
                            item.span.start,
                            &at,
                            format!(
                                "principal `{}` is listed twice",
                                limit.principal.as_str().escape_debug()
                            ),
                        ));
                    }
                    out.limits.push(limit);
                }
            }
            "aggregate_default_qps" => out.aggregate_default_qps = Some(r.qps(&m.value, &here)?),
            _ => out.aggregate_default_capacity = Some(r.capacity(&m.value, &here)?),
        }
    }
    Ok(out)
}

fn read_limit(r: &Reader<'_>, item: &Json, path: &JsonPath) -> Result<RateLimit, RateLimitError> {
    let members = r.object(item, path, &["principal", "qps", "capacity"])?;
    let mut principal = None;
    let mut qps = None;
    let mut capacity = None;
    for m in members {
        let here = path.key(&m.key);
        match m.key.as_str() {
            "principal" => {
                let name = m
                    .value
                    .as_str()
                    .ok_or_else(|| r.wrong_kind(&m.value, &here, "a string"))?;
                principal = Some(
                    Principal::new(name)
                        .map_err(|e| r.invalid(m.value.span.start, &here, e.to_string()))?,
                );
            }
            "qps" => qps = Some(r.qps(&m.value, &here)?),
            _ => capacity = Some(r.capacity(&m.value, &here)?),
        }
    }
    let principal = principal
        .ok_or_else(|| r.invalid(item.span.start, path, "missing `principal` (required)"))?;
    Ok(RateLimit {
        principal,
        qps,
        capacity,
    })
}
