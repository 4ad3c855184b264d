//! Manifests and indexes: the media types gantry accepts, parsing with `oci-spec`, digest
//! verification of what was fetched, and choosing a platform from a multi-platform index.

use std::str::FromStr;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use reqwest::Response;

use super::body::{MAX_MANIFEST, read_capped};
use super::error::RegistryError;
use crate::engine::digest::Digest;
use crate::engine::platform::Platform;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The Accept header for manifest requests (schema 1 is listed last only so that a registry
/// holding nothing else says so, and the user gets a clear error instead of a 404).
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json;q=0.9, \
    application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1";

/// Layer compression, from the layer's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A manifest document as fetched, verified against the digest it was asked for.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

/// What a fetched document turned out to be.
#[derive(Debug)]
pub enum Document {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

impl Fetched {
    /// Reads and verifies a manifest response. `requested` is the tag or digest asked for.
    pub async fn from_response(
        resp: Response,
        requested: &str,
        registry: &str,
    ) -> Result<Self, RegistryError> {
        let header_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_string());
        let header_digest =
            resp.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(String::from);
        let bytes = read_capped(resp, MAX_MANIFEST, "manifest", registry).await?;
        let digest = Digest::of_bytes(&bytes);
        let expected = if requested.contains(':') { Some(requested.to_string()) } else { header_digest };
        if let Some(expected) = expected {
            if let Ok(exp) = Digest::parse(&expected) {
                if exp != digest {
                    return Err(RegistryError::DigestMismatch {
                        what: "manifest".into(),
                        digest: requested.into(),
                        expected: exp.to_string(),
                        actual: digest.to_string(),
                    });
                }
            } else if requested.contains(':') {
                return Err(RegistryError::Manifest(format!("unsupported digest {requested}")));
            }
        }
        let media_type =
            match header_type.filter(|t| !t.is_empty() && t != "application/json" && t != "text/plain") {
                Some(t) => t,
                None => sniff_media_type(&bytes).unwrap_or_default(),
            };
        Ok(Self { bytes, media_type, digest })
    }

    /// Parses the document according to its media type.
    pub fn parse(&self) -> Result<Document, RegistryError> {
        let bad = |e: &dyn std::fmt::Display| {
            RegistryError::Manifest(format!("invalid manifest {}: {e}", self.digest))
        };
        match self.media_type.as_str() {
            OCI_MANIFEST | DOCKER_MANIFEST => {
                let m = ImageManifest::from_reader(&self.bytes[..]).map_err(|e| bad(&e))?;
                if m.schema_version() != 2 {
                    return Err(bad(&"schemaVersion is not 2"));
                }
                Ok(Document::Image(Box::new(m)))
            }
            OCI_INDEX | DOCKER_LIST => Ok(Document::Index(Box::new(ImageIndex::from_reader(&self.bytes[..]).map_err(|e| bad(&e))?))),
            DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => Err(RegistryError::Manifest(
                "image manifest schema 1 is not supported (Docker deprecated it); push the image again with a current tool".into(),
            )),
            "" => Err(RegistryError::Manifest("manifest has no media type".into())),
            other => Err(RegistryError::Manifest(format!("unsupported manifest media type {other:?}"))),
        }
    }
}

/// Finds the media type inside a document served without a usable Content-Type.
fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(t) = v.get("mediaType").and_then(|t| t.as_str()) {
        return Some(t.to_string());
    }
    match v.get("schemaVersion").and_then(|s| s.as_u64()) {
        Some(1) => Some(DOCKER_SCHEMA1.into()),
        Some(2) if v.get("manifests").is_some() => Some(OCI_INDEX.into()),
        Some(2) if v.get("layers").is_some() => Some(OCI_MANIFEST.into()),
        _ => None,
    }
}

/// Picks the manifest for `want` from an index.
pub fn select_platform(index: &ImageIndex, want: &Platform) -> Result<Descriptor, RegistryError> {
    let mut available = Vec::new();
    for d in index.manifests() {
        let Some(p) = d.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        let variant = p.variant().as_deref();
        if want.matches(&os, &arch, variant)
            && matches!(d.media_type().to_string().as_str(), OCI_MANIFEST | DOCKER_MANIFEST)
        {
            return Ok(d.clone());
        }
        available.push(match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
    }
    available.dedup();
    Err(RegistryError::Manifest(format!(
        "no matching manifest for {want} in the manifest list entries (available: {})",
        if available.is_empty() { "none".to_string() } else { available.join(", ") }
    )))
}

/// The compression of a layer from its media type; foreign and non-distributable layers are
/// fetched from the registry like any other (their `urls` are ignored).
pub fn layer_compression(media_type: &str) -> Result<Compression, RegistryError> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar" => Ok(Compression::None),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Ok(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+zstd"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Ok(Compression::Zstd),
        other => Err(RegistryError::Manifest(format!("unsupported layer media type {other:?}"))),
    }
}

/// Converts an oci-spec digest into gantry's validated digest.
pub fn digest_of(d: &Descriptor) -> Result<Digest, RegistryError> {
    Digest::from_str(d.digest().as_ref()).map_err(|e| RegistryError::Manifest(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, &str, Option<&str>)]) -> ImageIndex {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .enumerate()
            .map(|(i, (os, arch, variant))| {
                let mut p = serde_json::json!({"os": os, "architecture": arch});
                if let Some(v) = variant {
                    p["variant"] = serde_json::json!(v);
                }
                serde_json::json!({
                    "mediaType": OCI_MANIFEST,
                    "digest": Digest::of_bytes(&[i as u8]).to_string(),
                    "size": 10,
                    "platform": p
                })
            })
            .collect();
        let doc = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        ImageIndex::from_reader(doc.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn selects_platforms() {
        let idx =
            index(&[("linux", "amd64", None), ("linux", "arm64", Some("v8")), ("linux", "arm", Some("v7"))]);
        let d = select_platform(&idx, &Platform::parse("linux/arm64").unwrap()).unwrap();
        assert_eq!(digest_of(&d).unwrap(), Digest::of_bytes(&[1]));
        let d = select_platform(&idx, &Platform::parse("linux/amd64").unwrap()).unwrap();
        assert_eq!(digest_of(&d).unwrap(), Digest::of_bytes(&[0]));
        let err = select_platform(&idx, &Platform::parse("linux/arm/v6").unwrap()).unwrap_err().to_string();
        assert!(err.contains("no matching manifest for linux/arm/v6"), "{err}");
        assert!(err.contains("linux/amd64, linux/arm64/v8, linux/arm/v7"), "{err}");
    }

    #[test]
    fn media_types() {
        assert_eq!(
            layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip").unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            layer_compression("application/vnd.oci.image.layer.v1.tar+zstd").unwrap(),
            Compression::Zstd
        );
        assert!(layer_compression("application/vnd.oci.image.layer.v1.tar+bzip2").is_err());
        let schema1 = Fetched {
            bytes: b"{}".to_vec(),
            media_type: DOCKER_SCHEMA1_SIGNED.into(),
            digest: Digest::of_bytes(b"{}"),
        };
        assert!(schema1.parse().unwrap_err().to_string().contains("schema 1"));
        assert_eq!(
            sniff_media_type(br#"{"schemaVersion":1,"fsLayers":[]}"#).as_deref(),
            Some(DOCKER_SCHEMA1)
        );
        let odd = Fetched {
            bytes: b"{}".to_vec(),
            media_type: "text/html".into(),
            digest: Digest::of_bytes(b"{}"),
        };
        assert!(odd.parse().unwrap_err().to_string().contains("unsupported manifest media type"));
    }
}
