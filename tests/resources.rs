//! Resource limits, OOM, `update` and `stats`, against this machine's real cgroups (the v1
//! hierarchies of its hybrid layout; v2 is covered by unit tests on a fake tree).

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Gantry;

/// A file of a container's cgroup in one v1 controller.
fn cgroup_file(controller: &str, id: &str, file: &str) -> PathBuf {
    assert!(
        !std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists(),
        "these tests read the v1 hierarchies this machine has; the host is pure cgroup v2"
    );
    PathBuf::from(format!("/sys/fs/cgroup/{controller}/gantry/{id}/{file}"))
}

#[track_caller]
fn read_cgroup(controller: &str, id: &str, file: &str) -> String {
    let p = cgroup_file(controller, id, file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().to_string()
}

fn keyed(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in {text}"))
}

#[test]
fn oom_kill_is_recorded_and_the_restart_policy_applies() {
    let g = Gantry::new();
    let img = g.busybox();
    // dd fills a 100 MB buffer in a 32 MB container: the kernel's OOM killer ends it.
    let hog = ["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"];
    let mut args = vec!["run", "--name", "hog", "--network", "none", "-m", "32m", &img];
    args.extend(hog);
    let run = g.run(&args);
    assert_eq!(run.code, 137, "stdout: {} stderr: {}", run.stdout, run.stderr);
    assert_eq!(g.inspect("{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"), "true 137");
    assert_eq!(g.inspect("{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", "hog"), "33554432 67108864");
    let ev = g.run(&[
        "events",
        "--since",
        "5m",
        "--until",
        "0s",
        "--filter",
        "event=oom",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(ev.ok().trim(), "oom");
    // The restart policy applies to an OOM kill like any other failure.
    let mut args = vec!["run", "-d", "--name", "again", "--network", "none", "-m", "32m"];
    args.extend(["--restart", "on-failure:2", &img]);
    args.extend(hog);
    g.run(&args).ok();
    g.wait_for("{{.State.Status}} {{.RestartCount}}", "again", "exited 2", 30);
    assert_eq!(g.inspect("{{.State.OOMKilled}} {{.State.ExitCode}}", "again"), "true 137");
    // Without a limit the same program runs to the end.
    let mut args = vec!["run", "--rm", "--network", "none", &img];
    args.extend(hog);
    g.run(&args).ok();
}

/// The v1 hierarchies a process is in, from /proc/PID/cgroup: (controllers, path), named
/// hierarchies (`name=systemd`) and the v2 line left out.
fn v1_cgroups(pid: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            (!controllers.is_empty() && !controllers.starts_with("name="))
                .then(|| (controllers.into(), path.into()))
        })
        .collect()
}

#[test]
fn the_container_is_in_its_cgroups_in_every_hierarchy_and_its_monitor_is_not() {
    let g = Gantry::new();
    let id = g.detached(&[], &["sleep", "1000"]);
    let pid = g.inspect("{{.State.Pid}}", &id);
    let own = format!("/gantry/{id}");
    let init = v1_cgroups(&pid);
    assert!(init.len() >= 8, "{init:?}");
    for (controllers, path) in &init {
        assert_eq!(path, &own, "the init in {controllers}");
    }
    let exec = g.run(&["exec", &id, "cat", "/proc/self/cgroup"]).ok().to_string();
    assert_eq!(exec.lines().filter(|l| l.ends_with(&own)).count(), init.len(), "{exec}");
    // The init's parent is its monitor, which made the cgroups from its own thread and left.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let monitor = stat.rsplit(')').next().unwrap().split_whitespace().nth(1).unwrap().to_string();
    for (controllers, path) in v1_cgroups(&monitor) {
        assert!(!path.contains(&id), "the monitor stayed in the container's {controllers} cgroup");
        let accounting = ["memory", "pids", "blkio", "cpu", "cpuacct"];
        if controllers.split(',').any(|c| accounting.contains(&c)) {
            assert_eq!(path, "/gantry/monitors", "the monitor in {controllers}");
        } else {
            assert_eq!(path, "/gantry", "back in gantry's parent, not the starter's {controllers} cgroup");
        }
    }
    // The device rules are libcontainer's: none but the defaults (the null, zero, full, tty,
    // urandom and random devices, mknod of any device, the console, ptys and tun).
    let rules = read_cgroup("devices", &id, "devices.list");
    let expected = "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 5:0 rwm\nc 1:9 rwm\nc 1:8 rwm\nc *:* m\nb *:* m\n\
                    c 5:1 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm";
    assert_eq!(rules, expected);
    g.run(&["rm", "-f", &id]).ok();
    for c in ["memory", "pids", "devices", "cpuset", "freezer"] {
        assert!(!cgroup_file(c, &id, "").exists(), "{c} cgroup removed");
    }
}

#[test]
fn pids_limit_contains_a_fork_loop() {
    let g = Gantry::new();
    let id = g.detached(&["--pids-limit", "20"], &["sleep", "1000"]);
    assert_eq!(read_cgroup("pids", &id, "pids.max"), "20");
    // A shell forking sleepers without end: the kernel refuses the 21st process, and the
    // shell gives up.
    let bomb = g.run(&["exec", &id, "sh", "-c", "while true; do sleep 1000 >/dev/null 2>&1 & done"]);
    assert!(bomb.fails().contains("fork"), "{}", bomb.stderr);
    let current: u64 = read_cgroup("pids", &id, "pids.current").parse().unwrap();
    assert!((18..=20).contains(&current), "{current} processes");
    let refused = keyed(&std::fs::read_to_string(cgroup_file("pids", &id, "pids.events")).unwrap(), "max");
    assert!(refused > 0, "forks were refused");
    // The container stays manageable: inspect, stats, top and stop.
    assert_eq!(g.inspect("{{.HostConfig.PidsLimit}} {{.State.Status}}", &id), "20 running");
    let s = g.run(&["stats", "--no-stream", "--format", "{{.PIDs}}", &id]);
    assert_eq!(s.ok().trim(), current.to_string());
    assert!(g.run(&["top", &id]).ok().contains("sleep 1000"));
    let t = Instant::now();
    g.run(&["stop", "-t", "1", &id]).ok();
    assert!(t.elapsed() < Duration::from_secs(10));
    g.run(&["rm", &id]).ok();
    assert!(!cgroup_file("pids", &id, "").exists(), "cgroup removed with the container");
}

#[test]
fn cpuset_is_visible_inside() {
    let g = Gantry::new();
    let img = g.busybox();
    let out = g.run(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--cpuset-cpus",
        "0",
        &img,
        "grep",
        "Cpus_allowed_list",
        "/proc/self/status",
    ]);
    assert_eq!(out.ok().split_whitespace().collect::<Vec<_>>(), ["Cpus_allowed_list:", "0"]);
    let alias =
        g.run(&["run", "--rm", "--network", "none", "--cpuset", "1", &img, "cat", "/proc/self/status"]);
    assert!(
        alias.ok().lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Cpus_allowed_list:", "1"])
    );
    let err = g.run(&["run", "--rm", "--cpuset-cpus", "0-99", &img, "true"]);
    assert!(err.fails().contains("Requested CPUs are not available"), "{}", err.stderr);
    assert_eq!(err.code, 125);
}

