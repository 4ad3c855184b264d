//! Image records: an image is its config digest (its ID), the layers it stacks, and the names
//! (tags and repo digests) pointing at it. Names are fully qualified (`docker.io/library/x:tag`).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::db::now_secs;
use crate::engine::digest::Digest;

/// Everything stored about one image.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub id: Digest,
    pub config: Vec<u8>,
    pub manifest: Digest,
    pub size: u64,
    pub created: Option<String>,
    pub stored_at: i64,
    pub tags: Vec<String>,
    pub digests: Vec<String>,
    pub layers: Vec<Digest>,
}

/// A new image to record.
pub struct NewImage<'a> {
    pub id: &'a Digest,
    pub config: &'a [u8],
    pub manifest: &'a Digest,
    pub size: u64,
    pub created: Option<&'a str>,
    pub layers: &'a [Digest],
}

/// Inserts an image (no-op if present). Returns whether it was new.
pub fn insert(tx: &Transaction<'_>, img: &NewImage<'_>) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO images (id, config, manifest, size, created, stored_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            img.id.to_string(),
            img.config,
            img.manifest.to_string(),
            img.size as i64,
            img.created,
            now_secs()
        ],
    )?;
    if n == 1 {
        for (pos, chain) in img.layers.iter().enumerate() {
            tx.execute(
                "INSERT INTO image_layers (image_id, position, chain_id) VALUES (?1, ?2, ?3)",
                params![img.id.to_string(), pos as i64, chain.to_string()],
            )?;
        }
    }
    Ok(n == 1)
}

/// Points `name` at `id`; returns the image it pointed at before, if another.
pub fn set_tag(tx: &Transaction<'_>, name: &str, id: &Digest) -> rusqlite::Result<Option<Digest>> {
    let prev = tag_target(tx, name)?;
    tx.execute(
        "INSERT INTO tags (name, image_id, tagged_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, tagged_at = excluded.tagged_at",
        params![name, id.to_string(), now_secs()],
    )?;
    Ok(prev.filter(|p| p != id))
}

pub fn set_repo_digest(tx: &Transaction<'_>, name: &str, id: &Digest) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO repo_digests (name, image_id) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
        params![name, id.to_string()],
    )?;
    Ok(())
}

/// Removes a tag or repo digest name; returns whether it existed.
pub fn remove_name(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    let a = tx.execute("DELETE FROM tags WHERE name = ?1", [name])?;
    let b = tx.execute("DELETE FROM repo_digests WHERE name = ?1", [name])?;
    Ok(a + b > 0)
}

/// The image a tag points at.
pub fn tag_target(c: &Connection, name: &str) -> rusqlite::Result<Option<Digest>> {
    let s: Option<String> =
        c.query_row("SELECT image_id FROM tags WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    Ok(s.and_then(|s| Digest::parse(&s).ok()))
}

/// The image a repo digest name (`repo@sha256:..`) points at.
pub fn digest_target(c: &Connection, name: &str) -> rusqlite::Result<Option<Digest>> {
    let s: Option<String> =
        c.query_row("SELECT image_id FROM repo_digests WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    Ok(s.and_then(|s| Digest::parse(&s).ok()))
}

/// Image IDs starting with a hex prefix (with or without `sha256:`).
pub fn ids_with_prefix(c: &Connection, prefix: &str) -> rusqlite::Result<Vec<Digest>> {
    let hex = prefix.strip_prefix("sha256:").unwrap_or(prefix);
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let pattern = format!("sha256:{}%", hex.to_ascii_lowercase());
    let mut st = c.prepare_cached("SELECT id FROM images WHERE id LIKE ?1")?;
    let rows = st.query_map([pattern], |r| r.get::<_, String>(0))?;
    Ok(rows.filter_map(|r| r.ok()).filter_map(|s| Digest::parse(&s).ok()).collect())
}

/// All images with their names and layers, newest first.
pub fn list(c: &Connection) -> rusqlite::Result<Vec<ImageRecord>> {
    let mut st = c.prepare_cached(
        "SELECT id, config, manifest, size, created, stored_at FROM images
         ORDER BY created DESC, stored_at DESC",
    )?;
    let mut out: Vec<ImageRecord> = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?
        .filter_map(|r| r.ok())
        .filter_map(|(id, config, manifest, size, created, stored_at)| {
            Some(ImageRecord {
                id: Digest::parse(&id).ok()?,
                config,
                manifest: Digest::parse(&manifest).ok()?,
                size: size as u64,
                created,
                stored_at,
                tags: Vec::new(),
                digests: Vec::new(),
                layers: Vec::new(),
            })
        })
        .collect();
    let index: std::collections::HashMap<String, usize> =
        out.iter().enumerate().map(|(i, r)| (r.id.to_string(), i)).collect();
    let mut names = c.prepare_cached("SELECT name, image_id FROM tags ORDER BY tagged_at, name")?;
    for row in names.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (name, id) = row?;
        if let Some(&i) = index.get(&id) {
            out[i].tags.push(name);
        }
    }
    let mut digests = c.prepare_cached("SELECT name, image_id FROM repo_digests ORDER BY name")?;
    for row in digests.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (name, id) = row?;
        if let Some(&i) = index.get(&id) {
            out[i].digests.push(name);
        }
    }
    let mut layers =
        c.prepare_cached("SELECT image_id, chain_id FROM image_layers ORDER BY image_id, position")?;
    for row in layers.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (id, chain) = row?;
        if let (Some(&i), Ok(d)) = (index.get(&id), Digest::parse(&chain)) {
            out[i].layers.push(d);
        }
    }
    Ok(out)
}

