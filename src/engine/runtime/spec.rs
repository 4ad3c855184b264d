//! The OCI runtime spec for a container: today's Docker defaults (namespaces, mounts, masked and
//! read-only paths, 14 capabilities, seccomp allowlist, device allowlist), relaxed only by the
//! flags that ask for it. Built as JSON and checked by deserializing into `oci_spec`'s `Spec`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::caps;
use super::seccomp;
use super::user::ResolvedUser;
use crate::engine::container::config::{ContainerConfig, HostConfig};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

const READONLY_PATHS: &[&str] = &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// A namespace the container creates (`None`) or joins (`Some(path)`); absent means the host's.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    pub pid: Option<Option<PathBuf>>,
    pub ipc: Option<Option<PathBuf>>,
    pub net: Option<Option<PathBuf>>,
}

/// A host device to create inside the container.
#[derive(Debug, Clone)]
pub struct Device {
    pub path: String,
    pub kind: char,
    pub major: i64,
    pub minor: i64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub access: String,
}

/// Everything the spec depends on.
pub struct SpecInput<'a> {
    pub id: &'a str,
    pub config: &'a ContainerConfig,
    pub host: &'a HostConfig,
    pub rootfs: &'a Path,
    pub user: &'a ResolvedUser,
    /// Directory holding hostname, hosts and resolv.conf.
    pub etc_dir: &'a Path,
    pub namespaces: Namespaces,
    pub cgroup_v2: bool,
    /// `--device` entries, and every host device for `--privileged`.
    pub devices: Vec<Device>,
    /// A static init to run as PID 1 (`--init`), bind-mounted at /sbin/docker-init.
    pub init: Option<&'a Path>,
    /// A user seccomp profile's text (`--security-opt seccomp=<file>`).
    pub seccomp_file: Option<&'a str>,
}

/// Builds the spec; errors are user errors (bad capability, bad profile, nothing to run).
pub fn build(i: &SpecInput<'_>) -> Result<Value, String> {
    let caps = caps::effective(i.host.privileged, &i.host.cap_add, &i.host.cap_drop)?;
    let cap_names: Vec<String> = caps.iter().map(|c| format!("CAP_{c}")).collect();
    let mut args = i.config.argv();
    if args.is_empty() {
        return Err("No command specified".into());
    }
    if i.init.is_some() {
        args.splice(0..0, ["/sbin/docker-init".to_string(), "--".to_string()]);
    }
    let seccomp = match (i.seccomp_file, i.host.seccomp()) {
        (_, Some("unconfined")) => None,
        (Some(text), _) => Some(seccomp::from_user_profile(text, &caps)?),
        (None, _) if i.host.privileged => None,
        (None, _) => Some(seccomp::default_profile(&caps)),
    };
    let mut namespaces = vec![json!({"type": "mount"}), json!({"type": "uts"})];
    for (kind, ns) in [("pid", &i.namespaces.pid), ("ipc", &i.namespaces.ipc), ("network", &i.namespaces.net)]
    {
        match ns {
            None => {}
            Some(None) => namespaces.push(json!({"type": kind})),
            Some(Some(path)) => namespaces.push(json!({"type": kind, "path": path})),
        }
    }
    if i.cgroup_v2 {
        namespaces.push(json!({"type": "cgroup"}));
    }
    let mut device_rules = vec![json!({"allow": i.host.privileged, "access": "rwm"})];
    let mut devices = Vec::new();
    for d in &i.devices {
        devices.push(json!({"path": d.path, "type": d.kind.to_string(), "major": d.major, "minor": d.minor,
            "fileMode": d.mode, "uid": d.uid, "gid": d.gid}));
        if !i.host.privileged {
            device_rules.push(json!({"allow": true, "type": d.kind.to_string(), "major": d.major, "minor": d.minor, "access": d.access}));
        }
    }
    let mut resources = i.host.resources.to_oci();
    resources["devices"] = json!(device_rules);
    let mut linux = json!({
        "cgroupsPath": crate::engine::cgroups::Layout::cgroups_path(i.id),
        "namespaces": namespaces,
        "resources": resources,
        "devices": devices,
    });
    if !i.host.privileged {
        linux["maskedPaths"] = json!(MASKED_PATHS);
        linux["readonlyPaths"] = json!(READONLY_PATHS);
    }
    let mut process = json!({
        "terminal": i.config.tty,
        "user": {"uid": i.user.uid, "gid": i.user.gid, "additionalGids": i.user.additional_gids},
        "args": args,
        "env": environment(i.config, i.user),
        "cwd": if i.config.working_dir.is_empty() { "/" } else { i.config.working_dir.as_str() },
        "capabilities": {"bounding": cap_names, "effective": cap_names, "permitted": cap_names, "inheritable": [], "ambient": []},
        // Without no-new-privileges gantry's executor is lent CAP_SYS_ADMIN to load the filter
        // (runtime::tenant); false and null mean the same to it.
        "noNewPrivileges": if i.host.no_new_privileges() { Value::Bool(true) } else { Value::Null },
    });
    let rlimits = i.host.resources.rlimits();
    if !rlimits.is_empty() {
        process["rlimits"] = json!(rlimits);
    }
    let mut spec = json!({
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": i.rootfs, "readonly": i.host.readonly_rootfs},
        "hostname": i.config.hostname,
        "domainname": i.config.domainname,
        "mounts": mounts(i),
        "linux": linux,
    });
    // The spec type is the authority on the format; refuse anything it would not accept. The
    // seccomp profile (most of the spec) is left out of this check: it is parsed as OCI's
    // `LinuxSeccomp` when compiled, and a cached program stands for exactly that text.
    <oci_spec::runtime::Spec as serde::Deserialize>::deserialize(&spec)
        .map_err(|e| format!("internal error: invalid runtime spec: {e}"))?;
    if let Some(s) = seccomp {
        spec["linux"]["seccomp"] = s;
    }
    Ok(spec)
}

