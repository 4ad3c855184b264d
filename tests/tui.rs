//! The terminal UI end to end: the real binary inside tmux (a private tmux server per test),
//! against the real engine and a container from the test registry.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Gantry;

/// A tmux server of the test's own running gantry's UI; killed when dropped.
struct Tmux {
    socket: String,
    /// gantry's own log (the UI logs keys and effects at debug level here).
    log: std::path::PathBuf,
}

impl Tmux {
    fn start(g: &Gantry, width: u16, height: u16) -> Self {
        let socket = format!("gantry-it-{:06x}", common::rand_u32() & 0xff_ffff);
        let xdg = g.dir.path().join("xdg");
        std::fs::create_dir_all(&xdg).unwrap();
        let cmd = format!(
            "exec env GANTRY_LOG=info,gantry::tui=debug GANTRY_ROOT={} GANTRY_CONFIG={} DOCKER_CONFIG={} XDG_CONFIG_HOME={} TERM=xterm-256color {}",
            g.root().display(),
            g.config_path().display(),
            g.docker_config_dir().display(),
            xdg.display(),
            env!("CARGO_BIN_EXE_gantry")
        );
        let t = Self { socket, log: g.root().join("logs/gantry.log") };
        let ok = t
            .tmux(&[
                "new-session",
                "-d",
                "-s",
                "ui",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &cmd,
            ])
            .status
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    /// The UI once it lists container `name` as running.
    fn showing(g: &Gantry, width: u16, height: u16, name: &str) -> Self {
        let ui = Self::start(g, width, height);
        ui.wait_for("the running container", |s| row(s, name).contains("running"));
        ui
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").args(["-L", &self.socket]).args(args).output().expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "ui"]).stdout).into_owned()
    }

    /// The screen with its colours as escape sequences.
    fn styled_screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-e", "-t", "ui"]).stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        assert!(self.tmux(&["send-keys", "-t", "ui", keys]).status.success());
    }

