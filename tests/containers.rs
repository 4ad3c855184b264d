//! Containers run by the real binary as root from the rig's fixture images: isolation, exit
//! codes, the monitor (logs, attach, restart policy, --rm, crash recovery), the lifecycle
//! commands, and the security defaults with the flags that relax them.

mod common;

use std::time::{Duration, Instant};

use common::Gantry;
use common::pty::Pty;

#[test]
fn isolation_basics() {
    let g = Gantry::new();
    let img = g.busybox();
    let out = g.run(&[
        "run",
        "--name",
        "iso",
        &img,
        "sh",
        "-c",
        "hostname; echo pid=$$; cat /etc/os-release; ls /sys/class/net | tr '\\n' ' '",
    ]);
    let text = out.ok();
    let id = g.inspect("{{.Id}}", "iso");
    assert_eq!(text.lines().next().unwrap(), &id[..12], "hostname is the short ID");
    assert!(text.contains("pid=1\n"), "{text}");
    assert!(text.contains("NAME=gantry-fixture"), "the image's os-release: {text}");
    assert_eq!(
        text.lines().last().unwrap().trim(),
        "eth0 lo",
        "a network namespace of its own, on the bridge"
    );
    let uname_host = std::process::Command::new("uname").arg("-r").output().unwrap().stdout;
    let uname_ctr = g.run(&["run", "--rm", &img, "uname", "-r"]);
    assert_eq!(uname_ctr.ok().as_bytes(), &uname_host[..], "the host kernel");
    assert!(
        g.run(&["run", "--rm", &img, "sh", "-c", "ip link show lo | grep -q UP"]).code == 0,
        "loopback is up"
    );
    // The namespace is made on a monitor thread and joined by the init: it must be the
    // container's alone, never the host's or another container's.
    let alone =
        g.run(&["run", "--rm", "--network", "none", &img, "sh", "-c", "ls /sys/class/net; ip link show lo"]);
    let alone = alone.ok();
    assert!(alone.starts_with("lo\n") && alone.contains("UP"), "only loopback, up: {alone}");
    let netns = |args: &[&str]| {
        let out = g.run(&[&["run", "--rm"][..], args, &[&img, "readlink", "/proc/self/ns/net"]].concat());
        out.ok().trim().to_string()
    };
    let host = std::fs::read_link("/proc/self/ns/net").unwrap().to_string_lossy().into_owned();
    let (a, b) = (netns(&["--network", "none"]), netns(&[]));
    assert!(a.starts_with("net:[") && a != host && b != host && a != b, "{a} {b} {host}");
    assert_eq!(netns(&["--network", "host"]), host, "--network host keeps the host's");
}

#[test]
fn exit_codes() {
    let g = Gantry::new();
    let img = g.busybox();
    assert_eq!(g.run(&["run", "--rm", &img, "true"]).code, 0);
    assert_eq!(g.run(&["run", "--rm", &img, "sh", "-c", "exit 42"]).code, 42);
    // PID 1 cannot be killed from inside its namespace; from outside, KILL gives 137.
    g.run(&["run", "-d", "--name", "victim", &img, "sleep", "30"]).ok();
    g.run(&["kill", "victim"]).ok();
    assert_eq!(g.run(&["wait", "victim"]).ok(), "137\n");
    let missing = g.run(&["run", "--rm", &img, "/no/such/binary"]);
    assert_eq!(missing.code, 127, "{}", missing.stderr);
    g.run(&["run", "--name", "x42", &img, "sh", "-c", "exit 42"]);
    assert_eq!(g.inspect("{{.State.ExitCode}} {{.State.Status}}", "x42"), "42 exited");
    let ps = g.run(&["ps", "-a", "--filter", "name=x42"]);
    assert!(ps.ok().contains("Exited (42) "), "{}", ps.stdout);
}

#[test]
fn missing_image_is_pulled_by_run() {
    let g = Gantry::new();
    let img = format!("{}/fixtures/busybox:oci", common::rig().registry);
    let out = g.run(&["run", "--rm", &img, "echo", "hello"]);
    assert_eq!(out.ok(), "hello\n");
    assert!(out.stderr.contains(&format!("Unable to find image '{img}' locally")), "{}", out.stderr);
    assert!(out.stderr.contains("Status: Downloaded newer image"), "{}", out.stderr);
    assert!(g.run(&["ps", "-aq"]).ok().is_empty(), "--rm removed it");
    let nope = g.run(&["run", "--rm", &format!("{}/fixtures/nope", common::rig().registry), "true"]);
    assert_eq!(nope.code, 125);
    assert!(nope.stderr.contains("manifest unknown"), "{}", nope.stderr);
}

