//! The sasl component (work in progress).
