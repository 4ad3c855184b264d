//! Pulling an image: resolve the manifest (choosing a platform from an index), fetch and verify
//! the config, then fetch the missing layers concurrently, each streamed through the verifying
//! unpacker into scratch space and committed only when both of its digests matched. The image
//! record and its names are written last, in one transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::join_all;
use oci_spec::image::{ImageConfiguration, ImageManifest};
use tokio::sync::{Semaphore, mpsc};

use super::Engine;
use super::digest::Digest;
use super::error::{Error, Result};
use super::events::{LayerPlan, LayerStatus, PullProgress};
use super::layer::budget::ImageBudget;
use super::layer::extract::Limits;
use super::layer::unpack::{self, Expected, UnpackError};
use super::platform::Platform;
use super::reference::Reference;
use super::registry::RegistryError;
use super::registry::body::MAX_CONFIG;
use super::registry::manifest::{self, Compression, Document};
use super::store::images::{self, NewImage};
use super::store::layers::{LayerRecord, chain_ids};
use super::store::tmp::TempDir;

/// How often a layer download is retried from scratch after a transport failure.
const LAYER_ATTEMPTS: u32 = 3;
/// Chunks buffered between the downloader and the extraction thread.
const CHANNEL_DEPTH: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// The platform to pick from a multi-platform index (the host's when `None`).
    pub platform: Option<Platform>,
}

/// The result of a successful pull.
#[derive(Debug, Clone)]
pub struct PullOutcome {
    pub reference: Reference,
    pub image_id: Digest,
    /// The digest of what the reference resolved to (an index or a manifest).
    pub digest: Digest,
    /// False when the reference already pointed at this image.
    pub new: bool,
}

/// One layer of the image being pulled.
struct LayerJob {
    descriptor_digest: Digest,
    size: u64,
    compression: Compression,
    diff_id: Digest,
    chain_id: Digest,
}

impl Engine {
    /// Pulls `reference` into the store, publishing progress on the event stream.
    pub async fn pull(self: &Arc<Self>, reference: &Reference, opts: &PullOptions) -> Result<PullOutcome> {
        let key = reference.to_string();
        let result = self.pull_inner(reference, opts).await;
        match &result {
            Ok(o) => self.events.pull(
                &key,
                PullProgress::Done { image_id: o.image_id.clone(), digest: o.digest.clone(), new: o.new },
            ),
            Err(e) => self.events.pull(&key, PullProgress::Failed { message: e.to_string() }),
        }
        result
    }

