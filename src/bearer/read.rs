//! The strict document reader the JWKS and configuration parsers share: the
//! crate's JSON reader (spans, duplicate keys refused, nesting bounded), and
//! errors with a line:column and a JSON path.

use crate::json::{self, Json, JsonPath, KeyProblem, Member};
use crate::span::{LineIndex, Span};

use super::error::BearerError;

/// Documents larger than this are refused before parsing (a JWKS is a few
/// KiB; a configuration less).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1 << 20;

pub(crate) struct Reader<'s> {
    what: &'static str,
    src: &'s str,
    lines: LineIndex<'s>,
}

impl<'s> Reader<'s> {
    /// Parses `bytes` as one JSON document.
    pub(crate) fn parse(what: &'static str, bytes: &'s [u8]) -> Result<(Self, Json), BearerError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(BearerError::Json {
                what,
                location: crate::span::Location { line: 1, column: 1 },
                message: format!(
                    "the document is {} bytes, more than the limit of {MAX_DOCUMENT_BYTES}",
                    bytes.len()
                ),
            });
        }
        let fail = |src: &str, e: json::JsonError| BearerError::Json {
            what,
            location: LineIndex::new(src).location(e.offset),
            message: e.to_string(),
        };
        let src = json::from_utf8(bytes).map_err(|e| {
            fail(
                std::str::from_utf8(bytes.get(..e.offset).unwrap_or_default()).unwrap_or(""),
                e,
            )
        })?;
        let doc = json::parse(src, json::Options::default()).map_err(|e| fail(src, e))?;
        Ok((
            Self {
                what,
                src,
                lines: LineIndex::new(src),
            },
            doc,
        ))
    }

    pub(crate) fn error(&self, span: Span, path: &JsonPath, message: String) -> BearerError {
        BearerError::Invalid {
            what: self.what,
            location: self.lines.location(span.start),
            path: path.to_string(),
            message,
        }
    }

    /// The members of an object; a repeated key is an error, and so is an
    /// unknown one when `strict`.
    pub(crate) fn object<'j>(
        &self,
        j: &'j Json,
        path: &JsonPath,
        known: &[&str],
        strict: bool,
    ) -> Result<&'j [Member], BearerError> {
        let members = j.as_object().ok_or_else(|| {
            self.error(
                j.span,
                path,
                format!("expected an object, found {}", j.kind()),
            )
        })?;
        for p in json::key_problems(members, known) {
            match p {
                KeyProblem::Duplicate { again, .. } => {
                    return Err(self.error(
                        again.key_span,
                        &path.key(&again.key),
                        format!("`{}` is given twice", again.key.escape_debug()),
                    ));
                }
                KeyProblem::Unknown(m) if strict => {
                    return Err(self.error(
                        m.key_span,
                        &path.key(&m.key),
                        format!("unknown field `{}`", m.key.escape_debug()),
                    ));
                }
                KeyProblem::Unknown(_) => {}
            }
        }
        Ok(members)
    }

    pub(crate) fn str<'j>(&self, j: &'j Json, path: &JsonPath) -> Result<&'j str, BearerError> {
        j.as_str().ok_or_else(|| {
            self.error(
                j.span,
                path,
                format!("expected a string, found {}", j.kind()),
            )
        })
    }

    pub(crate) fn array<'j>(
        &self,
        j: &'j Json,
        path: &JsonPath,
    ) -> Result<&'j [Json], BearerError> {
        j.as_array().ok_or_else(|| {
            self.error(
                j.span,
                path,
                format!("expected an array, found {}", j.kind()),
            )
        })
    }

    /// A non-negative integer that fits `u64`.
    pub(crate) fn uint(&self, j: &Json, path: &JsonPath) -> Result<u64, BearerError> {
        let text = match j.value {
            json::JsonValue::Number => self.src.get(j.span.start..j.span.end).unwrap_or(""),
            _ => {
                return Err(self.error(
                    j.span,
                    path,
                    format!("expected a number, found {}", j.kind()),
                ));
            }
        };
        text.parse::<u64>().map_err(|_| {
            self.error(
                j.span,
                path,
                format!("expected a whole number, found `{text}`"),
            )
        })
    }

    /// A list of strings, or one string standing for a list of one.
    pub(crate) fn strings(&self, j: &Json, path: &JsonPath) -> Result<Vec<String>, BearerError> {
        if let Some(s) = j.as_str() {
            return Ok(vec![s.to_owned()]);
        }
        self.array(j, path)?
            .iter()
            .enumerate()
            .map(|(i, v)| self.str(v, &path.index(i)).map(str::to_owned))
            .collect()
    }
}