/// Image and user variables, plus what Docker always provides (PATH, HOSTNAME, HOME, TERM).
fn environment(c: &ContainerConfig, u: &ResolvedUser) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    let has = |env: &[String], k: &str| env.iter().any(|e| e.split('=').next() == Some(k));
    for e in &c.env {
        crate::engine::container::config::set_env(&mut env, e);
    }
    if !has(&env, "PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !has(&env, "HOSTNAME") {
        env.push(format!("HOSTNAME={}", c.hostname));
    }
    if c.tty && !has(&env, "TERM") {
        env.push("TERM=xterm".into());
    }
    if !has(&env, "HOME") {
        env.push(format!("HOME={}", u.home));
    }
    env
}

fn mounts(i: &SpecInput<'_>) -> Vec<Value> {
    let sys_opts = if i.host.privileged {
        json!(["nosuid", "noexec", "nodev"])
    } else {
        json!(["nosuid", "noexec", "nodev", "ro"])
    };
    let mut m = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": sys_opts}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
    ];
    if i.cgroup_v2 {
        // With a cgroup namespace the container sees only its own subtree, read-only.
        m.push(json!({"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}));
    }
    // On v1 (hybrid) hosts libcontainer would mount the hierarchies read-write whatever the
    // options say, so /sys/fs/cgroup stays the empty directory of the read-only /sys.
    for f in ["hostname", "hosts", "resolv.conf"] {
        m.push(json!({"destination": format!("/etc/{f}"), "type": "bind", "source": i.etc_dir.join(f), "options": ["rbind", "rprivate"]}));
    }
    if let Some(init) = i.init {
        m.push(json!({"destination": "/sbin/docker-init", "type": "bind", "source": init, "options": ["bind", "ro", "nosuid", "nodev"]}));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(c: &'a ContainerConfig, h: &'a HostConfig, u: &'a ResolvedUser) -> SpecInput<'a> {
        SpecInput {
            id: "abc",
            config: c,
            host: h,
            rootfs: Path::new("/r"),
            user: u,
            etc_dir: Path::new("/e"),
            namespaces: Namespaces { pid: Some(None), ipc: Some(None), net: Some(None) },
            cgroup_v2: false,
            devices: vec![],
            init: None,
            seccomp_file: None,
        }
    }

    #[test]
    fn secure_defaults() {
        let c = ContainerConfig {
            cmd: Some(vec!["sh".into()]),
            hostname: "abc".into(),
            env: vec!["A=1".into(), "A=2".into()],
            ..Default::default()
        };
        let h = HostConfig::default();
        let u = ResolvedUser { uid: 0, gid: 0, additional_gids: vec![0], home: "/root".into() };
        let s = build(&input(&c, &h, &u)).unwrap();
        assert_eq!(s["process"]["capabilities"]["effective"].as_array().unwrap().len(), 14);
        assert_eq!(s["process"]["capabilities"]["inheritable"], json!([]));
        assert!(s["linux"]["maskedPaths"].as_array().unwrap().contains(&json!("/proc/kcore")));
        assert!(s["linux"]["readonlyPaths"].as_array().unwrap().contains(&json!("/proc/sys")));
        assert_eq!(s["linux"]["resources"]["devices"][0], json!({"allow": false, "access": "rwm"}));
        assert!(s["linux"]["seccomp"].is_object());
        let env: Vec<String> = serde_json::from_value(s["process"]["env"].clone()).unwrap();
        assert!(env.contains(&"A=2".into()) && !env.contains(&"A=1".into()));
        assert!(env.iter().any(|e| e.starts_with("PATH=")) && env.contains(&"HOSTNAME=abc".into()));
        let types: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        for t in ["mount", "uts", "pid", "ipc", "network"] {
            assert!(types.contains(&t), "{t}");
        }
        let sys = s["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == "/sys").unwrap();
        assert!(sys["options"].as_array().unwrap().contains(&json!("ro")));
    }

    #[test]
    fn privileged_and_flags() {
        let c = ContainerConfig { cmd: Some(vec!["sh".into()]), ..Default::default() };
        let h = HostConfig { privileged: true, ..Default::default() };
        let u = ResolvedUser { uid: 0, gid: 0, additional_gids: vec![0], home: "/".into() };
        let s = build(&input(&c, &h, &u)).unwrap();
        assert!(s["linux"].get("seccomp").is_none() && s["linux"].get("maskedPaths").is_none());
        assert_eq!(s["linux"]["resources"]["devices"][0]["allow"], true);
        let h = HostConfig {
            security_opt: vec!["seccomp=unconfined".into(), "no-new-privileges".into()],
            readonly_rootfs: true,
            ..Default::default()
        };
        let s = build(&input(&c, &h, &u)).unwrap();
        assert!(s["linux"].get("seccomp").is_none());
        assert_eq!(s["process"]["noNewPrivileges"], true);
        assert_eq!(s["root"]["readonly"], true);
        let empty = ContainerConfig::default();
        assert_eq!(build(&input(&empty, &HostConfig::default(), &u)).unwrap_err(), "No command specified");
    }
}