#[test]
fn cpu_shares_split_a_pinned_cpu_two_to_one() {
    let g = Gantry::new();
    let img = g.busybox();
    let busy = |shares: &str| {
        g.run(&[
            "run",
            "-d",
            "--network",
            "none",
            "--cpuset-cpus",
            "0",
            "--cpu-shares",
            shares,
            &img,
            "sh",
            "-c",
            "while :; do :; done",
        ])
        .ok()
        .trim()
        .to_string()
    };
    let (a, b) = (busy("1024"), busy("512"));
    assert_eq!(read_cgroup("cpu", &b, "cpu.shares"), "512");
    std::thread::sleep(Duration::from_millis(500));
    let usage = |id: &str| read_cgroup("cpuacct", id, "cpuacct.usage").parse::<u64>().unwrap();
    let (a0, b0) = (usage(&a), usage(&b));
    std::thread::sleep(Duration::from_secs(3));
    let (a1, b1) = (usage(&a), usage(&b));
    let ratio = (a1 - a0) as f64 / (b1 - b0).max(1) as f64;
    assert!((1.5..=2.7).contains(&ratio), "CPU split {ratio:.2} ({} / {} ns)", a1 - a0, b1 - b0);
    g.run(&["rm", "-f", &a, &b]).ok();
}

