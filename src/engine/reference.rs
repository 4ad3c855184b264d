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
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn dg() -> String {
        format!("sha256:{HEX}")
    }

    /// Expected outcome of one table row.
    enum Want {
        Ok {
            registry: &'static str,
            repository: String,
            tag: Option<String>,
            digest: Option<String>,
            familiar: String,
        },
        Err(&'static str),
    }

    struct Row {
        input: String,
        want: Want,
    }

    fn ok(
        input: impl Into<String>,
        registry: &'static str,
        repository: impl Into<String>,
        tag: Option<&str>,
        digest: Option<String>,
        familiar: impl Into<String>,
    ) -> Row {
        Row {
            input: input.into(),
            want: Want::Ok {
                registry,
                repository: repository.into(),
                tag: tag.map(String::from),
                digest,
                familiar: familiar.into(),
            },
        }
    }

    fn bad(input: impl Into<String>, substring: &'static str) -> Row {
        Row { input: input.into(), want: Want::Err(substring) }
    }

    const HUB: &str = "docker.io";
    const FMT: &str = "invalid reference format";
    const LATEST: Option<&str> = Some("latest");

    fn table() -> Vec<Row> {
        let d = dg();
        let tag128 = format!("v{}", "1".repeat(127));
        let path255 = format!("u/{}", "a".repeat(253));
        vec![
            // Docker Hub normalization.
            ok("busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
            ok("busybox:1.36", HUB, "library/busybox", Some("1.36"), None, "busybox:1.36"),
            ok("library/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
            ok("docker.io/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
            ok("docker.io/library/busybox:musl", HUB, "library/busybox", Some("musl"), None, "busybox:musl"),
            ok("index.docker.io/library/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
            ok("index.docker.io/busybox", HUB, "library/busybox", LATEST, None, "busybox:latest"),
            ok("index.docker.io/user/app:v1", HUB, "user/app", Some("v1"), None, "user/app:v1"),
            ok("user/repo", HUB, "user/repo", LATEST, None, "user/repo:latest"),
            ok("user/repo:v2", HUB, "user/repo", Some("v2"), None, "user/repo:v2"),
            ok("docker.io/library/foo/bar", HUB, "library/foo/bar", LATEST, None, "library/foo/bar:latest"),
            ok("store/foo/bar", HUB, "store/foo/bar", LATEST, None, "store/foo/bar:latest"),
            ok("test_com/foo", HUB, "test_com/foo", LATEST, None, "test_com/foo:latest"),
            ok("0/1", HUB, "0/1", LATEST, None, "0/1:latest"),
            // A lone component is never a registry.
            ok("localhost", HUB, "library/localhost", LATEST, None, "localhost:latest"),
            ok("localhost:5000", HUB, "library/localhost", Some("5000"), None, "localhost:5000"),
            ok("192.168.0.1", HUB, "library/192.168.0.1", LATEST, None, "192.168.0.1:latest"),
            ok("192.168.0.1:80", HUB, "library/192.168.0.1", Some("80"), None, "192.168.0.1:80"),
            // Other registries.
            ok("localhost/x", "localhost", "x", LATEST, None, "localhost/x:latest"),
            ok("localhost:5000/x:tag", "localhost:5000", "x", Some("tag"), None, "localhost:5000/x:tag"),
            ok(
                "127.0.0.1:5000/fixtures/busybox:oci",
                "127.0.0.1:5000",
                "fixtures/busybox",
                Some("oci"),
                None,
                "127.0.0.1:5000/fixtures/busybox:oci",
            ),
            ok("[::1]:5000/a", "[::1]:5000", "a", LATEST, None, "[::1]:5000/a:latest"),
            ok("[fc00::1]/x", "[fc00::1]", "x", LATEST, None, "[fc00::1]/x:latest"),
            ok("a.b.c/d/e/f", "a.b.c", "d/e/f", LATEST, None, "a.b.c/d/e/f:latest"),
            ok("ghcr.io/a/b/c/d/e:1", "ghcr.io", "a/b/c/d/e", Some("1"), None, "ghcr.io/a/b/c/d/e:1"),
            ok(
                "example.com:8000/private/moonbase",
                "example.com:8000",
                "private/moonbase",
                LATEST,
                None,
                "example.com:8000/private/moonbase:latest",
            ),
            ok("xn--n3h.com/foo", "xn--n3h.com", "foo", LATEST, None, "xn--n3h.com/foo:latest"),
            ok("test-com:8080/foo", "test-com:8080", "foo", LATEST, None, "test-com:8080/foo:latest"),
            ok("foo:5000/bar", "foo:5000", "bar", LATEST, None, "foo:5000/bar:latest"),
            // Hosts may be uppercase; an uppercase first component is a host, as in Docker.
            ok(
                "Registry.Example.COM:443/team/app",
                "Registry.Example.COM:443",
                "team/app",
                LATEST,
                None,
                "Registry.Example.COM:443/team/app:latest",
            ),
            ok("Docker/docker", "Docker", "docker", LATEST, None, "Docker/docker:latest"),
            ok("DOCKER.IO/busybox", "DOCKER.IO", "busybox", LATEST, None, "DOCKER.IO/busybox:latest"),
            // Digests; TagNameOnly adds no tag to a digested reference.
            ok(
                format!("quay.io/org/app@{d}"),
                "quay.io",
                "org/app",
                None,
                Some(d.clone()),
                format!("quay.io/org/app@{d}"),
            ),
            ok(format!("busybox@{d}"), HUB, "library/busybox", None, Some(d.clone()), format!("busybox@{d}")),
            ok(
                format!("busybox:1.36@{d}"),
                HUB,
                "library/busybox",
                Some("1.36"),
                Some(d.clone()),
                format!("busybox:1.36@{d}"),
            ),
            ok(
                format!("localhost:5000/a/b@{d}"),
                "localhost:5000",
                "a/b",
                None,
                Some(d.clone()),
                format!("localhost:5000/a/b@{d}"),
            ),
            // Separators.
            ok("a_b", HUB, "library/a_b", LATEST, None, "a_b:latest"),
            ok("a__b", HUB, "library/a__b", LATEST, None, "a__b:latest"),
            ok("a---b", HUB, "library/a---b", LATEST, None, "a---b:latest"),
            ok("a.b", HUB, "library/a.b", LATEST, None, "a.b:latest"),
            ok("user/a-b.c_d__e", HUB, "user/a-b.c_d__e", LATEST, None, "user/a-b.c_d__e:latest"),
            // Tags.
            ok("busybox:_x", HUB, "library/busybox", Some("_x"), None, "busybox:_x"),
            ok("busybox:V1.2-rc_3", HUB, "library/busybox", Some("V1.2-rc_3"), None, "busybox:V1.2-rc_3"),
            ok(
                format!("busybox:{tag128}"),
                HUB,
                "library/busybox",
                Some(&tag128),
                None,
                format!("busybox:{tag128}"),
            ),
            // Hex is only refused as a whole, untagged, unqualified name.
            ok(format!("{HEX}:v1"), HUB, format!("library/{HEX}"), Some("v1"), None, format!("{HEX}:v1")),
            ok(
                format!("docker.io/{HEX}"),
                HUB,
                format!("library/{HEX}"),
                LATEST,
                None,
                format!("{HEX}:latest"),
            ),
            ok(
                &HEX[..63],
                HUB,
                format!("library/{}", &HEX[..63]),
                LATEST,
                None,
                format!("{}:latest", &HEX[..63]),
            ),
            // The 255 limit is on the path; the host does not count (distribution/reference v0.6).
            ok(path255.clone(), HUB, path255.clone(), LATEST, None, format!("{path255}:latest")),
            ok(
                format!("registry.example.com/{path255}"),
                "registry.example.com",
                path255.clone(),
                LATEST,
                None,
                format!("registry.example.com/{path255}:latest"),
            ),
            // Malformed input.
            bad("", FMT),
            bad(":", FMT),
            bad("@", FMT),
            bad("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
            bad("bUSYBOX:latest", "must be lowercase"),
            bad("docker/Docker", "repository name (docker/Docker) must be lowercase"),
            bad("docker.io/docker/Docker", "must be lowercase"),
            bad("localhost:5000/Foo", "repository name (Foo) must be lowercase"),
            bad("busybox:", "missing tag"),
            bad("busybox@", "missing digest"),
            bad("busybox:tag@", "missing digest"),
            bad("busybox:tag!", FMT),
            bad("busybox:-tag", FMT),
            bad("busybox:.tag", FMT),
            bad(format!("busybox:{tag128}x"), "longer than 128"),
            bad("busybox:latest:extra", FMT),
            bad("x/y:tag/z", FMT),
            bad("a//b", "empty path component"),
            bad("docker///docker", "empty path component"),
            bad("/a", "empty path component"),
            bad("a/", "empty path component"),
            bad("localhost/", "empty path component"),
            bad("-a", "start and end"),
            bad("a-", "start and end"),
            bad("-docker/docker", "start and end"),
            bad("_docker/_docker", "start and end"),
            bad("____/____", "start and end"),
            bad("a..b", "invalid separator"),
            bad("a___b", "invalid separator"),
            bad("u/dock_.er", "invalid separator"),
            bad("u/dock-.er", "invalid separator"),
            bad("dock_.er/docker", "invalid registry host"),
            bad("a b", FMT),
            bad(" busybox", FMT),
            bad("busybox ", FMT),
            bad("ubuntu\n", FMT),
            bad("héllo", FMT),
            bad(HEX, "cannot specify 64-byte hexadecimal strings"),
            bad(format!("busybox@sha512:{HEX}{HEX}"), "unsupported digest algorithm \"sha512\""),
            bad(format!("busybox@md5:{}", &HEX[..32]), "unsupported digest algorithm"),
            bad("busybox@sha256:abc", FMT),
            bad(format!("busybox@sha256:{}", &HEX[..40]), "invalid checksum digest"),
            bad(format!("busybox@sha256:{}", HEX.to_uppercase()), "invalid checksum digest"),
            bad(format!("busybox@sha256:{HEX}@{d}"), FMT),
            bad(format!("busybox@{HEX}"), "algorithm:hex"),
            bad(format!("busybox@-sha256:{HEX}"), "invalid digest algorithm"),
            bad("a".repeat(256), "must not be more than 255 characters"),
            bad(format!("u/{}", "a".repeat(254)), "must not be more than 255 characters"),
            bad("https://github.com/docker/docker", "invalid registry host"),
            bad("[fc00::1]", FMT),
            bad("[fc00::1]:5000", FMT),
            bad("fc00::1:5000/debian", "invalid registry host"),
            bad("[fe80::1%eth0]:5000/debian", "invalid registry host"),
            bad("[]:5000/x", "invalid registry host"),
            bad("a_b.c/x", "invalid registry host"),
            bad("-host.com/x", "invalid registry host"),
            bad("host.com:port/x", "invalid registry host"),
            bad("host.com:/x", "invalid registry host"),
            bad("host..com/x", "invalid registry host"),
        ]
    }

    #[test]
    fn reference_table() {
        let rows = table();
        assert!(rows.len() >= 60, "only {} rows", rows.len());
        for Row { input, want } in rows {
            let got = Reference::parse(&input);
            match want {
                Want::Ok { registry, repository, tag, digest, familiar } => {
                    let r = got.unwrap_or_else(|e| panic!("{input:?} rejected: {e}"));
                    assert_eq!(r.registry(), registry, "registry of {input:?}");
                    assert_eq!(r.repository(), repository, "repository of {input:?}");
                    assert_eq!(r.tag(), tag.as_deref(), "tag of {input:?}");
                    assert_eq!(r.digest().map(|d| d.to_string()), digest, "digest of {input:?}");
                    assert_eq!(r.familiar(), familiar, "familiar of {input:?}");
                    // Both printed forms must parse back to the same reference.
                    assert_eq!(Reference::parse(&r.to_string()).as_ref(), Ok(&r), "display of {input:?}");
                    assert_eq!(Reference::parse(&r.familiar()).as_ref(), Ok(&r), "familiar of {input:?}");
                }
                Want::Err(substring) => {
                    let e = match got {
                        Ok(r) => panic!("{input:?} accepted as {r}"),
                        Err(e) => e.to_string(),
                    };
                    assert!(e.contains(substring), "{input:?}: {e:?} lacks {substring:?}");
                    let quoted = format!("{input:?}");
                    assert!(e.contains(&input) || e.contains(&quoted), "{e:?} does not name {input:?}");
                }
            }
        }
    }

    #[test]
    fn accessors_and_display() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert_eq!(r.familiar_name(), "busybox");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert!(!r.is_loopback_registry());

        let r: Reference = "localhost:5000/x/y:t".parse().unwrap();
        assert_eq!(r.api_host(), "localhost:5000");
        assert_eq!(r.familiar_name(), "localhost:5000/x/y");
        assert!(r.is_loopback_registry());
        assert!(Reference::parse("[::1]:5000/a").unwrap().is_loopback_registry());
        assert!(Reference::parse("127.1.2.3/a").unwrap().is_loopback_registry());
        assert!(!Reference::parse("quay.io/a").unwrap().is_loopback_registry());
    }

    #[test]
    fn with_tag_and_digest() {
        let d = Digest::parse(&dg()).unwrap();
        let r = Reference::parse("quay.io/org/app:1").unwrap();

        let pinned = r.with_digest(d.clone());
        assert_eq!(pinned.tag(), None);
        assert_eq!(pinned.digest(), Some(&d));
        assert_eq!(pinned.to_string(), format!("quay.io/org/app@{d}"));

        let retagged = pinned.with_tag("2").unwrap();
        assert_eq!(retagged.tag(), Some("2"));
        assert_eq!(retagged.digest(), None);
        assert_eq!(retagged.familiar(), "quay.io/org/app:2");

        for bad in ["", "-x", ".x", "a:b", "a/b", "a b", &"x".repeat(129)] {
            let e = r.with_tag(bad).unwrap_err();
            assert_eq!(e, ReferenceError::Tag { tag: bad.to_string() });
            assert!(e.to_string().starts_with("invalid tag format"));
        }
    }

    #[test]
    fn repository_filter() {
        let repo = parse_repository;
        assert_eq!(repo("busybox"), Ok(("docker.io".into(), "library/busybox".into())));
        assert_eq!(repo("index.docker.io/u/a"), Ok(("docker.io".into(), "u/a".into())));
        assert_eq!(repo("localhost:5000/x"), Ok(("localhost:5000".into(), "x".into())));
        assert!(matches!(repo("busybox:1"), Err(ReferenceError::NotRepository { .. })));
        assert!(matches!(repo(&format!("busybox@{}", dg())), Err(ReferenceError::NotRepository { .. })));
        assert!(matches!(repo("Busybox"), Err(ReferenceError::Uppercase { .. })));
        assert!(matches!(repo(HEX), Err(ReferenceError::HexName(_))));
    }

    #[test]
    fn id_prefixes() {
        for yes in ["e", "e3b0c4", HEX, &dg(), "sha256:e3b0"] {
            assert!(looks_like_id_prefix(yes), "{yes:?}");
        }
        for no in ["", "sha256:", "busybox", "E3B0", "e3b0:latest", "g", &format!("{HEX}0")] {
            assert!(!looks_like_id_prefix(no), "{no:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for yes in ["localhost", "LocalHost:5000", "127.0.0.1", "127.9.9.9:80", "[::1]", "[::1]:5000", "::1"]
        {
            assert!(is_loopback_host(yes), "{yes:?}");
        }
        for no in
            ["docker.io", "10.0.0.1:5000", "[fc00::1]:5000", "localhost.example.com", "128.0.0.1", "[::1"]
        {
            assert!(!is_loopback_host(no), "{no:?}");
        }
    }

    #[test]
    fn serde_round_trip() {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};

        let de: StrDeserializer<'_, Error> = "busybox:1".into_deserializer();
        let r = Reference::deserialize(de).unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:1");
        let de: StrDeserializer<'_, Error> = "Busybox".into_deserializer();
        assert!(Reference::deserialize(de).is_err());
    }
}
