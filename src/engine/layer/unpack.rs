//! One pass over a layer as it downloads: every received byte is hashed (the compressed digest),
//! decompressed, hashed again (the diffID) and fed to the secure extractor. Both digests are
//! compared only after the whole stream was consumed; the caller commits the extracted tree
//! only if both match, so a lying registry can never get unverified content recorded.

use bytes::Bytes;
use std::io::{self, Read};
use std::path::Path;
use tokio::sync::mpsc;

use super::budget::Draw;
use super::extract::{self, ExtractError, ExtractStats, Limits};
use crate::engine::digest::{Digest, Hasher};
use crate::engine::registry::manifest::Compression;

/// What the downloader sends: chunks, or the transport error that ended the stream.
pub type Chunk = Result<Bytes, io::Error>;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// The download failed (connection cut, timeout); retrying may help.
    #[error("download interrupted: {0}")]
    Transport(io::Error),
    #[error("{0}")]
    Extract(ExtractError),
    #[error("decompressing: {0}")]
    Decompress(io::Error),
    #[error("layer is larger than announced ({announced} bytes)")]
    Oversized { announced: u64 },
    #[error("layer expands beyond the {0}-byte budget")]
    Budget(u64),
    #[error("image expands beyond the {0}-byte budget")]
    ImageBudget(u64),
    #[error("image holds more than the {0}-entry budget")]
    ImageEntries(u64),
    #[error("{what} mismatch: expected {expected}, got {actual}")]
    Mismatch { what: &'static str, expected: Digest, actual: Digest },
}

/// What the layer must turn out to be.
pub struct Expected<'a> {
    pub compressed: &'a Digest,
    pub size: u64,
    pub diff_id: &'a Digest,
    pub compression: Compression,
}

/// A verified extraction.
#[derive(Debug, Clone, Copy)]
pub struct Unpacked {
    pub stats: ExtractStats,
}

/// Turns the download channel into a reader; hashes every byte as it arrives, whatever the
/// decompressor later does with it.
struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    current: Bytes,
    hasher: Hasher,
    announced: u64,
    transport_error: Option<io::Error>,
}

impl ChannelReader {
    fn fill(&mut self) -> io::Result<bool> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(false),
                Some(Ok(b)) => {
                    self.hasher.update(&b);
                    if self.hasher.len() > self.announced {
                        return Err(io::Error::other(Marker::Oversized));
                    }
                    self.current = b;
                }
                Some(Err(e)) => {
                    let kind = e.kind();
                    self.transport_error = Some(e);
                    return Err(io::Error::new(kind, Marker::Transport));
                }
            }
        }
        Ok(true)
    }

    /// Consumes whatever the decompressor left unread so the digest covers the whole blob.
    fn drain(&mut self) -> io::Result<()> {
        self.current = Bytes::new();
        while self.fill()? {
            self.current = Bytes::new();
        }
        Ok(())
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Tags the errors raised inside the reader chain so they can be told apart afterwards.
#[derive(Debug)]
enum Marker {
    Transport,
    Oversized,
    Budget,
    ImageBudget,
}

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Marker {}

/// Hashes the decompressed stream and enforces the decompression budget (per layer, and the
/// image-wide remainder shared by all layers of one pull).
struct DiffReader<'d, R> {
    inner: R,
    hasher: Hasher,
    layer_limit: u64,
    draw: &'d mut Draw,
}

impl<R: Read> Read for DiffReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if self.hasher.len() > self.layer_limit {
            return Err(io::Error::other(Marker::Budget));
        }
        if !self.draw.take_bytes(n as u64) {
            return Err(io::Error::other(Marker::ImageBudget));
        }
        Ok(n)
    }
}