    async fn pull_inner(self: &Arc<Self>, reference: &Reference, opts: &PullOptions) -> Result<PullOutcome> {
        let key = reference.to_string();
        let registry = reference.registry().to_string();
        let repo = reference.repository().to_string();
        let requested = match (reference.digest(), reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".to_string(),
        };
        let top = self.registry.manifest(&registry, &repo, &requested, &key).await?;
        let platform = opts.platform.clone().unwrap_or_else(Platform::host);
        let image_manifest = match top.parse()? {
            Document::Image(m) => (top.digest.clone(), *m),
            Document::Index(index) => {
                let desc = manifest::select_platform(&index, &platform)?;
                let digest = manifest::digest_of(&desc)?;
                let fetched = self.registry.manifest(&registry, &repo, &digest.to_string(), &key).await?;
                match fetched.parse()? {
                    Document::Image(m) => (fetched.digest.clone(), *m),
                    Document::Index(_) => {
                        return Err(RegistryError::Manifest(
                            "nested index for a platform is not supported".into(),
                        )
                        .into());
                    }
                }
            }
        };
        let (manifest_digest, manifest) = image_manifest;
        let config_digest = manifest::digest_of(manifest.config())?;
        check_config_type(&manifest)?;
        let config_bytes =
            self.registry.blob_bytes(&registry, &repo, &config_digest, MAX_CONFIG, "image config").await?;
        let config = ImageConfiguration::from_reader(&config_bytes[..])
            .map_err(|e| Error::Verification(format!("invalid image config {config_digest}: {e}")))?;
        let jobs = plan_layers(&manifest, &config)?;

        self.events.pull(
            &key,
            PullProgress::Resolved {
                digest: top.digest.clone(),
                layers: jobs
                    .iter()
                    .map(|j| LayerPlan { digest: j.descriptor_digest.clone(), size: j.size })
                    .collect(),
            },
        );

        let ctx = FetchContext {
            registry: &registry,
            repo: &repo,
            key: &key,
            slots: Arc::new(Semaphore::new(self.config.max_concurrent_downloads)),
            budget: ImageBudget::new(self.config.max_image_bytes, self.config.max_image_entries),
            abort: AtomicBool::new(false),
        };
        // The first failure stops the other layers; all of them are awaited, so that what this
        // pull committed is known before it is given back.
        let fetched = join_all(jobs.iter().map(|job| async {
            let r = self.fetch_layer(&ctx, job).await;
            if r.is_err() {
                ctx.abort.store(true, Ordering::Relaxed);
            }
            r
        }))
        .await;
        let committed: Vec<Digest> = jobs
            .iter()
            .zip(&fetched)
            .filter(|(_, f)| f.as_ref().is_ok_and(|f| f.committed))
            .map(|(j, _)| j.chain_id.clone())
            .collect();
        let mut sizes = Vec::with_capacity(fetched.len());
        let mut failure = None;
        for f in fetched {
            match f {
                Ok(f) => sizes.push(f.size),
                // A cancelled layer only echoes the failure that cancelled it.
                Err(Error::Cancelled) => {}
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        let resolved = Resolved { top, manifest_digest, config_digest, config_bytes, config, jobs };
        let outcome = match failure {
            Some(e) => Err(e),
            None => self.record_image(reference, &ctx, &resolved, sizes.iter().sum()).await,
        };
        if outcome.is_err() && !committed.is_empty() {
            // Nothing half-written: the layers only this failed pull brought go again.
            if let Err(e) = self.discard_unused_layers(&committed) {
                tracing::warn!(error = %e, "could not remove the layers of a failed pull");
            }
        }
        outcome
    }

    /// Stores the config and manifest blobs and records the image and its names.
    async fn record_image(
        &self,
        reference: &Reference,
        ctx: &FetchContext<'_>,
        r: &Resolved,
        size: u64,
    ) -> Result<PullOutcome> {
        let (registry, repo, key) = (ctx.registry, ctx.repo, ctx.key);
        let Resolved { top, manifest_digest, config_digest, config_bytes, config, jobs } = r;
        let chains: Vec<Digest> = jobs.iter().map(|j| j.chain_id.clone()).collect();
        self.blobs.put(config_digest, config_bytes)?;
        self.blobs.put(
            manifest_digest,
            &manifest_bytes_for(top, manifest_digest, &self.registry, registry, repo, key).await?,
        )?;
        let name_for_tag = reference.tag().map(|_| reference.to_string());
        let repo_digest = format!("{}@{}", reference.name(), top.digest);
        let created = config.created().clone();
        let new = self.db.write(|tx| {
            let e = |err| self.db.err(err);
            images::insert(
                tx,
                &NewImage {
                    id: config_digest,
                    config: config_bytes,
                    manifest: manifest_digest,
                    size,
                    created: created.as_deref(),
                    layers: &chains,
                },
            )
            .map_err(e)?;
            let was_tagged_here = match &name_for_tag {
                Some(name) => images::tag_target(tx, name).map_err(e)?.as_ref() == Some(config_digest),
                None => images::digest_target(tx, &repo_digest).map_err(e)?.as_ref() == Some(config_digest),
            };
            if let Some(name) = &name_for_tag {
                images::set_tag(tx, name, config_digest).map_err(e)?;
            }
            images::set_repo_digest(tx, &repo_digest, config_digest).map_err(e)?;
            images::touch_registry(tx, registry).map_err(e)?;
            Ok(!was_tagged_here)
        })?;
        self.record("image", "pull", &reference.familiar(), vec![("name".into(), reference.familiar())]);
        Ok(PullOutcome {
            reference: reference.clone(),
            image_id: config_digest.clone(),
            digest: top.digest.clone(),
            new,
        })
    }

    /// Removes the layers a failed pull committed that no image uses (another pull may have
    /// recorded an image with them meanwhile; those stay).
    fn discard_unused_layers(&self, chains: &[Digest]) -> Result<()> {
        let unused =
            self.db.write(|tx| images::delete_unused_layers(tx, chains).map_err(|e| self.db.err(e)))?;
        self.layers.remove_dirs(&unused)
    }

    /// Makes one layer present: skips it if stored, else downloads, verifies and commits it.
    async fn fetch_layer(self: &Arc<Self>, ctx: &FetchContext<'_>, job: &LayerJob) -> Result<FetchedLayer> {
        let key = ctx.key;
        let status = |s: LayerStatus| {
            self.events.pull(key, PullProgress::Layer { layer: job.descriptor_digest.clone(), status: s })
        };
        let present = |rec: LayerRecord| {
            status(LayerStatus::AlreadyExists);
            Ok(FetchedLayer { size: rec.size, committed: false })
        };
        if let Some(rec) = self.present_layer(&job.chain_id)? {
            return present(rec);
        }
        status(LayerStatus::Waiting);
        let _permit = ctx.slots.clone().acquire_owned().await.map_err(|_| Error::Cancelled)?;
        if ctx.aborted() {
            return Err(Error::Cancelled);
        }
        let this = self.clone();
        let chain = job.chain_id.clone();
        let lock =
            tokio::task::spawn_blocking(move || this.layers.lock(&chain)).await.map_err(join_err)??;
        // Another process may have committed it while we waited for the lock.
        if let Some(rec) = self.present_layer(&job.chain_id)? {
            return present(rec);
        }
        let mut attempt = 1;
        let result = loop {
            match self.download_and_unpack(ctx, job, &status).await {
                Ok(v) => break Ok(v),
                Err(Attempt::Fatal(e)) => break Err(e),
                Err(Attempt::Transport(e)) if attempt < LAYER_ATTEMPTS => {
                    tracing::warn!(layer = %job.descriptor_digest, attempt, error = %e, "layer download interrupted; retrying");
                    attempt += 1;
                }
                Err(Attempt::Transport(e)) => {
                    break Err(Error::Verification(format!(
                        "downloading layer {}: connection failed {LAYER_ATTEMPTS} times: {e}",
                        job.descriptor_digest.short()
                    )));
                }
            }
        };
        let (scratch, record) = match result {
            Ok(v) => v,
            Err(Error::Cancelled) => return Err(Error::Cancelled),
            Err(e) => {
                status(LayerStatus::Error { message: e.to_string() });
                return Err(e);
            }
        };
        let this = self.clone();
        let size = record.size;
        tokio::task::spawn_blocking(move || this.layers.commit(&this.db, &lock, scratch, &record))
            .await
            .map_err(join_err)??;
        status(LayerStatus::Done);
        Ok(FetchedLayer { size, committed: true })
    }

    fn present_layer(&self, chain: &Digest) -> Result<Option<LayerRecord>> {
        if self.layers.contains(&self.db, chain)? { self.layers.get(&self.db, chain) } else { Ok(None) }
    }

    /// One attempt at streaming a layer into a fresh scratch directory. The scratch directory
    /// belongs to the extraction thread until it finishes, so a cancelled pull can never delete
    /// it under the extractor's feet.
    async fn download_and_unpack(
        &self,
        ctx: &FetchContext<'_>,
        job: &LayerJob,
        status: &impl Fn(LayerStatus),
    ) -> std::result::Result<(TempDir, LayerRecord), Attempt> {
        let scratch = self.layers.scratch().map_err(Attempt::Fatal)?;
        let mut resp = match self.registry.blob(ctx.registry, ctx.repo, &job.descriptor_digest, None).await {
            Ok(r) => r,
            Err(RegistryError::Http { source, .. })
                if source.is_connect() || source.is_timeout() || source.is_body() =>
            {
                return Err(Attempt::Transport(source.to_string()));
            }
            Err(e) => return Err(Attempt::Fatal(e.into())),
        };
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let limits =
            Limits { max_bytes: self.config.max_layer_bytes, max_entries: self.config.max_layer_entries };
        let (compressed, diff_id, size, compression) =
            (job.descriptor_digest.clone(), job.diff_id.clone(), job.size, job.compression);
        let draw = ctx.budget.draw();
        let worker = tokio::task::spawn_blocking(move || {
            let expected = Expected { compressed: &compressed, size, diff_id: &diff_id, compression };
            let result = unpack::unpack(rx, &expected, &scratch.path().join("diff"), &limits, draw);
            (scratch, result)
        });
        let total = job.size;
        let mut received = 0u64;
        let mut last_report = 0u64;
        status(LayerStatus::Downloading { current: 0, total });
        let mut interrupted = false;
        let mut cancelled = false;
        loop {
            if ctx.aborted() {
                (interrupted, cancelled) = (true, true);
                let _ = tx.send(Err(std::io::Error::other("cancelled"))).await;
                break;
            }
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    received += chunk.len() as u64;
                    if tx.send(Ok(chunk)).await.is_err() {
                        break; // the unpacker stopped early; its error says why
                    }
                    // About 100 updates per layer at most.
                    if received - last_report >= (total / 100).max(256 * 1024) {
                        last_report = received;
                        status(LayerStatus::Downloading { current: received, total });
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    interrupted = true;
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    break;
                }
            }
        }
        drop(tx);
        if !interrupted {
            status(LayerStatus::Downloading { current: received, total });
            status(LayerStatus::Verifying);
        }
        let (scratch, unpacked) = worker.await.map_err(|e| Attempt::Fatal(join_err(e)))?;
        if cancelled {
            return Err(Attempt::Fatal(Error::Cancelled));
        }
        let unpacked = match unpacked {
            Ok(u) => u,
            Err(UnpackError::Transport(e)) => return Err(Attempt::Transport(e.to_string())),
            Err(UnpackError::Extract(source)) => {
                return Err(Attempt::Fatal(Error::Extract {
                    layer: job.descriptor_digest.short().to_string(),
                    source,
                }));
            }
            Err(e) => {
                return Err(Attempt::Fatal(Error::Verification(format!(
                    "layer {}: {e}",
                    job.descriptor_digest
                ))));
            }
        };
        status(LayerStatus::Extracting { entries: unpacked.stats.entries });
        let record = LayerRecord {
            chain_id: job.chain_id.clone(),
            diff_id: job.diff_id.clone(),
            size: unpacked.stats.bytes,
            entries: unpacked.stats.entries,
        };
        Ok((scratch, record))
    }
}

/// What one pull's layer downloads share.
struct FetchContext<'a> {
    registry: &'a str,
    repo: &'a str,
    key: &'a str,
    /// Downloads allowed at once (`max_concurrent_downloads`).
    slots: Arc<Semaphore>,
    budget: Arc<ImageBudget>,
    /// Set when any layer failed: the others stop.
    abort: AtomicBool,
}

