//! Content-addressed blobs (manifests, image configs) under `blobs/sha256/<hex>`. A blob is
//! written to scratch space, checked against its digest and only then renamed into place, so a
//! file in the store always matches its name.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use crate::engine::digest::Digest;
use crate::engine::error::{Error, IoContext, Result};
use crate::engine::paths::Paths;
use crate::engine::store::tmp::TempDir;

#[derive(Debug, Clone)]
pub struct BlobStore {
    paths: Paths,
}

impl BlobStore {
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.paths.blob(digest)
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Stores `data` under `digest` after checking that it hashes to it.
    pub fn put(&self, digest: &Digest, data: &[u8]) -> Result<()> {
        let actual = Digest::of_bytes(data);
        if &actual != digest {
            return Err(Error::Verification(format!(
                "blob content does not match its digest: expected {digest}, got {actual}"
            )));
        }
        let dest = self.path(digest);
        if dest.is_file() {
            return Ok(());
        }
        let dir = self.paths.blobs();
        fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
        // Written in this process's scratch directory, not next to the blobs: a process killed
        // mid-write leaves its half blob where the next gantry sweeps it away.
        let scratch = TempDir::new(&self.paths.tmp(), "blob")?;
        let tmp = scratch.path().join("blob");
        let mut f = fs::File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
        f.write_all(data).ctx(|| "writing blob".into())?;
        f.sync_data().ctx(|| "syncing blob".into())?;
        fs::rename(&tmp, &dest).ctx(|| format!("storing {}", dest.display()))?;
        Ok(())
    }

    /// Reads a blob and re-checks its digest (the file may have been tampered with on disk).
    pub fn get(&self, digest: &Digest) -> Result<Vec<u8>> {
        let p = self.path(digest);
        let data = fs::read(&p).ctx(|| format!("reading blob {}", p.display()))?;
        if &Digest::of_bytes(&data) != digest {
            return Err(Error::Verification(format!("stored blob {digest} is corrupt")));
        }
        Ok(data)
    }

    /// Removes a blob; missing is fine.
    pub fn remove(&self, digest: &Digest) -> Result<()> {
        match fs::remove_file(self.path(digest)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("removing blob {digest}"), e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_put_get_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(Paths::new(Some(dir.path())));
        let d = Digest::of_bytes(b"config");
        store.put(&d, b"config").unwrap();
        assert_eq!(store.get(&d).unwrap(), b"config");
        let wrong = Digest::of_bytes(b"other");
        assert!(store.put(&wrong, b"config").is_err());
        assert!(!store.contains(&wrong));
        fs::write(store.path(&d), b"tampered").unwrap();
        assert!(store.get(&d).is_err());
        store.remove(&d).unwrap();
        assert!(!store.contains(&d));
        let left: Vec<_> = fs::read_dir(dir.path().join("tmp")).unwrap().collect();
        assert!(left.is_empty(), "scratch left behind: {left:?}");
        let blobs: Vec<_> = fs::read_dir(store.paths.blobs()).unwrap().collect();
        assert!(blobs.is_empty(), "only blobs live next to blobs: {blobs:?}");
    }
}
