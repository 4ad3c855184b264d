//! The engine's settings file (`/etc/gantry/config.toml`, or `$GANTRY_CONFIG`). Every key is
//! optional; a missing file means the defaults.
//!
//! ```toml
//! insecure_registries = ["registry.lan:5000"]   # plain HTTP allowed (besides loopback)
//! max_concurrent_downloads = 3
//! certs_dir = "/etc/docker/certs.d"             # <host:port>/ca.crt trusted per registry
//! max_layer_bytes = 34359738368                  # extraction budget per layer
//! max_image_bytes = 137438953472                 # extraction budget per image
//! max_image_entries = 8000000                    # tar entries per image
//! registry_read_timeout = 60                     # seconds a registry may stay silent mid-response
//!
//! [network]
//! bridge = "gantry0"           # the default bridge device (Docker's docker0)
//! bip = "172.30.0.1/16"        # its gateway address and subnet (default: a free pool subnet)
//! fixed_cidr = "172.30.5.0/24" # where container addresses come from (default: the subnet)
//! mtu = 1500
//! icc = true                   # inter-container traffic on the default bridge
//! nft_table = "gantry"         # the nftables table gantry owns (family ip)
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};

pub const DEFAULT_CONFIG: &str = "/etc/gantry/config.toml";
pub const DEFAULT_CERTS_DIR: &str = "/etc/docker/certs.d";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Registries reached over plain HTTP (or HTTPS without verification), as Docker's
    /// `insecure-registries`. Loopback registries are always allowed plain HTTP.
    pub insecure_registries: Vec<String>,
    /// How many layers one pull downloads at once.
    pub max_concurrent_downloads: usize,
    /// Per-registry CA certificates: `<certs_dir>/<host[:port]>/ca.crt`.
    pub certs_dir: PathBuf,
    /// Decompressed bytes one layer may expand to (decompression-bomb budget).
    pub max_layer_bytes: u64,
    /// Tar entries one layer may hold.
    pub max_layer_entries: u64,
    /// Decompressed bytes one whole image may expand to.
    pub max_image_bytes: u64,
    /// Tar entries one whole image may hold (checked as each layer completes, so an image may
    /// overshoot by at most the layers extracting at once, each bounded by its own limit).
    pub max_image_entries: u64,
    /// Seconds a registry may stay silent in the middle of a response before the transfer
    /// counts as failed (and a layer is retried).
    pub registry_read_timeout: u64,
    /// The default bridge and the packet-filter settings.
    pub network: NetworkConfig,
}

/// Docker's daemon network options (`--bip`, `--fixed-cidr`, `--mtu`, `--icc`), plus the
/// names of the host objects gantry owns.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    pub bridge: String,
    pub bip: Option<String>,
    pub fixed_cidr: Option<String>,
    pub mtu: u32,
    pub icc: bool,
    pub nft_table: String,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            bridge: "gantry0".into(),
            bip: None,
            fixed_cidr: None,
            mtu: 1500,
            icc: true,
            nft_table: "gantry".into(),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            max_concurrent_downloads: 3,
            certs_dir: PathBuf::from(DEFAULT_CERTS_DIR),
            max_layer_bytes: 32 << 30,
            max_layer_entries: 2_000_000,
            max_image_bytes: 128 << 30,
            max_image_entries: 8_000_000,
            registry_read_timeout: 60,
            network: NetworkConfig::default(),
        }
    }
}

impl EngineConfig {
    /// Loads the file at `path`; a file that does not exist yields the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        let cfg: Self = toml::from_str(&text)
            .map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
        if cfg.max_concurrent_downloads == 0 || cfg.max_concurrent_downloads > 32 {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: "max_concurrent_downloads must be between 1 and 32".into(),
            });
        }
        if cfg.registry_read_timeout == 0 {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: "registry_read_timeout must be at least 1 second".into(),
            });
        }
        cfg.network.validate().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        Ok(cfg)
    }

    /// The config path in effect: `$GANTRY_CONFIG` or the default.
    pub fn default_path() -> PathBuf {
        std::env::var_os("GANTRY_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }
}

impl NetworkConfig {
    fn validate(&self) -> std::result::Result<(), String> {
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 15
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        };
        if !name_ok(&self.bridge) {
            return Err(format!("network.bridge {:?} is not a valid interface name", self.bridge));
        }
        if self.nft_table.is_empty()
            || !self.nft_table.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!("network.nft_table {:?} must be letters, digits and _", self.nft_table));
        }
        if !(576..=65535).contains(&self.mtu) {
            return Err(format!("network.mtu {} is out of range", self.mtu));
        }
        if let Some(b) = &self.bip {
            b.parse::<ipnet::Ipv4Net>().map_err(|_| format!("network.bip {b:?} is not an IPv4 CIDR"))?;
        }
        if let Some(c) = &self.fixed_cidr {
            c.parse::<ipnet::Ipv4Net>()
                .map_err(|_| format!("network.fixed_cidr {c:?} is not an IPv4 CIDR"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_defaults() {
        let cfg = EngineConfig::load(Path::new("/nonexistent/gantry.toml")).unwrap();
        assert_eq!(cfg.max_concurrent_downloads, 3);
    }

    #[test]
    fn parses_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "insecure_registries = [\"r.lan:5000\"]\nmax_concurrent_downloads = 5\n").unwrap();
        let cfg = EngineConfig::load(&p).unwrap();
        assert_eq!(cfg.insecure_registries, vec!["r.lan:5000"]);
        assert_eq!(cfg.max_concurrent_downloads, 5);
        std::fs::write(&p, "max_concurrent_downloads = 0\n").unwrap();
        assert!(EngineConfig::load(&p).is_err());
        std::fs::write(&p, "[network]\nbridge = \"br0\"\nbip = \"10.99.0.1/24\"\nicc = false\n").unwrap();
        let cfg = EngineConfig::load(&p).unwrap();
        assert_eq!((cfg.network.bridge.as_str(), cfg.network.icc), ("br0", false));
        std::fs::write(&p, "[network]\nbridge = \"a-name-far-too-long\"\n").unwrap();
        assert!(EngineConfig::load(&p).is_err());
        std::fs::write(&p, "[network]\nbip = \"10.99.0.1\"\n").unwrap();
        assert!(EngineConfig::load(&p).is_err());
        std::fs::write(&p, "bogus = 1\n").unwrap();
        let err = EngineConfig::load(&p).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
