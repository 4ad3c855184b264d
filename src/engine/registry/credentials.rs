//! Registry credentials in Docker's client config (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`): `{"auths": {"<server>": {"auth": base64("user:pass")}}}`.
//! Other keys in the file are preserved; the file is rewritten atomically with mode 0600.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::error::RegistryError;

/// The key Docker uses for Docker Hub in `auths`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// The client config file and the credentials in it.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
}

impl CredentialStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    pub fn default_path() -> PathBuf {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return PathBuf::from(dir).join("config.json");
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
        home.join(".docker").join("config.json")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key under which a registry's credentials are stored (Docker Hub has its own).
    pub fn key_for(registry: &str) -> String {
        if registry == "docker.io" || registry == "index.docker.io" || registry == "registry-1.docker.io" {
            DOCKER_HUB_KEY.to_string()
        } else {
            registry.to_string()
        }
    }

    fn err(&self, message: impl Into<String>) -> RegistryError {
        RegistryError::Credentials { path: self.path.display().to_string(), message: message.into() }
    }

    fn load(&self) -> Result<Map<String, Value>, RegistryError> {
        match std::fs::read(&self.path) {
            Ok(data) if data.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
            Ok(data) => match serde_json::from_slice::<Value>(&data) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => Err(self.err("not a JSON object")),
                Err(e) => Err(self.err(format!("invalid JSON: {e}"))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(self.err(e.to_string())),
        }
    }

    /// The credentials stored for `registry`, trying the forms Docker writes (`host`,
    /// `https://host`, `http://host`, `https://host/v1/`).
    pub fn get(&self, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        let cfg = self.load()?;
        let Some(Value::Object(auths)) = cfg.get("auths") else { return Ok(None) };
        let key = Self::key_for(registry);
        let mut candidates = vec![key.clone()];
        for scheme in ["https://", "http://"] {
            candidates.push(format!("{scheme}{key}"));
            candidates.push(format!("{scheme}{key}/v1/"));
            candidates.push(format!("{scheme}{key}/v2/"));
        }
        for c in candidates {
            if let Some(auth) = auths.get(&c).and_then(|v| v.get("auth")).and_then(Value::as_str) {
                return decode(auth).map(Some).ok_or_else(|| self.err(format!("malformed auth for {c}")));
            }
        }
        Ok(None)
    }

    /// Stores credentials for `registry`.
    pub fn set(&self, registry: &str, creds: &Credentials) -> Result<(), RegistryError> {
        let mut cfg = self.load()?;
        let auths = cfg.entry("auths").or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(auths) = auths else { return Err(self.err("\"auths\" is not an object")) };
        let encoded = STANDARD.encode(format!("{}:{}", creds.username, creds.password));
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(encoded));
        auths.insert(Self::key_for(registry), Value::Object(entry));
        self.save(&cfg)
    }

    /// Removes credentials; returns whether any were stored.
    pub fn remove(&self, registry: &str) -> Result<bool, RegistryError> {
        let mut cfg = self.load()?;
        let key = Self::key_for(registry);
        let removed = match cfg.get_mut("auths") {
            Some(Value::Object(auths)) => {
                let keys: Vec<String> = auths
                    .keys()
                    .filter(|k| {
                        let bare = k.trim_start_matches("https://").trim_start_matches("http://");
                        let bare = bare.trim_end_matches('/').trim_end_matches("/v1").trim_end_matches("/v2");
                        **k == key || bare == key
                    })
                    .cloned()
                    .collect();
                keys.iter().filter(|k| auths.remove(*k).is_some()).count() > 0
            }
            _ => false,
        };
        if removed {
            self.save(&cfg)?;
        }
        Ok(removed)
    }

    /// Registries that have stored credentials (for the TUI's registry picker).
    pub fn registries(&self) -> Vec<String> {
        let Ok(cfg) = self.load() else { return Vec::new() };
        let Some(Value::Object(auths)) = cfg.get("auths") else { return Vec::new() };
        let mut out: BTreeMap<String, ()> = BTreeMap::new();
        for k in auths.keys() {
            let name = if k == DOCKER_HUB_KEY {
                "docker.io".to_string()
            } else {
                k.trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            if !name.is_empty() {
                out.insert(name, ());
            }
        }
        out.into_keys().collect()
    }

    fn save(&self, cfg: &Map<String, Value>) -> Result<(), RegistryError> {
        let dir = self.path.parent().ok_or_else(|| self.err("no parent directory"))?;
        std::fs::create_dir_all(dir).map_err(|e| self.err(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| self.err(e.to_string()))?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| self.err(e.to_string()))?;
        let text =
            serde_json::to_string_pretty(&Value::Object(cfg.clone())).map_err(|e| self.err(e.to_string()))?;
        tmp.write_all(text.as_bytes()).map_err(|e| self.err(e.to_string()))?;
        tmp.write_all(b"\n").map_err(|e| self.err(e.to_string()))?;
        tmp.persist(&self.path).map_err(|e| self.err(e.error.to_string()))?;
        Ok(())
    }
}

fn decode(auth: &str) -> Option<Credentials> {
    let raw = STANDARD.decode(auth.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credentials { username: u.to_string(), password: p.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_other_keys_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"credsStore":"","auths":{"other:1":{"auth":"eDp5"}}}"#).unwrap();
        let store = CredentialStore::new(path.clone());
        let c = Credentials { username: "u".into(), password: "p:w".into() };
        store.set("127.0.0.1:5000", &c).unwrap();
        assert_eq!(store.get("127.0.0.1:5000").unwrap(), Some(c));
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["auths"]["127.0.0.1:5000"]["auth"], STANDARD.encode("u:p:w"));
        assert!(v.get("credsStore").is_some());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(store.registries(), vec!["127.0.0.1:5000", "other:1"]);
        assert!(store.remove("127.0.0.1:5000").unwrap());
        assert!(!store.remove("127.0.0.1:5000").unwrap());
        assert_eq!(store.get("127.0.0.1:5000").unwrap(), None);
        assert_eq!(store.get("other:1").unwrap().unwrap().username, "x");
    }

    #[test]
    fn docker_hub_key_and_url_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"{DOCKER_HUB_KEY}":{{"auth":"{}"}},"https://r.lan:5000":{{"auth":"{}"}}}}}}"#,
                STANDARD.encode("hub:pw"),
                STANDARD.encode("lan:pw")
            ),
        )
        .unwrap();
        let store = CredentialStore::new(path);
        assert_eq!(store.get("docker.io").unwrap().unwrap().username, "hub");
        assert_eq!(store.get("r.lan:5000").unwrap().unwrap().username, "lan");
        assert_eq!(store.get("nope").unwrap(), None);
    }
}