#[test]
fn detached_logs_and_follow() {
    let g = Gantry::new();
    let img = g.busybox();
    let id = g.run(&[
        "run",
        "-d",
        "--name",
        "talker",
        &img,
        "sh",
        "-c",
        "i=1; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.1; done",
    ]);
    let id = id.ok().trim().to_string();
    assert_eq!(id.len(), 64);
    std::thread::sleep(Duration::from_millis(800));
    let tail = g.run(&["logs", "--tail", "3", "talker"]);
    let out_lines = tail.ok().lines().count();
    let err_lines = tail.stderr.lines().count();
    assert_eq!(out_lines + err_lines, 3, "exactly 3 lines: {} / {}", tail.stdout, tail.stderr);
    let ts = g.run(&["logs", "-t", "--tail", "1", "talker"]);
    let line = format!("{}{}", ts.stdout, ts.stderr);
    assert!(line.starts_with("20") && line.contains("Z "), "RFC 3339 timestamp: {line}");
    assert!(chrono::DateTime::parse_from_rfc3339(line.split_whitespace().next().unwrap()).is_ok());
    // -f sees lines written after it started.
    let follow = g
        .command(&["logs", "-f", "--tail", "0", "talker"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    g.run(&["stop", "-t", "1", "talker"]).ok();
    let out = follow.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 2, "follow saw new lines: {text}");
    assert!(text.lines().all(|l| l.starts_with("line ")), "{text}");
    let all = g.run(&["logs", "talker"]);
    assert!(all.ok().starts_with("line 1\n"));
    let since = g.run(&["logs", "--since", "1h", "talker"]);
    assert_eq!(since.ok(), all.stdout);
    let until = g.run(&["logs", "--until", "2000-01-01T00:00:00Z", "talker"]);
    assert!(until.ok().is_empty());
}

#[test]
fn signals_stop_grace_and_wait() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "tailer", &img, "tail", "-f", "/dev/null"]).ok();
    // PID 1 without handlers ignores HUP and TERM (the kernel's rule for init).
    g.run(&["kill", "-s", "HUP", "tailer"]).ok();
    g.run(&["kill", "-s", "SIGTERM", "tailer"]).ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(g.inspect("{{.State.Running}}", "tailer"), "true");
    let t = Instant::now();
    g.run(&["stop", "-t", "2", "tailer"]).ok();
    assert!(t.elapsed() >= Duration::from_secs(2), "stop waited the grace period ({:?})", t.elapsed());
    assert_eq!(g.run(&["wait", "tailer"]).ok(), "137\n");
    assert_eq!(
        g.inspect("{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "tailer"),
        "exited 137 false"
    );
    let k = g.run(&["kill", "tailer"]);
    assert!(k.fails().contains("is not running"), "{}", k.stderr);
    // wait blocks until the exit.
    g.run(&["run", "-d", "--name", "sleeper", &img, "sh", "-c", "sleep 0.5; exit 3"]).ok();
    assert_eq!(g.run(&["wait", "sleeper"]).ok(), "3\n");
}

#[test]
fn pause_and_unpause() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "-d",
        "--name",
        "ticker",
        &img,
        "sh",
        "-c",
        "while true; do date +%s%N; sleep 0.05; done",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(300));
    g.run(&["pause", "ticker"]).ok();
    assert_eq!(g.inspect("{{.State.Status}} {{.State.Paused}}", "ticker"), "paused true");
    assert!(g.run(&["ps"]).ok().contains("(Paused)"));
    let before = g.run(&["logs", "ticker"]).ok().lines().count();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(g.run(&["logs", "ticker"]).ok().lines().count(), before, "no output while frozen");
    assert!(g.run(&["pause", "ticker"]).fails().contains("already paused"));
    g.run(&["unpause", "ticker"]).ok();
    std::thread::sleep(Duration::from_millis(400));
    assert!(g.run(&["logs", "ticker"]).ok().lines().count() > before, "output resumed");
    assert_eq!(g.inspect("{{.State.Paused}}", "ticker"), "false");
}

#[test]
fn restart_policy_on_failure_stops_after_retries() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:3",
        &img,
        "sh",
        "-c",
        "echo run; exit 1",
    ])
    .ok();
    let id = g.inspect("{{.Id}}", "flaky");
    g.wait_for("{{.State.Status}} {{.RestartCount}}", "flaky", "exited 3", 20);
    assert_eq!(g.inspect("{{.Id}} {{.State.ExitCode}}", "flaky"), format!("{id} 1"), "same container");
    assert_eq!(g.run(&["logs", "flaky"]).ok(), "run\nrun\nrun\nrun\n", "first run plus three restarts");
    // always: restarts even after success, until stopped.
    g.run(&["run", "-d", "--name", "again", "--restart", "always", &img, "sh", "-c", "sleep 0.2"]).ok();
    std::thread::sleep(Duration::from_millis(1500));
    let n: i64 = g.inspect("{{.RestartCount}}", "again").parse().unwrap();
    assert!(n >= 2, "restarted {n} times");
    g.run(&["stop", "-t", "1", "again"]).ok();
    let after = g.inspect("{{.RestartCount}}", "again");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        g.inspect("{{.RestartCount}} {{.State.Status}}", "again"),
        format!("{after} exited"),
        "stop ends the policy"
    );
    // A container that exits at once spends much of its time between runs; a stop landing
    // there (even while the next run is being set up) must still end it promptly.
    for i in 0..4 {
        let name = format!("busy{i}");
        g.run(&["run", "-d", "--name", &name, "--restart", "always", &img, "true"]).ok();
        std::thread::sleep(Duration::from_millis(150 + 70 * i));
        let t = std::time::Instant::now();
        g.run(&["stop", "-t", "1", &name]).ok();
        assert!(t.elapsed() < Duration::from_secs(5), "stop took {:?}", t.elapsed());
        g.wait_for("{{.State.Status}}", &name, "exited", 5);
        // One die per run that started, however the stop landed.
        let filter = format!("container={name}");
        let count = |event: &str| {
            let event = format!("event={event}");
            let args = ["events", "--since", "5m", "--until", "0s", "--filter", &event, "--filter", &filter];
            g.run(&args).ok().lines().count()
        };
        let (starts, dies) = (count("start"), count("die"));
        assert!(starts >= 1 && dies == starts, "{name}: {starts} starts, {dies} dies");
    }
    assert!(
        g.run(&["run", "--rm", "--restart", "always", &img, "true"]).fails().contains("Conflicting options")
    );
}

