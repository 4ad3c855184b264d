//! A container's resource limits as Docker names them (the `HostConfig` fields `Memory`,
//! `NanoCpus`, `PidsLimit`, ...): parsing of the flag values, Docker's validation rules, and the
//! translation into the OCI spec's `linux.resources` and `process.rlimits` that libcontainer
//! (and, for `update`, libcgroups) applies.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The smallest memory limit or reservation Docker accepts.
pub const MIN_MEMORY: i64 = 6 << 20;

/// The CFS period Docker uses with `--cpus`.
pub const DEFAULT_CPU_PERIOD: i64 = 100_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Resources {
    /// Memory limit in bytes (0: none).
    pub memory: i64,
    /// Memory plus swap in bytes (0: twice `memory`, -1: unlimited swap).
    pub memory_swap: i64,
    /// Soft limit in bytes.
    pub memory_reservation: i64,
    pub oom_kill_disable: bool,
    /// Relative CPU weight (v1 `cpu.shares`; converted for v2's `cpu.weight`).
    pub cpu_shares: i64,
    /// `--cpus` in billionths of a CPU.
    pub nano_cpus: i64,
    /// CFS period and quota in microseconds.
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    /// `None`: not set; zero or negative: unlimited.
    pub pids_limit: Option<i64>,
    /// Block I/O weight, 10 to 1000 (0: not set).
    pub blkio_weight: u16,
    pub ulimits: Vec<Ulimit>,
}

/// One `--ulimit name=soft[:hard]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// The rlimit names Docker accepts, and their OCI `RLIMIT_*` names.
const ULIMITS: &[(&str, &str)] = &[
    ("core", "RLIMIT_CORE"),
    ("cpu", "RLIMIT_CPU"),
    ("data", "RLIMIT_DATA"),
    ("fsize", "RLIMIT_FSIZE"),
    ("locks", "RLIMIT_LOCKS"),
    ("memlock", "RLIMIT_MEMLOCK"),
    ("msgqueue", "RLIMIT_MSGQUEUE"),
    ("nice", "RLIMIT_NICE"),
    ("nofile", "RLIMIT_NOFILE"),
    ("nproc", "RLIMIT_NPROC"),
    ("rss", "RLIMIT_RSS"),
    ("rtprio", "RLIMIT_RTPRIO"),
    ("rttime", "RLIMIT_RTTIME"),
    ("sigpending", "RLIMIT_SIGPENDING"),
    ("stack", "RLIMIT_STACK"),
];

impl Ulimit {
    /// Parses `nofile=1024` or `nofile=1024:2048` (Docker's syntax; -1 is unlimited).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name, values) = s.split_once('=').ok_or_else(|| format!("invalid ulimit argument: {s}"))?;
        if !ULIMITS.iter().any(|(n, _)| *n == name) {
            return Err(format!("invalid ulimit type: {name}"));
        }
        let number = |v: &str| v.parse::<i64>().map_err(|_| format!("invalid ulimit value {v:?} in {s}"));
        let (soft, hard) = match values.split_once(':') {
            Some((soft, hard)) => (number(soft)?, number(hard)?),
            None => (number(values)?, number(values)?),
        };
        if hard != -1 && (soft == -1 || soft > hard) {
            return Err(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            ));
        }
        Ok(Self { name: name.to_string(), soft, hard })
    }

    /// The OCI name (`RLIMIT_NOFILE`).
    pub fn oci_name(&self) -> &'static str {
        ULIMITS.iter().find(|(n, _)| *n == self.name).map(|(_, o)| *o).unwrap_or("RLIMIT_NOFILE")
    }

    /// The value as the kernel takes it (-1 is `RLIM_INFINITY`).
    pub fn kernel_value(v: i64) -> u64 {
        if v < 0 { u64::MAX } else { v as u64 }
    }
}

/// Parses a memory size as Docker does: a number with an optional `b`, `k`, `m`, `g`, `t`
/// suffix (binary multiples; `kb`, `mib` and capitals also accepted).
pub fn parse_memory(s: &str) -> Result<i64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let digits_end = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let shift = match unit.trim_start() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("invalid size: '{s}'")),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid size: '{s}'"))?;
    let bytes = n * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(format!("invalid size: '{s}'"));
    }
    Ok(bytes as i64)
}

/// `--memory-swap`: a size, or -1 for unlimited swap.
pub fn parse_memory_swap(s: &str) -> Result<i64, String> {
    if s.trim() == "-1" { Ok(-1) } else { parse_memory(s) }
}

