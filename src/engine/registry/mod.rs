//! A client for the Docker Registry HTTP API v2 / OCI distribution spec: manifests (with
//! platform selection), blobs (streamed, never buffered whole), catalog and tag listings, and
//! the authentication dance. Every answer is treated as hostile: bodies are size-capped and
//! every document fetched by digest is verified before use.

pub mod auth;
pub mod body;
pub mod credentials;
pub mod error;
pub mod manifest;
pub mod transport;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Client, Response, StatusCode};

pub use auth::{CachedToken, Challenge};
pub use credentials::{CredentialStore, Credentials};
pub use error::RegistryError;

use crate::engine::digest::Digest;
use crate::engine::reference::is_loopback_host;
use body::{MAX_LISTING, MAX_TOKEN, read_capped, status_error};
use transport::{TlsFailure, build_client, classify, root_cause, send_with_retry};

/// Small documents must arrive within this time.
const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings the client needs from the engine's configuration.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub insecure_registries: Vec<String>,
    pub certs_dir: PathBuf,
    /// Shown in messages that tell the user where to allow an insecure registry.
    pub config_path: PathBuf,
    /// Longest silence tolerated while reading a response.
    pub read_timeout: Duration,
}

/// One registry endpoint, resolved (scheme chosen, challenge known).
struct Host {
    /// The registry's name as in references (`docker.io`, `127.0.0.1:5000`).
    registry: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    base: String,
    client: Client,
    challenge: Option<Challenge>,
}

pub struct RegistryClient {
    settings: ClientSettings,
    creds: CredentialStore,
    hosts: tokio::sync::Mutex<HashMap<String, Arc<Host>>>,
    tokens: Mutex<HashMap<(String, String), CachedToken>>,
}

/// One page of a listing and the marker for the next.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<String>,
    pub next: Option<String>,
}