#[test]
fn rm_run_once_and_auto_remove() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "busy", &img, "sleep", "60"]).ok();
    let refused = g.run(&["rm", "busy"]);
    assert!(refused.fails().contains("You cannot remove a running container"), "{}", refused.stderr);
    g.run(&["create", "--name", "c1", &img, "true"]).ok();
    g.run(&["create", "--name", "c2", &img, "true"]).ok();
    assert_eq!(g.run(&["rm", "c1", "c2"]).ok(), "c1\nc2\n");
    assert_eq!(g.run(&["rm", "-f", "busy"]).ok(), "busy\n");
    assert!(g.run(&["ps", "-aq"]).ok().is_empty());
    g.run(&["run", "-d", "--rm", "--name", "gone", &img, "sh", "-c", "sleep 0.3"]).ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !g.run(&["ps", "-aq"]).ok().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(g.run(&["ps", "-aq"]).ok().is_empty(), "--rm container removed itself");
    assert!(g.entries("containers").is_empty(), "its files are gone");
    // In the foreground, the command returns once the record is gone; the files, moved into the
    // scratch area first, go right after.
    assert_eq!(g.run(&["run", "--rm", &img, "echo", "hi"]).ok(), "hi\n");
    assert!(g.run(&["ps", "-aq"]).ok().is_empty(), "removed before run returned");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(g.entries("containers").is_empty() && g.entries("tmp").is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(g.entries("containers").is_empty() && g.entries("tmp").is_empty(), "{:?}", g.entries("tmp"));
    // A disposable container's root is never synced (overlayfs `volatile`); a kept one's is.
    let root_mount = |rm: bool| {
        let mut args = vec!["run"];
        if rm {
            args.push("--rm");
        }
        args.extend([img.as_str(), "sh", "-c", "grep ' / overlay ' /proc/mounts"]);
        g.run(&args).ok().to_string()
    };
    assert!(root_mount(true).contains("volatile"), "{}", root_mount(true));
    assert!(!root_mount(false).contains("volatile"), "{}", root_mount(false));
    g.run(&["container", "prune", "-f"]).ok();
}

