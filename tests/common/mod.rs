//! Shared helpers for integration tests: the real `gantry` binary run as root in a private state
//! root, and the test rig's registries (started by `scripts/test`).

#![allow(dead_code)]

pub mod http;
pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The rig's settings, from the environment `scripts/test` exports. A test that needs the rig
/// fails (it is never skipped) when it is missing.
pub struct Rig {
    pub registry: String,
    pub auth_registry: String,
    pub user: String,
    pub pass: String,
    pub certs_dir: PathBuf,
}

pub fn rig() -> Rig {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run the suite with scripts/test, which starts the test registries")
        })
    };
    Rig {
        registry: var("GANTRY_TEST_REGISTRY"),
        auth_registry: var("GANTRY_TEST_AUTH_REGISTRY"),
        user: var("GANTRY_TEST_AUTH_USER"),
        pass: var("GANTRY_TEST_AUTH_PASS"),
        certs_dir: PathBuf::from(var("GANTRY_TEST_CERTS_DIR")),
    }
}

/// A gantry with its own state root, settings file and Docker client config, and its own
/// default bridge and nftables table (so tests running in parallel never share them).
pub struct Gantry {
    pub dir: tempfile::TempDir,
    /// The test's default bridge device and nftables table.
    pub bridge: String,
    pub nft_table: String,
}

/// How long one gantry command may run in a test before it counts as hung.
pub const COMMAND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// The captured result of one command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        &self.stdout
    }

    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn fails(&self) -> &str {
        assert_ne!(self.code, 0, "command unexpectedly succeeded\nstdout:\n{}", self.stdout);
        &self.stderr
    }
}

impl Gantry {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("gantry-it-").tempdir().expect("temp dir");
        let tag = format!("{:06x}", rand_u32() & 0xff_ffff);
        let g = Self { dir, bridge: format!("gtit{tag}"), nft_table: format!("gantry_it_{tag}") };
        std::fs::create_dir_all(g.docker_config_dir()).expect("docker config dir");
        g.set_config("");
        g
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn docker_config_dir(&self) -> PathBuf {
        self.dir.path().join("docker")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gantry.toml")
    }

    /// Writes the engine settings file; `certs_dir` defaults to an empty dir of the test.
    pub fn set_config(&self, extra: &str) {
        self.write_config(extra, "");
    }

    /// Writes the settings with extra lines for the `[network]` section.
    pub fn set_network_config(&self, network: &str) {
        self.write_config("", network);
    }

