//! The full-screen terminal UI (`gantry` with no arguments): a thin client of the engine.
//!
//! [`app`] is the state, [`update`] the only code that changes it (pure: it returns
//! [`update::Effect`]s), [`render`] draws it, [`keymap`] binds keys to actions (and generates
//! the help), [`theme`] gives every colour, [`terminal`] owns the real screen. This module is
//! the event loop: terminal input, engine events (in-process, and lifecycle changes other
//! gantry processes record), the shared stats sweep, and running effects against the engine.

pub mod app;
pub mod dialog;
pub mod form;
pub mod handover;
pub mod jobs;
pub mod keymap;
pub mod log_view;
pub mod matcher;
pub mod pull_dialog;
pub mod render;
pub mod symbols;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use crate::engine::container::log_follow::LogBatch;
use crate::engine::events::Event;
use crate::engine::store::containers::State;
use crate::engine::{Engine, Error};
use app::{App, ContainerItem, Lists, NetworkItem};
use update::{Effect, Msg, update};

/// The UI's settings directory: `$XDG_CONFIG_HOME/gantry`, else `~/.config/gantry`.
pub fn user_config_dir() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))?;
    Some(base.join("gantry"))
}

/// How the UI was asked to run.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub theme: Option<String>,
    pub read_only: bool,
    /// Draw with ASCII only.
    pub ascii: bool,
}

/// Everything the lists show, read from the engine.
fn load(engine: &Engine) -> Result<Lists, Error> {
    let containers = engine.containers()?;
    let published = engine.all_container_ports()?;
    let containers = containers
        .into_iter()
        .map(|c| {
            let ports = if matches!(c.row.state, State::Running | State::Paused | State::Restarting) {
                let exposed: Vec<String> = c.config.exposed_ports.keys().cloned().collect();
                let active = published.get(c.id()).map(Vec::as_slice).unwrap_or(&[]);
                crate::engine::network::inspect::ports_text(active, &exposed)
            } else {
                String::new()
            };
            ContainerItem { container: c, ports }
        })
        .collect::<Vec<_>>();
    let mut networks = Vec::new();
    for n in engine.networks()? {
        let members = engine.network_members(&n.id)?;
        let names = members.into_iter().map(|m| m.name).collect();
        networks.push(NetworkItem { network: n, containers: names });
    }
    Ok(Lists { containers, images: engine.images()?, networks })
}

/// Writes saved log lines to `DIR/NAME-YYYYmmdd-HHMMSS.log` (the UI passes its working
/// directory).
fn save_logs(dir: &std::path::Path, name: &str, text: &str) -> Result<String, String> {
    let path = dir.join(format!("{name}-{}.log", chrono::Local::now().format("%Y%m%d-%H%M%S")));
    std::fs::write(&path, text).map_err(|e| format!("saving logs to {}: {e}", path.display()))?;
    Ok(format!("saved {} lines to {}", text.lines().count(), path.display()))
}

/// The newest recorded lifecycle event: a change means another process (a monitor, another
/// gantry) changed something.
fn last_recorded(engine: &Engine) -> i64 {
    engine.last_event_seq().unwrap_or(0)
}

