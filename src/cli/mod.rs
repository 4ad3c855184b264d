//! The Docker-compatible command line: parses arguments with clap, opens the engine and hands
//! each verb to its module. Output mimics the Docker CLI (columns, sizes, times, messages).

mod args;
mod attach;
mod auth;
mod containers;
mod events;
mod format;
mod helper_args;
mod images;
mod inspect_fs;
mod lean_parser;
mod logs;
mod network;
mod network_args;
mod output;
mod ps;
mod pull;
mod run_args;
mod search;
mod stats;
mod template;
mod verb;

use std::process::ExitCode;
use std::sync::Arc;

use crate::engine::{Engine, EngineOptions};
pub use args::{Cli, Command};
pub use output::{Failure, Outcome};

/// Entry point of the `gantry` binary.
pub fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|verb| verb == "__monitor") {
        if let Some(args) = helper_args::monitor(&argv[2..]) {
            return monitor_main(args);
        }
    }
    let cli = Cli::parse_args(argv);
    let Some(command) = cli.command.clone() else {
        return tui_main(&cli);
    };
    // The monitor must stay single-threaded: no runtime, no logging thread.
    if let Command::Monitor(m) = command {
        return monitor_main(m.into());
    }
    if let Command::Dns(d) = command {
        return ExitCode::from(
            crate::engine::network::dns::serve_main(&d.run_net, &d.network_id, &d.listen).clamp(0, 255) as u8,
        );
    }
    // The exec helper, too, must stay single-threaded (libcontainer clones from it).
    if let Command::ExecHelper(h) = command {
        let opts = h.roots.engine_options();
        return match crate::engine::exec::helper_main(opts, &h.id, &h.request) {
            Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::from(126)
            }
        };
    }
    // `run`'s monitor starts now, while this process sets up and creates the container.
    let early_monitor = match &command {
        Command::Run(a) | Command::Container(args::ContainerCommand::Run(a)) => {
            Some(containers::EarlyMonitor::start(engine_options(&cli), !a.detach))
        }
        _ => None,
    };
    let _log_guard = init_logging(&cli, false);
    // `ps` is synchronous from end to end: it needs no runtime (whose two workers cost it
    // about a tenth of its time at 50 containers).
    if let Command::Ps(a) | Command::Container(args::ContainerCommand::Ls(a)) = command {
        return output::finish(open_engine(&cli).and_then(|engine| ps::ps(&engine, a)));
    }
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let outcome = match command {
        // The TUI's attach hand-over: the engine's own state dirs, as the other helpers get.
        Command::AttachHelper(h) => runtime.block_on(async {
            let engine = Engine::open(h.roots.engine_options()).map_err(Failure::from)?;
            let a = args::AttachArgs { detach_keys: None, no_stdin: false, container: h.id };
            attach::attach_command(&engine, a).await
        }),
        command => runtime.block_on(run(&cli, command, early_monitor)),
    };
    let code = output::finish(outcome);
    // Do not wait for stray blocking tasks (e.g. a pull cancelled by an error).
    runtime.shutdown_background();
    code
}

/// The per-container monitor (`__monitor`), which must stay single-threaded: no runtime, no
/// logging thread.
fn monitor_main(args: crate::engine::monitor::MonitorArgs) -> ExitCode {
    ExitCode::from(crate::engine::monitor::main(args).clamp(0, 255) as u8)
}

/// The tokio runtime of the CLI and the TUI (two workers: the engine's work is mostly I/O).
fn async_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| {
        eprintln!("Error: starting the async runtime: {e}");
        ExitCode::from(1)
    })
}

/// `gantry` with no arguments: the terminal UI.
fn tui_main(cli: &Cli) -> ExitCode {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("gantry: the terminal UI needs a terminal; see `gantry --help` for the commands");
        return ExitCode::from(2);
    }
    let _log_guard = init_logging(cli, true);
    let runtime = match async_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let opts =
        crate::tui::TuiOptions { theme: cli.theme.clone(), read_only: cli.read_only, ascii: cli.ascii };
    let outcome = runtime.block_on(async {
        let engine = open_engine(cli)?;
        crate::tui::run(engine, opts).await.map_err(Failure::new)
    });
    let code = output::finish(outcome);
    runtime.shutdown_background();
    code
}

fn engine_options(cli: &Cli) -> EngineOptions {
    EngineOptions {
        root: cli.globals.root.clone(),
        run: None,
        config_path: cli.globals.config.clone(),
        credentials_path: None,
    }
}

fn open_engine(cli: &Cli) -> Result<Arc<Engine>, Failure> {
    Engine::open(engine_options(cli)).map_err(Failure::from)
}

