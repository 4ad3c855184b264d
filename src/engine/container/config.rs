//! What a container is made of, as Docker names it: `Config` (what runs) and `HostConfig`
//! (how the host runs it). Both are stored as JSON in the container row and shown by inspect.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::engine::network::ports::{PortBinding, PortMap};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub image: String,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    /// `{"80/tcp": {}}`: the image's EXPOSE plus `--expose`.
    pub exposed_ports: BTreeMap<String, EmptyObject>,
}

/// Docker's `{}` values (as in `ExposedPorts`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmptyObject {}

impl ContainerConfig {
    /// The process to run: entrypoint followed by cmd.
    pub fn argv(&self) -> Vec<String> {
        let mut v = self.entrypoint.clone().unwrap_or_default();
        v.extend(self.cmd.clone().unwrap_or_default());
        v
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `no` (empty), `always`, `on-failure`, `unless-stopped`.
    pub name: String,
    pub maximum_retry_count: i64,
}

impl RestartPolicy {
    /// Parses Docker's `--restart` value: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let max = match count {
            None => 0,
            Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                format!("invalid restart policy {s:?}: maximum retry count must be a non-negative integer")
            })?,
        };
        match name {
            "no" | "" if count.is_none() => Ok(Self { name: "no".into(), maximum_retry_count: 0 }),
            "always" | "unless-stopped" if count.is_none() => {
                Ok(Self { name: name.into(), maximum_retry_count: 0 })
            }
            "on-failure" => Ok(Self { name: name.into(), maximum_retry_count: max }),
            "always" | "unless-stopped" | "no" => Err(format!(
                "invalid restart policy {s:?}: maximum retry count can only be used with 'on-failure'"
            )),
            _ => Err(format!(
                "invalid restart policy {s:?}: use no, always, unless-stopped or on-failure[:max-retries]"
            )),
        }
    }

    /// Whether a container that exited with `code` should be restarted, given how often it
    /// already was and whether the user stopped it.
    pub fn should_restart(&self, code: i32, restarts: i64, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self.name.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => {
                code != 0 && (self.maximum_retry_count == 0 || restarts < self.maximum_retry_count)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

impl LogConfig {
    /// The monitor's log file (the only driver), with `--log-opt` options.
    pub fn gantry_file(config: BTreeMap<String, String>) -> Self {
        Self { kind: "gantry-file".into(), config }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

impl DeviceMapping {
    /// Parses `--device HOST[:CONTAINER][:PERMS]`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let perms_ok = |p: &str| !p.is_empty() && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
        let (host, ctr, perms) = match parts.as_slice() {
            [h] => (*h, *h, "rwm"),
            [h, p] if perms_ok(p) => (*h, *h, *p),
            [h, c] => (*h, *c, "rwm"),
            [h, c, p] if perms_ok(p) => (*h, *c, *p),
            _ => return Err(format!("invalid device specification {s:?}")),
        };
        if !host.starts_with('/') || !ctr.starts_with('/') {
            return Err(format!("invalid device specification {s:?}: paths must be absolute"));
        }
        Ok(Self {
            path_on_host: host.into(),
            path_in_container: ctr.into(),
            cgroup_permissions: perms.into(),
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub restart_policy: RestartPolicy,
    pub auto_remove: bool,
    pub privileged: bool,
    pub readonly_rootfs: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub devices: Vec<DeviceMapping>,
    pub ipc_mode: String,
    pub pid_mode: String,
    pub network_mode: String,
    pub init: bool,
    pub log_config: LogConfig,
    pub port_bindings: PortMap,
    pub publish_all_ports: bool,
    /// `--link name:alias`.
    pub links: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// `--add-host name:ip`.
    pub extra_hosts: Vec<String>,
    /// Memory, CPU, PIDs and block I/O limits and ulimits (Docker's flat field names).
    #[serde(flatten)]
    pub resources: crate::engine::cgroups::Resources,
}

impl HostConfig {
    /// `--ipc` when not given: a namespace of the container's own.
    pub const DEFAULT_IPC: &'static str = "private";

    /// The ports to publish: `-p` bindings, plus (with `-P`) every exposed port not bound
    /// explicitly, on an ephemeral host port.
    pub fn published(&self, config: &ContainerConfig) -> Vec<(String, Vec<PortBinding>)> {
        let mut out: Vec<(String, Vec<PortBinding>)> =
            self.port_bindings.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if self.publish_all_ports {
            for key in config.exposed_ports.keys() {
                if !self.port_bindings.contains_key(key) {
                    out.push((key.clone(), vec![PortBinding::default()]));
                }
            }
        }
        out
    }

    /// `--security-opt no-new-privileges[:true|false]`.
    pub fn no_new_privileges(&self) -> bool {
        self.security_opt.iter().any(|o| {
            matches!(o.as_str(), "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true")
        })
    }

    /// `--security-opt seccomp=unconfined|<file>`: `None` for the default profile.
    pub fn seccomp(&self) -> Option<&str> {
        self.security_opt
            .iter()
            .find_map(|o| o.strip_prefix("seccomp=").or_else(|| o.strip_prefix("seccomp:")))
    }

    /// The log rotation settings (`--log-opt max-size=10m --log-opt max-file=3`).
    pub fn log_rotation(&self) -> Result<(Option<u64>, u32), String> {
        let size = match self.log_config.config.get("max-size") {
            Some(s) => Some(parse_size(s).ok_or_else(|| format!("invalid max-size {s:?}"))?),
            None => None,
        };
        let files = match self.log_config.config.get("max-file") {
            Some(s) => {
                s.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| format!("invalid max-file {s:?}"))?
            }
            None => 1,
        };
        Ok((size, files))
    }
}

/// Sets `KEY=VALUE` in an environment list, replacing an earlier entry for the same key.
pub fn set_env(env: &mut Vec<String>, entry: &str) {
    let key = entry.split('=').next().unwrap_or("");
    env.retain(|x| x.split('=').next() != Some(key));
    env.push(entry.to_string());
}

/// Parses Docker's size units: `10`, `10b`, `10k`, `10m`, `1g` (binary multiples).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').filter(|r| r.ends_with(['k', 'm', 'g'])).unwrap_or(&s);
    let (num, mult) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1u64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        'b' => (&s[..s.len() - 1], 1),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n >= 0.0).then_some((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!(RestartPolicy::parse("on-failure:3").unwrap().maximum_retry_count, 3);
        assert!(RestartPolicy::parse("always:3").is_err());
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("on-failure:-1").is_err());
        let p = RestartPolicy::parse("on-failure:3").unwrap();
        assert!(p.should_restart(1, 2, false));
        assert!(!p.should_restart(1, 3, false));
        assert!(!p.should_restart(0, 0, false));
        let a = RestartPolicy::parse("always").unwrap();
        assert!(a.should_restart(0, 100, false));
        assert!(!a.should_restart(0, 0, true));
        assert!(!RestartPolicy::parse("no").unwrap().should_restart(1, 0, false));
    }

    #[test]
    fn sizes_and_devices() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("32mb"), Some(32 << 20));
        assert_eq!(parse_size("x"), None);
        let d = DeviceMapping::parse("/dev/null:/dev/mynull:r").unwrap();
        assert_eq!((d.path_in_container.as_str(), d.cgroup_permissions.as_str()), ("/dev/mynull", "r"));
        assert_eq!(DeviceMapping::parse("/dev/zero").unwrap().cgroup_permissions, "rwm");
        assert!(DeviceMapping::parse("dev/zero").is_err());
    }
}