/// `--cpus 1.5` in billionths of a CPU.
pub fn parse_cpus(s: &str) -> Result<i64, String> {
    let n: f64 = s.trim().parse().map_err(|_| format!("failed to parse {s} as a rational number"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("invalid value {s} for --cpus"));
    }
    let nano = (n * 1e9).round();
    if nano != 0.0 && nano < 1e7 {
        return Err("Range of CPUs is from 0.01 to the number of CPUs available".into());
    }
    Ok(nano as i64)
}

/// Parses a cpuset list (`0-2,4`) into its members; `None` when the syntax is wrong.
pub fn parse_cpuset(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

impl Resources {
    /// Docker's checks of the values themselves (the host's abilities are checked by
    /// [`super::support`]).
    pub fn validate(&self) -> Result<(), String> {
        if self.memory < 0 || self.memory_reservation < 0 {
            return Err("memory limits cannot be negative".into());
        }
        if self.memory != 0 && self.memory < MIN_MEMORY {
            return Err("Minimum memory limit allowed is 6MB".into());
        }
        if self.memory_swap > 0 && self.memory == 0 {
            return Err(
                "You should always set the Memory limit when using Memoryswap limit, see usage".into()
            );
        }
        if self.memory_swap > 0 && self.memory_swap < self.memory {
            return Err("Minimum memoryswap limit should be larger than memory limit, see usage".into());
        }
        if self.memory_swap < -1 {
            return Err("invalid memory swap limit (use -1 for unlimited swap)".into());
        }
        if self.memory_reservation != 0 && self.memory_reservation < MIN_MEMORY {
            return Err("Minimum memory reservation allowed is 6MB".into());
        }
        if self.memory > 0 && self.memory_reservation > self.memory {
            return Err(
                "Minimum memory limit can not be less than memory reservation limit, see usage".into()
            );
        }
        if self.nano_cpus > 0 && self.cpu_period > 0 {
            return Err("Conflicting options: Nano CPUs and CPU Period cannot both be set".into());
        }
        if self.nano_cpus > 0 && self.cpu_quota > 0 {
            return Err("Conflicting options: Nano CPUs and CPU Quota cannot both be set".into());
        }
        if self.nano_cpus < 0 || self.cpu_shares < 0 {
            return Err("CPU values cannot be negative".into());
        }
        if self.cpu_period != 0 && !(1000..=1_000_000).contains(&self.cpu_period) {
            return Err(
                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)".into(),
            );
        }
        if self.cpu_quota != 0 && self.cpu_quota != -1 && self.cpu_quota < 1000 {
            return Err("CPU cfs quota can not be less than 1ms (i.e. 1000)".into());
        }
        if self.blkio_weight != 0 && !(10..=1000).contains(&self.blkio_weight) {
            return Err("Range of blkio weight is from 10 to 1000".into());
        }
        for (value, what) in [(&self.cpuset_cpus, "cpus"), (&self.cpuset_mems, "mems")] {
            if !value.is_empty() && parse_cpuset(value).is_none() {
                return Err(format!("Invalid value {value} for cpuset {what}"));
            }
        }
        Ok(())
    }

    /// Fills the defaults Docker fills: with a memory limit and no swap setting, as much swap
    /// as memory (memory+swap = twice the limit).
    pub fn normalize(&mut self) {
        if self.memory > 0 && self.memory_swap == 0 {
            self.memory_swap = self.memory * 2;
        }
    }

    /// The CFS quota and period to apply: `--cpus` becomes a quota over Docker's period.
    pub fn cfs(&self) -> (Option<i64>, Option<u64>) {
        if self.nano_cpus > 0 {
            let quota = self.nano_cpus * DEFAULT_CPU_PERIOD / 1_000_000_000;
            return (Some(quota.max(1000)), Some(DEFAULT_CPU_PERIOD as u64));
        }
        let quota = (self.cpu_quota != 0).then_some(self.cpu_quota);
        let period = (self.cpu_period > 0).then_some(self.cpu_period as u64);
        (quota, period)
    }

    /// `linux.resources` of the OCI spec without `devices` (the caller adds the device rules).
    pub fn to_oci(&self) -> Value {
        let mut out = json!({});
        let mut memory = json!({});
        if self.memory > 0 {
            memory["limit"] = json!(self.memory);
        }
        if self.memory_swap != 0 {
            memory["swap"] = json!(self.memory_swap);
        }
        if self.memory_reservation > 0 {
            memory["reservation"] = json!(self.memory_reservation);
        }
        if self.oom_kill_disable {
            memory["disableOOMKiller"] = json!(true);
        }
        if memory != json!({}) {
            out["memory"] = memory;
        }
        let mut cpu = json!({});
        if self.cpu_shares > 0 {
            cpu["shares"] = json!(self.cpu_shares);
        }
        let (quota, period) = self.cfs();
        if let Some(q) = quota {
            cpu["quota"] = json!(q);
        }
        if let Some(p) = period {
            cpu["period"] = json!(p);
        }
        if !self.cpuset_cpus.is_empty() {
            cpu["cpus"] = json!(self.cpuset_cpus);
        }
        if !self.cpuset_mems.is_empty() {
            cpu["mems"] = json!(self.cpuset_mems);
        }
        if cpu != json!({}) {
            out["cpu"] = cpu;
        }
        if let Some(limit) = self.pids_limit {
            out["pids"] = json!({"limit": if limit <= 0 { -1 } else { limit }});
        }
        if self.blkio_weight > 0 {
            out["blockIO"] = json!({"weight": self.blkio_weight});
        }
        out
    }

    /// Whether no cgroup limit is set (`to_oci` is empty; ulimits are not cgroup limits).
    pub fn is_unlimited(&self) -> bool {
        self.to_oci() == json!({})
    }

    /// `process.rlimits` of the OCI spec.
    pub fn rlimits(&self) -> Vec<Value> {
        self.ulimits
            .iter()
            .map(|u| {
                json!({"type": u.oci_name(), "soft": Ulimit::kernel_value(u.soft), "hard": Ulimit::kernel_value(u.hard)})
            })
            .collect()
    }

    /// Applies the fields a `gantry update` sets, then checks the result; on error nothing
    /// changes. Docker's rule for memory: a new limit keeps the swap setting, and must stay
    /// under it.
    pub fn merge(&mut self, u: &ResourceUpdate) -> Result<(), String> {
        let mut next = self.clone();
        next.merge_unchecked(u)?;
        next.normalize();
        next.validate()?;
        *self = next;
        Ok(())
    }

    fn merge_unchecked(&mut self, u: &ResourceUpdate) -> Result<(), String> {
        let old_memory = self.memory;
        if let Some(v) = u.memory {
            self.memory = v;
        }
        if let Some(v) = u.memory_swap {
            self.memory_swap = v;
        } else if u.memory.is_some() && old_memory > 0 && self.memory_swap == old_memory * 2 {
            // The swap was the default (twice the limit): it follows the new limit.
            self.memory_swap = self.memory * 2;
        }
        if u.memory.is_some() && self.memory_swap > 0 && self.memory > self.memory_swap {
            return Err("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time".into());
        }
        if let Some(v) = u.memory_reservation {
            self.memory_reservation = v;
        }
        if let Some(v) = u.cpu_shares {
            self.cpu_shares = v;
        }
        if let Some(v) = u.nano_cpus {
            self.nano_cpus = v;
            if v > 0 {
                (self.cpu_period, self.cpu_quota) = (0, 0);
            }
        }
        if let Some(v) = u.cpu_period {
            self.cpu_period = v;
        }
        if let Some(v) = u.cpu_quota {
            self.cpu_quota = v;
        }
        if (u.cpu_period.is_some() || u.cpu_quota.is_some()) && u.nano_cpus.is_none() {
            self.nano_cpus = 0;
        }
        if let Some(v) = &u.cpuset_cpus {
            self.cpuset_cpus = v.clone();
        }
        if let Some(v) = &u.cpuset_mems {
            self.cpuset_mems = v.clone();
        }
        if let Some(v) = u.pids_limit {
            self.pids_limit = Some(v);
        }
        if let Some(v) = u.blkio_weight {
            self.blkio_weight = v;
        }
        Ok(())
    }
}

