//! Container lifecycle commands: `run`, `create`, `start`, `stop`, `restart`, `kill`,
//! `pause`, `unpause`, `rm`, `rename`, `wait`, `container prune`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::args::{ContainersArgs, KillArgs, PruneArgs, RenameArgs, RmArgs, RunArgs, StartArgs, StopArgs};
use super::attach::{self, AttachOptions};
use super::output::{Failure, Outcome, print};
use crate::engine::container::CreateRequest;
use crate::engine::container::config::{DeviceMapping, HostConfig, LogConfig, RestartPolicy};
use crate::engine::container::start::PendingMonitor;
use crate::engine::platform::Platform;
use crate::engine::reference::Reference;
use crate::engine::{Engine, EngineOptions, Error};

/// Docker's exit statuses for `run`: 125 when gantry itself failed, 126/127 when the command
/// could not be invoked or found.
fn run_failure(e: Error) -> Failure {
    let message = super::output::describe(&e);
    let code =
        if message.contains("executable file not found") || message.contains("no such file or directory") {
            127
        } else if message.contains("permission denied") {
            126
        } else {
            125
        };
    Failure { message, code }
}

/// `-e KEY=VALUE`, or `-e KEY` taken from gantry's own environment.
fn env_entry(e: &str) -> Option<String> {
    if e.contains('=') { Some(e.to_string()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) }
}

fn env_file(path: &std::path::Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("reading env file {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(env_entry)
        .collect())
}

fn labels(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// Turns `run`/`create` flags into an engine request.
fn request(a: &RunArgs) -> Result<CreateRequest, Failure> {
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(env_file(f)?);
    }
    env.extend(a.env.iter().filter_map(|e| env_entry(e)));
    let restart = RestartPolicy::parse(&a.restart).map_err(Failure::usage)?;
    if a.rm && restart.name != "no" {
        return Err(Failure::usage("Conflicting options: --restart and --rm"));
    }
    let mut log_opts = BTreeMap::new();
    for o in &a.log_opt {
        let (k, v) = o
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("invalid log option {o:?}: expected key=value")))?;
        if !matches!(k, "max-size" | "max-file") {
            return Err(Failure::usage(format!("unknown log opt '{k}' (supported: max-size, max-file)")));
        }
        log_opts.insert(k.to_string(), v.to_string());
    }
    let devices = a
        .device
        .iter()
        .map(|d| DeviceMapping::parse(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::usage)?;
    let network = a.network.clone().unwrap_or_default();
    let mut port_bindings = crate::engine::network::ports::PortMap::new();
    for p in &a.publish {
        for (key, binding) in crate::engine::network::ports::parse_publish(p).map_err(Failure::usage)? {
            port_bindings.entry(key.clone()).or_default().push(binding);
        }
    }
    let mut expose = Vec::new();
    for e in &a.expose {
        expose.extend(crate::engine::network::ports::parse_expose(e).map_err(Failure::usage)?);
    }
    // Published ports are exposed too, as in Docker.
    expose.extend(port_bindings.keys().cloned());
    let host = HostConfig {
        restart_policy: restart,
        auto_remove: a.rm,
        privileged: a.privileged,
        readonly_rootfs: a.read_only,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        security_opt: a.security_opt.clone(),
        devices,
        ipc_mode: a.ipc.clone().unwrap_or_else(|| HostConfig::DEFAULT_IPC.into()),
        pid_mode: a.pid.clone().unwrap_or_default(),
        network_mode: if network.is_empty() || network == "default" { "bridge".into() } else { network },
        init: a.init,
        log_config: LogConfig::gantry_file(log_opts),
        port_bindings,
        publish_all_ports: a.publish_all,
        links: a.link.clone(),
        dns: a.dns.clone(),
        dns_search: a.dns_search.clone(),
        dns_options: a.dns_option.clone(),
        extra_hosts: a.add_host.clone(),
        resources: a.limits.resources().map_err(Failure::usage)?,
    };
    for o in &host.security_opt {
        let ok = o.starts_with("seccomp=") || o.starts_with("seccomp:") || o.starts_with("no-new-privileges");
        if !ok {
            return Err(Failure::usage(format!(
                "invalid --security-opt {o:?} (supported: seccomp=unconfined|<file>, no-new-privileges)"
            )));
        }
    }
    Ok(CreateRequest {
        name: a.name.clone(),
        image: a.image.clone(),
        cmd: if a.command.is_empty() { None } else { Some(a.command.clone()) },
        entrypoint: a.entrypoint.as_ref().map(|e| if e.is_empty() { Vec::new() } else { vec![e.clone()] }),
        env,
        working_dir: a.workdir.clone(),
        user: a.user.clone(),
        hostname: a.hostname.clone(),
        domainname: a.domainname.clone(),
        tty: a.tty,
        open_stdin: a.interactive,
        labels: labels(&a.label),
        expose,
        network_aliases: a.network_alias.clone(),
        host,
    })
}

