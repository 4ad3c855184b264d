//! Linux capabilities: names in kernel order, Docker's default set, and the `--cap-add` /
//! `--cap-drop` / `--privileged` rules.

/// Every capability, indexed by its kernel number.
pub const ALL: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's 14 default capabilities.
pub const DEFAULT: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// The capabilities gantry itself can grant: those in its own bounding set (on hosts where
/// root is confined, e.g. without CAP_SYS_RESOURCE, asking for more fails the container).
pub fn supported() -> Vec<&'static str> {
    let bounding = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapBnd:").map(|v| v.trim().to_string())))
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .unwrap_or(u64::MAX);
    ALL.iter().enumerate().filter(|(i, _)| bounding & (1u64 << i) != 0).map(|(_, c)| *c).collect()
}

/// Normalizes a user-given name: any case, with or without `CAP_`; `ALL` stays `ALL`.
pub fn normalize(name: &str) -> Result<String, String> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    if bare == "ALL" || ALL.contains(&bare) {
        Ok(bare.to_string())
    } else {
        Err(format!("unknown capability: {name:?}"))
    }
}

/// The container's capability set (bare names), following Docker: `--cap-add ALL` starts from
/// every capability, `--cap-drop ALL` from none; otherwise the defaults, plus adds, minus drops.
pub fn effective(privileged: bool, add: &[String], drop: &[String]) -> Result<Vec<String>, String> {
    let supported = supported();
    if privileged {
        return Ok(supported.iter().map(|s| s.to_string()).collect());
    }
    let add: Vec<String> = add.iter().map(|a| normalize(a)).collect::<Result<_, _>>()?;
    let drop: Vec<String> = drop.iter().map(|d| normalize(d)).collect::<Result<_, _>>()?;
    let mut set: Vec<String> = if add.iter().any(|a| a == "ALL") {
        supported.iter().map(|s| s.to_string()).collect()
    } else if drop.iter().any(|d| d == "ALL") {
        Vec::new()
    } else {
        DEFAULT.iter().map(|s| s.to_string()).collect()
    };
    if !drop.iter().any(|d| d == "ALL") || add.iter().any(|a| a == "ALL") {
        set.retain(|c| !drop.contains(c));
    }
    for a in add.iter().filter(|a| *a != "ALL") {
        if !set.contains(a) && supported.contains(&a.as_str()) {
            set.push(a.clone());
        }
    }
    // Kernel order, so /proc/self/status bitmasks are predictable.
    set.sort_by_key(|c| ALL.iter().position(|a| a == c));
    Ok(set)
}

/// The bitmask /proc/<pid>/status shows for a set (used by tests and inspect).
pub fn mask(set: &[String]) -> u64 {
    set.iter().filter_map(|c| ALL.iter().position(|a| a == c)).fold(0, |m, i| m | (1u64 << i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn docker_rules() {
        assert_eq!(effective(false, &[], &[]).unwrap().len(), 14);
        let e = effective(false, &s(&["net_admin"]), &s(&["CAP_CHOWN", "Kill"])).unwrap();
        assert!(
            e.contains(&"NET_ADMIN".to_string())
                && !e.contains(&"CHOWN".to_string())
                && !e.contains(&"KILL".to_string())
        );
        assert_eq!(effective(false, &s(&["NET_ADMIN"]), &s(&["ALL"])).unwrap(), s(&["NET_ADMIN"]));
        assert_eq!(effective(false, &[], &s(&["all"])).unwrap(), Vec::<String>::new());
        let all = effective(false, &s(&["ALL"]), &s(&["SYS_ADMIN"])).unwrap();
        assert!(!all.contains(&"SYS_ADMIN".to_string()) && all.contains(&"SYS_MODULE".to_string()));
        assert!(effective(false, &s(&["bogus"]), &[]).is_err());
        assert_eq!(effective(true, &[], &[]).unwrap().len(), supported().len());
        // Docker's default set is 0xa80425fb.
        assert_eq!(mask(&effective(false, &[], &[]).unwrap()), 0xa80425fb);
    }
}