/// One image by ID.
pub fn get(c: &Connection, id: &Digest) -> rusqlite::Result<Option<ImageRecord>> {
    Ok(list(c)?.into_iter().find(|r| &r.id == id))
}

/// Deletes an image's row (names must already be gone) and returns the chain IDs of layers no
/// other image uses any more, whose rows are deleted too.
pub fn delete(tx: &Transaction<'_>, id: &Digest) -> rusqlite::Result<Vec<Digest>> {
    let id_s = id.to_string();
    let chains: Vec<String> = {
        let mut st = tx.prepare("SELECT chain_id FROM image_layers WHERE image_id = ?1")?;
        st.query_map([&id_s], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    tx.execute("DELETE FROM tags WHERE image_id = ?1", [&id_s])?;
    tx.execute("DELETE FROM repo_digests WHERE image_id = ?1", [&id_s])?;
    tx.execute("DELETE FROM images WHERE id = ?1", [&id_s])?;
    let mut orphans = Vec::new();
    for chain in chains {
        let users: i64 =
            tx.query_row("SELECT count(*) FROM image_layers WHERE chain_id = ?1", [&chain], |r| r.get(0))?;
        if users == 0 {
            tx.execute("DELETE FROM layers WHERE chain_id = ?1", [&chain])?;
            if let Ok(d) = Digest::parse(&chain) {
                orphans.push(d);
            }
        }
    }
    Ok(orphans)
}

/// Deletes the rows of those layers no image uses and returns their chain IDs (their
/// directories are the caller's to remove).
pub fn delete_unused_layers(tx: &Transaction<'_>, chains: &[Digest]) -> rusqlite::Result<Vec<Digest>> {
    let mut gone = Vec::new();
    for chain in chains {
        let n = tx.execute(
            "DELETE FROM layers WHERE chain_id = ?1
             AND NOT EXISTS (SELECT 1 FROM image_layers WHERE chain_id = ?1)",
            [chain.to_string()],
        )?;
        if n > 0 {
            gone.push(chain.clone());
        }
    }
    Ok(gone)
}

/// Whether any other image still refers to a manifest or config blob.
pub fn blob_in_use(c: &Connection, digest: &Digest) -> rusqlite::Result<bool> {
    let d = digest.to_string();
    let n: i64 =
        c.query_row("SELECT count(*) FROM images WHERE id = ?1 OR manifest = ?1", [d], |r| r.get(0))?;
    Ok(n > 0)
}

/// Remembers a registry the user pulled from (for the TUI's registry picker).
pub fn touch_registry(tx: &Transaction<'_>, host: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO registries (host, last_used) VALUES (?1, ?2)
         ON CONFLICT(host) DO UPDATE SET last_used = excluded.last_used",
        params![host, now_secs()],
    )?;
    Ok(())
}

/// Registries used, most recent first.
pub fn registries(c: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = c.prepare("SELECT host FROM registries ORDER BY last_used DESC")?;
    let rows = st.query_map([], |r| r.get(0))?;
    rows.collect()
}