/// The next batch of the current log stream (pending forever when there is none).
async fn next_logs(stream: &mut Option<(u64, mpsc::Receiver<LogBatch>)>) -> Option<(u64, LogBatch)> {
    match stream {
        Some((generation, rx)) => match rx.recv().await {
            Some(b) => Some((*generation, b)),
            None => {
                *stream = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard (works over SSH, and in
/// tmux with `set-clipboard on`).
fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text))
}

fn copy_to_clipboard(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout();
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

fn set_mouse(on: bool) {
    use ratatui::crossterm::{event, execute};
    let _ = if on {
        execute!(std::io::stdout(), event::EnableMouseCapture)
    } else {
        execute!(std::io::stdout(), event::DisableMouseCapture)
    };
}

/// Most tags whose details (digest, platforms, size) the pull dialog fetches.
const TAG_DETAILS: usize = 50;

/// A repository's tags with their details, newest-sorted by name as the registry lists them.
async fn browse_tags(
    engine: &Engine,
    repository: &str,
) -> Result<Vec<crate::engine::browse::TagDetails>, String> {
    use crate::engine::reference::Reference;
    let repo = Reference::parse(repository).map_err(|e| e.to_string())?;
    let tags = engine.list_tags(&repo, 1000).await.map_err(|e| e.to_string())?;
    let lookups = tags.iter().take(TAG_DETAILS).map(|tag| async move {
        let r = Reference::parse(&format!("{repository}:{tag}")).ok()?;
        engine.tag_details(&r).await.ok()
    });
    let details: Vec<_> = futures_util::future::join_all(lookups).await.into_iter().flatten().collect();
    if details.is_empty() && !tags.is_empty() {
        return Err(format!("{repository}: could not read any of its {} tags' manifests", tags.len()));
    }
    Ok(details)
}

/// Runs `cmd` on the real terminal (exec, attach) and says how it ended.
fn hand_over(
    screen: &mut terminal::Screen,
    gate: &handover::InputGate,
    banner: &str,
    cmd: Result<std::process::Command, Error>,
) -> Result<std::process::ExitStatus, String> {
    let cmd = cmd.map_err(|e| e.to_string())?;
    tokio::task::block_in_place(|| handover::run_foreground(screen, gate, banner, cmd))
}

pub async fn run(engine: Arc<Engine>, opts: TuiOptions) -> Result<(), String> {
    let mut theme = match &opts.theme {
        Some(name) => theme::Theme::load(name)?,
        None => theme::Theme::default_dark(),
    };
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        theme = theme.without_colour();
    }
    let keymap = keymap::Keymap::load()?;
    let mut app = App::new(theme, keymap, opts.read_only);
    app.symbols = symbols::Symbols::detect(opts.ascii);
    app.now = crate::text::now_nanos();
    let lists = load(&engine).map_err(|e| e.to_string())?;
    update(&mut app, Msg::Loaded(Box::new(lists)));
    let mut screen = terminal::Screen::enter().map_err(|e| format!("terminal: {e}"))?;
    set_mouse(app.mouse);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut pending: Vec<Effect> = Vec::new();
    if let Ok(size) = screen.term.size() {
        pending.extend(update(&mut app, Msg::Resize(size.width, size.height)));
    }
    let gate = Arc::new(handover::InputGate::default());
    handover::spawn_input(tx.clone(), Arc::clone(&gate));
    let mut events = engine.subscribe();
    engine.share_stats(Duration::from_secs(1));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut seen = last_recorded(&engine);
    // Read directly (not through `rx`) so that a flooding container is held back by the
    // stream's small queue instead of piling up here.
    let mut log_stream: Option<(u64, mpsc::Receiver<LogBatch>)> = None;
    // When the oldest key not yet on screen arrived: its latency is logged (at debug level,
    // target gantry::tui) once the frame is out, for the benchmark.
    let mut key_at: Option<std::time::Instant> = None;
    loop {
        if app.dirty {
            screen.draw(|f| render::render(&app, f)).map_err(|e| format!("drawing: {e}"))?;
            app.dirty = false;
            if let Some(at) = key_at.take() {
                tracing::debug!(target: "gantry::tui", micros = at.elapsed().as_micros() as u64, "key to frame");
            }
        }
        let mut effects = std::mem::take(&mut pending);
        if effects.is_empty() {
            effects = tokio::select! {
                Some(msg) = rx.recv() => {
                    if let Msg::Key(k) = &msg {
                        tracing::debug!(target: "gantry::tui", key = ?k.code, mode = ?app.mode, "key");
                        key_at.get_or_insert_with(std::time::Instant::now);
                    }
                    update(&mut app, msg)
                }
                Some((generation, batch)) = next_logs(&mut log_stream) => update(&mut app, Msg::Logs(generation, batch)),
                ev = events.recv() => match ev {
                    Ok(Event::Stats(samples)) => update(&mut app, Msg::Stats(samples)),
                    Ok(Event::Lifecycle(_)) | Err(broadcast::error::RecvError::Lagged(_)) => vec![Effect::Reload],
                    Ok(Event::Pull(e)) => update(&mut app, Msg::Pull(e, crate::text::now_nanos())),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick() => {
                    let latest = last_recorded(&engine);
                    let mut fx = update(&mut app, Msg::Tick(crate::text::now_nanos()));
                    if latest != seen {
                        fx.push(Effect::Reload);
                    }
                    fx
                }
            };
        }
        // Take whatever else is already waiting (fast typing, a burst of log lines) before
        // drawing again: one frame for the lot.
        while let Ok(msg) = rx.try_recv() {
            effects.extend(update(&mut app, msg));
        }
        if app.quit {
            break;
        }
        let mut reloaded = false;
        for effect in effects {
            tracing::debug!(target: "gantry::tui", ?effect, "effect");
            match effect {
                // Once per batch; the events seen so far are in what it loads.
                Effect::Reload if reloaded => {}
                Effect::Reload => {
                    reloaded = true;
                    seen = last_recorded(&engine);
                    let msg = match load(&engine) {
                        Ok(lists) => Msg::Loaded(Box::new(lists)),
                        Err(e) => Msg::Notice(Err(e.to_string())),
                    };
                    pending.extend(update(&mut app, msg));
                }
                Effect::Job(job) => {
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::spawn(async move {
                        let _ = tx.send(Msg::Done(jobs::run(engine, job).await));
                    });
                }
                Effect::Run(req) => {
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::spawn(async move {
                        let _ = tx.send(jobs::run_container(engine, *req).await);
                    });
                }
                Effect::PrunePreview(pane) => {
                    // Off the loop: a preview reads every image and layer.
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(Msg::Ask(jobs::prune_preview(&engine, pane)));
                    });
                }
                Effect::FollowLogs { generation, id, range } => {
                    log_stream = match engine.stream_logs(&id, range.query(chrono::Utc::now())) {
                        Ok(batches) => Some((generation, batches)),
                        Err(e) => {
                            pending.extend(update(&mut app, Msg::Notice(Err(format!("logs: {e}")))));
                            None
                        }
                    };
                }
                Effect::StopLogs => log_stream = None,
                Effect::SaveLogs { name, text } => {
                    let dir = std::env::current_dir().unwrap_or_default();
                    pending.extend(update(&mut app, Msg::Notice(save_logs(&dir, &name, &text))));
                }
                Effect::Copy(text) => {
                    let r = copy_to_clipboard(&text)
                        .map(|()| format!("copied {} to the clipboard", crate::text::short_id(&text, false)))
                        .map_err(|e| format!("copy: {e}"));
                    pending.extend(update(&mut app, Msg::Notice(r)));
                }
                Effect::MouseCapture(on) => set_mouse(on),
                Effect::OpenPull => {
                    let registries = engine.known_registries().unwrap_or_default();
                    pending.extend(update(&mut app, Msg::PullOpen(registries)));
                }
                Effect::LoadRepositories(registry) => {
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::spawn(async move {
                        let r = engine.list_repositories(&registry, 1000).await.map_err(|e| e.to_string());
                        let _ = tx.send(Msg::Repositories(r));
                    });
                }
                Effect::LoadTags(repository) => {
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::spawn(async move {
                        let r = browse_tags(&engine, &repository).await;
                        let _ = tx.send(Msg::Tags(r));
                    });
                }
                Effect::Pull(reference) => {
                    let (engine, tx) = (Arc::clone(&engine), tx.clone());
                    tokio::spawn(async move {
                        let r = match crate::engine::reference::Reference::parse(&reference) {
                            Ok(r) => engine
                                .pull(&r, &crate::engine::pull::PullOptions::default())
                                .await
                                .map(|o| {
                                    format!(
                                        "pulled {reference} ({})",
                                        crate::text::short_id(&o.image_id.to_string(), false)
                                    )
                                })
                                .map_err(|e| format!("pull {reference}: {e}")),
                            Err(e) => Err(e.to_string()),
                        };
                        let _ = tx.send(Msg::Done(r));
                    });
                }
                Effect::View(what) => {
                    let v = views::load(&engine, &what).map(Box::new);
                    pending.extend(update(&mut app, Msg::View(v)));
                }
                Effect::Exec { id, name, args } => {
                    let req = crate::engine::exec::ExecRequest {
                        args: args.clone(),
                        tty: true,
                        ..Default::default()
                    };
                    let what = args.join(" ");
                    let banner = format!("gantry: {what} in {name}; exit it to return to gantry");
                    let r = hand_over(&mut screen, &gate, &banner, engine.exec_command(&id, &req));
                    let r = r.map(|status| match status.code() {
                        Some(0) => format!("{what} in {name} ended"),
                        Some(c) => format!("{what} in {name} exited with {c}"),
                        None => format!("{what} in {name} ended by a signal"),
                    });
                    set_mouse(app.mouse);
                    pending.extend(update(&mut app, Msg::Done(r)));
                }
                Effect::Attach { id, name } => {
                    let how = match engine.container(&id) {
                        Ok(c) if c.config.tty && c.config.open_stdin => "ctrl-p ctrl-q detaches",
                        _ => "output only; ctrl-c returns",
                    };
                    let banner = format!("gantry: attached to {name} ({how})");
                    let r = hand_over(&mut screen, &gate, &banner, engine.attach_command(&id));
                    set_mouse(app.mouse);
                    pending.extend(update(&mut app, Msg::Done(r.map(|_| format!("back from {name}")))));
                }
            }
        }
    }
    // Dropping the screen restores the terminal (mouse capture off too).
    drop(screen);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn clipboard_sequence_and_saved_logs() {
        assert_eq!(super::osc52("abc"), "\x1b]52;c;YWJj\x07");
        let dir = tempfile::tempdir().unwrap();
        let said = super::save_logs(dir.path(), "web", "T stdout a\nT stderr b\n").unwrap();
        assert!(said.starts_with("saved 2 lines to "), "{said}");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("web-") && name.ends_with(".log"), "{name}");
        assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), "T stdout a\nT stderr b\n");
        assert!(
            super::save_logs(&dir.path().join("missing"), "web", "x").unwrap_err().contains("saving logs")
        );
    }
}

