//! Unit tests of the credentials component.
