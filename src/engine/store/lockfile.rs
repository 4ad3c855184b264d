//! Advisory whole-file locks (`flock`) between gantry processes: the lock is held while the
//! value lives and released when it is dropped (or its process dies).

use std::fs::File;
use std::io;
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

pub struct LockFile {
    _file: File,
}

fn open(path: &Path) -> io::Result<File> {
    File::options().create(true).truncate(false).write(true).open(path)
}

impl LockFile {
    /// Waits until the lock on `path` (created if missing) is ours.
    pub fn exclusive(path: &Path) -> io::Result<Self> {
        let file = open(path)?;
        flock(&file, FlockOperation::LockExclusive)?;
        Ok(Self { _file: file })
    }

    /// Takes the lock only if nobody holds it; `None` when someone does.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<Self>> {
        let file = open(path)?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        let held = LockFile::exclusive(&p).unwrap();
        assert!(LockFile::try_exclusive(&p).unwrap().is_none());
        drop(held);
        assert!(LockFile::try_exclusive(&p).unwrap().is_some());
    }
}
