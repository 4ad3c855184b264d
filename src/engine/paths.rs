//! Where the engine keeps its state. Everything lives under one root (`/var/lib/gantry` by default)
//! plus a run directory for sockets and pid files (`/run/gantry`); `--root`/`GANTRY_ROOT` moves
//! both, so tests can run side by side in temp dirs.

use std::path::{Path, PathBuf};

use super::digest::Digest;

pub const DEFAULT_ROOT: &str = "/var/lib/gantry";
pub const DEFAULT_RUN: &str = "/run/gantry";

#[derive(Debug, Clone)]
pub struct Paths {
    root: PathBuf,
    run: PathBuf,
}

impl Paths {
    /// The default locations, or both under `root` when one is given.
    pub fn new(root: Option<&Path>) -> Self {
        match root {
            Some(r) => Self { root: r.to_path_buf(), run: r.join("run") },
            None => Self { root: PathBuf::from(DEFAULT_ROOT), run: PathBuf::from(DEFAULT_RUN) },
        }
    }

    /// The same root with another run dir.
    pub fn with_run(mut self, run: PathBuf) -> Self {
        self.run = run;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn run(&self) -> &Path {
        &self.run
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("gantry.db")
    }

    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// A blob's file; the digest type guarantees the name is 64 hex characters.
    pub fn blob(&self, digest: &Digest) -> PathBuf {
        self.blobs().join(digest.hex())
    }

    pub fn layers(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// The directory of one extracted layer, keyed by its chain ID; `diff/` inside is the
    /// overlayfs lowerdir.
    pub fn layer(&self, chain_id: &Digest) -> PathBuf {
        self.layers().join(chain_id.hex())
    }

    pub fn layer_locks(&self) -> PathBuf {
        self.root.join("locks").join("layers")
    }

    /// Scratch space on the same filesystem as the stores, so commits are atomic renames.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Compiled seccomp programs, one per distinct profile.
    pub fn seccomp_cache(&self) -> PathBuf {
        self.root.join("seccomp")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Where the per-container state directories are.
    pub fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// Per-container state: upper/work dirs, the rootfs mount point, the bundle, the log.
    pub fn container(&self, id: &str) -> PathBuf {
        self.containers().join(id)
    }

    /// Where the per-container runtime directories are.
    pub fn container_runs(&self) -> PathBuf {
        self.run.join("c")
    }

    /// Per-container runtime files (sockets), in a root-only directory. Named by a 16-hex
    /// prefix of the ID because unix socket paths must stay under 108 bytes.
    pub fn container_run(&self, id: &str) -> PathBuf {
        self.container_runs().join(&id[..id.len().min(16)])
    }

    /// libcontainer's state root (it adds `<id>/`).
    pub fn runtime_state(&self) -> PathBuf {
        self.run.join("lc")
    }

    /// The read-only bind mount of the gantry binary that monitors are started from.
    pub fn protected_exe(&self) -> PathBuf {
        self.run.join("gantry-exe")
    }

    /// Short links to layer directories for the classic overlay mount.
    pub fn layer_links(&self) -> PathBuf {
        self.root.join("l")
    }
}
