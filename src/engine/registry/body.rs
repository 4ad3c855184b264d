//! Reading bounded response bodies: a registry could send gigabytes where a manifest or token
//! is expected, so every non-layer body is read with a cap.

use reqwest::Response;

use super::error::RegistryError;

/// Size caps for the small documents fetched from registries.
pub const MAX_MANIFEST: u64 = 4 << 20;
pub const MAX_CONFIG: u64 = 4 << 20;
pub const MAX_TOKEN: u64 = 1 << 20;
pub const MAX_ERROR_BODY: u64 = 1 << 20;
pub const MAX_LISTING: u64 = 8 << 20;

/// Reads a whole body, failing as soon as it exceeds `limit` bytes.
pub async fn read_capped(
    mut resp: Response,
    limit: u64,
    what: &str,
    registry: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_large =
        || RegistryError::TooLarge { what: what.to_string(), registry: registry.to_string(), limit };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|source| RegistryError::Http {
        context: format!("reading {what} from {registry}"),
        source,
    })? {
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Turns an error response into a [`RegistryError::Status`] with the registry's message.
pub async fn status_error(resp: Response, subject: &str, registry: &str) -> RegistryError {
    let status = resp.status().as_u16();
    let body = read_capped(resp, MAX_ERROR_BODY, "error response", registry).await.unwrap_or_default();
    RegistryError::Status { status, message: super::error::describe(status, &body, subject) }
}