impl RegistryClient {
    pub fn new(settings: ClientSettings, creds: CredentialStore) -> Self {
        Self {
            settings,
            creds,
            hosts: tokio::sync::Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn credentials(&self) -> &CredentialStore {
        &self.creds
    }

    /// `registry-1.docker.io` for Docker Hub, else the registry itself.
    fn api_host(registry: &str) -> &str {
        if registry == "docker.io" { "registry-1.docker.io" } else { registry }
    }

    fn insecure(&self, registry: &str) -> bool {
        self.settings.insecure_registries.iter().any(|r| r == registry)
    }

    /// Resolves (once per process) how to talk to a registry: HTTPS with verification, or —
    /// only for loopback and configured-insecure registries — plain HTTP when HTTPS fails.
    async fn host(&self, registry: &str) -> Result<Arc<Host>, RegistryError> {
        let mut hosts = self.hosts.lock().await;
        if let Some(h) = hosts.get(registry) {
            return Ok(h.clone());
        }
        let api = Self::api_host(registry);
        let insecure = self.insecure(registry);
        let fallback_ok = plain_http_allowed(api, insecure);
        let https = build_client(&self.settings, registry, !insecure)?;
        let https_base = format!("https://{api}");
        let ping_url = format!("{https_base}/v2/");
        let first = if fallback_ok {
            // One quick probe: a plain-HTTP registry fails the TLS handshake immediately.
            https
                .get(&ping_url)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map_err(|source| RegistryError::Http { context: format!("pinging {ping_url}"), source })
        } else {
            send_with_retry(|| https.get(&ping_url), || format!("pinging {ping_url}")).await
        };
        let host = match first {
            Ok(resp) => Host {
                registry: registry.into(),
                base: https_base,
                client: https,
                challenge: challenge_of(&resp),
            },
            Err(RegistryError::Http { source, context }) => {
                if let TlsFailure::Certificate(detail) = classify(&source) {
                    if !insecure {
                        return Err(RegistryError::Certificate {
                            registry: registry.into(),
                            detail,
                            certs_dir: self.settings.certs_dir.display().to_string(),
                        });
                    }
                }
                if !fallback_ok {
                    return Err(if source.is_connect() {
                        RegistryError::InsecureRefused {
                            registry: registry.into(),
                            detail: root_cause(&source),
                            config: self.settings.config_path.display().to_string(),
                        }
                    } else {
                        RegistryError::Http { context, source }
                    });
                }
                let http = build_client(&self.settings, registry, true)?;
                let base = format!("http://{api}");
                let url = format!("{base}/v2/");
                let resp = send_with_retry(|| http.get(&url), || format!("pinging {url}")).await?;
                Host { registry: registry.into(), base, client: http, challenge: challenge_of(&resp) }
            }
            Err(e) => return Err(e),
        };
        tracing::debug!(registry, base = %host.base, challenge = ?host.challenge, "registry resolved");
        let host = Arc::new(host);
        hosts.insert(registry.to_string(), host.clone());
        Ok(host)
    }

    /// The Authorization header value for a request in `scope`, fetching a token if needed.
    async fn authorization(
        &self,
        host: &Host,
        challenge: Option<&Challenge>,
        scope: &str,
        fresh: bool,
    ) -> Result<Option<String>, RegistryError> {
        match challenge.or(host.challenge.as_ref()) {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(self.creds.get(&host.registry)?.map(|c| basic_header(&c))),
            Some(Challenge::Bearer { realm, service, .. }) => {
                let key = (host.registry.clone(), scope.to_string());
                if !fresh {
                    let cached = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
                    if let Some(t) = cached.filter(CachedToken::is_valid) {
                        return Ok(Some(format!("Bearer {}", t.value)));
                    }
                }
                let creds = self.creds.get(&host.registry)?;
                let token =
                    self.fetch_token(host, realm, service.as_deref(), Some(scope), creds.as_ref()).await?;
                let value = format!("Bearer {}", token.value);
                self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key, token);
                Ok(Some(value))
            }
        }
    }

    /// Asks a token server for a bearer token.
    async fn fetch_token(
        &self,
        host: &Host,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        creds: Option<&Credentials>,
    ) -> Result<CachedToken, RegistryError> {
        let mut url = reqwest::Url::parse(realm).map_err(|e| RegistryError::InvalidResponse {
            registry: host.registry.clone(),
            message: format!("bad token realm {realm:?}: {e}"),
        })?;
        let realm_host = url.host_str().unwrap_or_default().to_string();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&realm_host) || self.insecure(&host.registry) => {}
            _ => {
                return Err(RegistryError::InvalidResponse {
                    registry: host.registry.clone(),
                    message: format!("refusing token realm {realm:?} (not HTTPS)"),
                });
            }
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if let Some(s) = scope {
                q.append_pair("scope", s);
            }
            if let Some(c) = creds {
                q.append_pair("account", &c.username);
            }
        }
        let auth = creds.map(basic_header);
        let resp = send_with_retry(
            || {
                let r = host.client.get(url.clone()).timeout(DOCUMENT_TIMEOUT);
                match &auth {
                    Some(a) => r.header(AUTHORIZATION, a),
                    None => r,
                }
            },
            || format!("requesting a token from {realm}"),
        )
        .await?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized {
                registry: host.registry.clone(),
                hint: if creds.is_some() { ": incorrect username or password".into() } else { String::new() },
            });
        }
        if !resp.status().is_success() {
            return Err(status_error(resp, &format!("token for {}", host.registry), &host.registry).await);
        }
        let body = read_capped(resp, MAX_TOKEN, "token", &host.registry).await?;
        serde_json::from_slice::<auth::TokenResponse>(&body)
            .ok()
            .and_then(auth::TokenResponse::into_token)
            .ok_or_else(|| RegistryError::InvalidResponse {
                registry: host.registry.clone(),
                message: "token response without a usable token".into(),
            })
    }

    /// GET `path` on a registry within `scope`, authenticating as challenged. Returns the
    /// response whatever its status, except that 401 after re-authentication is an error.
    async fn get(
        &self,
        registry: &str,
        path: &str,
        scope: &str,
        accept: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<Response, RegistryError> {
        let host = self.host(registry).await?;
        let url = format!("{}{}", host.base, path);
        let mut auth = self.authorization(&host, None, scope, false).await?;
        for round in 0..2 {
            let resp = send_with_retry(
                || {
                    let mut r = host.client.get(&url);
                    if let Some(a) = accept {
                        r = r.header(ACCEPT, a);
                    }
                    if let Some(t) = timeout {
                        r = r.timeout(t);
                    }
                    match &auth {
                        Some(a) => r.header(AUTHORIZATION, a),
                        None => r,
                    }
                },
                || format!("GET {url}"),
            )
            .await?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            let challenge = challenge_of(&resp);
            if round == 1 || challenge.is_none() {
                break;
            }
            auth = self.authorization(&host, challenge.as_ref(), scope, true).await?;
            if auth.is_none() {
                break;
            }
        }
        let hint = if self.creds.get(registry)?.is_some() {
            String::new()
        } else {
            format!(" (log in with: gantry login {registry})")
        };
        Err(RegistryError::Unauthorized { registry: registry.into(), hint })
    }

    /// Fetches a manifest by tag or digest. Returns the raw bytes, the media type and the
    /// digest of the bytes (checked against the requested digest, or the registry's
    /// `Docker-Content-Digest` header when pulling by tag).
    pub async fn manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        subject: &str,
    ) -> Result<manifest::Fetched, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let resp = self
            .get(
                registry,
                &path,
                &auth::pull_scope(repository),
                Some(manifest::ACCEPT),
                Some(DOCUMENT_TIMEOUT),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(resp, subject, registry).await);
        }
        manifest::Fetched::from_response(resp, reference, registry).await
    }

    /// Fetches a small blob (an image config) whole, verified against `digest`.
    pub async fn blob_bytes(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let resp = self.blob(registry, repository, digest, Some(DOCUMENT_TIMEOUT)).await?;
        let data = read_capped(resp, limit, what, registry).await?;
        let actual = Digest::of_bytes(&data);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                what: what.into(),
                digest: digest.to_string(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(data)
    }

    /// Opens a blob for streaming; the caller verifies the bytes as they flow.
    pub async fn blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &Digest,
        timeout: Option<Duration>,
    ) -> Result<Response, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let resp = self.get(registry, &path, &auth::pull_scope(repository), None, timeout).await?;
        if !resp.status().is_success() {
            return Err(
                status_error(resp, &format!("blob {digest} of {registry}/{repository}"), registry).await
            );
        }
        Ok(resp)
    }

    /// One page of the registry's catalog (`/v2/_catalog`).
    pub async fn catalog(
        &self,
        registry: &str,
        page_size: usize,
        last: Option<&str>,
    ) -> Result<Page, RegistryError> {
        let mut path = format!("/v2/_catalog?n={page_size}");
        if let Some(l) = last {
            path.push_str(&format!("&last={}", urlencode(l)));
        }
        self.listing(registry, &path, "registry:catalog:*", "repositories", registry).await
    }

    /// One page of a repository's tags (`/v2/<name>/tags/list`).
    pub async fn tags(
        &self,
        registry: &str,
        repository: &str,
        page_size: usize,
        last: Option<&str>,
    ) -> Result<Page, RegistryError> {
        let mut path = format!("/v2/{repository}/tags/list?n={page_size}");
        if let Some(l) = last {
            path.push_str(&format!("&last={}", urlencode(l)));
        }
        let subject = format!("{registry}/{repository}");
        self.listing(registry, &path, &auth::pull_scope(repository), "tags", &subject).await
    }

    async fn listing(
        &self,
        registry: &str,
        path: &str,
        scope: &str,
        field: &str,
        subject: &str,
    ) -> Result<Page, RegistryError> {
        let resp = self.get(registry, path, scope, Some("application/json"), Some(DOCUMENT_TIMEOUT)).await?;
        if !resp.status().is_success() {
            return Err(status_error(resp, subject, registry).await);
        }
        let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(next_marker);
        let body = read_capped(resp, MAX_LISTING, field, registry).await?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| RegistryError::InvalidResponse {
                registry: registry.into(),
                message: format!("{field} listing: {e}"),
            })?;
        let items = v
            .get(field)
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default();
        Ok(Page { items, next })
    }

    /// Checks credentials against a registry (the way `docker login` does) without storing them.
    pub async fn check_login(&self, registry: &str, creds: &Credentials) -> Result<(), RegistryError> {
        let host = self.host(registry).await?;
        match &host.challenge {
            None => Ok(()),
            Some(Challenge::Bearer { realm, service, .. }) => {
                self.fetch_token(&host, realm, service.as_deref(), None, Some(creds)).await.map(|_| ())
            }
            Some(Challenge::Basic) => {
                let url = format!("{}/v2/", host.base);
                let header = basic_header(creds);
                let resp = send_with_retry(
                    || host.client.get(&url).header(AUTHORIZATION, &header),
                    || format!("GET {url}"),
                )
                .await?;
                if resp.status().is_success() {
                    Ok(())
                } else if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN
                {
                    Err(RegistryError::Unauthorized {
                        registry: registry.into(),
                        hint: ": incorrect username or password".into(),
                    })
                } else {
                    Err(status_error(resp, &format!("login to {registry}"), registry).await)
                }
            }
        }
    }
}

