//! Creating one run of a container: mount its root filesystem, resolve its user, write its
//! /etc files and OCI spec, set up its stdio, and have libcontainer create it (not start it).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libcontainer::container::Container as Runtime;
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;

use oci_spec::runtime::LinuxDeviceCgroup;

use super::{hidden_cgroups, sys};
use crate::engine::Engine;
use crate::engine::container::config::{ContainerConfig, HostConfig};
use crate::engine::digest::Digest;
use crate::engine::network::{Attachment, dns, links};
use crate::engine::runtime::seccomp_bpf::Program;
use crate::engine::runtime::spec::{self, Device, Namespaces, SpecInput};
use crate::engine::runtime::tenant::{self, FilteredExecutor};
use crate::engine::runtime::{files, rootfs, user};
use crate::engine::store::containers::{self, State};

/// A created container and the monitor's ends of its stdio.
pub struct Proc {
    runtime: Runtime,
    pub pid: i32,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// Write end of the container's stdin (pipe mode).
    pub stdin: Option<OwnedFd>,
    /// The pty master (`-t`): output, input and resizes all go through it.
    pub master: Option<OwnedFd>,
    id: String,
    /// libcontainer's state directory for this container.
    state_dir: PathBuf,
}

impl Proc {
    pub fn start(&mut self) -> Result<(), String> {
        self.runtime.start().map_err(|e| e.to_string())
    }

    /// Whether the kernel's OOM killer acted in the container's memory cgroup.
    pub fn oom_killed(&self) -> bool {
        crate::engine::cgroups::Layout::host().oom_kills(&self.id) > 0
    }

    /// Cleans up after the init was reaped. With no process left in the container's cgroups
    /// (always so when it had its own PID namespace) gantry removes them and the runtime state
    /// itself: libcontainer would look up every cgroup hierarchy again first (a mountinfo read
    /// per controller, about 3 ms). Otherwise libcontainer kills what is left and removes them.
    pub fn delete_exited(&mut self) {
        if crate::engine::cgroups::Layout::host().remove_if_empty(&self.id) {
            crate::engine::store::tmp::remove_tree(&self.state_dir);
        } else {
            self.delete();
        }
    }

    /// Removes the runtime state and the container's cgroups.
    pub fn delete(&mut self) {
        if let Err(e) = self.runtime.delete(true) {
            tracing::warn!(container = %self.id, error = %e, "runtime delete failed");
        }
    }
}

fn cgroup_v2() -> bool {
    crate::engine::cgroups::Layout::host().is_v2()
}

/// Mounts the rootfs if it is not mounted yet.
fn mount_rootfs(engine: &Engine, id: &str, image_id: &str, disposable: bool) -> Result<PathBuf, String> {
    let dirs = engine.container_dirs(id);
    let target = dirs.rootfs();
    if rootfs::is_mounted(&target) {
        return Ok(target);
    }
    let image_id = Digest::parse(image_id).map_err(|e| e.to_string())?;
    let image =
        engine.db.read(|c| crate::engine::store::images::get(c, &image_id)).map_err(|e| e.to_string())?;
    let image = image.ok_or_else(|| format!("the image {image_id} of this container is gone"))?;
    let lowers: Vec<PathBuf> = image.layers.iter().rev().map(|l| engine.layers.diff_dir(l)).collect();
    let links = engine.paths.layer_links();
    let overlay = rootfs::Overlay {
        lowers: &lowers,
        upper: &dirs.upper(),
        work: &dirs.work(),
        links: &links,
        volatile: disposable,
    };
    rootfs::mount(&overlay, &target).map_err(|e| format!("mounting the container's root filesystem: {e}"))?;
    Ok(target)
}

pub fn unmount_rootfs(engine: &Engine, id: &str) -> Result<(), String> {
    rootfs::unmount(&engine.container_dirs(id).rootfs())
        .map_err(|e| format!("unmounting the root filesystem: {e}"))
}

/// Whether a `--network/--pid/--ipc` mode gives the container a namespace of its own.
fn own_namespace(mode: &str) -> bool {
    mode != "host" && !mode.starts_with("container:")
}

/// The namespace a mode asks for: none of its own (`host`), a new one, or, for
/// `container:NAME`, the path of another container's under its init.
fn namespace_mode(engine: &Engine, mode: &str, kind: &str) -> Result<Option<Option<PathBuf>>, String> {
    let Some(other) = mode.strip_prefix("container:") else {
        return Ok(own_namespace(mode).then_some(None));
    };
    let other = engine.container(other).map_err(|e| e.to_string())?;
    if other.row.state != State::Running || other.row.pid <= 0 {
        return Err(format!("cannot join the {kind} namespace of {}: it is not running", other.row.name));
    }
    Ok(Some(Some(PathBuf::from(format!("/proc/{}/ns/{kind}", other.row.pid)))))
}