    /// Waits until the screen satisfies `ok`.
    #[track_caller]
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() >= deadline {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> =
                    log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
                panic!(
                    "waiting for {what}; the screen:\n{s}\ngantry's log, last lines:\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The screen once two captures 150 ms apart agree (no frame half drawn).
    fn settled(&self) -> String {
        let mut last = self.screen();
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(150));
            let now = self.screen();
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the screen never settled:\n{last}");
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "ui"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The list row of the container on the screen (not a notice that names it).
fn row<'a>(screen: &'a str, name: &str) -> &'a str {
    screen.lines().find(|l| l.starts_with(&format!("│{name} "))).unwrap_or("")
}

#[test]
fn lifecycle_keys_and_help_in_tmux() {
    let g = Gantry::new();
    // A container that stops at once on SIGTERM (sleep as PID 1 would wait for the timeout).
    g.detached(&["--name", "tuiweb"], &["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]);
    let ui = Tmux::showing(&g, 120, 40, "tuiweb");
    // Stop: the engine stops it (gantry ps agrees) and the row follows.
    ui.keys("s");
    ui.wait_for("the stopped row", |s| row(s, "tuiweb").contains("exited"));
    assert_eq!(g.inspect("{{.State.Status}}", "tuiweb"), "exited");
    // Start brings it back.
    ui.keys("u");
    ui.wait_for("the restarted row", |s| row(s, "tuiweb").contains("running"));
    assert_eq!(g.inspect("{{.State.Status}}", "tuiweb"), "running");
    // A change made by another gantry process shows up too.
    g.run(&["pause", "tuiweb"]).ok();
    ui.wait_for("the paused row", |s| row(s, "tuiweb").contains("paused"));
    g.run(&["unpause", "tuiweb"]).ok();
    // The help lists every action of the keymap.
    ui.keys("?");
    ui.wait_for("the help", |s| s.contains("Keys —"));
    // It may take more than one page: page down through it all.
    let mut help = ui.settled();
    for _ in 0..6 {
        ui.keys("NPage");
        help.push_str(&ui.settled());
    }
    for info in gantry::tui::keymap::ACTIONS {
        let keys = info.default_keys.join(" ");
        assert!(help.contains(&format!(" {} ", info.name)), "{} ({keys}) in the help:\n{help}", info.name);
    }
    ui.keys("Escape");
    ui.wait_for("the help to close", |s| !s.contains("Keys —"));
    // Remove asks first.
    ui.keys("D");
    ui.wait_for("the confirmation", |s| s.contains("remove tuiweb, even if running?"));
    ui.keys("y");
    let gone = ui.wait_for("the row to go", |s| row(s, "tuiweb").is_empty());
    assert!(gone.contains("force-remove: tuiweb"), "the result is shown:\n{gone}");
    assert!(g.run(&["ps", "-aq"]).ok().trim().is_empty());
    // q leaves and gives the terminal back.
    ui.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ui.alive() {
        assert!(Instant::now() < deadline, "gantry did not quit:\n{}", ui.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn logs_follow_and_search_in_tmux() {
    let g = Gantry::new();
    let script = "trap 'exit 0' TERM; i=0; while true; do echo \"tick $i\"; echo \"oops $i\" >&2; i=$((i+1)); sleep 0.2; done";
    g.detached(&["--name", "tuilogs"], &["sh", "-c", script]);
    let ui = Tmux::showing(&g, 100, 30, "tuilogs");
    ui.keys("l");
    let first = ui.wait_for("the logs pane", |s| s.contains("Logs: tuilogs") && s.contains("tick 3"));
    assert!(first.contains("following"), "{first}");
    // New lines arrive while following.
    let later = |s: &str| {
        s.lines()
            .filter_map(|l| l.split("tick ").nth(1))
            .filter_map(|n| n.trim_end_matches(['│', ' ']).parse::<u32>().ok())
            .max()
    };
    let seen = later(&first).expect("a tick line");
    ui.wait_for("newer lines", |s| later(s).is_some_and(|n| n >= seen + 5));
    // stderr lines are marked in the gutter.
    assert!(ui.screen().lines().any(|l| l.starts_with("│▌oops")), "{}", ui.screen());
    // Search: the view stops on the newest match, highlighted in the theme's match colour.
    ui.keys("/");
    ui.keys("tick 2");
    ui.keys("Enter");
    let found =
        ui.wait_for("the search to pause the view", |s| s.contains("paused") && s.contains("/tick 2"));
    let styled = ui.styled_screen();
    let hit = styled
        .lines()
        .find(|l| l.contains('›') && l.contains("tick"))
        .unwrap_or_else(|| panic!("the current match row in\n{found}"));
    assert!(
        hit.contains("\x1b[43m") || hit.contains("48;5;3m"),
        "the match has the match background: {hit:?}"
    );
    assert!(found.lines().any(|l| l.starts_with("│›")), "the current match is marked:\n{found}");
    // f follows again; q quits.
    ui.keys("f");
    ui.wait_for("following again", |s| s.contains("following"));
    ui.keys("q");
}

#[test]
fn exec_hands_over_a_shell_and_inspect_folds() {
    let g = Gantry::new();
    g.detached(&["--name", "tuiexec"], &["sleep", "1000"]);
    let ui = Tmux::showing(&g, 100, 30, "tuiexec");
    // e: a shell in the container on the real terminal; the UI is gone meanwhile.
    ui.keys("e");
    ui.wait_for("the hand-over banner", |s| s.contains("sh in tuiexec; exit it to return"));
    ui.keys("echo hello-$((40+2)) $(hostname)");
    ui.keys("Enter");
    let shell = ui.wait_for("the shell's output", |s| s.contains("hello-42"));
    assert!(!shell.contains("Containers"), "the UI has handed the screen over:\n{shell}");
    ui.keys("exit");
    ui.keys("Enter");
    // Back exactly where it was, with the outcome on the bottom line; keys work again.
    let back = ui.wait_for("the UI again", |s| s.contains("sh in tuiexec ended"));
    assert!(row(&back, "tuiexec").contains("running"), "{back}");
    // i: the inspect JSON; enter folds the block under the cursor; esc closes.
    ui.keys("i");
    ui.wait_for("the inspect viewer", |s| s.contains("inspect tuiexec") && s.contains("\"Config\": {"));
    // Down to "Config" (after "{", "AppArmorProfile" and the three lines of "Args").
    for _ in 0..5 {
        ui.keys("j");
    }
    ui.keys("Enter");
    ui.wait_for("Config folded", |s| s.contains("\"Config\": { …") && !s.contains("\"AttachStdin\""));
    ui.keys("Escape");
    ui.wait_for("the viewer to close", |s| !s.contains("inspect tuiexec"));
    // K asks for a signal; TERM on sleep as PID 1 does nothing, KILL stops it.
    ui.keys("K");
    ui.wait_for("the signal menu", |s| s.contains("signal for tuiexec"));
    ui.keys("Enter");
    ui.wait_for("the killed row", |s| row(s, "tuiexec").contains("exited"));
    assert_eq!(g.inspect("{{.State.ExitCode}}", "tuiexec"), "137");
    ui.keys("q");
}

#[test]
fn attach_hands_over_the_console_and_the_detach_keys_come_back() {
    let g = Gantry::new();
    g.detached(&["-it", "--name", "tuiattach"], &["sh"]);
    let ui = Tmux::showing(&g, 100, 30, "tuiattach");
    ui.keys("a");
    ui.wait_for("the hand-over banner", |s| s.contains("attached to tuiattach (ctrl-p ctrl-q detaches)"));
    ui.keys("echo att-$((6*7))");
    ui.keys("Enter");
    ui.wait_for("the container's shell answering", |s| s.contains("att-42"));
    ui.keys("C-p");
    ui.keys("C-q");
    let back = ui.wait_for("the UI again", |s| s.contains("back from tuiattach"));
    assert!(row(&back, "tuiattach").contains("running"), "detaching leaves it running:\n{back}");
    ui.keys("q");
}

#[test]
fn the_pull_dialog_browses_the_registry_and_pulls_with_layer_bars() {
    let g = Gantry::new();
    // One pull makes the fixture registry a known one, offered first.
    let busybox = g.busybox();
    let registry = busybox.split('/').next().unwrap().to_string();
    let ui = Tmux::start(&g, 120, 36);
    ui.wait_for("the UI", |s| s.contains("Containers"));
    ui.keys("P");
    ui.wait_for("the registry offered", |s| s.contains(&format!("registry: {registry}")));
    ui.keys("Enter");
    let repos = ui.wait_for("the catalog", |s| s.contains("fixtures/layered"));
    assert!(repos.contains("fixtures/busybox"), "{repos}");
    ui.keys("layered");
    ui.wait_for("the filtered list", |s| s.contains("filter: layered") && !s.contains("fixtures/busybox"));
    ui.keys("Enter");
    let tags =
        ui.wait_for("the tags with details", |s| s.contains("fixtures/layered") && s.contains("linux/"));
    assert!(tags.contains("latest"), "{tags}");
    ui.keys("Enter");
    // One bar per layer, each reaching done; the image is then in the store.
    let done = ui.wait_for("the pull to finish", |s| s.contains("pulled") || s.contains("failed"));
    assert!(!done.contains("failed"), "{done}");
    let layers = done.lines().filter(|l| l.contains(" done")).count();
    assert!(layers >= 2, "a bar per layer, all done:\n{done}");
    assert!(!done.contains("downloading") && !done.contains("waiting"), "{done}");
    ui.keys("Escape");
    ui.wait_for("the dialog to close", |s| !s.contains("Pull ›"));
    let images = g.run(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).ok().to_string();
    assert!(images.contains("fixtures/layered:latest"), "{images}");
    ui.keys("q");
}

/// Types `text` into the UI one key at a time, as a user would.
fn type_text(ui: &Tmux, text: &str) {
    assert!(ui.tmux(&["send-keys", "-t", "ui", "-l", text]).status.success());
}

#[test]
fn image_and_network_actions_in_tmux() {
    let g = Gantry::new();
    let busybox = g.busybox();
    // A dangling image for the prune preview: the multiarch tag's arm64 image, left nameless
    // when the tag is pulled again for this host.
    let multiarch = busybox.replace("fixtures/busybox", "fixtures/multiarch");
    g.run(&["pull", "-q", "--platform", "linux/arm64", &multiarch]).ok();
    g.run(&["pull", "-q", &multiarch]).ok();
    let ui = Tmux::start(&g, 120, 40);
    ui.wait_for("the UI", |s| s.contains("Containers"));
    for _ in 0..3 {
        ui.keys("Tab");
    }
    ui.wait_for("the images pane", |s| s.contains("┌ Images") && s.contains("fixtures/busybox"));
    // Prune shows what goes and what it frees before anything goes.
    ui.keys("X");
    let preview = ui.wait_for("the prune preview", |s| s.contains("dangling images?"));
    assert!(preview.contains("remove 1 dangling images?") && preview.contains("frees "), "{preview}");
    ui.keys("y");
    ui.wait_for("the prune result", |s| s.contains("pruned images: "));
    assert!(!g.run(&["images"]).ok().contains("<none>"));
    // Run: the form names the container, sets its environment and command.
    ui.keys("/");
    type_text(&ui, "fixtures/busybox");
    ui.keys("Enter");
    ui.keys("c");
    ui.wait_for("the run form", |s| s.contains("┌ run ") && s.contains("fixtures/busybox:latest"));
    type_text(&ui, "tuiform");
    ui.keys("Tab");
    ui.keys("Tab");
    type_text(&ui, "GREETING=hello");
    for _ in 0..3 {
        ui.keys("Tab");
    }
    type_text(&ui, "sh -c 'echo $GREETING from the form; sleep 1000'");
    ui.keys("Enter");
    ui.wait_for("the new container's row", |s| row(s, "tuiform").contains("running"));
    assert_eq!(g.inspect("{{.State.Status}}", "tuiform"), "running");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !g.run(&["logs", "tuiform"]).stdout.contains("hello from the form") {
        assert!(Instant::now() < deadline, "the form's env and command reach the container");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Tag, then remove that name: the image keeps its other one.
    for _ in 0..3 {
        ui.keys("Tab");
    }
    ui.wait_for("the images pane", |s| s.contains("┌ Images"));
    ui.keys("+");
    ui.wait_for("the tag prompt", |s| s.contains("another name for"));
    type_text(&ui, "tuitest/copy:v1");
    ui.keys("Enter");
    ui.wait_for("the new name", |s| s.contains("tagged ") && s.contains("tuitest/copy"));
    ui.keys("/");
    type_text(&ui, "copy");
    ui.keys("Enter");
    ui.keys("d");
    ui.wait_for("the question", |s| s.contains("remove tuitest/copy:v1?"));
    ui.keys("y");
    ui.wait_for("the removal", |s| s.contains("removed tuitest/copy:v1"));
    let images = g.run(&["images"]).ok().to_string();
    assert!(!images.contains("tuitest/copy") && images.contains("fixtures/busybox"), "{images}");
    // Networks: create one in a form, connect the container, disconnect it, remove it.
    ui.keys("Escape");
    ui.keys("Tab");
    ui.wait_for("the networks pane", |s| s.contains("┌ Networks"));
    ui.keys("c");
    ui.wait_for("the network form", |s| s.contains("create a network"));
    type_text(&ui, "tuinet");
    ui.keys("Enter");
    ui.wait_for("the new network", |s| s.contains("created network tuinet"));
    assert!(g.run(&["network", "ls"]).ok().contains("tuinet"));
    ui.keys("/");
    type_text(&ui, "tuinet");
    ui.keys("Enter");
    ui.keys("C");
    ui.wait_for("the containers to connect", |s| s.contains("connect to tuinet") && s.contains("tuiform"));
    ui.keys("Enter");
    ui.wait_for("the connection", |s| s.contains("connected tuiform to tuinet"));
    let networks = |g: &Gantry| g.inspect("{{json .NetworkSettings.Networks}}", "tuiform");
    assert!(networks(&g).contains("tuinet"), "{}", networks(&g));
    ui.wait_for("the member listed", |s| row(s, "tuinet").contains("tuiform"));
    ui.keys("x");
    ui.wait_for("the members to disconnect", |s| s.contains("disconnect from tuinet"));
    ui.keys("Enter");
    ui.wait_for("the disconnection", |s| s.contains("disconnected tuiform from tuinet"));
    assert!(!networks(&g).contains("tuinet"), "{}", networks(&g));
    ui.keys("d");
    ui.wait_for("the question", |s| s.contains("remove network tuinet?"));
    ui.keys("y");
    ui.wait_for("the removal", |s| s.contains("removed network tuinet"));
    assert!(!g.run(&["network", "ls"]).ok().contains("tuinet"));
    ui.keys("q");
}

#[test]
fn without_a_terminal_it_says_so() {
    let g = Gantry::new();
    let r = g.run(&[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);
}
