//! Docker-shaped `inspect` JSON for containers.

use serde_json::{Value, json};

use super::Container;
use crate::engine::Engine;
use crate::engine::error::Result;
use crate::engine::store::containers::State;

/// RFC 3339 with nanoseconds, or Docker's zero time when unset.
pub fn time_text(nanos: i64) -> String {
    if nanos <= 0 {
        return "0001-01-01T00:00:00Z".into();
    }
    chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl Engine {
    pub fn inspect_container(&self, key: &str) -> Result<Value> {
        let c = self.container(key)?;
        let dirs = self.container_dirs(c.id());
        let image = self.find_image(&c.row.image_id).ok();
        let lower: Vec<String> = image
            .map(|i| i.layers.iter().rev().map(|l| self.layers.diff_dir(l).display().to_string()).collect())
            .unwrap_or_default();
        let network_settings = self.network_settings(&c)?;
        let argv = c.config.argv();
        let s = c.row.state;
        Ok(json!({
            "Id": c.row.id,
            "Created": time_text(c.row.created),
            "Path": argv.first().cloned().unwrap_or_default(),
            "Args": argv.iter().skip(1).cloned().collect::<Vec<_>>(),
            "State": state_json(&c),
            "Image": c.row.image_id,
            "ResolvConfPath": dirs.etc().join("resolv.conf"),
            "HostnamePath": dirs.etc().join("hostname"),
            "HostsPath": dirs.etc().join("hosts"),
            "LogPath": dirs.log(),
            "Name": format!("/{}", c.row.name),
            "RestartCount": c.row.restart_count,
            "Driver": "overlay",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": Value::Null,
            "HostConfig": c.host(),
            "GraphDriver": {
                "Name": "overlay",
                "Data": {
                    "LowerDir": lower.join(":"),
                    "UpperDir": dirs.upper(),
                    "WorkDir": dirs.work(),
                    "MergedDir": dirs.rootfs(),
                }
            },
            "Mounts": [],
            "Config": c.config,
            "NetworkSettings": network_settings,
            "Status": s.as_str(),
        }))
    }
}

fn state_json(c: &Container) -> Value {
    let s = c.row.state;
    let status = match s {
        State::Starting => "created",
        State::Removing => "removing",
        other => other.as_str(),
    };
    json!({
        "Status": status,
        "Running": matches!(s, State::Running | State::Paused | State::Restarting),
        "Paused": s == State::Paused,
        "Restarting": s == State::Restarting,
        "OOMKilled": c.row.oom_killed,
        "Dead": s == State::Dead,
        "Pid": c.row.pid,
        "ExitCode": c.row.exit_code,
        "Error": c.row.error,
        "StartedAt": time_text(c.row.started_at),
        "FinishedAt": time_text(c.row.finished_at),
    })
}