/// A host device as the spec describes it.
fn device(host_path: &Path, container_path: &str, access: &str) -> Result<Device, String> {
    let m = std::fs::metadata(host_path).map_err(|e| {
        format!("error gathering device information while adding custom device {:?}: {e}", host_path)
    })?;
    let ft = m.file_type();
    let kind = if ft.is_char_device() {
        'c'
    } else if ft.is_block_device() {
        'b'
    } else {
        return Err(format!("{} is not a device", host_path.display()));
    };
    let rdev = m.rdev();
    Ok(Device {
        path: container_path.to_string(),
        kind,
        major: libc::major(rdev) as i64,
        minor: libc::minor(rdev) as i64,
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        access: access.to_string(),
    })
}

/// Every device node of the host's /dev (for `--privileged`), minus the per-container ones.
fn host_devices() -> Vec<Device> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from("/dev")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !matches!(p.to_str(), Some("/dev/pts" | "/dev/shm" | "/dev/mqueue")) {
                    stack.push(p);
                }
            } else if ft.is_char_device() || ft.is_block_device() {
                let s = p.to_string_lossy().into_owned();
                if matches!(
                    s.as_str(),
                    "/dev/console"
                        | "/dev/ptmx"
                        | "/dev/tty"
                        | "/dev/null"
                        | "/dev/zero"
                        | "/dev/full"
                        | "/dev/random"
                        | "/dev/urandom"
                ) {
                    continue;
                }
                if let Ok(d) = device(&p, &s, "rwm") {
                    out.push(d);
                }
            }
        }
    }
    out
}

fn find_init() -> Result<&'static Path, String> {
    ["/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/libexec/docker/docker-init"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
        .ok_or_else(|| {
            "--init needs a static init binary on the host (install Debian's tini package)".to_string()
        })
}

/// Writes /etc/hostname, hosts and resolv.conf from the container's settings and network plan
/// (the host's files with `--network host`, the other container's with `container:X`).
fn write_etc(
    engine: &Engine,
    dir: &Path,
    config: &ContainerConfig,
    host: &HostConfig,
    att: &Attachment,
) -> Result<(), String> {
    if let Some(other) = host.network_mode.strip_prefix("container:") {
        let other = engine.container(other).map_err(|e| e.to_string())?;
        return files::copy_etc_files(&engine.container_dirs(other.id()).etc(), dir)
            .map_err(|e| format!("copying /etc files of {}: {e}", other.row.name));
    }
    let primary = att.primary();
    let etc = files::EtcFiles {
        hostname: &config.hostname,
        domainname: &config.domainname,
        ip: primary.map(|p| p.ip),
        extra_hosts: &host.extra_hosts,
        link_lines: links::hosts_lines(&att.links),
        dns: &host.dns,
        dns_search: &host.dns_search,
        dns_options: &host.dns_options,
        network_dns: att.interfaces.iter().find(|i| dns::served(&i.ready.net)).map(|i| i.ready.gateway),
        host_gateway: primary.map(|p| p.ready.gateway),
    };
    let written = if host.network_mode == "host" {
        files::write_host_mode_files(dir, &etc)
    } else {
        files::write_etc_files(dir, &etc)
    };
    written.map_err(|e| format!("writing /etc files: {e}"))
}

