//! `gantry update`: new CPU, memory, PIDs and block I/O limits (and restart policy) for a
//! container. A running container's cgroup changes at once; the record changes only after the
//! kernel accepted the new limits, and the monitor reads it before every restart.

use super::config::{HostConfig, RestartPolicy};
use crate::engine::Engine;
use crate::engine::cgroups::{Layout, ResourceUpdate, support};
use crate::engine::error::{Error, Result};
use crate::engine::store::containers::{self, State};

impl Engine {
    /// Applies `update` (and a new restart policy) to a container; returns the warnings for
    /// limits this host cannot honour.
    pub fn update_container(
        &self,
        key: &str,
        update: &ResourceUpdate,
        restart: Option<RestartPolicy>,
    ) -> Result<Vec<String>> {
        let c = self.container(key)?;
        let id = c.id().to_string();
        let mut host: HostConfig = c.host().clone();
        let mut resources = host.resources.clone();
        resources.merge(update).map_err(Error::InvalidArgument)?;
        let warnings = support::HostLimits::probe(Layout::host())
            .check(&mut resources)
            .map_err(Error::InvalidArgument)?;
        if let Some(policy) = restart {
            if host.auto_remove && policy.name != "no" {
                return Err(Error::InvalidArgument(
                    "Restart policy cannot be updated because AutoRemove is enabled for the container".into(),
                ));
            }
            host.restart_policy = policy;
        }
        if matches!(c.row.state, State::Running | State::Paused) && !update.is_empty() {
            Layout::host()
                .apply(&id, &resources)
                .map_err(|e| Error::Runtime(format!("Cannot update container {id}: {e}")))?;
        }
        host.resources = resources;
        let text = serde_json::to_string(&host).map_err(|e| Error::Runtime(e.to_string()))?;
        self.db.write(|tx| containers::set_host_config(tx, &id, &text).map_err(|e| self.db.err(e)))?;
        self.record("container", "update", &id, vec![("name".into(), c.row.name.clone())]);
        Ok(warnings)
    }
}