#[test]
fn a_prepared_monitor_ends_with_a_failed_run_and_start_attaches_to_a_running_container() {
    let g = Gantry::new();
    let img = g.busybox();
    // `run` starts its monitor before it creates the container; when the creation fails (here a
    // name in use), that monitor must end rather than wait.
    g.run(&["run", "-d", "--name", "taken", &img, "sh", "-c", "sleep 2; echo late; exit 5"]).ok();
    let before = g.monitors();
    assert_eq!(before.len(), 1, "{before:?}");
    let refused = g.run(&["run", "--name", "taken", &img, "true"]);
    assert!(refused.fails().contains("is already in use"), "{}", refused.stderr);
    let failed_detached = g.run(&["run", "-d", "--name", "taken", &img, "true"]);
    assert!(failed_detached.fails().contains("is already in use"), "{}", failed_detached.stderr);
    let deadline = Instant::now() + Duration::from_secs(5);
    while g.monitors() != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(g.monitors(), before, "only the running container's monitor is left");
    // `start -a` of a container that already runs attaches to it, as Docker's does.
    let attached = g.run(&["start", "-a", "taken"]);
    assert_eq!(attached.stdout, "late\n");
    assert_eq!(attached.code, 5);
    let events =
        g.run(&["events", "--since", "5m", "--until", "0s", "--filter", "event=attach"]).ok().to_string();
    assert_eq!(events.lines().count(), 1, "one attach event: {events}");
    // A foreground run records its attach with the start, in Docker's order.
    g.run(&["run", "--name", "order", &img, "true"]).ok();
    let order = g.run(&[
        "events",
        "--since",
        "5m",
        "--until",
        "0s",
        "--filter",
        "container=order",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(order.ok(), "create\nattach\nstart\ndie\n");
}

#[test]
fn start_keeps_the_writable_layer() {
    let g = Gantry::new();
    let img = g.busybox();
    let script = "cat /data 2>/dev/null || echo none; echo kept > /data";
    assert_eq!(g.run(&["run", "--name", "cow", &img, "sh", "-c", script]).ok(), "none\n");
    assert_eq!(g.run(&["start", "-a", "cow"]).ok(), "kept\n");
    // Another container from the same image does not see it, nor does the host's image.
    assert_eq!(g.run(&["run", "--rm", &img, "sh", "-c", script]).ok(), "none\n");
    let started = g.inspect("{{.State.StartedAt}}", "cow");
    assert!(started.starts_with("20"), "{started}");
    assert_eq!(g.run(&["start", "cow"]).ok(), "cow\n");
}

#[test]
fn names_rename_and_resolution() {
    let g = Gantry::new();
    let img = g.busybox();
    let id = g.run(&["create", "--name", "alpha", &img, "true"]).ok().trim().to_string();
    let dup = g.run(&["create", "--name", "alpha", &img, "true"]);
    assert!(dup.fails().contains("is already in use"), "{}", dup.stderr);
    g.run(&["rename", "alpha", "beta"]).ok();
    assert_eq!(g.inspect("{{.Name}}", "beta"), "/beta");
    assert_eq!(g.inspect("{{.Name}}", &id[..5]), "/beta", "unique ID prefix resolves");
    assert!(g.run(&["inspect", "alpha"]).fails().contains("No such object"));
    let generated = g.run(&["create", &img, "true"]).ok().trim().to_string();
    let name = g.inspect("{{.Name}}", &generated);
    assert!(name.trim_start_matches('/').contains('_'), "adjective_surname: {name}");
    assert!(
        g.run(&["create", "--name", "bad name", &img, "true"]).fails().contains("Invalid container name")
    );
    // Two racing creates with one name: exactly one wins.
    let racers: Vec<_> = (0..4)
        .map(|_| {
            g.command(&["create", "--name", "race", &img, "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let wins = racers.into_iter().map(|mut c| c.wait().unwrap().success()).filter(|ok| *ok).count();
    assert_eq!(wins, 1);
}

#[test]
fn ps_formats_and_filters() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "up1", "--label", "tier=web", &img, "sleep", "30"]).ok();
    g.run(&["run", "--name", "done1", &img, "true"]).ok();
    g.run(&["create", "--name", "new1", &img, "true"]).ok();
    let ps = g.run(&["ps"]);
    let text = ps.ok();
    assert!(text.starts_with("CONTAINER ID   IMAGE"), "{text}");
    for col in ["COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"] {
        assert!(text.lines().next().unwrap().contains(col));
    }
    assert_eq!(text.lines().count(), 2, "only running by default: {text}");
    assert!(text.contains("Up ") && text.contains("\"sleep 30\""), "{text}");
    let all = g.run(&["ps", "-a"]).ok().to_string();
    assert!(all.contains("Exited (0) ") && all.contains("Created"), "{all}");
    assert_eq!(g.run(&["ps", "-aq"]).ok().lines().count(), 3);
    assert_eq!(g.run(&["ps", "-q", "--filter", "status=exited"]).ok().lines().count(), 1);
    assert_eq!(g.run(&["ps", "-q", "--filter", "label=tier=web"]).ok().lines().count(), 1);
    assert_eq!(g.run(&["ps", "-aq", "--filter", "name=1"]).ok().lines().count(), 3);
    assert_eq!(g.run(&["ps", "-aq", "--filter", &format!("ancestor={img}")]).ok().lines().count(), 3);
    assert_eq!(g.run(&["ps", "-l", "--format", "{{.Names}}"]).ok(), "new1\n");
    assert_eq!(
        g.run(&["ps", "-n", "2", "--format", "{{.Names}} {{.State}}"]).ok(),
        "new1 created\ndone1 exited\n"
    );
    assert!(g.run(&["ps", "--filter", "status=bogus"]).fails().contains("invalid filter"));
    assert_eq!(g.run(&["ps", "-q", "--no-trunc"]).ok().trim().len(), 64);
}

#[test]
fn inspect_is_docker_shaped() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "-d",
        "--name",
        "insp",
        "-e",
        "FOO=bar",
        "-w",
        "/tmp",
        "--restart",
        "on-failure:2",
        &img,
        "sleep",
        "30",
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(g.run(&["inspect", "insp"]).ok()).unwrap();
    let c = &v[0];
    for k in [
        "Id",
        "Name",
        "Created",
        "Path",
        "Args",
        "State",
        "Config",
        "HostConfig",
        "RestartCount",
        "LogPath",
        "GraphDriver",
        "Mounts",
    ] {
        assert!(c.get(k).is_some(), "missing {k}");
    }
    for k in [
        "Status",
        "Running",
        "Paused",
        "Restarting",
        "OOMKilled",
        "Dead",
        "Pid",
        "ExitCode",
        "Error",
        "StartedAt",
        "FinishedAt",
    ] {
        assert!(c["State"].get(k).is_some(), "missing State.{k}");
    }
    assert_eq!(c["Path"], "sleep");
    assert_eq!(c["Args"], serde_json::json!(["30"]));
    assert_eq!(c["State"]["Running"], true);
    assert!(c["State"]["Pid"].as_i64().unwrap() > 1);
    assert_eq!(c["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
    assert!(c["Config"]["Env"].as_array().unwrap().contains(&serde_json::json!("FOO=bar")));
    assert_eq!(g.inspect("{{.Config.WorkingDir}}", "insp"), "/tmp");
    assert_eq!(g.inspect("{{json .Config.Cmd}}", "insp"), r#"["sleep","30"]"#);
    let pid: i32 = g.inspect("{{.State.Pid}}", "insp").parse().unwrap();
    let host_cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(host_cmdline.starts_with("sleep\0"), "State.Pid is the host PID of the container's init");
    let log = c["LogPath"].as_str().unwrap();
    assert!(std::path::Path::new(log).exists());
    assert_eq!(g.run(&["container", "inspect", "-f", "{{.Name}}", "insp"]).ok().trim(), "/insp");
}

#[test]
fn a_killed_monitor_is_noticed() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "orphan", &img, "sleep", "300"]).ok();
    let (pid, monitor) = g.init_and_monitor("orphan");
    let cmd = std::fs::read_to_string(format!("/proc/{monitor}/cmdline")).unwrap();
    assert!(cmd.contains("__monitor"), "the container's parent is its monitor: {cmd:?}");
    // The monitor left the cgroups of the process that ran `gantry run` for gantry's own.
    let cgroups = std::fs::read_to_string(format!("/proc/{monitor}/cgroup")).unwrap();
    for controller in ["memory", "pids"] {
        let line = cgroups.lines().find(|l| l.split(':').nth(1) == Some(controller));
        assert!(
            line.is_some_and(|l| l.ends_with(":/gantry/monitors")),
            "the monitor's {controller} cgroup: {cgroups}"
        );
    }
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(200));
    let state = g.inspect("{{.State.Status}} {{.State.ExitCode}}", "orphan");
    assert_eq!(state, "exited 255");
    assert!(g.inspect("{{.State.Error}}", "orphan").contains("monitor"), "an error says why");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z"))
                .unwrap_or(true),
        "the orphaned container process was stopped"
    );
    g.run(&["rm", "orphan"]).ok();
}

#[test]
fn interactive_tty_and_detach_round_trip() {
    let g = Gantry::new();
    let img = g.busybox();
    let mut p = Pty::spawn(g.command(&["run", "-it", "--name", "term", &img, "sh"]));
    p.expect("# ", 10);
    p.send(b"tty; echo cols=$(stty size)\r");
    p.expect("/dev/pts/0", 10);
    p.expect("cols=30 100", 10);
    p.send(b"exit 3\r");
    assert_eq!(p.wait(10), 3);

    // Detach with Ctrl-P Ctrl-Q: the container keeps running; attach again and leave.
    let mut p = Pty::spawn(g.command(&["run", "-it", "--name", "keep", &img, "sh"]));
    p.expect("# ", 10);
    p.send(b"echo before\r");
    p.expect("before", 10);
    p.send(b"\x10\x11");
    assert_eq!(p.wait(10), 0);
    assert_eq!(g.inspect("{{.State.Running}}", "keep"), "true");
    let mut a = Pty::spawn(g.command(&["attach", "keep"]));
    std::thread::sleep(Duration::from_millis(300));
    a.send(b"echo again\r");
    a.expect("again", 10);
    a.send(b"exit 0\r");
    assert_eq!(a.wait(10), 0);
    g.wait_for("{{.State.Status}}", "keep", "exited", 10);
}