/// Creates the container, pulling its image first when it is not here (as `docker run` does).
async fn create(engine: &Arc<Engine>, a: &RunArgs) -> Result<crate::engine::container::Container, Failure> {
    let req = request(a)?;
    match engine.find_image(&a.image) {
        Ok(_) => {}
        Err(Error::ImageNotFound(_)) => {
            let reference =
                Reference::parse(&a.image).map_err(|e| Failure { message: e.to_string(), code: 125 })?;
            eprintln!("Unable to find image '{}' locally", reference.familiar());
            let platform = a.platform.as_deref().map(Platform::parse).transpose().map_err(Failure::usage)?;
            super::pull::pull_with_progress_to_stderr(engine, &reference, platform).await.map_err(
                |mut f| {
                    f.code = 125;
                    f
                },
            )?;
        }
        Err(e) => return Err(run_failure(e)),
    }
    let created = engine.create_container(req).map_err(run_failure)?;
    for w in &created.warnings {
        eprintln!("WARNING: {w}");
    }
    let c = created.container;
    if let Some(path) = &a.cidfile {
        std::fs::write(path, c.id()).map_err(|e| Failure::usage(format!("writing cidfile: {e}")))?;
    }
    Ok(c)
}

pub async fn create_command(engine: &Arc<Engine>, a: RunArgs) -> Outcome {
    let c = create(engine, &a).await?;
    print(&format!("{}\n", c.id()))
}

/// A monitor for `run`, started on a thread of its own as the command line starts, before
/// the engine is open (see [`PendingMonitor::spawn`]).
pub struct EarlyMonitor(std::thread::JoinHandle<Option<PendingMonitor>>);

impl EarlyMonitor {
    pub fn start(opts: EngineOptions, attached: bool) -> Self {
        Self(std::thread::spawn(move || {
            PendingMonitor::spawn(opts, attached)
                .inspect_err(|e| tracing::debug!(error = %e, "no early monitor"))
                .ok()
        }))
    }

    async fn take(self) -> Option<PendingMonitor> {
        tokio::task::spawn_blocking(move || self.0.join().ok().flatten()).await.ok().flatten()
    }
}

pub async fn run(engine: &Arc<Engine>, a: RunArgs, early: Option<EarlyMonitor>) -> Outcome {
    let opts =
        AttachOptions { stdin: a.interactive, tty: a.tty, detach_keys: a.detach_keys.clone(), start: true };
    if !a.detach {
        attach::detach_keys(&opts)?;
    }
    // The monitor's own start (even the spawn, which waits for its exec) overlaps the
    // creation; should it fail here, the start spawns one.
    let preparing = match early {
        Some(early) => tokio::spawn(early.take()),
        None => {
            let (engine, attached) = (engine.clone(), !a.detach);
            tokio::task::spawn_blocking(move || engine.prepare_monitor(attached).ok())
        }
    };
    tracing::debug!("run: creating");
    let c = create(engine, &a).await?;
    tracing::debug!(container = c.id(), "run: created");
    let monitor = preparing.await.ok().flatten();
    if a.detach {
        engine.start_prepared(c.id(), monitor).await.map_err(run_failure)?;
        return print(&format!("{}\n", c.id()));
    }
    let (_, stream) =
        engine.start_attached(c.id(), attach::hello(&opts), monitor).await.map_err(run_failure)?;
    let code = attach::session(engine, c.id(), attach_stream(stream)?, &opts).await?;
    tracing::debug!(container = c.id(), ?code, "run: exit status received");
    exit_with(code)
}

/// The engine's blocking attach connection as the async stream an attach session reads.
fn attach_stream(stream: std::os::unix::net::UnixStream) -> Result<tokio::net::UnixStream, Failure> {
    stream
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(stream))
        .map_err(|e| Failure::new(format!("attaching: {e}")))
}

/// Ends the command with the container's exit status.
pub fn exit_with(code: Option<i32>) -> Outcome {
    match code {
        Some(0) | None => Ok(()),
        Some(c) => Err(Failure::silent(c.clamp(0, 255) as u8)),
    }
}

