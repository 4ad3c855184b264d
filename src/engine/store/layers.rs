//! Extracted layers, one directory per chain ID (`layers/<hex>/diff` is the overlayfs lowerdir),
//! shared by every image that uses them. A layer is "present" only when its database row exists;
//! the row is written after the extracted tree was renamed into place, so a directory without a
//! row is the leftover of an interrupted commit and is replaced, never trusted. A per-layer file
//! lock keeps two processes from extracting the same layer at once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

use super::db::{Db, now_secs};
use super::tmp::{TempDir, remove_tree};
use crate::engine::digest::Digest;
use crate::engine::error::{IoContext, Result};
use crate::engine::paths::Paths;
use crate::engine::store::lockfile::LockFile;

/// Holds the per-layer lock until dropped.
pub struct LayerLock {
    _lock: LockFile,
}

/// What the store knows about one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRecord {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub size: u64,
    pub entries: u64,
}

#[derive(Debug, Clone)]
pub struct LayerStore {
    paths: Paths,
}

impl LayerStore {
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    /// The directory holding the layer's `diff/`.
    pub fn dir(&self, chain_id: &Digest) -> PathBuf {
        self.paths.layer(chain_id)
    }

    /// The overlayfs lowerdir of a layer.
    pub fn diff_dir(&self, chain_id: &Digest) -> PathBuf {
        self.dir(chain_id).join("diff")
    }

    /// Whether the layer is committed (row present and its directory in place).
    pub fn contains(&self, db: &Db, chain_id: &Digest) -> Result<bool> {
        let row = self.get(db, chain_id)?;
        Ok(row.is_some() && self.diff_dir(chain_id).is_dir())
    }

    pub fn get(&self, db: &Db, chain_id: &Digest) -> Result<Option<LayerRecord>> {
        db.read(|c| {
            c.query_row(
                "SELECT diff_id, size, entries FROM layers WHERE chain_id = ?1",
                [chain_id.to_string()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()
        })?
        .map(|(diff, size, entries)| {
            Ok(LayerRecord {
                chain_id: chain_id.clone(),
                diff_id: Digest::parse(&diff)?,
                size: size as u64,
                entries: entries as u64,
            })
        })
        .transpose()
    }

    /// Takes the exclusive lock for extracting or committing `chain_id` (blocking).
    pub fn lock(&self, chain_id: &Digest) -> Result<LayerLock> {
        let dir = self.paths.layer_locks();
        fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
        let p = dir.join(chain_id.hex());
        let lock = LockFile::exclusive(&p).ctx(|| format!("locking {}", p.display()))?;
        Ok(LayerLock { _lock: lock })
    }

    /// A scratch directory whose `diff/` is the extraction root for a new layer.
    pub fn scratch(&self) -> Result<TempDir> {
        let t = TempDir::new(&self.paths.tmp(), "layer")?;
        let diff = t.path().join("diff");
        fs::create_dir(&diff).ctx(|| format!("creating {}", diff.display()))?;
        Ok(t)
    }

    /// Moves an extracted, verified layer into the store and records it. Must be called with
    /// the layer's lock held.
    pub fn commit(&self, db: &Db, _lock: &LayerLock, scratch: TempDir, rec: &LayerRecord) -> Result<()> {
        let dest = self.dir(&rec.chain_id);
        let parent = self.paths.layers();
        fs::create_dir_all(&parent).ctx(|| format!("creating {}", parent.display()))?;
        if dest.exists() {
            // Under the lock and without a row, this is an interrupted commit's leftover.
            remove_tree(&dest);
        }
        fs::rename(scratch.path(), &dest).ctx(|| format!("moving layer into {}", dest.display()))?;
        scratch.keep();
        sync_dir(&parent);
        db.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO layers (chain_id, diff_id, size, entries, stored_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    rec.chain_id.to_string(),
                    rec.diff_id.to_string(),
                    rec.size as i64,
                    rec.entries as i64,
                    now_secs()
                ],
            )
            .map_err(|e| db.err(e))?;
            Ok(())
        })
    }

    /// Removes the directories of layers whose rows were already deleted.
    pub fn remove_dirs(&self, chain_ids: &[Digest]) -> Result<()> {
        for id in chain_ids {
            let _lock = self.lock(id)?;
            let dir = self.dir(id);
            if !dir.exists() {
                continue;
            }
            // Rename first so that a crash mid-delete leaves scratch data (swept later), never
            // a half-deleted directory under a layer's name.
            let trash = TempDir::new(&self.paths.tmp(), "trash")?;
            let target = trash.path().join("layer");
            fs::rename(&dir, &target).ctx(|| format!("removing {}", dir.display()))?;
            drop(trash);
        }
        Ok(())
    }
}

/// Persists a rename in `dir` (best effort: the database row is the real commit point).
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Computes chain IDs from diff IDs: `chain[0] = diff[0]`,
/// `chain[n] = sha256(chain[n-1] + " " + diff[n])` (OCI image spec).
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(parent) => Digest::of_bytes(format!("{parent} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_spec() {
        let a = Digest::of_bytes(b"a");
        let b = Digest::of_bytes(b"b");
        let ids = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(ids[0], a);
        assert_eq!(ids[1], Digest::of_bytes(format!("{a} {b}").as_bytes()));
    }

    #[test]
    fn commit_replaces_uncommitted_leftover() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(Some(dir.path()));
        let db = Db::open(&dir.path().join("g.db")).unwrap();
        let store = LayerStore::new(paths);
        let rec = LayerRecord {
            chain_id: Digest::of_bytes(b"c"),
            diff_id: Digest::of_bytes(b"c"),
            size: 1,
            entries: 1,
        };
        // A leftover directory without a row is not a present layer.
        fs::create_dir_all(store.diff_dir(&rec.chain_id)).unwrap();
        assert!(!store.contains(&db, &rec.chain_id).unwrap());
        let lock = store.lock(&rec.chain_id).unwrap();
        let s = store.scratch().unwrap();
        fs::write(s.path().join("diff/file"), b"x").unwrap();
        store.commit(&db, &lock, s, &rec).unwrap();
        drop(lock);
        assert!(store.contains(&db, &rec.chain_id).unwrap());
        assert!(store.diff_dir(&rec.chain_id).join("file").exists());
        assert_eq!(store.get(&db, &rec.chain_id).unwrap().unwrap(), rec);
        store.remove_dirs(std::slice::from_ref(&rec.chain_id)).unwrap();
        assert!(!store.dir(&rec.chain_id).exists());
    }
}
