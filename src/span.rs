//! Byte spans in a source text and their human line:column form, shared by
//! every parser in the crate (ACLs, credentials, TLS mapping rules).

use std::fmt;

/// A half-open byte range `start..end` in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Location {
    /// Line number, from 1.
    pub line: u32,
    /// Column number in characters, from 1.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Maps byte offsets of one source text to [`Location`]s.
///
/// Built once per text that has something to report, so turning many errors
/// into locations costs a binary search each rather than a rescan.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { src, line_starts }
    }

    /// Length of the text, in bytes.
    pub(crate) fn len(&self) -> usize {
        self.src.len()
    }

    /// The location of byte `offset`; offsets past the end map to the end, and
    /// an offset inside a multi-byte character maps to that character.
    pub(crate) fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .src
            .get(start..)
            .unwrap_or("")
            .char_indices()
            .take_while(|(i, _)| start + i < offset)
            .count()
            + 1;
        Location {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// Like [`location`](Self::location), but counts on (or back) from
    /// `known`, an offset already located and its location: a reader
    /// locating many offsets roughly in order along one long line (minified
    /// JSON) then scans that line about once, not once per offset.
    pub(crate) fn location_after(&self, offset: usize, known: (usize, Location)) -> Location {
        let offset = offset.min(self.src.len());
        let (from, at) = known;
        if !self.src.is_char_boundary(from) {
            return self.location(offset);
        }
        let known_line = usize::try_from(at.line).unwrap_or(usize::MAX);
        if offset < from {
            // A step back (a credential's own span after its fields'):
            // count back from the known place if it is on the same line.
            let line_start = self.line_starts.get(known_line.wrapping_sub(1));
            if line_start.is_some_and(|&s| s <= offset) {
                let back = count_chars(self.src.as_bytes().get(offset..from).unwrap_or_default());
                return Location {
                    line: at.line,
                    column: at
                        .column
                        .saturating_sub(u32::try_from(back).unwrap_or(u32::MAX)),
                };
            }
            return self.location(offset);
        }
        // The next offset is usually on the same line or a few lines on:
        // step forward from the known line before searching the rest.
        let mut line = known_line;
        let mut steps = 0;
        while steps < 8 && self.line_starts.get(line).is_some_and(|&s| s <= offset) {
            line += 1;
            steps += 1;
        }
        if steps == 8 {
            line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        }
        let line_start = self.line_starts.get(line.wrapping_sub(1)).copied();
        let same_line = line == known_line && line_start.is_some_and(|s| s <= from);
        if !same_line {
            // Count from the start of the offset's line.
            let Some(start) = line_start else {
                return self.location(offset);
            };
            let chars = count_chars(self.src.as_bytes().get(start..offset).unwrap_or_default());
            return Location {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(chars + 1).unwrap_or(u32::MAX),
            };
        }
        let chars = count_chars(self.src.as_bytes().get(from..offset).unwrap_or_default());
        Location {
            line: at.line,
            column: at
                .column
                .saturating_add(u32::try_from(chars).unwrap_or(u32::MAX)),
        }
    }
}

/// Characters starting in `bytes` (UTF-8 continuation bytes do not start one).
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn maps_offsets() {
        let idx = LineIndex::new("ab\ncdé\n\nx");
        assert_eq!(idx.location(0), Location { line: 1, column: 1 });
        assert_eq!(idx.location(2), Location { line: 1, column: 3 });
        assert_eq!(idx.location(3), Location { line: 2, column: 1 });
        // 'é' is two bytes; the byte after it is column 4.
        assert_eq!(idx.location(7), Location { line: 2, column: 4 });
        assert_eq!(idx.location(8), Location { line: 3, column: 1 });
        assert_eq!(idx.location(9), Location { line: 4, column: 1 });
        assert_eq!(idx.location(999), Location { line: 4, column: 2 });
        assert_eq!(idx.location(5).to_string(), "2:3");
    }

    #[test]
    fn location_after_matches_location() {
        let long = "é\n".repeat(12) + "ab\ncdé f\n\nxé\u{1F600}y\n\n";
        for src in ["ab\ncdé f\n\nxé\u{1F600}y", long.as_str()] {
            check_location_after(src);
        }
    }

    fn check_location_after(src: &str) {
        let idx = LineIndex::new(src);
        for from in 0..=src.len() + 2 {
            let known = (from.min(src.len()), idx.location(from));
            for offset in 0..=src.len() + 2 {
                assert_eq!(
                    idx.location_after(offset, known),
                    idx.location(offset),
                    "from {from} to {offset}"
                );
            }
        }
    }
}