pub async fn start(engine: &Arc<Engine>, a: StartArgs) -> Outcome {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            return Err(Failure::usage("you cannot start and attach multiple containers at once"));
        }
        let c = engine.container(&a.containers[0])?;
        let opts = AttachOptions {
            stdin: a.interactive && c.config.open_stdin,
            tty: c.config.tty,
            detach_keys: a.detach_keys.clone(),
            start: true,
        };
        attach::detach_keys(&opts)?;
        let (c, stream) = engine.start_attached(c.id(), attach::hello(&opts), None).await?;
        let code = attach::session(engine, c.id(), attach_stream(stream)?, &opts).await?;
        return exit_with(code);
    }
    for_each(&a.containers, |name| async move { engine.start_container(&name).await.map(|_| ()) }).await
}

/// Applies an operation to several containers, printing each name on success and each error
/// on stderr (Docker's behaviour); fails at the end if any failed.
async fn for_each<F, Fut>(names: &[String], f: F) -> Outcome
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let mut failed = false;
    for n in names {
        match f(n.clone()).await {
            Ok(()) => print(&format!("{n}\n"))?,
            Err(e) => {
                eprintln!("Error: {}", super::output::describe(&e));
                failed = true;
            }
        }
    }
    if failed { Err(Failure::silent(1)) } else { Ok(()) }
}

pub async fn stop(engine: &Arc<Engine>, a: StopArgs) -> Outcome {
    for_each(&a.containers, |n| async move { engine.stop_container(&n, a.time).await }).await
}

pub async fn restart(engine: &Arc<Engine>, a: StopArgs) -> Outcome {
    for_each(&a.containers, |n| async move { engine.restart_container(&n, a.time).await }).await
}

pub async fn kill(engine: &Arc<Engine>, a: KillArgs) -> Outcome {
    let sig = a.signal.clone();
    for_each(&a.containers, |n| {
        let sig = sig.clone();
        async move { engine.kill_container(&n, &sig) }
    })
    .await
}

pub async fn pause(engine: &Arc<Engine>, a: ContainersArgs) -> Outcome {
    for_each(&a.containers, |n| async move { engine.pause_container(&n) }).await
}

pub async fn unpause(engine: &Arc<Engine>, a: ContainersArgs) -> Outcome {
    for_each(&a.containers, |n| async move { engine.unpause_container(&n) }).await
}

pub async fn rm(engine: &Arc<Engine>, a: RmArgs) -> Outcome {
    for_each(&a.containers, |n| async move { engine.remove_container(&n, a.force).await }).await
}

pub fn rename(engine: &Arc<Engine>, a: RenameArgs) -> Outcome {
    engine.rename_container(&a.container, &a.new_name)?;
    Ok(())
}

pub async fn wait(engine: &Arc<Engine>, a: ContainersArgs) -> Outcome {
    let mut failed = false;
    for n in &a.containers {
        match engine.wait_container(n).await {
            Ok(code) => print(&format!("{code}\n"))?,
            Err(e) => {
                eprintln!("Error: {}", super::output::describe(&e));
                failed = true;
            }
        }
    }
    if failed { Err(Failure::silent(1)) } else { Ok(()) }
}

pub fn prune(engine: &Arc<Engine>, a: PruneArgs) -> Outcome {
    if !a.force && !super::images::confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(());
    }
    let removed = engine.prune_containers()?;
    let mut out = String::new();
    if !removed.is_empty() {
        out.push_str("Deleted Containers:\n");
        for id in &removed {
            out.push_str(id);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("Total reclaimed space: 0B\n");
    print(&out)
}

pub async fn update(engine: &Arc<Engine>, a: super::args::UpdateArgs) -> Outcome {
    let update = a.limits.update().map_err(Failure::usage)?;
    if !a.limits.ulimit.is_empty() || a.limits.oom_kill_disable {
        return Err(Failure::usage("update: --ulimit and --oom-kill-disable can only be set at create"));
    }
    let restart = a.restart.as_deref().map(RestartPolicy::parse).transpose().map_err(Failure::usage)?;
    if update.is_empty() && restart.is_none() {
        return Err(Failure::usage("you must provide one or more flags when using this command"));
    }
    for_each(&a.containers, |name| {
        let (update, restart) = (&update, restart.clone());
        async move {
            for w in engine.update_container(&name, update, restart)? {
                eprintln!("WARNING: {w}");
            }
            Ok(())
        }
    })
    .await
}
