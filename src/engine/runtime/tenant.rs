//! What an exec'd process must get that libcontainer 0.7's tenant path leaves out: the
//! container's seccomp filter. Its tenant builder replaces the spec's `linux` section, so the
//! filter in the container's config.json never reaches the exec'd process. gantry loads it
//! itself from an [`Executor`] that runs in the exec'd process right before `execve`.
//!
//! By then the capabilities are already dropped, and without `no_new_privileges` loading a
//! filter takes CAP_SYS_ADMIN (as runc and Docker run exec: filtered, setuid binaries still
//! work). So the process is given CAP_SYS_ADMIN in its effective and permitted sets only, never
//! in its bounding set: the filter loads, and `execve` itself takes the capability away again
//! (a root process keeps only what its bounding set allows, any other user keeps nothing).

use oci_spec::runtime::{LinuxSeccomp, Spec};
use serde_json::Value;

use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError, default::DefaultExecutor};

const SYS_ADMIN: &str = "CAP_SYS_ADMIN";

/// Loads the container's seccomp filter, then runs the workload as libcontainer would.
#[derive(Clone)]
pub struct FilteredExecutor {
    seccomp: LinuxSeccomp,
}

impl Executor for FilteredExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        libcontainer::seccomp::initialize_seccomp(&self.seccomp)
            .map_err(|e| ExecutorError::Other(format!("loading the container's seccomp filter: {e}")))?;
        DefaultExecutor {}.exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        DefaultExecutor {}.validate(spec)
    }
}

/// The executor for a process exec'd into a container with `spec` (its config.json), and the
/// process spec adjusted so the executor can load the filter. `None` when the container runs
/// without a filter (`--privileged`, `seccomp=unconfined`).
pub fn filtered(spec: &Value, process: &mut Value) -> Result<Option<FilteredExecutor>, String> {
    let Some(raw) = spec.pointer("/linux/seccomp").filter(|v| !v.is_null()) else { return Ok(None) };
    let seccomp: LinuxSeccomp =
        serde_json::from_value(raw.clone()).map_err(|e| format!("the container's seccomp profile: {e}"))?;
    let no_new_privs = process.get("noNewPrivileges").and_then(Value::as_bool).unwrap_or(false);
    if !no_new_privs {
        lend_sys_admin(process);
    }
    Ok(Some(FilteredExecutor { seccomp }))
}

/// Adds CAP_SYS_ADMIN to the effective and permitted sets, unless the bounding set already
/// has it (then the container holds it anyway).
fn lend_sys_admin(process: &mut Value) {
    let caps = &mut process["capabilities"];
    let has = |set: &Value| set.as_array().is_some_and(|a| a.iter().any(|c| c == SYS_ADMIN));
    if has(&caps["bounding"]) {
        return;
    }
    for set in ["effective", "permitted"] {
        match caps[set].as_array_mut() {
            Some(list) if !list.iter().any(|c| c == SYS_ADMIN) => list.push(SYS_ADMIN.into()),
            Some(_) => {}
            None => caps[set] = serde_json::json!([SYS_ADMIN]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn process(no_new_privs: bool) -> Value {
        json!({
            "args": ["sh"],
            "noNewPrivileges": no_new_privs,
            "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
        })
    }

    fn spec_with_filter() -> Value {
        json!({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}
        ]}}})
    }

    #[test]
    fn lends_sys_admin_outside_the_bounding_set_only() {
        let mut p = process(false);
        assert!(filtered(&spec_with_filter(), &mut p).unwrap().is_some());
        let caps = &p["capabilities"];
        assert_eq!(caps["effective"], json!(["CAP_CHOWN", "CAP_SYS_ADMIN"]));
        assert_eq!(caps["permitted"], json!(["CAP_CHOWN", "CAP_SYS_ADMIN"]));
        assert_eq!(caps["bounding"], json!(["CAP_CHOWN"]), "execve must take it away again");
    }

    #[test]
    fn no_new_privileges_needs_no_capability() {
        let mut p = process(true);
        let before = p.clone();
        assert!(filtered(&spec_with_filter(), &mut p).unwrap().is_some());
        assert_eq!(p, before);
    }

    #[test]
    fn unconfined_containers_get_no_executor() {
        let mut p = process(false);
        let before = p.clone();
        assert!(filtered(&json!({"linux": {}}), &mut p).unwrap().is_none());
        assert!(filtered(&json!({"linux": {"seccomp": null}}), &mut p).unwrap().is_none());
        assert_eq!(p, before);
    }

    #[test]
    fn a_container_holding_sys_admin_is_left_alone() {
        let mut p = json!({"capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_SYS_ADMIN"]}});
        let before = p.clone();
        assert!(filtered(&spec_with_filter(), &mut p).unwrap().is_some());
        assert_eq!(p, before);
    }
}
