//! Registry errors, including the registry's own error JSON turned into readable text.

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{context}: {source}")]
    Http {
        context: String,
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with an error status; `message` is built from its error JSON.
    #[error("{message}")]
    Status { status: u16, message: String },
    #[error("unauthorized: authentication required for {registry}{hint}")]
    Unauthorized { registry: String, hint: String },
    #[error("{what} from {registry} is larger than the {limit}-byte limit")]
    TooLarge { what: String, registry: String, limit: u64 },
    #[error(
        "TLS certificate of {registry} is not trusted ({detail}); if it is signed by a private CA, \
         put that CA certificate at {certs_dir}/{registry}/ca.crt"
    )]
    Certificate { registry: String, detail: String, certs_dir: String },
    #[error(
        "registry {registry} does not answer over HTTPS ({detail}); plain HTTP is only used for \
         loopback registries and those listed in insecure_registries in {config}"
    )]
    InsecureRefused { registry: String, detail: String, config: String },
    #[error("{0}")]
    Manifest(String),
    #[error("{what} {digest} failed verification: expected {expected}, got {actual}")]
    DigestMismatch { what: String, digest: String, expected: String, actual: String },
    #[error("invalid response from {registry}: {message}")]
    InvalidResponse { registry: String, message: String },
    #[error("credentials file {path}: {message}")]
    Credentials { path: String, message: String },
}

/// The error document of the distribution spec: `{"errors":[{"code":..,"message":..}]}`.
#[derive(Debug, Deserialize)]
struct ErrorDocument {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Builds a readable message from an error response body: `"<message>: <subject>"`, e.g.
/// `manifest unknown: 127.0.0.1:5000/library/nope:latest`. Falls back to the HTTP status text.
pub fn describe(status: u16, body: &[u8], subject: &str) -> String {
    let entries = serde_json::from_slice::<ErrorDocument>(body).map(|d| d.errors).unwrap_or_default();
    let parts: Vec<String> = entries
        .iter()
        .map(|e| {
            if !e.message.is_empty() {
                sanitize(&e.message)
            } else {
                sanitize(&e.code.to_ascii_lowercase().replace('_', " "))
            }
        })
        .filter(|s| !s.is_empty())
        .collect();
    let reason = if parts.is_empty() {
        let canonical =
            reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error");
        format!("{status} {canonical}").to_ascii_lowercase()
    } else {
        parts.join("; ")
    };
    format!("{reason}: {subject}")
}

/// Keeps a registry-supplied message printable and short (it is hostile input shown to users).
fn sanitize(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_registry_errors() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(
            describe(404, body, "127.0.0.1:5000/library/nope:latest"),
            "manifest unknown: 127.0.0.1:5000/library/nope:latest"
        );
        assert_eq!(describe(404, br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#, "x"), "name unknown: x");
        assert_eq!(describe(502, b"<html>", "x"), "502 bad gateway: x");
        assert_eq!(describe(400, br#"{"errors":[{"message":"a\u001b[31mb"}]}"#, "x"), "a[31mb: x");
    }
}
