//! HTTP clients per registry: TLS trust (system roots plus `<certs_dir>/<host>/ca.crt`), the
//! HTTPS-first / plain-HTTP-fallback rule Docker applies to loopback and insecure registries,
//! timeouts, and retries with backoff for connection errors and 5xx answers.

use std::error::Error as _;
use std::path::Path;
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};

use super::ClientSettings;
use super::error::RegistryError;

const USER_AGENT: &str = concat!("gantry/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts for one request when the connection fails or the registry answers 5xx.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Builds a client for one registry. `verify` off is only used for registries the user listed
/// as insecure.
pub fn build_client(
    settings: &ClientSettings,
    registry: &str,
    verify: bool,
) -> Result<Client, RegistryError> {
    let certs_dir: &Path = &settings.certs_dir;
    let mut b = Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        // The longest silence while reading (layers may take long in total, never go quiet).
        .read_timeout(settings.read_timeout)
        .redirect(reqwest::redirect::Policy::limited(10))
        // reqwest strips Authorization (and cookies) when a redirect leaves the host:port.
        .danger_accept_invalid_certs(!verify);
    let ca = certs_dir.join(registry).join("ca.crt");
    if let Ok(pem) = std::fs::read(&ca) {
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RegistryError::InvalidResponse {
                registry: registry.into(),
                message: format!("{}: {e}", ca.display()),
            })?;
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    b.build().map_err(|source| RegistryError::Http { context: "building HTTP client".into(), source })
}

/// How an HTTPS attempt failed, to decide between a certificate error and an HTTP fallback.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server speaks TLS but its certificate is not trusted.
    Certificate(String),
    /// Anything else (no TLS at all, connection refused, timeout).
    Other,
}

/// Classifies a failed HTTPS request. The rustls error is matched by its message rather than
/// downcast so gantry does not have to pin the rustls version reqwest uses internally.
pub fn classify(err: &reqwest::Error) -> TlsFailure {
    let mut source: Option<&dyn std::error::Error> = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains("invalid peer certificate") || text.contains("certificate") {
            return TlsFailure::Certificate(text);
        }
        source = e.source();
    }
    TlsFailure::Other
}

/// The innermost cause of an error, for short messages ("connection refused").
pub fn root_cause(err: &reqwest::Error) -> String {
    let mut last = err.to_string();
    let mut source: Option<&dyn std::error::Error> = err.source();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    last
}

fn retryable_status(s: StatusCode) -> bool {
    s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS
}

/// Sends a request built by `make`, retrying connection failures, 429 and 5xx with
/// exponential backoff. The last answer (even an error status) is returned to the caller.
pub async fn send_with_retry(
    make: impl Fn() -> RequestBuilder,
    context: impl Fn() -> String,
) -> Result<Response, RegistryError> {
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let result = make().send().await;
        let retry = match &result {
            Ok(resp) => retryable_status(resp.status()),
            Err(e) => e.is_connect() || e.is_timeout() || e.is_request(),
        };
        if !retry || attempt >= ATTEMPTS {
            return result.map_err(|source| RegistryError::Http { context: context(), source });
        }
        tracing::debug!(attempt, ?delay, "retrying registry request: {}", context());
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempt += 1;
    }
}
