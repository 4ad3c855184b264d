//! Image operations over the store: lookup by name or ID, Docker-shaped inspect, history,
//! tagging, removal with Docker's untag-versus-delete rules, and pruning.

use serde_json::{Value, json};

use super::Engine;
use super::digest::Digest;
use super::error::{Error, Result};
use super::reference::{Reference, looks_like_id_prefix};
use super::store::images::{self, ImageRecord};

/// A row of `gantry images`.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: Digest,
    /// Fully qualified tags (`docker.io/library/busybox:latest`).
    pub tags: Vec<Reference>,
    pub digests: Vec<Reference>,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub size: u64,
}

impl ImageSummary {
    pub fn dangling(&self) -> bool {
        self.tags.is_empty()
    }
}

/// One row of `gantry history`, newest first.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The image ID for the top row; `None` (`<missing>`) below it, as for any pulled image.
    pub id: Option<Digest>,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
    pub empty_layer: bool,
}

/// One line of `rmi`/`prune` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Untagged(String),
    Deleted(Digest),
}

/// What `image prune` would do: the images it removes, and the bytes of the layers only they
/// use (what the prune frees; layers shared with a kept image stay).
#[derive(Debug, Clone, Default)]
pub struct PrunePlan {
    pub images: Vec<ImageSummary>,
    pub reclaim: u64,
    /// The records of the images that go.
    records: Vec<ImageRecord>,
}

/// Result of `image prune`.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub removals: Vec<Removal>,
    pub reclaimed: u64,
}

fn parse_time(s: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&chrono::Utc))
}

fn references(names: &[String]) -> Vec<Reference> {
    names.iter().filter_map(|n| Reference::parse(n).ok()).collect()
}

fn summary(r: &ImageRecord) -> ImageSummary {
    ImageSummary {
        tags: references(&r.tags),
        digests: references(&r.digests),
        created: parse_time(r.created.as_deref()),
        size: r.size,
        id: r.id.clone(),
    }
}

impl Engine {
    /// All images, newest first.
    pub fn images(&self) -> Result<Vec<ImageSummary>> {
        Ok(self.db.read(images::list)?.iter().map(summary).collect())
    }

    /// Finds an image by name (`busybox`, `busybox:1`, `repo@sha256:..`), full ID or unique
    /// ID prefix, the way Docker resolves image arguments.
    pub fn find_image(&self, name_or_id: &str) -> Result<ImageRecord> {
        let not_found = || Error::ImageNotFound(name_or_id.to_string());
        let by_name = match Reference::parse(name_or_id) {
            Ok(r) => {
                let r = if r.digest().is_some() { r } else { r.with_tag(r.tag().unwrap_or("latest"))? };
                self.db.read(|c| match r.digest() {
                    Some(_) => images::digest_target(
                        c,
                        &format!("{}@{}", r.name(), r.digest().map(|d| d.to_string()).unwrap_or_default()),
                    ),
                    None => images::tag_target(c, &r.to_string()),
                })?
            }
            Err(_) if looks_like_id_prefix(name_or_id) => None,
            Err(e) => return Err(e.into()),
        };
        let id = match by_name {
            Some(id) => id,
            None if looks_like_id_prefix(name_or_id) => {
                let ids = self.db.read(|c| images::ids_with_prefix(c, name_or_id))?;
                match ids.len() {
                    0 => return Err(not_found()),
                    1 => ids.into_iter().next().ok_or_else(not_found)?,
                    _ => {
                        return Err(Error::InvalidArgument(format!(
                            "image ID prefix {name_or_id:?} is ambiguous"
                        )));
                    }
                }
            }
            None => return Err(not_found()),
        };
        self.db.read(|c| images::get(c, &id))?.ok_or_else(not_found)
    }