impl FetchContext<'_> {
    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }
}

/// Everything a pull resolved before fetching layers, kept to record the image afterwards.
struct Resolved {
    top: manifest::Fetched,
    manifest_digest: Digest,
    config_digest: Digest,
    config_bytes: Vec<u8>,
    config: ImageConfiguration,
    jobs: Vec<LayerJob>,
}

/// A layer made present: its extracted size, and whether this pull stored it.
struct FetchedLayer {
    size: u64,
    committed: bool,
}

/// How one download attempt failed: worth retrying from scratch, or not.
enum Attempt {
    Transport(String),
    Fatal(Error),
}

/// The bytes of the platform manifest (already fetched when the reference named a manifest).
async fn manifest_bytes_for(
    top: &manifest::Fetched,
    digest: &Digest,
    client: &super::registry::RegistryClient,
    registry: &str,
    repo: &str,
    key: &str,
) -> Result<Vec<u8>> {
    if &top.digest == digest {
        return Ok(top.bytes.clone());
    }
    Ok(client.manifest(registry, repo, &digest.to_string(), key).await?.bytes)
}

/// Refuses artifacts that are not container images (Helm charts, signatures, ...).
fn check_config_type(m: &ImageManifest) -> Result<()> {
    let t = m.config().media_type().to_string();
    match t.as_str() {
        "application/vnd.oci.image.config.v1+json" | "application/vnd.docker.container.image.v1+json" => {
            Ok(())
        }
        other => Err(RegistryError::Manifest(format!(
            "unsupported config media type {other:?}: not a container image"
        ))
        .into()),
    }
}

/// Pairs each manifest layer with its diffID and chain ID, validating the image's structure.
fn plan_layers(m: &ImageManifest, config: &ImageConfiguration) -> Result<Vec<LayerJob>> {
    let diff_ids = config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| Digest::parse(d))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if diff_ids.len() != m.layers().len() {
        return Err(Error::Verification(format!(
            "image has {} layers but its config lists {} diffIDs",
            m.layers().len(),
            diff_ids.len()
        )));
    }
    if m.layers().is_empty() {
        return Err(Error::Verification("image has no layers".into()));
    }
    let chains = chain_ids(&diff_ids);
    m.layers()
        .iter()
        .zip(diff_ids.into_iter().zip(chains))
        .map(|(desc, (diff_id, chain_id))| {
            Ok(LayerJob {
                descriptor_digest: manifest::digest_of(desc)?,
                size: desc.size(),
                compression: manifest::layer_compression(desc.media_type().as_ref())?,
                diff_id,
                chain_id,
            })
        })
        .collect()
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::io("background task failed", std::io::Error::other(e))
}
