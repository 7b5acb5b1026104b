//! The tls component (work in progress).