#[test]
fn stdin_without_tty() {
    let g = Gantry::new();
    let img = g.busybox();
    let out = g.run_with_input(&["run", "-i", "--rm", &img, "sh", "-c", "tr a-z A-Z"], "hello stdin\n");
    assert_eq!(out.ok(), "HELLO STDIN\n");
}

#[test]
fn capabilities_follow_the_flags() {
    let g = Gantry::new();
    let img = g.busybox();
    let caps = |args: &[&str]| -> String {
        let mut a = vec!["run", "--rm"];
        a.extend_from_slice(args);
        a.extend_from_slice(&[&img, "sh", "-c", "grep -E '^Cap(Eff|Inh|Bnd)' /proc/self/status"]);
        g.run(&a).ok().to_string()
    };
    let default = caps(&[]);
    assert!(default.contains("CapEff:\t00000000a80425fb"), "{default}");
    assert!(default.contains("CapInh:\t0000000000000000"), "{default}");
    assert!(caps(&["--cap-add", "net_admin"]).contains("CapEff:\t00000000a80435fb"), "NET_ADMIN is bit 12");
    assert!(caps(&["--cap-drop", "CAP_CHOWN", "--cap-drop", "kill"]).contains("CapEff:\t00000000a80425da"));
    assert!(caps(&["--cap-drop", "ALL"]).contains("CapEff:\t0000000000000000"));
    assert!(caps(&["--cap-drop", "ALL", "--cap-add", "NET_RAW"]).contains("CapEff:\t0000000000002000"));
    // Privileged gets every capability gantry itself holds.
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let bounding = own.lines().find_map(|l| l.strip_prefix("CapBnd:")).unwrap().trim().to_string();
    assert!(caps(&["--privileged"]).contains(&format!("CapEff:\t{bounding}")));
    assert!(
        g.run(&["run", "--rm", "--cap-add", "bogus", &img, "true"]).fails().contains("unknown capability")
    );
}

#[test]
fn masked_and_readonly_paths() {
    let g = Gantry::new();
    let img = g.busybox();
    let out = g.run(&["run", "--rm", &img, "sh", "-c", "wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo x > /proc/sysrq-trigger 2>&1 || echo ro-sysrq; touch /sys/x 2>/dev/null || echo ro-sys; mount -t tmpfs t /mnt 2>/dev/null || echo no-mount"]);
    assert_eq!(out.ok(), "0\n0\n0\nro-sysrq\nro-sys\nno-mount\n");
    let ro = g.run(&["run", "--rm", "--read-only", &img, "sh", "-c", "touch /x 2>/dev/null && echo wrote || echo readonly; touch /tmp/y 2>/dev/null && echo wrote-tmp || echo readonly-tmp"]);
    assert_eq!(ro.ok(), "readonly\nreadonly-tmp\n");
    let priv_ =
        g.run(&["run", "--rm", "--privileged", &img, "sh", "-c", "mount -t tmpfs t /tmp && echo mounted"]);
    assert_eq!(priv_.ok(), "mounted\n");
}

