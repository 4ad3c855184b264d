//! Image references (`[registry/]repository[:tag][@digest]`), normalized exactly as the Docker CLI
//! does (distribution/reference `ParseNormalizedNamed` followed by `TagNameOnly`), so that a name a
//! user types resolves to the same registry, repository and tag it would under Docker.
//!
//! Matching is hand-written rather than regex-based: the grammar is small, and explicit matchers let
//! every rejection say which part of the reference is wrong.
//!
//! Deliberate differences from Docker, both only ever turning a later failure into an early one:
//! - only `sha256` digests are accepted, because the store keys everything by sha256;
//! - a first component that is taken for a registry but is not a valid host (`a_b.c/x`) is refused;
//!   Docker would quietly turn it into a registry-less name that no registry can ever serve.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::engine::digest::{Digest, DigestError};

/// The registry that unqualified names live on.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Docker Hub's registry API is not served on `docker.io` itself.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// Old spelling of Docker Hub, still accepted and folded into [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`busybox` is `library/busybox`).
const OFFICIAL_PREFIX: &str = "library/";
/// Tag implied when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Registries cap the repository path (not the host) at this length.
pub const MAX_REPOSITORY_LEN: usize = 255;
/// Tags are one leading character plus at most 127 more.
const MAX_TAG_LEN: usize = 128;

/// Why a string is not an acceptable image reference. Messages begin with Docker's wording where
/// Docker has one, so users can search for them, and always quote the offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Malformed syntax; `reason` names the part that is wrong.
    #[error("invalid reference format: {reason}: {input:?}")]
    Format { input: String, reason: &'static str },
    /// Uppercase in the repository path (hosts may be uppercase, paths may not).
    #[error(
        "invalid reference format: repository name ({}) must be lowercase: {input:?}",
        .repository.escape_debug()
    )]
    Uppercase { input: String, repository: String },
    /// A bare 64-hex string would be ambiguous with an image ID.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexName(String),
    #[error("repository name must not be more than 255 characters: {input:?}")]
    TooLong { input: String },
    /// A tag given on its own (e.g. to [`Reference::with_tag`]) is malformed.
    #[error("invalid tag format: {tag:?}")]
    Tag { tag: String },
    #[error("unsupported digest algorithm {algorithm:?} in {input:?} (only sha256 is supported)")]
    DigestAlgorithm { input: String, algorithm: String },
    #[error("invalid checksum digest format in {input:?}: expected sha256 with 64 lowercase hex digits")]
    Digest { input: String },
    /// A tag or digest where only a repository name is allowed.
    #[error("invalid repository name {input:?}: a tag or digest is not allowed here")]
    NotRepository { input: String },
}

/// A normalized image reference: always fully qualified, and always carrying a tag, a digest or
/// both (a plain name gets `latest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalizes a reference as `docker pull` would, adding `latest` when neither a
    /// tag nor a digest is given.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let mut parts = parse_parts(s)?;
        if parts.tag.is_none() && parts.digest.is_none() {
            parts.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(parts)
    }

    /// The registry as written (normalized for Docker Hub): `docker.io`, `localhost:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host to talk to; differs from [`registry`](Self::registry) only for Docker Hub.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY { DOCKER_HUB_API_HOST } else { &self.registry }
    }

    /// The repository path on the registry, e.g. `library/busybox`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same repository with another tag; the digest is dropped because it pinned the old one.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        check_tag(tag).map_err(|_| ReferenceError::Tag { tag: tag.to_string() })?;
        Ok(Reference { tag: Some(tag.to_string()), digest: None, ..self.name_only() })
    }

    /// The same repository pinned to `digest`; the tag is dropped as the digest now decides.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference { digest: Some(digest), ..self.name_only() }
    }

    /// Fully qualified name without tag or digest: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Docker's short form for display: `busybox`, `user/app`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.registry != DEFAULT_REGISTRY {
            return self.name();
        }
        // Only a single-level official name is shortened, so `library/a/b` stays unambiguous.
        match self.repository.strip_prefix(OFFICIAL_PREFIX) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.repository.clone(),
        }
    }

    /// Familiar name plus tag and/or digest, as `docker images` shows it: `busybox:latest`.
    pub fn familiar(&self) -> String {
        let mut out = self.familiar_name();
        self.push_suffix(&mut out);
        out
    }

    /// Loopback registries are where plain HTTP is allowed without configuration.
    pub fn is_loopback_registry(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    fn name_only(&self) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: None,
        }
    }

    fn push_suffix(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
    }
}

