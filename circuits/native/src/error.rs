//! Errors of the native prover. Every one names the file (or the argument) it is about;
//! the Python bindings turn each kind into its own subclass of `circuits.errors.CircuitError`.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A file does not follow its layout (bad magic, truncated, wrong field).
    #[error("{path}: {what}")]
    Format { path: String, what: String },
    /// A curve point from an untrusted file is not a point of the group.
    #[error("{path}: {what}")]
    Point { path: String, what: String },
    /// A proving-key file does not match the hash stored beside it.
    #[error("{path}: {what}")]
    Corrupt { path: String, what: String },
    /// A key and a constraint system that do not belong together.
    #[error("{0}")]
    Mismatch(String),
    /// A witness of the wrong length or with a value outside the field.
    #[error("{0}")]
    Witness(String),
    /// arkworks refused the work (e.g. a domain too large for the field).
    #[error("{0}")]
    Backend(String),
}

pub type Result<T> = std::result::Result<T, NativeError>;

pub fn io_error(path: &Path, source: std::io::Error) -> NativeError {
    NativeError::Io { path: path.display().to_string(), source }
}

pub fn format_error(path: &str, what: impl Into<String>) -> NativeError {
    NativeError::Format { path: path.to_string(), what: what.into() }
}

pub fn point_error(path: &str, what: impl Into<String>) -> NativeError {
    NativeError::Point { path: path.to_string(), what: what.into() }
}