#[test]
fn seccomp_default_and_unconfined() {
    let g = Gantry::new();
    let img = g.busybox();
    let denied = g.run(&[
        "run",
        "--rm",
        "--cap-add",
        "SYS_ADMIN",
        "--security-opt",
        "seccomp=unconfined",
        &img,
        "sh",
        "-c",
        "unshare -m true && echo allowed",
    ]);
    assert_eq!(denied.ok(), "allowed\n");
    let out = g.run(&["run", "--rm", &img, "sh", "-c", "unshare -u true 2>&1; echo rc=$?"]);
    assert!(out.ok().contains("Operation not permitted") && out.stdout.contains("rc=1"), "{}", out.stdout);
    let nnp = g.run(&[
        "run",
        "--rm",
        "--security-opt",
        "no-new-privileges",
        &img,
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    ]);
    assert!(nnp.ok().contains("NoNewPrivs:\t1"));
    let plain = g.run(&["run", "--rm", &img, "grep", "Seccomp:", "/proc/self/status"]);
    assert!(plain.ok().contains("Seccomp:\t2"), "filter mode: {}", plain.stdout);
    // A profile of the user's, in Docker's format, with its own errno.
    let profile = g.dir.path().join("deny-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let custom = g.run(&["run", "--rm", "--security-opt", &opt, &img, "sh", "-c", "mkdir /made; echo rc=$?"]);
    assert!(custom.ok().contains("rc=1") && custom.stderr.contains("Permission denied"), "{custom:?}");
    // Each distinct profile was compiled once and kept: the default one and the user's.
    let cached = std::fs::read_dir(g.root().join("seccomp")).unwrap().count();
    assert_eq!(cached, 2, "cached seccomp programs");
    let again = g.run(&["run", "--rm", "--security-opt", &opt, &img, "sh", "-c", "mkdir /made; echo rc=$?"]);
    assert!(again.ok().contains("rc=1"), "{again:?}");
    assert_eq!(std::fs::read_dir(g.root().join("seccomp")).unwrap().count(), 2, "the cache was used");
}

#[test]
fn users_from_the_image() {
    let g = Gantry::new();
    let img = g.busybox();
    assert_eq!(g.run(&["run", "--rm", "-u", "nobody", &img, "id", "-u"]).ok(), "65534\n");
    assert_eq!(
        g.run(&["run", "--rm", "-u", "10000:20000", &img, "sh", "-c", "echo $(id -u):$(id -g)"]).ok(),
        "10000:20000\n"
    );
    let nobody_caps = g.run(&["run", "--rm", "-u", "nobody", &img, "grep", "CapEff", "/proc/self/status"]);
    assert!(nobody_caps.ok().contains("0000000000000000"), "a non-root user has no effective capabilities");
    let unknown = g.run(&["run", "--rm", "-u", "ghost", &img, "true"]);
    assert!(unknown.fails().contains("unable to find user ghost"), "{}", unknown.stderr);
    assert_eq!(g.run(&["run", "--rm", "-u", "www", &img, "sh", "-c", "echo $HOME"]).ok(), "/home/www\n");
}

#[test]
fn workdir_escape_via_proc_fd_is_refused() {
    let g = Gantry::new();
    let img = g.busybox();
    // Every such workdir is refused before the command runs: an fd leaked into the init could
    // otherwise put its working directory outside the root (CVE-2024-21626).
    for fd in 3..9 {
        let w = format!("/proc/self/fd/{fd}");
        let out = g.run(&["run", "--rm", "-w", &w, &img, "sh", "-c", "echo ran; pwd"]);
        assert_ne!(out.code, 0, "workdir {w} was accepted: {}", out.stdout);
        assert!(!out.stdout.contains("ran"), "the command ran with workdir {w}: {}", out.stdout);
    }
    assert!(g.run(&["run", "--rm", "-w", "relative", &img, "true"]).fails().contains("absolute path"));
}

#[test]
fn devices_and_namespace_sharing() {
    let g = Gantry::new();
    let img = g.busybox();
    let dev = g.run(&[
        "run",
        "--rm",
        "--device",
        "/dev/null:/dev/mynull",
        &img,
        "sh",
        "-c",
        "echo hi > /dev/mynull && echo ok",
    ]);
    assert_eq!(dev.ok(), "ok\n");
    // Without --device, other host devices cannot be created and opened (device cgroup).
    let denied = g.run(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "mknod /tmp/mem c 1 1 && cat /tmp/mem > /dev/null 2>&1 && echo opened || echo denied",
    ]);
    assert_eq!(denied.ok(), "denied\n");
    g.run(&["run", "-d", "--name", "ipcowner", &img, "sleep", "30"]).ok();
    let owner_pid: i32 = g.inspect("{{.State.Pid}}", "ipcowner").parse().unwrap();
    let owner_ipc = std::fs::read_link(format!("/proc/{owner_pid}/ns/ipc")).unwrap();
    let joined =
        g.run(&["run", "--rm", "--ipc", "container:ipcowner", &img, "readlink", "/proc/self/ns/ipc"]);
    assert_eq!(joined.ok().trim(), owner_ipc.to_str().unwrap());
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    let hostipc = g.run(&["run", "--rm", "--ipc", "host", &img, "readlink", "/proc/self/ns/ipc"]);
    assert_eq!(hostipc.ok().trim(), host_ipc.to_str().unwrap());
    let own = g.run(&["run", "--rm", &img, "readlink", "/proc/self/ns/ipc"]);
    assert_ne!(own.ok().trim(), host_ipc.to_str().unwrap(), "a private IPC namespace by default");
    let host_pid_ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let hostpid = g.run(&["run", "--rm", "--pid", "host", &img, "readlink", "/proc/self/ns/pid"]);
    assert_eq!(hostpid.ok().trim(), host_pid_ns.to_str().unwrap());
}

#[test]
fn container_prune_and_rmi_conflicts() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "--name", "old", &img, "true"]).ok();
    g.run(&["run", "-d", "--name", "live", &img, "sleep", "30"]).ok();
    let rmi = g.run(&["rmi", &img]);
    assert!(rmi.fails().contains("image is being used by running container"), "{}", rmi.stderr);
    let out = g.run(&["container", "prune", "-f"]);
    assert!(out.ok().starts_with("Deleted Containers:\n"), "{}", out.stdout);
    assert_eq!(g.run(&["ps", "-aq"]).ok().lines().count(), 1, "the running one stays");
    g.run(&["rm", "-f", "live"]).ok();
    g.run(&["create", "--name", "stopped", &img, "true"]).ok();
    let rmi = g.run(&["rmi", &img]);
    assert!(rmi.fails().contains("must force"), "{}", rmi.stderr);
    assert!(
        g.run(&["image", "prune", "-a", "-f"]).ok().starts_with("Total reclaimed space: 0B"),
        "images in use are kept"
    );
}