/// Fixed state for the render and update tests (no engine: the rows are what the engine's
/// list calls return).
#[cfg(test)]
pub mod testdata {
    use super::app::{App, ContainerItem, History, Lists, NetworkItem};
    use crate::engine::container::Container;
    use crate::engine::container::config::{ContainerConfig, HostConfig};
    use crate::engine::stats::StatsSample;
    use crate::engine::store::containers::{ContainerRow, State};

    const NOW: i64 = 1_800_000_000_000_000_000;

    fn container(c: char, name: &str, state: State, exit: i32) -> ContainerItem {
        let row = ContainerRow {
            id: c.to_string().repeat(64),
            name: name.into(),
            image_id: "sha256:".to_string() + &"f".repeat(64),
            image_name: "127.0.0.1:5000/fixtures/busybox".into(),
            config: String::new(),
            host_config: String::new(),
            created: NOW - 3_600_000_000_000,
            state,
            pid: 0,
            monitor_pid: 0,
            monitor_start: 0,
            exit_code: exit,
            started_at: NOW - 125_000_000_000,
            finished_at: NOW - 60_000_000_000,
            oom_killed: false,
            error: String::new(),
            restart_count: 0,
            stopped_by_user: false,
        };
        let config = ContainerConfig { cmd: Some(vec!["sleep".into(), "1000".into()]), ..Default::default() };
        ContainerItem {
            container: Container::with_host(row, config, HostConfig::default()),
            ports: if state == State::Running { "127.0.0.1:8080->80/tcp".into() } else { String::new() },
        }
    }

