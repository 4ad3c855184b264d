//! Loading a container's seccomp filter from gantry itself, in an [`Executor`] that runs in the
//! container's process right before `execve`. Every container's init gets its filter this way
//! (a program compiled once per profile, see [`super::seccomp_bpf`]), and so does every exec'd
//! process: libcontainer 0.7's tenant builder replaces the spec's `linux` section, so it would
//! never load the container's filter for them.
//!
//! By then the capabilities are already dropped, and without `no_new_privileges` loading a
//! filter takes CAP_SYS_ADMIN (as runc and Docker run exec: filtered, setuid binaries still
//! work). So the process is given CAP_SYS_ADMIN in its effective and permitted sets only, never
//! in its bounding set: the filter loads, and `execve` itself takes the capability away again
//! (a root process keeps only what its bounding set allows, any other user keeps nothing).

use std::path::Path;

use oci_spec::runtime::Spec;
use serde_json::Value;

use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError, default::DefaultExecutor};

use super::seccomp_bpf::Program;

const SYS_ADMIN: &str = "CAP_SYS_ADMIN";

/// The name of a container's compiled filter in its bundle.
pub const PROGRAM_FILE: &str = "seccomp.bpf";

/// Loads the container's seccomp filter, then runs the workload as libcontainer would.
#[derive(Clone)]
pub struct FilteredExecutor {
    program: Program,
}

impl FilteredExecutor {
    /// Filters with `program`; `process` (the process spec) is adjusted so it can load it.
    pub fn new(program: Program, process: &mut Value) -> Self {
        let no_new_privs = process.get("noNewPrivileges").and_then(Value::as_bool).unwrap_or(false);
        if !no_new_privs {
            lend_sys_admin(process);
        }
        FilteredExecutor { program }
    }
}

impl Executor for FilteredExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        self.program
            .load()
            .map_err(|e| ExecutorError::Other(format!("loading the container's seccomp filter: {e}")))?;
        DefaultExecutor {}.exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        DefaultExecutor {}.validate(spec)
    }
}

/// The executor for a process exec'd into the container whose bundle is `bundle` and whose
/// spec is `spec` (its config.json), and the process spec adjusted so the executor can load the
/// filter. `None` when the container runs without a filter (`--privileged`,
/// `seccomp=unconfined`). The filter is the compiled program the container's own init loaded;
/// a container started by an older gantry has its profile in the spec instead.
pub fn filtered(
    bundle: &Path,
    spec: &Value,
    process: &mut Value,
) -> Result<Option<FilteredExecutor>, String> {
    let program = match Program::read(&bundle.join(PROGRAM_FILE))? {
        Some(p) => p,
        None => match spec.pointer("/linux/seccomp").filter(|v| !v.is_null()) {
            Some(raw) => Program::compile(
                &serde_json::from_value(raw.clone())
                    .map_err(|e| format!("the container's seccomp profile: {e}"))?,
            )?,
            None => return Ok(None),
        },
    };
    Ok(Some(FilteredExecutor::new(program, process)))
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

    fn no_bundle() -> std::path::PathBuf {
        std::path::PathBuf::from("/nonexistent/gantry-bundle")
    }

    fn spec_with_filter() -> Value {
        json!({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}
        ]}}})
    }

    #[test]
    fn lends_sys_admin_outside_the_bounding_set_only() {
        let mut p = process(false);
        assert!(filtered(&no_bundle(), &spec_with_filter(), &mut p).unwrap().is_some());
        let caps = &p["capabilities"];
        assert_eq!(caps["effective"], json!(["CAP_CHOWN", "CAP_SYS_ADMIN"]));
        assert_eq!(caps["permitted"], json!(["CAP_CHOWN", "CAP_SYS_ADMIN"]));
        assert_eq!(caps["bounding"], json!(["CAP_CHOWN"]), "execve must take it away again");
    }

    #[test]
    fn no_new_privileges_needs_no_capability() {
        let mut p = process(true);
        let before = p.clone();
        assert!(filtered(&no_bundle(), &spec_with_filter(), &mut p).unwrap().is_some());
        assert_eq!(p, before);
    }

    #[test]
    fn unconfined_containers_get_no_executor() {
        let mut p = process(false);
        let before = p.clone();
        assert!(filtered(&no_bundle(), &json!({"linux": {}}), &mut p).unwrap().is_none());
        assert!(filtered(&no_bundle(), &json!({"linux": {"seccomp": null}}), &mut p).unwrap().is_none());
        assert_eq!(p, before);
    }

    #[test]
    fn a_container_holding_sys_admin_is_left_alone() {
        let mut p = json!({"capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_SYS_ADMIN"]}});
        let before = p.clone();
        assert!(filtered(&no_bundle(), &spec_with_filter(), &mut p).unwrap().is_some());
        assert_eq!(p, before);
    }

    #[test]
    fn the_bundle_program_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let profile = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]});
        let program = Program::compile(&serde_json::from_value(profile).unwrap()).unwrap();
        program.store(&dir.path().join(PROGRAM_FILE), &dir.path().join("tmp")).unwrap();
        // The spec says unconfined, but the init loaded the bundle's program: exec gets it too.
        let mut p = process(false);
        assert!(filtered(dir.path(), &json!({"linux": {}}), &mut p).unwrap().is_some());
        std::fs::write(dir.path().join(PROGRAM_FILE), b"damaged").unwrap();
        assert!(
            filtered(dir.path(), &json!({"linux": {}}), &mut p).is_err(),
            "a damaged program is an error"
        );
    }
}
