//! The panic boundary every exported function sits behind.
//!
//! Since Rust 1.81 a panic that unwinds out of an `extern "C"` function
//! aborts the process: one missed wrapper would take a Mesos master down.
//! Every export's body is wrapped in [`ffi_panic_boundary!`]; a test in
//! `lib.rs` fails if an export lacks it.

use crate::result::mesos_auth_result;

/// What an export returns when its body panicked.
pub(crate) trait PanicOrDefault {
    fn value() -> Self;
}

impl PanicOrDefault for mesos_auth_result {
    fn value() -> Self {
        mesos_auth_result::Panic
    }
}

impl<T> PanicOrDefault for *const T {
    fn value() -> Self {
        std::ptr::null()
    }
}

impl<T> PanicOrDefault for *mut T {
    fn value() -> Self {
        std::ptr::null_mut()
    }
}

impl PanicOrDefault for bool {
    fn value() -> Self {
        false
    }
}

impl PanicOrDefault for usize {
    fn value() -> Self {
        0
    }
}

impl PanicOrDefault for u32 {
    fn value() -> Self {
        0
    }
}

impl PanicOrDefault for () {
    fn value() -> Self {}
}

impl PanicOrDefault for crate::mesos_auth_str {
    fn value() -> Self {
        crate::mesos_auth_str::EMPTY
    }
}

/// Runs the body, turning a panic into the return type's "panicked" value.
macro_rules! ffi_panic_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(ret) => ret,
            Err(_) => return <_ as $crate::panic::PanicOrDefault>::value(),
        }
    };
}

pub(crate) use ffi_panic_boundary;