/// Runs on a blocking thread: consumes `rx` completely and extracts into `root`, drawing on
/// the image's budget (kept only when the layer verified).
pub fn unpack(
    rx: mpsc::Receiver<Chunk>,
    expected: &Expected<'_>,
    root: &Path,
    limits: &Limits,
    mut draw: Draw,
) -> Result<Unpacked, UnpackError> {
    let mut chan = ChannelReader {
        rx,
        current: Bytes::new(),
        hasher: Hasher::new(),
        announced: expected.size,
        transport_error: None,
    };
    let image_bytes = draw.budget_bytes();
    let budgets = Budgets { layer: limits.max_bytes, image: image_bytes };
    let result = decompress_and_extract(&mut chan, expected, root, limits, &mut draw);
    let (stats, diff_id) = match result {
        Ok(v) => v,
        Err(e) => return Err(classify(e, &mut chan, expected.size, budgets)),
    };
    chan.drain().map_err(|e| classify(Failure::Io(e), &mut chan, expected.size, budgets))?;
    let size = chan.hasher.len();
    let compressed = std::mem::take(&mut chan.hasher).finish();
    if &compressed != expected.compressed || size != expected.size {
        return Err(UnpackError::Mismatch {
            what: "blob digest",
            expected: expected.compressed.clone(),
            actual: compressed,
        });
    }
    if &diff_id != expected.diff_id {
        return Err(UnpackError::Mismatch {
            what: "layer diffID",
            expected: expected.diff_id.clone(),
            actual: diff_id,
        });
    }
    if !draw.take_entries(stats.entries) {
        return Err(UnpackError::ImageEntries(draw.budget_entries()));
    }
    draw.keep();
    Ok(Unpacked { stats })
}

/// The byte budgets a failure may have hit, for its message.
#[derive(Clone, Copy)]
struct Budgets {
    layer: u64,
    image: u64,
}

enum Failure {
    Io(io::Error),
    Extract(ExtractError),
}

fn decompress_and_extract(
    chan: &mut ChannelReader,
    expected: &Expected<'_>,
    root: &Path,
    limits: &Limits,
    draw: &mut Draw,
) -> Result<(ExtractStats, Digest), Failure> {
    let decoder: Box<dyn Read + '_> = match expected.compression {
        Compression::None => Box::new(&mut *chan),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&mut *chan)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(&mut *chan).map_err(Failure::Io)?),
    };
    let mut diff = DiffReader { inner: decoder, hasher: Hasher::new(), layer_limit: limits.max_bytes, draw };
    let stats = extract::extract(&mut diff, root, limits).map_err(Failure::Extract)?;
    // Tar padding after the end-of-archive marker is part of the diffID.
    io::copy(&mut diff, &mut io::sink()).map_err(Failure::Io)?;
    Ok((stats, diff.hasher.finish()))
}

/// Maps a failure inside the reader chain to what actually went wrong.
fn classify(f: Failure, chan: &mut ChannelReader, announced: u64, budgets: Budgets) -> UnpackError {
    if let Some(e) = chan.transport_error.take() {
        return UnpackError::Transport(e);
    }
    let io_err = match f {
        Failure::Io(e) => e,
        Failure::Extract(ExtractError::Io { source, .. } | ExtractError::Malformed { source, .. })
            if marker(&source).is_some() =>
        {
            source
        }
        Failure::Extract(e) => return UnpackError::Extract(e),
    };
    match marker(&io_err) {
        Some(Marker::Oversized) => UnpackError::Oversized { announced },
        Some(Marker::Budget) => UnpackError::Budget(budgets.layer),
        Some(Marker::ImageBudget) => UnpackError::ImageBudget(budgets.image),
        Some(Marker::Transport) => UnpackError::Transport(io_err),
        None => UnpackError::Decompress(io_err),
    }
}

/// The marker anywhere in the error's chain: the tar parser wraps the reader's errors in its own.
fn marker(e: &io::Error) -> Option<&Marker> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|inner| inner as _);
    while let Some(err) = next {
        if let Some(m) = err.downcast_ref::<Marker>() {
            return Some(m);
        }
        next = match err.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => err.source(),
        };
    }
    None
}