    /// Docker-shaped `image inspect` JSON for one image.
    pub fn inspect_image(&self, name_or_id: &str) -> Result<Value> {
        let rec = self.find_image(name_or_id)?;
        let config: Value = serde_json::from_slice(&rec.config).unwrap_or(Value::Null);
        let familiar =
            |names: &[String]| -> Vec<String> { references(names).iter().map(|r| r.familiar()).collect() };
        let lower: Vec<String> =
            rec.layers.iter().rev().map(|c| self.layers.diff_dir(c).display().to_string()).collect();
        let diff_ids = config.pointer("/rootfs/diff_ids").cloned().unwrap_or_else(|| json!([]));
        Ok(json!({
            "Id": rec.id.to_string(),
            "RepoTags": familiar(&rec.tags),
            "RepoDigests": familiar(&rec.digests),
            "Parent": "",
            "Comment": config.get("comment").cloned().unwrap_or_else(|| json!("")),
            "Created": config.get("created").cloned().unwrap_or_else(|| json!("0001-01-01T00:00:00Z")),
            "DockerVersion": config.get("docker_version").cloned().unwrap_or_else(|| json!("")),
            "Author": config.get("author").cloned().unwrap_or_else(|| json!("")),
            "Config": docker_config(config.get("config")),
            "Architecture": config.get("architecture").cloned().unwrap_or_else(|| json!("")),
            "Variant": config.get("variant").cloned().unwrap_or(Value::Null),
            "Os": config.get("os").cloned().unwrap_or_else(|| json!("")),
            "Size": rec.size,
            "GraphDriver": {
                "Name": "overlay",
                "Data": { "LowerDir": lower.join(":") }
            },
            "RootFS": { "Type": "layers", "Layers": diff_ids },
            "Metadata": { "LastTagTime": chrono::DateTime::from_timestamp(rec.stored_at, 0).map(|t| t.to_rfc3339()) },
            "ManifestDigest": rec.manifest.to_string(),
        }))
    }

    /// The image's history, newest first, with layer sizes from the store.
    pub fn history(&self, name_or_id: &str) -> Result<Vec<HistoryEntry>> {
        let rec = self.find_image(name_or_id)?;
        let config: Value = serde_json::from_slice(&rec.config).unwrap_or(Value::Null);
        let mut sizes = Vec::new();
        for chain in &rec.layers {
            sizes.push(self.layers.get(&self.db, chain)?.map(|l| l.size).unwrap_or(0));
        }
        let history = config.get("history").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut layer = 0;
        let mut out: Vec<HistoryEntry> = history
            .iter()
            .map(|h| {
                let empty = h.get("empty_layer").and_then(Value::as_bool).unwrap_or(false);
                let size = if empty { 0 } else { sizes.get(layer).copied().unwrap_or(0) };
                if !empty {
                    layer += 1;
                }
                HistoryEntry {
                    id: None,
                    created: parse_time(h.get("created").and_then(Value::as_str)),
                    created_by: h.get("created_by").and_then(Value::as_str).unwrap_or("").to_string(),
                    size,
                    comment: h.get("comment").and_then(Value::as_str).unwrap_or("").to_string(),
                    empty_layer: empty,
                }
            })
            .collect();
        if out.is_empty() {
            // Images without history still have layers: one row each.
            out = sizes
                .iter()
                .map(|&size| HistoryEntry {
                    id: None,
                    created: parse_time(rec.created.as_deref()),
                    created_by: String::new(),
                    size,
                    comment: String::new(),
                    empty_layer: false,
                })
                .collect();
        }
        out.reverse();
        if let Some(top) = out.first_mut() {
            top.id = Some(rec.id.clone());
        }
        Ok(out)
    }

    /// `tag SOURCE TARGET`: points a new name at an existing image.
    pub fn tag(&self, source: &str, target: &str) -> Result<Reference> {
        let rec = self.find_image(source)?;
        let target = Reference::parse(target)?;
        if target.digest().is_some() {
            return Err(Error::InvalidArgument(format!(
                "refusing to create a tag with a digest reference: {target}"
            )));
        }
        let target = target.with_tag(target.tag().unwrap_or("latest"))?;
        self.db.write(|tx| {
            images::set_tag(tx, &target.to_string(), &rec.id).map(|_| ()).map_err(|e| self.db.err(e))
        })?;
        self.record("image", "tag", &rec.id.to_string(), vec![("name".into(), target.familiar())]);
        Ok(target)
    }