/// Whether plain HTTP may be used: for loopback registries (as Docker allows) and for those the
/// user listed as insecure; never for anything else.
fn plain_http_allowed(api_host: &str, listed_insecure: bool) -> bool {
    listed_insecure || is_loopback_host(api_host)
}

fn challenge_of(resp: &Response) -> Option<Challenge> {
    if resp.status() != StatusCode::UNAUTHORIZED {
        return None;
    }
    resp.headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::parse_challenge)
}

fn basic_header(c: &Credentials) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.username, c.password))
    )
}

/// Extracts `last=` from a `Link: </v2/_catalog?last=x&n=100>; rel="next"` header.
fn next_marker(link: &str) -> Option<String> {
    if !link.contains("rel=\"next\"") && !link.contains("rel=next") {
        return None;
    }
    let start = link.find('<')? + 1;
    let end = link[start..].find('>')? + start;
    let url = reqwest::Url::parse("http://x").ok()?.join(&link[start..end]).ok()?;
    url.query_pairs().find(|(k, _)| k == "last").map(|(_, v)| v.into_owned())
}

fn urlencode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("v", s)])
        .ok()
        .and_then(|u| u.query().map(|q| q.trim_start_matches("v=").to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_or_listed() {
        assert!(plain_http_allowed("127.0.0.1:5000", false));
        assert!(plain_http_allowed("127.8.9.10", false));
        assert!(plain_http_allowed("localhost:5000", false));
        assert!(plain_http_allowed("[::1]:5000", false));
        assert!(!plain_http_allowed("registry.lan:5000", false));
        assert!(plain_http_allowed("registry.lan:5000", true));
        assert!(!plain_http_allowed("registry-1.docker.io", false));
        assert!(!plain_http_allowed("10.0.0.1:5000", false));
    }

    #[test]
    fn parses_link_header() {
        assert_eq!(next_marker(r#"</v2/_catalog?last=b%2Fc&n=2>; rel="next""#), Some("b/c".into()));
        assert_eq!(next_marker(r#"</v2/x/tags/list?n=2&last=t2>; rel="next""#), Some("t2".into()));
        assert_eq!(next_marker(r#"</v2/_catalog?last=b>; rel="prev""#), None);
        assert_eq!(urlencode("a/b c"), "a%2Fb+c");
    }
}