    pub fn app() -> App {
        let mut app = App::new(super::theme::Theme::default_dark(), super::keymap::Keymap::default(), false);
        app.now = NOW;
        let web = container('a', "web", State::Running, 0);
        let mut history = History::default();
        for i in 0..30 {
            history.push(&StatsSample {
                id: web.container.id().into(),
                running: true,
                cpu_percent: (i % 10) as f64 * 10.0,
                cpu_machine_percent: (i % 10) as f64 * 5.0,
                memory_usage: 5 << 20,
                memory_limit: 64 << 20,
                memory_percent: 7.81,
                pids: 3,
                ..Default::default()
            });
        }
        app.history.insert(web.container.id().into(), history);
        app.logs.reset(web.container.id(), "web");
        let line = |i: usize, stream, text: &str| crate::engine::container::log_follow::LogLine {
            time: format!("2027-01-15T08:00:{:02}.123456789Z", i % 60),
            stream,
            text: text.into(),
        };
        use crate::engine::monitor::logfile::Stream;
        let mut lines: Vec<_> =
            (0..40).map(|i| line(i, Stream::Stdout, &format!("request {i} GET /index.html 200"))).collect();
        lines.push(line(40, Stream::Stdout, "listening on :80"));
        lines.push(line(41, Stream::Stderr, "\x1b[31mwarn: disk error on /data\x1b[0m"));
        lines.push(line(42, Stream::Stdout, &format!("{} long-line-end", "x".repeat(150))));
        lines.push(line(43, Stream::Stdout, "\x1b[1;32mready\x1b[0m"));
        app.logs.push(crate::engine::container::log_follow::LogBatch { lines, ..Default::default() });
        let network = crate::engine::store::networks::NetworkRow {
            id: "9".repeat(64),
            name: "bridge".into(),
            driver: "bridge".into(),
            bridge: "gantry0".into(),
            subnet: "172.17.0.0/16".into(),
            gateway: "172.17.0.1".into(),
            ip_range: String::new(),
            internal: false,
            labels: Default::default(),
            options: Default::default(),
            created: NOW,
        };
        app.lists = Lists {
            containers: vec![
                web,
                container('b', "worker", State::Paused, 0),
                container('c', "db", State::Exited, 137),
            ],
            images: vec![crate::engine::image::ImageSummary {
                id: crate::engine::digest::Digest::from_hex(&"e".repeat(64)).expect("digest"),
                tags: vec![
                    crate::engine::reference::Reference::parse("127.0.0.1:5000/fixtures/busybox:latest")
                        .expect("ref"),
                ],
                digests: vec![],
                created: chrono::DateTime::from_timestamp(1_700_000_000, 0),
                size: 1_234_567,
            }],
            networks: vec![NetworkItem { network, containers: vec!["web".into()] }],
        };
        app
    }
}