#[test]
fn exec_into_a_running_container() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "host1", "-e", "A=1", &img, "sleep", "60"]).ok();
    let out = g.run(&["exec", "host1", "sh", "-c", "echo $A $(hostname) $$; ps | wc -l"]);
    let id = g.inspect("{{.Id}}", "host1");
    let text = out.ok();
    assert!(text.starts_with(&format!("1 {} ", &id[..12])), "same env and hostname: {text}");
    assert_eq!(
        g.run(&["exec", "-e", "A=2", "-w", "/tmp", "host1", "sh", "-c", "echo $A $(pwd)"]).ok(),
        "2 /tmp\n"
    );
    assert_eq!(g.run(&["exec", "-u", "nobody", "host1", "id", "-u"]).ok(), "65534\n");
    // The exec'd process gets the container's seccomp filter and exactly its capabilities:
    // the CAP_SYS_ADMIN lent for loading the filter is gone after execve, and no_new_privs
    // stays off (setuid programs work as under Docker's exec).
    let status = g.run(&["exec", "host1", "cat", "/proc/self/status"]).ok().to_string();
    for want in ["Seccomp:\t2", "Seccomp_filters:\t1", "NoNewPrivs:\t0", "CapEff:\t00000000a80425fb"] {
        assert!(status.contains(want), "{want} in {status}");
    }
    for set in ["CapPrm", "CapBnd"] {
        assert!(status.contains(&format!("{set}:\t00000000a80425fb")), "{set} in {status}");
    }
    let nobody = g.run(&["exec", "-u", "nobody", "host1", "cat", "/proc/self/status"]).ok().to_string();
    assert!(nobody.contains("Seccomp:\t2") && nobody.contains("CapEff:\t0000000000000000"), "{nobody}");
    let blocked = g.run(&["exec", "host1", "unshare", "-U", "true"]);
    assert_ne!(blocked.code, 0, "unshare is outside the default profile: {}", blocked.stdout);
    assert!(blocked.stderr.contains("Operation not permitted"), "{}", blocked.stderr);
    let loose =
        g.run(&["run", "-d", "--security-opt", "seccomp=unconfined", &img, "sleep", "60"]).ok().to_string();
    let loose_status = g.run(&["exec", loose.trim(), "cat", "/proc/self/status"]).ok().to_string();
    assert!(loose_status.contains("Seccomp:\t0"), "unconfined stays unconfined: {loose_status}");
    assert!(loose_status.contains("CapEff:\t00000000a80425fb"), "{loose_status}");
    g.run(&["rm", "-f", loose.trim()]).ok();
    assert_eq!(g.run(&["exec", "host1", "sh", "-c", "exit 7"]).code, 7);
    assert_eq!(g.run_with_input(&["exec", "-i", "host1", "cat"], "piped\n").ok(), "piped\n");
    g.run(&["exec", "-d", "host1", "sh", "-c", "sleep 0.2; echo late > /late"]).ok();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(g.run(&["exec", "host1", "cat", "/late"]).ok(), "late\n");
    // exec -it hands over a terminal and returns.
    let mut p = Pty::spawn(g.command(&["exec", "-it", "host1", "sh"]));
    p.expect("# ", 10);
    p.send(b"tty; exit 5\r");
    p.expect("/dev/pts/", 10);
    assert_eq!(p.wait(10), 5);
    g.run(&["stop", "-t", "0", "host1"]).ok();
    assert_eq!(g.run(&["exec", "host1", "true"]).code, 126, "not running");
}

#[test]
fn top_diff_and_events() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "-d",
        "--name",
        "work",
        &img,
        "sh",
        "-c",
        "echo x > /README.md; rm /bin/vi; touch /etc/new; sleep 60",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(400));
    let top = g.run(&["top", "work"]);
    let text = top.ok();
    assert!(
        text.starts_with("UID") && text.lines().next().unwrap().contains("PPID") && text.contains("CMD"),
        "{text}"
    );
    let pid = g.inspect("{{.State.Pid}}", "work");
    assert!(text.lines().any(|l| l.split_whitespace().nth(1) == Some(pid.as_str())), "host PIDs: {text}");
    assert!(text.contains("sleep 60"), "{text}");
    let diff = g.run(&["diff", "work"]);
    let lines: Vec<&str> = diff.ok().lines().collect();
    for want in ["A /README.md", "C /bin", "D /bin/vi", "C /etc", "A /etc/new"] {
        assert!(lines.contains(&want), "{want} in {lines:?}");
    }
    assert!(!lines.contains(&"A /etc/hostname"), "{lines:?}");
    g.run(&["stop", "-t", "0", "work"]).ok();
    g.run(&["rm", "work"]).ok();
    let ev = g.run(&["events", "--since", "5m", "--until", "0s"]);
    let text = ev.ok();
    for action in ["create", "start", "kill", "die", "stop", "destroy"] {
        assert!(text.contains(&format!(" container {action} ")), "{action} in {text}");
    }
    assert!(text.contains(" image pull "), "{text}");
    let only = g.run(&[
        "events",
        "--since",
        "5m",
        "--until",
        "0s",
        "--filter",
        "event=die",
        "--format",
        "{{.Action}} {{.Actor.Attributes.exitCode}}",
    ]);
    assert_eq!(only.ok().trim(), "die 137");
    // Every container event names its container and image, so the name still finds the events
    // of a container that is gone; attributes print sorted by key, as Docker's do.
    let args = ["events", "--since", "5m", "--until", "0s", "--filter", "container=work"];
    let named = g.run(&args).ok().to_string();
    for action in ["create", "start", "kill", "die", "stop", "destroy"] {
        let line = named.lines().find(|l| l.contains(&format!(" container {action} ")));
        let line = line.unwrap_or_else(|| panic!("{action} in {named}"));
        assert!(line.contains(&format!("image={img}, name=work")), "{line}");
    }
    assert!(named.contains("(exitCode=137, image="), "{named}");
}