/// What `gantry update` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceUpdate {
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
}

impl ResourceUpdate {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_parse_like_docker() {
        assert_eq!(parse_memory("32m"), Ok(32 << 20));
        assert_eq!(parse_memory("32M"), Ok(32 << 20));
        assert_eq!(parse_memory("1g"), Ok(1 << 30));
        assert_eq!(parse_memory("1.5k"), Ok(1536));
        assert_eq!(parse_memory("512"), Ok(512));
        assert_eq!(parse_memory("64mb"), Ok(64 << 20));
        assert_eq!(parse_memory("2GiB"), Ok(2 << 30));
        assert_eq!(parse_memory("100b"), Ok(100));
        assert!(parse_memory("12q").is_err());
        assert!(parse_memory("m").is_err());
        assert!(parse_memory("-5m").is_err());
        assert_eq!(parse_memory_swap("-1"), Ok(-1));
        assert_eq!(parse_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_cpus("0.5"), Ok(500_000_000));
        assert!(parse_cpus("abc").is_err());
        assert!(parse_cpus("0.001").is_err());
    }

    #[test]
    fn ulimits_parse_and_convert() {
        let u = Ulimit::parse("nofile=1024:2048").unwrap();
        assert_eq!((u.soft, u.hard, u.oci_name()), (1024, 2048, "RLIMIT_NOFILE"));
        assert_eq!(Ulimit::parse("nproc=50").unwrap().hard, 50);
        assert!(Ulimit::parse("nofile=10:5").unwrap_err().contains("soft limit must be less"));
        assert!(Ulimit::parse("bogus=1").unwrap_err().contains("invalid ulimit type"));
        assert!(Ulimit::parse("nofile").is_err());
        let r = Resources { ulimits: vec![Ulimit::parse("core=-1").unwrap()], ..Default::default() };
        assert_eq!(r.rlimits()[0]["soft"], json!(u64::MAX));
    }