pub fn launch(
    engine: &Engine,
    id: &str,
    image_id: &str,
    config: &ContainerConfig,
    host: &HostConfig,
    att: &Attachment,
) -> Result<Proc, String> {
    let dirs = engine.container_dirs(id);
    // The container's own network namespace is made meanwhile (see sys::netns_in_background).
    let own_netns = own_namespace(&host.network_mode);
    let netns_thread = if own_netns {
        sys::netns_in_background().inspect_err(|e| tracing::debug!(error = %e, "no netns thread")).ok()
    } else {
        None
    };
    let layout = crate::engine::cgroups::Layout::host();
    // v1: gantry places the container in its cgroups (see cgroups::placement), made meanwhile.
    let places = !layout.is_v2();
    let cgroups_thread = places.then(|| {
        let id = id.to_string();
        std::thread::Builder::new()
            .name("cgroups".into())
            .stack_size(64 * 1024)
            .spawn(move || layout.make_container_cgroups(&id))
    });
    let prepared = prepare_bundle(engine, id, image_id, config, host, att);
    // Joined before anything forks or returns, whatever the preparation's outcome.
    let netns = netns_thread.and_then(|t| t.join().ok()).and_then(|made| {
        made.inspect_err(|e| tracing::debug!(error = %e, "the init makes the network namespace")).ok()
    });
    let made = match cgroups_thread {
        Some(Ok(thread)) => thread.join().unwrap_or_else(|_| Err("the cgroups thread panicked".into())),
        Some(Err(_)) => layout.make_container_cgroups(id),
        None => Ok(()),
    };
    // Until libcontainer has the container, a failed launch removes them again.
    let mut cgroups = CgroupsMade { layout, id, armed: places };
    made?;
    let (mut spec, executor) = prepared?;
    let bundle = dirs.bundle();
    // The init joins the namespace by path, through this process's descriptor, which stays
    // open until libcontainer reports the init created.
    if let Some(fd) = &netns {
        join_netns(&mut spec, &format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd()));
    }
    // Without it, the init makes the namespace and loopback is brought up here.
    let new_netns = own_netns && netns.is_none();
    // v1: gantry writes the device rules and limits itself (see cgroups::placement), and
    // libcontainer, which would insist on finding every hierarchy they need, gets none.
    let device_rules = if places {
        let linux = spec.get_mut("linux").and_then(|l| l.as_object_mut());
        device_rules(linux.and_then(|l| l.remove("resources")))?
    } else {
        Vec::new()
    };
    std::fs::write(bundle.join("config.json"), serde_json::to_vec(&spec).unwrap_or_default())
        .map_err(|e| format!("writing the bundle: {e}"))?;

    let state_root = engine.paths.runtime_state();
    crate::engine::store::spread::ensure_topdir(&state_root)
        .map_err(|e| format!("creating {}: {e}", state_root.display()))?;
    crate::engine::store::tmp::remove_tree(&state_root.join(id));
    let mut builder = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_root_path(&state_root)
        .map_err(|e| e.to_string())?
        .validate_id()
        .map_err(|e| e.to_string())?;
    if let Some(executor) = executor {
        builder = builder.with_executor(executor);
    }
    let (mut stdout, mut stderr, mut stdin, mut listener) = (None, None, None, None);
    if config.tty {
        let path = dirs.console_socket();
        let _ = std::fs::remove_file(&path);
        listener = Some(UnixListener::bind(&path).map_err(|e| format!("console socket: {e}"))?);
        builder = builder.with_console_socket(Some(&path));
    } else {
        let (out_r, out_w) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
        let (err_r, err_w) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
        builder = builder.with_stdout(out_w).with_stderr(err_w);
        if config.open_stdin {
            let (in_r, in_w) =
                rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
            builder = builder.with_stdin(in_r);
            stdin = Some(in_w);
        } else {
            let null = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
            builder = builder.with_stdin(OwnedFd::from(null));
        }
        stdout = Some(out_r);
        stderr = Some(err_r);
    }
    let t_build = std::time::Instant::now();
    // v1: the container's cgroups are joined here, by this thread, rather than by
    // libcontainer's intermediate process (see cgroups::placement).
    let visit = layout.enter_container(id, &device_rules)?;
    tracing::debug!(container = id, elapsed = ?t_build.elapsed(), "cgroups entered");
    let hidden = visit.as_ref().and_then(|_| {
        hidden_cgroups::hide_cgroup_mounts()
            .inspect_err(|e| tracing::debug!(error = %e, "libcontainer joins the cgroups itself"))
            .ok()
    });
    tracing::debug!(container = id, elapsed = ?t_build.elapsed(), "cgroup mounts hidden");
    let built = builder.as_init(&bundle).with_systemd(false).with_detach(config.tty).build();
    drop(hidden);
    drop(visit);
    if built.is_ok() {
        cgroups.armed = false;
    }
    tracing::debug!(container = id, elapsed = ?t_build.elapsed(), "libcontainer create");
    drop(netns);
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            reap_leftovers();
            return Err(describe_create_error(&e.to_string()));
        }
    };
    let pid = runtime.pid().map(|p| p.as_raw()).ok_or("the runtime reported no process")?;
    let master = match listener {
        Some(l) => Some(accept_master(&l)?),
        None => None,
    };
    let _ = std::fs::remove_file(dirs.console_socket());
    let state_dir = state_root.join(id);
    let mut proc = Proc { runtime, pid, stdout, stderr, stdin, master, id: id.to_string(), state_dir };
    // Placed by gantry, the container has its device rules but not its limits yet: they are
    // written now that the monitor's thread is out of its cgroups, before anything of the
    // image runs.
    if places && !host.resources.is_unlimited() {
        if let Err(e) = layout.apply(id, &host.resources) {
            proc.delete();
            reap_leftovers();
            return Err(format!("setting the container's resource limits: {e}"));
        }
    }
    let t_net = std::time::Instant::now();
    let wired = if !att.interfaces.is_empty() {
        engine.network_plumb(id, att, pid).map_err(|e| e.to_string())
    } else if new_netns {
        sys::loopback_up(pid).map_err(|e| format!("bringing up loopback: {e}"))
    } else {
        Ok(())
    };
    tracing::debug!(container = id, elapsed = ?t_net.elapsed(), "network plumbed");
    if let Err(e) = wired {
        proc.delete();
        reap_leftovers();
        return Err(e);
    }
    Ok(proc)
}