    fn write_config(&self, extra: &str, network: &str) {
        let certs = self.dir.path().join("certs.d");
        std::fs::create_dir_all(&certs).expect("certs dir");
        let mut text = if extra.contains("certs_dir") {
            extra.to_string()
        } else {
            format!("certs_dir = {:?}\n{extra}", certs)
        };
        text.push_str(&format!(
            "\n[network]\nbridge = {:?}\nnft_table = {:?}\n{network}\n",
            self.bridge, self.nft_table
        ));
        std::fs::write(self.config_path(), text).expect("write config");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gantry"));
        c.args(args)
            .env("GANTRY_ROOT", self.root())
            .env("GANTRY_CONFIG", self.config_path())
            .env("DOCKER_CONFIG", self.docker_config_dir())
            .env_remove("GANTRY_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Pulls the busybox fixture (most container tests start from it) and returns its name.
    pub fn busybox(&self) -> String {
        let image = format!("{}/fixtures/busybox", rig().registry);
        self.run(&["pull", "-q", &image]).ok();
        image
    }

    /// `inspect -f TEMPLATE NAME`, trimmed.
    pub fn inspect(&self, template: &str, name: &str) -> String {
        self.run(&["inspect", "-f", template, name]).ok().trim().to_string()
    }

    /// The host PIDs of a running container's init and of its monitor (the init's parent).
    pub fn init_and_monitor(&self, name: &str) -> (i32, i32) {
        let pid: i32 = self.inspect("{{.State.Pid}}", name).parse().expect("a running container");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("init status");
        let monitor = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("PPid");
        (pid, monitor)
    }

    /// Polls `inspect -f` until it prints `want` (or panics after `secs`).
    #[track_caller]
    pub fn wait_for(&self, template: &str, name: &str, want: &str, secs: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            let r = self.run(&["inspect", "-f", template, name]);
            last = r.stdout.trim().to_string();
            if r.code == 0 && last == want {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{template} of {name} is {last:?}, expected {want:?}");
    }

    /// `run -d --network none FLAGS… busybox CMD…` (the fixture pulled first): the new
    /// container's ID.
    #[track_caller]
    pub fn detached(&self, flags: &[&str], cmd: &[&str]) -> String {
        let img = self.busybox();
        let mut args = vec!["run", "-d", "--network", "none"];
        args.extend(flags);
        args.push(&img);
        args.extend(cmd);
        self.run(&args).ok().trim().to_string()
    }

    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_bounded(args, None)
    }

    /// Runs with `input` on stdin.
    #[track_caller]
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        self.run_bounded(args, Some(input))
    }

    /// Runs one command, killing it (by its own PID) and failing the test if it outlives
    /// [`COMMAND_DEADLINE`]: a hang then names the command and shows what it printed, instead
    /// of stalling the whole suite until CI's limit.
    #[track_caller]
    fn run_bounded(&self, args: &[&str], input: Option<&str>) -> Run {
        use std::io::{Read, Write};
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().expect("run gantry");
        if let Some(text) = input {
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
        }
        // Readers fill shared buffers, so what a hung command printed can be shown without
        // waiting for an end of file that a leftover grandchild may hold off forever.
        let drain = |mut r: Box<dyn Read + Send>| {
            let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = std::sync::Arc::clone(&buf);
            let done = std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            });
            (buf, done)
        };
        let out = drain(Box::new(child.stdout.take().expect("stdout")));
        let err = drain(Box::new(child.stderr.take().expect("stderr")));
        let text = |b: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>| b.lock().unwrap().clone();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > COMMAND_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`gantry {}` hung for {COMMAND_DEADLINE:?}\nstdout: {}\nstderr: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&text(&out.0)),
                    String::from_utf8_lossy(&text(&err.0))
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        // The output ends when the command exits, unless something it started kept the pipes.
        let exited = std::time::Instant::now();
        while !(out.1.is_finished() && err.1.is_finished()) && exited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Run::from(Output { status, stdout: text(&out.0), stderr: text(&err.0) })
    }

    /// Names of entries directly under a directory of the state root (empty if missing).
    pub fn entries(&self, sub: &str) -> Vec<String> {
        list_dir(&self.root().join(sub))
    }

    /// PIDs of this test's monitors (`__monitor` processes serving its state root).
    pub fn monitors(&self) -> Vec<i32> {
        let root = format!("--state-root\0{}\0", self.root().display());
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("\0__monitor\0") && cmdline.contains(&root) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Asserts the store holds no scratch data and nothing unrecorded.
    #[track_caller]
    pub fn assert_clean_scratch(&self) {
        assert!(self.entries("tmp").is_empty(), "scratch data left: {:?}", self.entries("tmp"));
    }
}

impl Drop for Gantry {
    /// Removes every container this test made and unmounts everything under its root, even
    /// when the test failed, so the suite leaves no mounts, cgroups or processes behind.
    fn drop(&mut self) {
        let ids = self.run(&["ps", "-aq", "--no-trunc"]).stdout;
        for id in ids.lines().filter(|l| !l.is_empty()) {
            let _ = self.run(&["rm", "-f", id]);
        }
        // User networks (their bridges and DNS responders), then this test's bridge and table.
        let _ = self.run(&["network", "prune", "-f"]);
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).stderr(Stdio::null()).status();
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", &self.nft_table])
            .stderr(Stdio::null())
            .status();
        unmount_under(self.dir.path());
    }
}

/// A random number from the kernel (tests avoid a rand dependency).
pub fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    u32::from_le_bytes(b)
}

/// Unmounts (lazily, deepest first) every mount below `dir`.
pub fn unmount_under(dir: &Path) {
    let prefix = dir.to_string_lossy().into_owned();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<String> = info
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(String::from))
        .filter(|p| p.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = Command::new("umount").arg("-l").arg(&p).status();
    }
}

pub fn list_dir(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Unmounts a path when dropped (for tests that mount overlayfs).
pub struct MountGuard(pub PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}