#[test]
fn cp_both_ways_and_confined() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "files", &img, "sh", "-c", "mkdir -p /d/sub; echo inside > /d/sub/f; ln -s /etc/passwd /d/link; ln -s ../../../../../../etc /up; ln -s / /rootlink; sleep 60"]).ok();
    std::thread::sleep(Duration::from_millis(400));
    let host = g.dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    g.run(&["cp", "files:/d/sub/f", host.join("f.txt").to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(host.join("f.txt")).unwrap(), "inside\n");
    g.run(&["cp", "files:/d", host.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(host.join("d/sub/f")).unwrap(), "inside\n");
    assert_eq!(
        std::fs::read_link(host.join("d/link")).unwrap().to_str(),
        Some("/etc/passwd"),
        "symlinks copied as links"
    );
    // Symlinks in the container resolve inside it: /up/passwd is the container's passwd.
    g.run(&["cp", "files:/up/passwd", host.join("p").to_str().unwrap()]).ok();
    assert!(
        std::fs::read_to_string(host.join("p")).unwrap().contains("www:x:1000"),
        "the image's passwd, not the host's"
    );
    // Into the container: through a symlink to / stays inside the container.
    std::fs::write(host.join("in.txt"), "from host\n").unwrap();
    g.run(&["cp", host.join("in.txt").to_str().unwrap(), "files:/rootlink/tmp/"]).ok();
    assert_eq!(g.run(&["exec", "files", "cat", "/tmp/in.txt"]).ok(), "from host\n");
    g.run(&["cp", host.join("in.txt").to_str().unwrap(), "files:/up/escape.txt"]).ok();
    assert!(!std::path::Path::new("/etc/escape.txt").exists(), "wrote outside the container");
    assert_eq!(g.run(&["exec", "files", "cat", "/etc/escape.txt"]).ok(), "from host\n");
    // A stopped container's files are reachable too.
    g.run(&["stop", "-t", "0", "files"]).ok();
    g.run(&["cp", "files:/tmp/in.txt", host.join("after.txt").to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(host.join("after.txt")).unwrap(), "from host\n");
    assert!(
        g.run(&["cp", "files:/nope", host.to_str().unwrap()])
            .fails()
            .contains("Could not find the file /nope")
    );
}

#[test]
fn log_rotation_and_init() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=2",
        &img,
        "sh",
        "-c",
        "seq 1 2000",
    ])
    .ok();
    let log = g.inspect("{{.LogPath}}", "chatty");
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(size <= 2048, "rotated at max-size: {size}");
    assert!(
        std::path::Path::new(&format!("{log}.1")).exists()
            && !std::path::Path::new(&format!("{log}.2")).exists()
    );
    let tail = g.run(&["logs", "--tail", "1", "chatty"]);
    assert_eq!(tail.ok(), "2000\n");
    assert!(
        g.run(&["run", "--rm", "--log-opt", "max-size=x", &img, "true"]).fails().contains("invalid max-size")
    );
}

#[test]
fn the_gantry_binary_is_never_writable_from_a_container() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "cve", &img, "sleep", "60"]).ok();
    let (_init, monitor) = g.init_and_monitor("cve");
    // The monitor (which created the container) runs from a read-only mount of the binary, so
    // /proc/<pid>/exe can never be opened for writing (EROFS once the binary is not running).
    let exe = format!("/proc/{monitor}/exe");
    let vfs = rustix::fs::statvfs(exe.as_str()).unwrap();
    assert!(
        vfs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY),
        "monitor binary is on a writable mount"
    );
    assert!(std::fs::read_link(&exe).unwrap().ends_with("gantry-exe"));
    assert!(std::fs::OpenOptions::new().write(true).open(&exe).is_err());
}

#[test]
fn entrypoint_env_file_init_and_fds() {
    let g = Gantry::new();
    let img = g.busybox();
    // Only the standard streams reach the container's process (`ls` itself opens one more).
    let fds = g.run(&["run", "--rm", &img, "sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"]);
    assert_eq!(fds.ok().trim(), "0 1 2 3", "{}", fds.stdout);
    let env = g.dir.path().join("env.list");
    std::fs::write(&env, "# comment\nFROM_FILE=yes\n\nSECOND=2\n").unwrap();
    let out = g.run(&[
        "run",
        "--rm",
        "--env-file",
        env.to_str().unwrap(),
        "-e",
        "SECOND=override",
        &img,
        "sh",
        "-c",
        "echo $FROM_FILE $SECOND",
    ]);
    assert_eq!(out.ok(), "yes override\n");
    assert_eq!(
        g.run(&["run", "--rm", "--entrypoint", "echo", &img, "via", "entrypoint"]).ok(),
        "via entrypoint\n"
    );
    assert_eq!(g.run(&["run", "--rm", "--entrypoint", "", &img, "echo", "cleared"]).ok(), "cleared\n");
    assert_eq!(
        g.inspect(
            "{{json .Config.Entrypoint}}",
            g.run(&["create", "--entrypoint", "", &img, "true"]).ok().trim()
        ),
        "null"
    );
    // --init: a small init is PID 1 and the command runs under it.
    let init = g.run(&[
        "run",
        "--rm",
        "--init",
        &img,
        "sh",
        "-c",
        "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$",
    ]);
    let text = init.ok();
    assert!(text.starts_with("/sbin/docker-init -- sh"), "{text}");
    assert_ne!(text.lines().nth(1), Some("1"), "the command is not PID 1");
    // start -i feeds stdin to a container created with -i.
    let id = g.run(&["create", "-i", &img, "sh", "-c", "read line; echo got $line"]).ok().trim().to_string();
    assert_eq!(g.run_with_input(&["start", "-a", "-i", &id], "typed\n").ok(), "got typed\n");
}

/// The directories that get one subdirectory per container carry ext4's top-directory flag,
/// so that each container's directories and files land in a block group of their own (see
/// `store::spread`); a filesystem without inode flags is left as it is.
#[test]
fn per_container_directories_are_spread_over_the_filesystem() {
    use rustix::fs::{IFlags, Mode, OFlags};
    let g = Gantry::new();
    let id = g.detached(&[], &["sleep", "1000"]);
    // The removal moves the container's files aside under tmp/.
    g.run(&["rm", "-f", &id]).ok();
    let root = g.root();
    for dir in [root.join("containers"), root.join("run/c"), root.join("run/lc"), root.join("tmp")] {
        let fd = rustix::fs::open(&dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        match rustix::fs::ioctl_getflags(&fd) {
            Ok(flags) => assert!(flags.contains(IFlags::TOPDIR), "{}: {flags:?}", dir.display()),
            Err(e) => assert!(matches!(e, rustix::io::Errno::NOTTY | rustix::io::Errno::OPNOTSUPP), "{e}"),
        }
    }
}