#[test]
fn limits_reach_the_cgroups_inspect_and_the_process() {
    let g = Gantry::new();
    let img = g.busybox();
    let run = g.run(&[
        "run",
        "-d",
        "--network",
        "none",
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--cpu-shares",
        "512",
        "--cpus",
        "1.5",
        "--cpuset-cpus",
        "0-1",
        "--pids-limit",
        "50",
        "--ulimit",
        "nofile=1024:2048",
        &img,
        "sleep",
        "1000",
    ]);
    let id = run.ok().trim().to_string();
    assert_eq!(read_cgroup("memory", &id, "memory.limit_in_bytes"), (64u64 << 20).to_string());
    assert_eq!(read_cgroup("memory", &id, "memory.memsw.limit_in_bytes"), (128u64 << 20).to_string());
    assert_eq!(read_cgroup("memory", &id, "memory.soft_limit_in_bytes"), (32u64 << 20).to_string());
    assert_eq!(read_cgroup("cpu", &id, "cpu.shares"), "512");
    assert_eq!(read_cgroup("cpu", &id, "cpu.cfs_quota_us"), "150000");
    assert_eq!(read_cgroup("cpu", &id, "cpu.cfs_period_us"), "100000");
    assert_eq!(read_cgroup("cpuset", &id, "cpuset.cpus"), "0-1");
    assert_eq!(read_cgroup("pids", &id, "pids.max"), "50");
    assert_eq!(
        g.inspect(
            "{{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} {{.HostConfig.CpuShares}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}}",
            &id
        ),
        "67108864 33554432 512 1500000000 0-1 50"
    );
    assert_eq!(
        g.inspect("{{json .HostConfig.Ulimits}}", &id),
        r#"[{"Hard":2048,"Name":"nofile","Soft":1024}]"#
    );
    let limits = g.run(&["exec", &id, "sh", "-c", "ulimit -Sn; ulimit -Hn"]);
    assert_eq!(limits.ok(), "1024\n2048\n");
    // A weight this kernel cannot apply is dropped with Docker's warning, not silently.
    let w = g.run(&["create", "--blkio-weight", "300", &img, "true"]);
    let created = w.ok().trim().to_string();
    if std::path::Path::new("/sys/fs/cgroup/blkio/blkio.weight").exists() {
        assert!(!w.stderr.contains("WARNING"), "{}", w.stderr);
        assert_eq!(g.inspect("{{.HostConfig.BlkioWeight}}", &created), "300");
    } else {
        assert!(w.stderr.contains("WARNING: Your kernel does not support Block I/O weight"), "{}", w.stderr);
        assert_eq!(g.inspect("{{.HostConfig.BlkioWeight}}", &created), "0", "discarded");
    }
    // Values Docker refuses are refused with its words.
    for (flags, message) in [
        (vec!["-m", "1m"], "Minimum memory limit allowed is 6MB"),
        (vec!["-m", "64m", "--memory-swap", "32m"], "Minimum memoryswap limit should be larger"),
        (vec!["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options"),
        (vec!["--cpus", "64"], "as there are only"),
        (vec!["--ulimit", "nofile=10:5"], "soft limit must be less than or equal"),
        (vec!["--ulimit", "nofile=1024:99999999"], "CAP_SYS_RESOURCE"),
        (vec!["-m", "lots"], "invalid size"),
    ] {
        let mut args = vec!["create"];
        args.extend(flags);
        args.extend([img.as_str(), "true"]);
        let r = g.run(&args);
        assert!(r.fails().contains(message), "{args:?}: {}", r.stderr);
    }
    g.run(&["rm", "-f", &id]).ok();
    for c in ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer"] {
        assert!(!cgroup_file(c, &id, "").exists(), "{c} cgroup removed");
    }
}