/// Mounts the root, writes the /etc files and builds the spec (its seccomp profile taken out
/// into the returned executor).
fn prepare_bundle(
    engine: &Engine,
    id: &str,
    image_id: &str,
    config: &ContainerConfig,
    host: &HostConfig,
    att: &Attachment,
) -> Result<(serde_json::Value, Option<FilteredExecutor>), String> {
    let dirs = engine.container_dirs(id);
    let rootfs = mount_rootfs(engine, id, image_id, host.auto_remove)?;
    let user = user::resolve(&rootfs, &config.user)?;
    write_etc(engine, &dirs.etc(), config, host, att)?;
    // Link variables first, so the container's own `-e` values win.
    let linked;
    let config = if att.links.is_empty() {
        config
    } else {
        let name =
            engine.db.read(|c| containers::get(c, id)).ok().flatten().map(|r| r.name).unwrap_or_default();
        let mut env = links::env(&name, &att.links);
        for e in &config.env {
            crate::engine::container::config::set_env(&mut env, e);
        }
        linked = ContainerConfig { env, ..config.clone() };
        &linked
    };
    let namespaces = Namespaces {
        pid: namespace_mode(engine, &host.pid_mode, "pid")?,
        ipc: namespace_mode(engine, &host.ipc_mode, "ipc")?,
        net: namespace_mode(engine, &host.network_mode, "net")?,
    };
    let mut devices = if host.privileged { host_devices() } else { Vec::new() };
    for d in &host.devices {
        devices.retain(|x| x.path != d.path_in_container);
        devices.push(device(Path::new(&d.path_on_host), &d.path_in_container, &d.cgroup_permissions)?);
    }
    let init = if host.init { Some(find_init()?) } else { None };
    let profile = match host.seccomp() {
        Some("unconfined") | None => None,
        Some(file) => {
            Some(std::fs::read_to_string(file).map_err(|e| format!("reading seccomp profile {file}: {e}"))?)
        }
    };
    let input = SpecInput {
        id,
        config,
        host,
        rootfs: &rootfs,
        user: &user,
        etc_dir: &dirs.etc(),
        namespaces,
        cgroup_v2: cgroup_v2(),
        devices,
        init,
        seccomp_file: profile.as_deref(),
    };
    let mut spec = spec::build(&input)?;
    let executor = seccomp_executor(engine, &dirs.bundle(), &mut spec)?;
    Ok((spec, executor))
}

/// The container's cgroups, made by gantry (v1) ahead of libcontainer's create: removed if
/// the launch fails before libcontainer has the container (`armed`).
struct CgroupsMade<'a> {
    layout: &'a crate::engine::cgroups::Layout,
    id: &'a str,
    armed: bool,
}

impl Drop for CgroupsMade<'_> {
    fn drop(&mut self) {
        if self.armed {
            clear_cgroups(self.layout, self.id);
        }
    }
}