    /// `rmi`: untags a name, deleting the image when its last name goes; by ID, deletes the
    /// image (refusing, unless forced, when it is referenced from several repositories).
    pub fn remove_image(&self, name_or_id: &str, force: bool) -> Result<Vec<Removal>> {
        let rec = self.find_image(name_or_id)?;
        let by_id = looks_like_id_prefix(name_or_id) && !rec.tags.iter().any(|t| names_match(t, name_or_id));
        let users = self.db.read(|c| super::store::containers::using_image(c, &rec.id.to_string()))?;
        let running = users.iter().find(|(_, s)| s.has_monitor());
        let mut out = Vec::new();
        if by_id || rec.tags.len() <= 1 {
            if let Some((cid, _)) = running {
                return Err(Error::Conflict(format!(
                    "unable to delete {} (cannot be forced) - image is being used by running container {}",
                    rec.id.short(),
                    &cid[..12]
                )));
            }
            if let Some((cid, _)) = users.first() {
                if !force {
                    return Err(Error::Conflict(if by_id {
                        format!(
                            "unable to delete {} (must be forced) - image is being used by stopped container {}",
                            rec.id.short(),
                            &cid[..12]
                        )
                    } else {
                        format!(
                            "unable to remove repository reference \"{name_or_id}\" (must force) - container {} is using its referenced image {}",
                            &cid[..12],
                            rec.id.short()
                        )
                    }));
                }
                // Forced: the names go, but the layers stay while a container needs them.
                let names: Vec<String> = rec.tags.iter().chain(rec.digests.iter()).cloned().collect();
                self.db.write(|tx| {
                    for n in &names {
                        images::remove_name(tx, n).map_err(|e| self.db.err(e))?;
                    }
                    Ok(())
                })?;
                for n in &names {
                    out.push(Removal::Untagged(familiar(n)));
                    self.record("image", "untag", &rec.id.to_string(), vec![("name".into(), familiar(n))]);
                }
                return Ok(out);
            }
        }
        if !by_id {
            let reference = Reference::parse(name_or_id)?;
            let name = match reference.digest() {
                Some(d) => format!("{}@{d}", reference.name()),
                None => reference.with_tag(reference.tag().unwrap_or("latest"))?.to_string(),
            };
            let remaining = self.db.write(|tx| {
                images::remove_name(tx, &name).map_err(|e| self.db.err(e))?;
                let left: i64 = tx
                    .query_row("SELECT count(*) FROM tags WHERE image_id = ?1", [rec.id.to_string()], |r| {
                        r.get(0)
                    })
                    .map_err(|e| self.db.err(e))?;
                Ok(left)
            })?;
            out.push(Removal::Untagged(familiar(&name)));
            self.record("image", "untag", &rec.id.to_string(), vec![("name".into(), familiar(&name))]);
            if remaining > 0 {
                return Ok(out);
            }
        } else {
            let repos: std::collections::BTreeSet<String> =
                references(&rec.tags).iter().map(|r| r.name()).collect();
            if repos.len() > 1 && !force {
                return Err(Error::Conflict(format!(
                    "unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    rec.id.short()
                )));
            }
        }
        out.extend(self.delete_image(&rec)?);
        Ok(out)
    }