#[test]
fn update_changes_limits_of_running_and_stopped_containers() {
    let g = Gantry::new();
    let id = g.detached(&["-m", "32m"], &["sleep", "1000"]);
    let u =
        g.run(&["update", "-m", "64m", "--pids-limit", "30", "--cpus", "0.5", "--cpu-shares", "256", &id]);
    assert_eq!(u.ok().trim(), id);
    assert_eq!(read_cgroup("memory", &id, "memory.limit_in_bytes"), (64u64 << 20).to_string());
    assert_eq!(read_cgroup("memory", &id, "memory.memsw.limit_in_bytes"), (128u64 << 20).to_string());
    assert_eq!(read_cgroup("pids", &id, "pids.max"), "30");
    assert_eq!(read_cgroup("cpu", &id, "cpu.cfs_quota_us"), "50000");
    assert_eq!(read_cgroup("cpu", &id, "cpu.shares"), "256");
    assert_eq!(
        g.inspect("{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}}", &id),
        "67108864 134217728 30 500000000"
    );
    let s = g.run(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id]);
    assert!(s.ok().trim().ends_with("/ 64MiB"), "{}", s.stdout);
    // Lowering the limit under the swap setting the user chose is refused (Docker's rule).
    g.run(&["update", "--memory-swap", "100m", &id]).ok();
    let e = g.run(&["update", "-m", "200m", &id]);
    assert!(e.fails().contains("memoryswap"), "{}", e.stderr);
    assert_eq!(read_cgroup("memory", &id, "memory.limit_in_bytes"), (64u64 << 20).to_string(), "unchanged");
    // A stopped container keeps the new values for its next start; so does the restart policy.
    g.run(&["stop", "-t", "0", &id]).ok();
    g.run(&["update", "-m", "48m", "--memory-swap", "96m", "--restart", "on-failure:3", &id]).ok();
    assert_eq!(g.inspect("{{.HostConfig.RestartPolicy.Name}}", &id), "on-failure");
    g.run(&["start", &id]).ok();
    assert_eq!(read_cgroup("memory", &id, "memory.limit_in_bytes"), (48u64 << 20).to_string());
    let none = g.run(&["update", &id]);
    assert!(none.fails().contains("one or more flags"), "{}", none.stderr);
    g.run(&["rm", "-f", &id]).ok();
}