/// Removes the container's cgroups after a failed launch. libcontainer's own clean-up of a
/// failed create found no cgroup (see hidden_cgroups), so what it left there (an init still
/// exiting) is killed and reaped here first; the monitor, a subreaper, is its parent by then.
fn clear_cgroups(layout: &crate::engine::cgroups::Layout, id: &str) {
    for _ in 0..200 {
        reap_leftovers();
        if layout.remove_if_empty(id) {
            return;
        }
        for pid in layout.processes(id) {
            let _ = rustix::process::Pid::from_raw(pid)
                .map(|p| rustix::process::kill_process(p, rustix::process::Signal::KILL));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    layout.remove(id);
}

/// The cgroup device rules of the spec's `linux.resources`.
fn device_rules(resources: Option<serde_json::Value>) -> Result<Vec<LinuxDeviceCgroup>, String> {
    match resources.and_then(|mut r| r.get_mut("devices").map(serde_json::Value::take)) {
        Some(rules) => serde_json::from_value(rules).map_err(|e| format!("the spec's device rules: {e}")),
        None => Ok(Vec::new()),
    }
}

/// Points the spec's network namespace at `path`, to be joined rather than made.
fn join_netns(spec: &mut serde_json::Value, path: &str) {
    let entries = spec.pointer_mut("/linux/namespaces").and_then(|n| n.as_array_mut());
    for ns in entries.into_iter().flatten() {
        if ns.get("type").and_then(|t| t.as_str()) == Some("network") {
            ns["path"] = serde_json::Value::from(path);
        }
    }
}

/// Takes the seccomp profile out of the spec (libcontainer would compile it in the init, about
/// 12 ms each time) and returns the executor that loads its cached program instead, after
/// leaving a copy of the program in the bundle for processes exec'd into the container.
fn seccomp_executor(
    engine: &Engine,
    bundle: &Path,
    spec: &mut serde_json::Value,
) -> Result<Option<FilteredExecutor>, String> {
    let program_file = bundle.join(tenant::PROGRAM_FILE);
    let profile = spec.get_mut("linux").and_then(|l| l.as_object_mut()).and_then(|l| l.remove("seccomp"));
    let Some(profile) = profile.filter(|p| !p.is_null()) else {
        crate::engine::store::tmp::remove_tree(&program_file);
        return Ok(None);
    };
    let tmp = engine.paths.tmp();
    let program = Program::cached(&engine.paths.seccomp_cache(), &tmp, &profile)?;
    // Written next to where it goes: a scratch file in the shared tmp/ would put one more
    // inode per run in that directory's block group (see store::spread).
    program.store(&program_file, bundle).map_err(|e| format!("writing the seccomp program: {e}"))?;
    Ok(Some(FilteredExecutor::new(program, &mut spec["process"])))
}

/// Accepts the init's connection on the console socket and receives the pty master.
fn accept_master(l: &UnixListener) -> Result<OwnedFd, String> {
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match l.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                let fd = sys::receive_fd(&stream).map_err(|e| format!("receiving the terminal: {e}"))?;
                sys::set_winsize(&fd, 24, 80).map_err(|e| e.to_string())?;
                let _ = fd.as_raw_fd();
                return Ok(fd);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(format!("waiting for the container's terminal: {e}")),
        }
    }
}

/// libcontainer does not reap the processes of a failed create.
fn reap_leftovers() {
    loop {
        // SAFETY: waitpid with WNOHANG on any child; the status is discarded.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
        if r <= 0 {
            break;
        }
    }
}

/// Turns libcontainer's create errors into the messages Docker users know.
fn describe_create_error(e: &str) -> String {
    if e.contains("not found in $PATH") || e.contains("executable") && e.contains("not found") {
        format!("failed to create the container: exec: executable file not found in $PATH ({e})")
    } else {
        format!("failed to create the container: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_rules_come_from_the_resources_taken_out_of_the_spec() {
        assert!(device_rules(None).unwrap().is_empty());
        assert!(device_rules(Some(serde_json::json!({"memory": {}}))).unwrap().is_empty());
        let rules = device_rules(Some(serde_json::json!({"devices": [{"allow": false, "access": "rwm"}]})));
        assert_eq!(rules.unwrap()[0].to_string(), "a *:* rwm");
        assert!(device_rules(Some(serde_json::json!({"devices": 3}))).is_err());
    }

    #[test]
    fn a_made_namespace_is_joined_by_path_and_the_others_are_left_alone() {
        let mut spec = serde_json::json!({"linux": {"namespaces": [
            {"type": "pid"}, {"type": "network"}, {"type": "mount"}
        ]}});
        join_netns(&mut spec, "/proc/7/fd/9");
        assert_eq!(spec["linux"]["namespaces"][1]["path"], "/proc/7/fd/9");
        assert!(spec["linux"]["namespaces"][0].get("path").is_none());
        assert!(spec["linux"]["namespaces"][2].get("path").is_none());
        let untouched = serde_json::json!({"linux": {"namespaces": [{"type": "pid"}]}});
        let mut host = untouched.clone();
        join_netns(&mut host, "/proc/7/fd/9");
        assert_eq!(host, untouched, "--network host: no network entry to point anywhere");
    }

    #[test]
    fn only_host_and_container_modes_share_a_namespace() {
        assert!(own_namespace("bridge") && own_namespace("none") && own_namespace("mynet"));
        assert!(!own_namespace("host") && !own_namespace("container:db"));
    }
}