    #[test]
    fn docker_validation_rules() {
        let ok = |r: Resources| r.validate();
        assert!(ok(Resources { memory: 1 << 20, ..Default::default() }).unwrap_err().contains("6MB"));
        assert!(ok(Resources { memory_swap: 64 << 20, ..Default::default() }).is_err());
        assert!(ok(Resources { memory: 64 << 20, memory_swap: 32 << 20, ..Default::default() }).is_err());
        assert!(
            ok(Resources { memory: 32 << 20, memory_reservation: 64 << 20, ..Default::default() }).is_err()
        );
        assert!(ok(Resources { nano_cpus: 1, cpu_quota: 5000, ..Default::default() }).is_err());
        assert!(ok(Resources { cpu_period: 10, ..Default::default() }).is_err());
        assert!(ok(Resources { cpu_quota: 10, ..Default::default() }).is_err());
        assert!(ok(Resources { cpu_quota: -1, ..Default::default() }).is_ok());
        assert!(ok(Resources { blkio_weight: 5, ..Default::default() }).is_err());
        assert!(ok(Resources { cpuset_cpus: "0-".into(), ..Default::default() }).is_err());
        assert!(ok(Resources { cpuset_cpus: "0-1,3".into(), ..Default::default() }).is_ok());
        assert_eq!(parse_cpuset("3,0-1"), Some(vec![0, 1, 3]));
        assert_eq!(parse_cpuset("2-1"), None);
    }

    #[test]
    fn oci_resources_and_defaults() {
        let mut r = Resources {
            memory: 32 << 20,
            cpu_shares: 512,
            nano_cpus: 1_500_000_000,
            cpuset_cpus: "0".into(),
            pids_limit: Some(20),
            blkio_weight: 300,
            ..Default::default()
        };
        r.normalize();
        assert_eq!(r.memory_swap, 64 << 20);
        let oci = r.to_oci();
        assert_eq!(oci["memory"], json!({"limit": 32 << 20, "swap": 64 << 20}));
        assert_eq!(oci["cpu"], json!({"shares": 512, "quota": 150_000, "period": 100_000, "cpus": "0"}));
        assert_eq!(oci["pids"], json!({"limit": 20}));
        assert_eq!(oci["blockIO"], json!({"weight": 300}));
        assert_eq!(Resources::default().to_oci(), json!({}));
        let unlimited = Resources { pids_limit: Some(0), ..Default::default() };
        assert_eq!(unlimited.to_oci()["pids"], json!({"limit": -1}));
    }

    #[test]
    fn updates_follow_dockers_rules() {
        let mut r = Resources { memory: 32 << 20, ..Default::default() };
        r.normalize();
        // The default swap follows a new limit.
        r.merge(&ResourceUpdate { memory: Some(64 << 20), ..Default::default() }).unwrap();
        assert_eq!((r.memory, r.memory_swap), (64 << 20, 128 << 20));
        // An explicit swap does not, and the limit must stay under it.
        r.merge(&ResourceUpdate { memory_swap: Some(100 << 20), ..Default::default() }).unwrap();
        let err = r.merge(&ResourceUpdate { memory: Some(200 << 20), ..Default::default() }).unwrap_err();
        assert!(err.contains("memoryswap"), "{err}");
        assert_eq!(r.memory, 64 << 20, "a refused update changes nothing");
        // --cpus replaces a quota and the other way round.
        r.merge(&ResourceUpdate { cpu_quota: Some(50_000), ..Default::default() }).unwrap();
        r.merge(&ResourceUpdate { nano_cpus: Some(1_000_000_000), ..Default::default() }).unwrap();
        assert_eq!((r.cpu_quota, r.nano_cpus), (0, 1_000_000_000));
        r.merge(&ResourceUpdate { cpu_quota: Some(20_000), ..Default::default() }).unwrap();
        assert_eq!((r.cpu_quota, r.nano_cpus), (20_000, 0));
        assert!(ResourceUpdate::default().is_empty());
    }
}