async fn run(cli: &Cli, command: Command, early_monitor: Option<containers::EarlyMonitor>) -> Outcome {
    let engine = open_engine(cli)?;
    match command {
        Command::Pull(a) => pull::pull(&engine, a).await,
        Command::Images(a) => images::list(&engine, a),
        Command::Image(sub) => images::image_command(&engine, sub).await,
        Command::Inspect(a) => images::inspect(&engine, a),
        Command::History(a) => images::history(&engine, a),
        Command::Tag(a) => images::tag(&engine, a),
        Command::Rmi(a) => images::rmi(&engine, a),
        Command::Login(a) => auth::login(&engine, a).await,
        Command::Logout(a) => auth::logout(&engine, a),
        Command::Search(a) => search::search(&engine, a).await,
        Command::Registry(sub) => search::registry(&engine, sub).await,
        Command::Run(a) => containers::run(&engine, a, early_monitor).await,
        Command::Create(a) => containers::create_command(&engine, a).await,
        Command::Start(a) => containers::start(&engine, a).await,
        Command::Stop(a) => containers::stop(&engine, a).await,
        Command::Restart(a) => containers::restart(&engine, a).await,
        Command::Kill(a) => containers::kill(&engine, a).await,
        Command::Pause(a) => containers::pause(&engine, a).await,
        Command::Unpause(a) => containers::unpause(&engine, a).await,
        Command::Rm(a) => containers::rm(&engine, a).await,
        Command::Rename(a) => containers::rename(&engine, a),
        Command::Wait(a) => containers::wait(&engine, a).await,
        Command::Ps(a) => ps::ps(&engine, a),
        Command::Logs(a) => logs::logs(&engine, a).await,
        Command::Attach(a) => attach::attach_command(&engine, a).await,
        Command::Container(sub) => container_command(&engine, sub, early_monitor).await,
        Command::Exec(a) => inspect_fs::exec(&engine, a).await,
        Command::Top(a) => inspect_fs::top(&engine, a),
        Command::Diff(a) => inspect_fs::diff(&engine, a),
        Command::Cp(a) => inspect_fs::cp(&engine, a),
        Command::Events(a) => events::events(&engine, a).await,
        Command::Port(a) => network::port(&engine, a),
        Command::Update(a) => containers::update(&engine, a).await,
        Command::Stats(a) => stats::stats(&engine, a).await,
        Command::Network(sub) => network::network_command(&engine, sub),
        Command::Monitor(_) | Command::ExecHelper(_) | Command::Dns(_) | Command::AttachHelper(_) => Ok(()),
    }
}

async fn container_command(
    engine: &Arc<Engine>,
    cmd: args::ContainerCommand,
    early_monitor: Option<containers::EarlyMonitor>,
) -> Outcome {
    use args::ContainerCommand as C;
    match cmd {
        C::Ls(a) => ps::ps(engine, a),
        C::Run(a) => containers::run(engine, a, early_monitor).await,
        C::Create(a) => containers::create_command(engine, a).await,
        C::Start(a) => containers::start(engine, a).await,
        C::Stop(a) => containers::stop(engine, a).await,
        C::Restart(a) => containers::restart(engine, a).await,
        C::Kill(a) => containers::kill(engine, a).await,
        C::Pause(a) => containers::pause(engine, a).await,
        C::Unpause(a) => containers::unpause(engine, a).await,
        C::Rm(a) => containers::rm(engine, a).await,
        C::Rename(a) => containers::rename(engine, a),
        C::Wait(a) => containers::wait(engine, a).await,
        C::Logs(a) => logs::logs(engine, a).await,
        C::Attach(a) => attach::attach_command(engine, a).await,
        C::Inspect(a) => images::inspect_containers_only(engine, a),
        C::Prune(a) => containers::prune(engine, a),
        C::Update(a) => containers::update(engine, a).await,
        C::Stats(a) => stats::stats(engine, a).await,
    }
}

/// gantry's own log goes to `<root>/logs/gantry.log`, never to the terminal. The terminal UI
/// writes it from a background thread, so a slow disk never stalls the screen; a command writes
/// its few lines itself: a writer thread would cost its start, and at exit the wait for it to
/// flush and stop (0.5-1.5 ms measured here, on the path of every `run`).
fn init_logging(cli: &Cli, background: bool) -> Option<Option<tracing_appender::non_blocking::WorkerGuard>> {
    let paths = crate::engine::paths::Paths::new(cli.globals.root.as_deref());
    // The root first, root-only as the engine makes it: the logs would otherwise make it
    // world-readable (with the database and its containers' environments in it).
    crate::engine::create_private_dir(paths.root()).ok()?;
    let dir = paths.logs();
    std::fs::create_dir_all(&dir).ok()?;
    let file = tracing_appender::rolling::never(&dir, "gantry.log");
    let filter = tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(crate::engine::DEFAULT_LOG_FILTER));
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_env_filter(filter);
    if !background {
        return subscriber.with_writer(file).try_init().ok().map(|()| None);
    }
    // The default queue (128,000 lines) is allocated and touched up front, about 2 ms; the
    // UI logs little, and a full queue drops (and counts) lines.
    let (writer, guard) =
        tracing_appender::non_blocking::NonBlockingBuilder::default().buffered_lines_limit(1024).finish(file);
    subscriber.with_writer(writer).try_init().ok().map(|()| Some(guard))
}
