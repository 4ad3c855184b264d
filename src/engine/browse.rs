//! Browsing a registry without pulling: its repositories (catalog), a repository's tags, and
//! per tag the digest, platforms and compressed size — what the TUI's pull picker shows.

use super::Engine;
use super::digest::Digest;
use super::error::Result;
use super::reference::Reference;
use super::registry::manifest::{self, Document};

/// Entries fetched per request when following pagination.
const PAGE: usize = 100;

/// A tag and what it points at.
#[derive(Debug, Clone)]
pub struct TagDetails {
    pub tag: String,
    pub digest: Digest,
    pub media_type: String,
    /// `os/arch[/variant]` of each platform; one entry for a single-platform image.
    pub platforms: Vec<String>,
    /// Compressed bytes (config + layers) of the first platform's manifest.
    pub size: u64,
}

impl Engine {
    /// The registry's repositories, following pagination up to `limit` entries.
    pub async fn list_repositories(&self, registry: &str, limit: usize) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = self.registry.catalog(registry, PAGE.min(limit.max(1)), last.as_deref()).await?;
            let n = page.items.len();
            out.extend(page.items);
            if out.len() >= limit || page.next.is_none() || n == 0 {
                break;
            }
            last = page.next;
        }
        out.truncate(limit);
        Ok(out)
    }

    /// A repository's tags (`REGISTRY/REPO`), following pagination.
    pub async fn list_tags(&self, repository: &Reference, limit: usize) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = self
                .registry
                .tags(repository.registry(), repository.repository(), PAGE.min(limit.max(1)), last.as_deref())
                .await?;
            let n = page.items.len();
            out.extend(page.items);
            if out.len() >= limit || page.next.is_none() || n == 0 {
                break;
            }
            last = page.next;
        }
        out.truncate(limit);
        out.sort();
        Ok(out)
    }

    /// Digest, platforms and size of one tag (fetches its manifests, not its layers).
    pub async fn tag_details(&self, reference: &Reference) -> Result<TagDetails> {
        let (registry, repo) = (reference.registry(), reference.repository());
        let tag = reference.tag().unwrap_or("latest").to_string();
        let subject = reference.to_string();
        let top = self.registry.manifest(registry, repo, &tag, &subject).await?;
        let (platforms, first) = match top.parse()? {
            Document::Image(m) => (Vec::new(), *m),
            Document::Index(index) => {
                let mut platforms = Vec::new();
                let mut first = None;
                for d in index.manifests() {
                    if let Some(p) = d.platform() {
                        let mut s = format!("{}/{}", p.os(), p.architecture());
                        if let Some(v) = p.variant() {
                            s.push_str(&format!("/{v}"));
                        }
                        platforms.push(s);
                    }
                    if first.is_none() {
                        first = Some(manifest::digest_of(d)?);
                    }
                }
                let Some(first) = first else {
                    return Ok(TagDetails {
                        tag,
                        digest: top.digest,
                        media_type: top.media_type,
                        platforms,
                        size: 0,
                    });
                };
                let m = self.registry.manifest(registry, repo, &first.to_string(), &subject).await?;
                match m.parse()? {
                    Document::Image(m) => (platforms, *m),
                    Document::Index(_) => {
                        return Err(super::registry::RegistryError::Manifest("nested index".into()).into());
                    }
                }
            }
        };
        let platforms = if platforms.is_empty() {
            // A single-platform image names its platform in the config; fetching it costs one
            // small request, which the picker wants anyway.
            let cfg_digest = manifest::digest_of(first.config())?;
            let cfg = self
                .registry
                .blob_bytes(registry, repo, &cfg_digest, super::registry::body::MAX_CONFIG, "image config")
                .await?;
            let v: serde_json::Value = serde_json::from_slice(&cfg).unwrap_or_default();
            let os = v.get("os").and_then(|s| s.as_str()).unwrap_or("?");
            let arch = v.get("architecture").and_then(|s| s.as_str()).unwrap_or("?");
            vec![format!("{os}/{arch}")]
        } else {
            platforms
        };
        let size = first.config().size() + first.layers().iter().map(|l| l.size()).sum::<u64>();
        Ok(TagDetails { tag, digest: top.digest, media_type: top.media_type, platforms, size })
    }
}

/// One `search` result (Docker Hub's fields; catalog hits leave the rest empty).
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    pub name: String,
    pub description: String,
    pub stars: u64,
    pub official: bool,
    pub automated: bool,
}

/// Docker Hub's search endpoint (Hub has no catalog).
const HUB_SEARCH: &str = "https://index.docker.io/v1/search";

impl Engine {
    /// `search TERM`: a `REGISTRY/term` searches that registry's catalog for repositories
    /// containing `term`; a bare term asks Docker Hub's search API.
    pub async fn search(&self, term: &str, limit: usize) -> Result<Vec<SearchResult>> {
        if let Some((first, rest)) = term.split_once('/') {
            if first.contains('.') || first.contains(':') || first == "localhost" {
                let repos = self.list_repositories(first, 10_000).await?;
                return Ok(repos
                    .into_iter()
                    .filter(|r| r.contains(rest))
                    .take(limit)
                    .map(|r| SearchResult { name: format!("{first}/{r}"), ..Default::default() })
                    .collect());
            }
        }
        self.search_hub(term, limit).await
    }

    async fn search_hub(&self, term: &str, limit: usize) -> Result<Vec<SearchResult>> {
        let http_err = |source| super::registry::RegistryError::Http {
            context: format!("searching Docker Hub ({HUB_SEARCH})"),
            source,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(http_err)?;
        let resp = client
            .get(HUB_SEARCH)
            .query(&[("q", term), ("n", &limit.to_string())])
            .send()
            .await
            .map_err(http_err)?;
        if !resp.status().is_success() {
            return Err(super::registry::body::status_error(resp, "Docker Hub search", "docker.io")
                .await
                .into());
        }
        let body = super::registry::body::read_capped(
            resp,
            super::registry::body::MAX_LISTING,
            "search results",
            "docker.io",
        )
        .await?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let results = v.get("results").and_then(|r| r.as_array()).cloned().unwrap_or_default();
        Ok(results
            .iter()
            .take(limit)
            .map(|r| SearchResult {
                name: r.get("name").and_then(|s| s.as_str()).unwrap_or("").into(),
                description: r.get("description").and_then(|s| s.as_str()).unwrap_or("").into(),
                stars: r.get("star_count").and_then(|s| s.as_u64()).unwrap_or(0),
                official: r.get("is_official").and_then(|s| s.as_bool()).unwrap_or(false),
                automated: r.get("is_automated").and_then(|s| s.as_bool()).unwrap_or(false),
            })
            .collect())
    }
}
