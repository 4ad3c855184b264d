//! Registry authentication: parsing `WWW-Authenticate` challenges and the Bearer token exchange
//! of the distribution spec (token server at `realm`, `service` and `scope` as query
//! parameters, Basic credentials when the user has logged in).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// A parsed authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parses the first supported challenge in a `WWW-Authenticate` header value.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => {
            let params = parse_params(rest);
            let realm = params.get("realm")?.clone();
            Some(Challenge::Bearer {
                realm,
                service: params.get("service").cloned(),
                scope: params.get("scope").cloned(),
            })
        }
        _ => None,
    }
}

/// Parses `key="quoted, value", key2=token` auth parameters.
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value);
    }
    out
}

/// The token server's answer (`token` or, OAuth2-style, `access_token`).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    /// The bearer token, with the time it may be reused until (the spec's default lifetime is 60 s).
    pub fn into_token(self) -> Option<CachedToken> {
        let value = self.token.filter(|t| !t.is_empty()).or(self.access_token.filter(|t| !t.is_empty()))?;
        // Refuse tokens that could smuggle header syntax.
        if value.chars().any(|c| c.is_control() || c == ' ') {
            return None;
        }
        let lifetime = self.expires_in.unwrap_or(60).clamp(1, 24 * 3600);
        // Renew a little early so a token never expires mid-request.
        let usable = Duration::from_secs(lifetime).saturating_sub(Duration::from_secs(5));
        Some(CachedToken { value, valid_until: Instant::now() + usable })
    }
}

#[derive(Debug, Clone)]
pub struct CachedToken {
    pub value: String,
    pub valid_until: Instant,
}

impl CachedToken {
    pub fn is_valid(&self) -> bool {
        Instant::now() < self.valid_until
    }
}

/// The pull scope for a repository.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        let c = parse_challenge(r#"bearer realm=http://x/t, service="s\"q""#).unwrap();
        assert_eq!(
            c,
            Challenge::Bearer { realm: "http://x/t".into(), service: Some("s\"q".into()), scope: None }
        );
        assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge(""), None);
    }

    #[test]
    fn token_forms_and_expiry() {
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"abc","expires_in":300}"#).unwrap();
        let t = t.into_token().unwrap();
        assert_eq!(t.value, "abc");
        assert!(t.is_valid());
        let t: TokenResponse = serde_json::from_str(r#"{"token":"x\ny"}"#).unwrap();
        assert!(t.into_token().is_none());
        let t: TokenResponse = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert!(t.into_token().is_none());
    }
}