    /// Deletes an image and its names, then the layers and blobs nothing else uses.
    fn delete_image(&self, rec: &ImageRecord) -> Result<Vec<Removal>> {
        let mut out: Vec<Removal> = Vec::new();
        let names: Vec<String> = rec.tags.iter().chain(rec.digests.iter()).cloned().collect();
        let orphans = self.db.write(|tx| images::delete(tx, &rec.id).map_err(|e| self.db.err(e)))?;
        for n in &names {
            out.push(Removal::Untagged(familiar(n)));
            self.record("image", "untag", &rec.id.to_string(), vec![("name".into(), familiar(n))]);
        }
        // Directories go after the rows: a crash in between leaves only unreferenced data.
        self.layers.remove_dirs(&orphans)?;
        for blob in [&rec.id, &rec.manifest] {
            if !self.db.read(|c| images::blob_in_use(c, blob))? {
                self.blobs.remove(blob)?;
            }
        }
        out.push(Removal::Deleted(rec.id.clone()));
        out.extend(orphans.into_iter().map(Removal::Deleted));
        self.record("image", "delete", &rec.id.to_string(), vec![]);
        Ok(out)
    }

    /// What `image prune [-a]` would remove — dangling images, or with `all` every image no
    /// container uses — and free, without removing anything (the UI's preview; the prune
    /// itself reports the same figure). One read of the images.
    pub fn prune_plan(&self, all: bool) -> Result<PrunePlan> {
        let used: std::collections::HashSet<String> =
            self.db.read(super::store::containers::list)?.into_iter().map(|c| c.image_id).collect();
        let (going, kept): (Vec<ImageRecord>, Vec<ImageRecord>) = self
            .db
            .read(images::list)?
            .into_iter()
            .partition(|r| (all || r.tags.is_empty()) && !used.contains(&r.id.to_string()));
        let kept_layers: std::collections::HashSet<&Digest> = kept.iter().flat_map(|r| &r.layers).collect();
        let freed: std::collections::HashSet<&Digest> =
            going.iter().flat_map(|r| &r.layers).filter(|l| !kept_layers.contains(l)).collect();
        let mut reclaim = 0;
        for chain in freed {
            reclaim += self.layers.get(&self.db, chain)?.map(|l| l.size).unwrap_or(0);
        }
        Ok(PrunePlan { images: going.iter().map(summary).collect(), reclaim, records: going })
    }

    /// `image prune [-a]`.
    pub fn prune_images(&self, all: bool) -> Result<PruneReport> {
        let plan = self.prune_plan(all)?;
        let mut report = PruneReport { removals: Vec::new(), reclaimed: plan.reclaim };
        for rec in &plan.records {
            report.removals.extend(self.delete_image(rec)?);
        }
        Ok(report)
    }

    /// Registries used for pulls, most recent first, then those with stored credentials.
    pub fn known_registries(&self) -> Result<Vec<String>> {
        let mut out = self.db.read(images::registries)?;
        for r in self.registry.credentials().registries() {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        Ok(out)
    }
}

/// Whether a stored name is what the user typed (so `rmi abc` with a repo named `abc` untags).
fn names_match(stored: &str, given: &str) -> bool {
    Reference::parse(given)
        .ok()
        .and_then(|r| r.with_tag(r.tag().unwrap_or("latest")).ok())
        .is_some_and(|r| r.to_string() == stored)
}

fn familiar(name: &str) -> String {
    Reference::parse(name).map(|r| r.familiar()).unwrap_or_else(|_| name.to_string())
}

/// The image config's `config` object with Docker's field set (null where absent).
fn docker_config(c: Option<&Value>) -> Value {
    let get = |k: &str| c.and_then(|c| c.get(k)).cloned().unwrap_or(Value::Null);
    let text = |k: &str| c.and_then(|c| c.get(k)).cloned().unwrap_or_else(|| json!(""));
    json!({
        "Hostname": "",
        "Domainname": "",
        "User": text("User"),
        "AttachStdin": false,
        "AttachStdout": false,
        "AttachStderr": false,
        "ExposedPorts": get("ExposedPorts"),
        "Tty": false,
        "OpenStdin": false,
        "StdinOnce": false,
        "Env": get("Env"),
        "Cmd": get("Cmd"),
        "Image": "",
        "Volumes": get("Volumes"),
        "WorkingDir": text("WorkingDir"),
        "Entrypoint": get("Entrypoint"),
        "OnBuild": get("OnBuild"),
        "Labels": get("Labels"),
        "StopSignal": get("StopSignal"),
    })
}
