//! The files of one container.

use std::path::PathBuf;

use crate::engine::paths::Paths;

#[derive(Debug, Clone)]
pub struct ContainerDirs {
    pub base: PathBuf,
    pub run: PathBuf,
}

impl ContainerDirs {
    pub fn new(paths: &Paths, id: &str) -> Self {
        Self { base: paths.container(id), run: paths.container_run(id) }
    }

    pub fn upper(&self) -> PathBuf {
        self.base.join("upper")
    }

    pub fn work(&self) -> PathBuf {
        self.base.join("work")
    }

    /// The overlay mount point, also the OCI bundle's root.
    pub fn rootfs(&self) -> PathBuf {
        self.base.join("rootfs")
    }

    /// The OCI bundle directory (holds config.json).
    pub fn bundle(&self) -> PathBuf {
        self.base.clone()
    }

    pub fn etc(&self) -> PathBuf {
        self.base.join("etc")
    }

    pub fn log(&self) -> PathBuf {
        self.base.join("container.log")
    }

    pub fn attach_socket(&self) -> PathBuf {
        self.run.join("attach.sock")
    }

    pub fn console_socket(&self) -> PathBuf {
        self.run.join("console.sock")
    }
}