#[test]
fn stats_agree_with_the_cgroup_files() {
    let g = Gantry::new();
    let img = g.busybox();
    // One container holds ~20 MB of anonymous memory; another spins on a CPU.
    let holder = g
        .run(&[
            "run",
            "-d",
            "--name",
            "holder",
            "-m",
            "128m",
            &img,
            "sh",
            "-c",
            "x=$(yes | head -c 20000000); sleep 1000; echo ${#x}",
        ])
        .ok()
        .trim()
        .to_string();
    let spinner = g
        .run(&[
            "run",
            "-d",
            "--name",
            "spinner",
            "--network",
            "none",
            &img,
            "sh",
            "-c",
            "while :; do :; done",
        ])
        .ok()
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while read_cgroup("memory", &holder, "memory.usage_in_bytes").parse::<u64>().unwrap() < 20_000_000 {
        assert!(Instant::now() < deadline, "the holder never grew");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let out = g.run(&["stats", "--no-stream", "--format", "json", "holder", "spinner"]);
    let rows: Vec<serde_json::Value> = out.ok().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    assert_eq!(rows[0]["Name"], "holder");
    // Memory: usage minus inactive page cache, against the limit, as Docker computes it.
    let usage: u64 = read_cgroup("memory", &holder, "memory.usage_in_bytes").parse().unwrap();
    let inactive = keyed(&read_cgroup("memory", &holder, "memory.stat"), "total_inactive_file");
    let shown = rows[0]["MemUsage"].as_str().unwrap();
    let (used, limit) = shown.split_once(" / ").unwrap();
    assert_eq!(limit, "128MiB");
    let used_mib: f64 = used.trim_end_matches("MiB").parse().unwrap_or_else(|_| panic!("{shown}"));
    let expected_mib = (usage - inactive) as f64 / 1048576.0;
    assert!((used_mib - expected_mib).abs() < 2.0, "shown {used_mib} MiB, cgroup {expected_mib:.2} MiB");
    let pids = read_cgroup("pids", &holder, "pids.current");
    assert_eq!(rows[0]["PIDs"], pids.as_str());
    // Network: the bridge interface's counters, from the container's own namespace. Some
    // datagrams from the host give them known traffic; the figure must match /proc exactly
    // (read before and after, so a packet in between cannot pass unnoticed).
    let pid = g.inspect("{{.State.Pid}}", "holder");
    let ip = g.inspect("{{.NetworkSettings.IPAddress}}", "holder");
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..5 {
        sock.send_to(&[7u8; 1000], (ip.as_str(), 9)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let eth0 = || -> (u64, u64) {
        let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap();
        let v: Vec<u64> = dev
            .lines()
            .find_map(|l| l.trim().strip_prefix("eth0:"))
            .unwrap()
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        (v[0], v[8])
    };
    // Other containers on the shared bridge (ARP, neighbour discovery) can move the counters
    // while stats reads them. A quiet window must match exactly; a busy one must still lie
    // between the figures read before and after (rounding to three digits is monotonic).
    let mut bounded = None;
    for _ in 0..5 {
        let before = eth0();
        let shown =
            g.run(&["stats", "--no-stream", "--format", "{{.NetIO}}", "holder"]).ok().trim().to_string();
        let after = eth0();
        if after == before {
            let (rx, tx) = before;
            assert!(rx >= 5000, "the datagrams arrived: {rx}");
            assert_eq!(shown, format!("{} / {}", gantry::text::human_size(rx), gantry::text::human_size(tx)));
            bounded = None;
            break;
        }
        bounded = Some((before, shown, after));
    }
    if let Some(((rx0, tx0), shown, (rx1, tx1))) = bounded {
        assert!(rx0 >= 5000, "the datagrams arrived: {rx0}");
        let (rx, tx) = shown.split_once(" / ").unwrap_or_else(|| panic!("{shown}"));
        let within = |low: u64, shown: &str, high: u64| {
            let v = parse_human(shown);
            parse_human(&gantry::text::human_size(low)) <= v
                && v <= parse_human(&gantry::text::human_size(high))
        };
        assert!(within(rx0, rx, rx1), "rx {rx} outside {rx0}..{rx1}");
        assert!(within(tx0, tx, tx1), "tx {tx} outside {tx0}..{tx1}");
    }
    assert_eq!(rows[1]["NetIO"], "0B / 0B", "no interfaces but lo with --network none");
    // CPU: one busy loop is about one CPU.
    let cpu: f64 = rows[1]["CPUPerc"].as_str().unwrap().trim_end_matches('%').parse().unwrap();
    assert!((40.0..=110.0).contains(&cpu), "a spinning container at {cpu}%");
    // The default table has Docker's columns.
    let table = g.run(&["stats", "--no-stream", "holder"]);
    let header: Vec<&str> =
        table.ok().lines().next().unwrap().split("   ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(
        header,
        ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
    );
    // The live view redraws from the shared sampler once per second.
    let mut live = g
        .command(&["stats", "--format", "{{.Name}} {{.CPUPerc}}", "spinner"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = live.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 256];
        let t = Instant::now();
        while text.matches("spinner ").count() < 3 && t.elapsed() < Duration::from_secs(10) {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        text
    });
    let t = Instant::now();
    while !reader.is_finished() && t.elapsed() < Duration::from_secs(12) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Ending the stream also ends a read still waiting on it.
    let _ = live.kill();
    let _ = live.wait();
    let text = reader.join().unwrap();
    assert!(text.matches("spinner ").count() >= 3, "three rounds: {text}");
    g.run(&["rm", "-f", &spinner, &holder]).ok();
}

/// Reads a figure printed by `text::human_size` (`5.2kB`) back as bytes.
fn parse_human(s: &str) -> f64 {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or_else(|| panic!("no unit in {s}"));
    let (num, unit) = s.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => panic!("unit of {s}"),
    };
    num.parse::<f64>().unwrap_or_else(|_| panic!("number in {s}")) * scale
}
