//! The engine's error type. Every fallible engine call returns [`Error`]; the variants keep the
//! underlying cause and say what the engine was doing, so the CLI and TUI can show one clear line.

use std::path::PathBuf;

use super::digest::DigestError;
use super::layer::extract::ExtractError;
use super::reference::ReferenceError;
use super::registry::RegistryError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Digest(#[from] DigestError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("extracting layer {layer}: {source}")]
    Extract {
        layer: String,
        #[source]
        source: ExtractError,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("state database {path}: {source}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than the {known} this gantry knows: \
         it was written by a newer gantry; use that one (or another --root)"
    )]
    SchemaTooNew { path: PathBuf, found: usize, known: usize },
    /// A step given up because another part of the same operation failed (that failure is
    /// the one reported).
    #[error("cancelled")]
    Cancelled,
    #[error("No such image: {0}")]
    ImageNotFound(String),
    #[error("No such container: {0}")]
    ContainerNotFound(String),
    #[error("{0}")]
    Runtime(String),
    #[error("network {0} not found")]
    NetworkNotFound(String),
    #[error("{0}")]
    Network(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Verification(String),
    #[error(
        "gantry's engine must run as root (it extracts image layers with their owners and device \
         nodes and runs containers with namespaces and cgroups); run it with sudo or as root"
    )]
    NotRoot,
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
}

impl Error {
    /// Wraps an I/O error with what the engine was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

/// Adds context to `io::Result`s.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