impl fmt::Display for Reference {
    /// Fully qualified, so the text parses back to an equal reference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_suffix(&mut out);
        f.write_str(&out)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parses a repository name for filters such as `images REPO`: normalized like a reference, but a
/// tag or digest is refused. Returns `(registry, repository)`.
pub fn parse_repository(s: &str) -> Result<(String, String), ReferenceError> {
    let parts = parse_parts(s)?;
    if parts.tag.is_some() || parts.digest.is_some() {
        return Err(ReferenceError::NotRepository { input: s.to_string() });
    }
    Ok((parts.registry, parts.repository))
}

/// True if `s` looks like a full or abbreviated image ID (`[sha256:]` + 1–64 lowercase hex).
/// Many such strings are also valid names (`cafe`); Docker resolves the name first, so callers
/// should still prefer an exact name match over an ID prefix match.
pub fn looks_like_id_prefix(s: &str) -> bool {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(is_lower_hex)
}

/// True for `localhost`, 127.0.0.0/8 and `::1`, with or without a port (`[::1]:5000`).
pub fn is_loopback_host(host: &str) -> bool {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((addr, _port)) => addr,
            None => return false,
        }
    } else if host.matches(':').count() > 1 {
        // An unbracketed IPv6 literal has no port to strip.
        host
    } else {
        host.split_once(':').map_or(host, |(h, _port)| h)
    };
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = bare.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    if let Ok(v6) = bare.parse::<Ipv6Addr>() {
        return v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback());
    }
    false
}

/// Parses without adding the default tag; shared by [`Reference::parse`] and
/// [`parse_repository`]. Checks run in Docker's order so the same inputs get the same kind of error.
fn parse_parts(input: &str) -> Result<Reference, ReferenceError> {
    let format = |reason| ReferenceError::Format { input: input.to_string(), reason };
    if input.is_empty() {
        return Err(format("empty reference"));
    }
    if input.len() == 64 && input.bytes().all(is_lower_hex) {
        return Err(ReferenceError::HexName(input.to_string()));
    }
    let (registry, remainder) = split_registry(input);

    // Case is checked before syntax so `Busybox` gets the helpful message, not a generic one.
    let remote = &remainder[..remainder.find([':', '@']).unwrap_or(remainder.len())];
    if remote.to_lowercase() != remote {
        return Err(ReferenceError::Uppercase { input: input.to_string(), repository: remote.to_string() });
    }

    // Neither the path nor the tag may contain '@', and the path cannot contain ':' (the registry,
    // which may, is already split off), so the first of each is the separator.
    let (name_and_tag, digest) = match remainder.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (remainder.as_str(), None),
    };
    let (path, tag) = match name_and_tag.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (name_and_tag, None),
    };
    if !is_valid_host(registry) {
        return Err(format("invalid registry host"));
    }
    check_path(path).map_err(format)?;
    if let Some(tag) = tag {
        check_tag(tag).map_err(format)?;
    }
    if let Some(digest) = digest {
        check_digest_syntax(digest).map_err(format)?;
    }
    if path.len() > MAX_REPOSITORY_LEN {
        return Err(ReferenceError::TooLong { input: input.to_string() });
    }
    let digest = digest
        .map(|d| {
            Digest::parse(d).map_err(|e| match e {
                DigestError::Algorithm(algorithm) => {
                    ReferenceError::DigestAlgorithm { input: input.to_string(), algorithm }
                }
                DigestError::Format(_) | DigestError::Hex(_) => {
                    ReferenceError::Digest { input: input.to_string() }
                }
            })
        })
        .transpose()?;

    Ok(Reference {
        registry: registry.to_string(),
        repository: path.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

/// Docker's rule for telling a registry from a namespace: the first of several components is a
/// registry if it has a `.` or `:`, is `localhost`, or has uppercase (namespaces cannot). Returns
/// the registry and the rest (path, tag, digest), with `library/` added for official images.
fn split_registry(input: &str) -> (&str, String) {
    let Some((first, rest)) = input.split_once('/') else {
        // A single component is never a registry, even `localhost:5000` (that is name:tag).
        return (DEFAULT_REGISTRY, format!("{OFFICIAL_PREFIX}{input}"));
    };
    let registry = if first == LEGACY_DEFAULT_REGISTRY {
        DEFAULT_REGISTRY
    } else if first == "localhost" || first.contains(['.', ':']) || first.to_lowercase() != first {
        first
    } else {
        return (DEFAULT_REGISTRY, input.to_string());
    };
    if registry == DEFAULT_REGISTRY && !rest.contains('/') {
        return (registry, format!("{OFFICIAL_PREFIX}{rest}"));
    }
    (registry, rest.to_string())
}

/// Path: components of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`.
fn check_path(path: &str) -> Result<(), &'static str> {
    path.split('/').try_for_each(check_path_component)
}

fn check_path_component(c: &str) -> Result<(), &'static str> {
    let b = c.as_bytes();
    if b.is_empty() {
        return Err("empty path component");
    }
    let is_sep = |x: u8| matches!(x, b'.' | b'_' | b'-');
    if !b.iter().all(|&x| is_lower_alnum(x) || is_sep(x)) {
        return Err("repository name may only contain lowercase letters, digits, '.', '_' and '-'");
    }
    if is_sep(b[0]) || is_sep(b[b.len() - 1]) {
        return Err("repository name components must start and end with a letter or digit");
    }
    // Alternate alphanumeric runs and separators; ends are already known to be alphanumeric.
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_lower_alnum(b[i]) {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let sep_start = i;
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        let sep = &c[sep_start..i];
        let allowed = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !allowed {
            return Err("invalid separator in repository name (use '.', '_', '__' or dashes)");
        }
    }
    Ok(())
}

/// Tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), &'static str> {
    let b = tag.as_bytes();
    let Some(&first) = b.first() else {
        return Err("missing tag after ':'");
    };
    if b.len() > MAX_TAG_LEN {
        return Err("tag is longer than 128 characters");
    }
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    if !word(first) || !b.iter().all(|&x| word(x) || x == b'.' || x == b'-') {
        return Err("tag may only contain letters, digits, '_', '.' and '-', and not start with '.' or '-'");
    }
    Ok(())
}

/// Docker's digest shape (`algo[+-._algo]*:hex{32,}`), checked before the algorithm so that
/// garbage is a format error while a well-formed `sha512:` gets the "unsupported" message.
fn check_digest_syntax(digest: &str) -> Result<(), &'static str> {
    if digest.is_empty() {
        return Err("missing digest after '@'");
    }
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err("digest must be algorithm:hex");
    };
    let algorithm_ok = algorithm.split(['+', '-', '.', '_']).all(|part| {
        let mut bytes = part.bytes();
        bytes.next().is_some_and(|x| x.is_ascii_alphabetic()) && bytes.all(|x| x.is_ascii_alphanumeric())
    });
    if !algorithm_ok {
        return Err("invalid digest algorithm");
    }
    if hex.len() < 32 || !hex.bytes().all(|x| x.is_ascii_hexdigit()) {
        return Err("digest must have at least 32 hexadecimal digits");
    }
    Ok(())
}

/// Host: dot-separated `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` labels or a bracketed IPv6
/// literal, then an optional numeric `:port`.
fn is_valid_host(host: &str) -> bool {
    let port = if let Some(rest) = host.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.bytes().all(|x| x.is_ascii_hexdigit() || x == b':') {
            return false;
        }
        if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            Some(port)
        } else {
            return false;
        }
    } else {
        let (name, port) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        if !name.split('.').all(is_domain_label) {
            return false;
        }
        port
    };
    port.is_none_or(|p| !p.is_empty() && p.bytes().all(|x| x.is_ascii_digit()))
}

fn is_domain_label(label: &str) -> bool {
    let b = label.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

fn is_lower_alnum(x: u8) -> bool {
    x.is_ascii_lowercase() || x.is_ascii_digit()
}

fn is_lower_hex(x: u8) -> bool {
    x.is_ascii_digit() || (b'a'..=b'f').contains(&x)
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
