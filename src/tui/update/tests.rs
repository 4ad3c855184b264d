use super::*;
use crate::tui::jobs::Job;
use crate::tui::testdata;
use ratatui::crossterm::event::KeyModifiers;

fn press(app: &mut App, c: char) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

#[test]
fn keys_select_confirm_and_emit_effects() {
    let mut app = testdata::app();
    assert_eq!(app.selected_index(), 0);
    press(&mut app, 'j');
    assert_eq!(app.selected_index(), 1);
    press(&mut app, 'j');
    press(&mut app, 'j');
    assert_eq!(app.selected_index(), 2, "stays on the last row");
    let fx = press(&mut app, 's');
    assert_eq!(fx, vec![Effect::Job(Job::Container(Action::Stop, vec![("c".repeat(64), "db".into())]))]);
    // Remove asks first; anything but y cancels.
    press(&mut app, 'd');
    assert!(matches!(app.mode, Mode::Confirm(_)));
    assert!(press(&mut app, 'n').is_empty());
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, 'd');
    let fx = press(&mut app, 'y');
    assert!(matches!(&fx[..], [Effect::Job(Job::Container(Action::Remove, t))] if t.len() == 1));
    // Marks: the action applies to every marked row.
    press(&mut app, 'g');
    press(&mut app, ' ');
    press(&mut app, ' ');
    let fx = press(&mut app, 'r');
    assert!(matches!(&fx[..], [Effect::Job(Job::Container(Action::Restart, t))] if t.len() == 2));
}

#[test]
fn filter_read_only_and_help() {
    let mut app = testdata::app();
    press(&mut app, '/');
    for c in "web".chars() {
        press(&mut app, c);
    }
    assert_eq!(app.visible_containers().len(), 1);
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(app.visible_containers().len(), 3);
    app.read_only = true;
    assert!(press(&mut app, 's').is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.contains("read-only")));
    press(&mut app, '?');
    assert_eq!(app.mode, Mode::Help(0));
    // Scrolling stops at the last page (80x24: 22 lines show), so one k moves back at once.
    for _ in 0..5 {
        key(&mut app, KeyCode::PageDown);
    }
    let shown = keymap::ACTIONS.iter().filter(|i| !i.mutating).count() as u16;
    assert_eq!(app.mode, Mode::Help(shown - 22));
    press(&mut app, 'k');
    assert_eq!(app.mode, Mode::Help(shown - 23));
    press(&mut app, 'x');
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, 'q');
    assert!(app.quit);
}

#[test]
fn every_image_name_is_a_row_the_selection_reaches() {
    let mut app = testdata::app();
    let extra = crate::engine::reference::Reference::parse("127.0.0.1:5000/fixtures/busybox:1.36").unwrap();
    app.lists.images[0].tags.push(extra);
    for _ in 0..3 {
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    }
    assert_eq!(app.pane, Pane::Images);
    assert_eq!(app.row_count(), 2);
    press(&mut app, 'j');
    assert_eq!(app.selected_index(), 1);
    press(&mut app, '/');
    for c in "1.36".chars() {
        press(&mut app, c);
    }
    let rows = app.visible_images();
    assert_eq!((rows.len(), rows[0].tag.as_str()), (1, "1.36"));
}

#[test]
fn the_log_stream_follows_what_is_shown() {
    use crate::engine::container::log_follow::{LogBatch, LogLine};
    use crate::engine::monitor::logfile::Stream;
    let mut app = testdata::app();
    app.logs.reset("", "");
    let web = "a".repeat(64);
    let fx = press(&mut app, 'l');
    assert_eq!(app.pane, Pane::Logs);
    let generation = app.logs.generation;
    assert_eq!(fx, vec![Effect::FollowLogs { generation, id: web.clone(), range: LogRange::Last100 }]);
    let batch = |text: &str| LogBatch {
        lines: vec![LogLine { time: "T".into(), stream: Stream::Stdout, text: text.into() }],
        ..Default::default()
    };
    update(&mut app, Msg::Logs(generation - 1, batch("stale")));
    update(&mut app, Msg::Logs(generation, batch("fresh line")));
    assert_eq!(app.logs.lines.len(), 1);
    // `/` searches the logs here; enter jumps to the match.
    press(&mut app, '/');
    assert_eq!(app.mode, Mode::Search);
    for c in "fresh".chars() {
        press(&mut app, c);
    }
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!((app.logs.current, app.logs.follow), (Some(0), false));
    press(&mut app, 'f');
    assert!(app.logs.follow);
    // Another range restarts the stream.
    let fx = press(&mut app, 'L');
    assert!(
        matches!(&fx[..], [Effect::FollowLogs { range: LogRange::Last1000, generation: g, .. }] if *g == generation + 1)
    );
    assert!(app.logs.lines.is_empty());
    // Away from the logs, the stream stops; on a wide, tall screen the containers pane shows them.
    let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    assert_eq!(fx, vec![Effect::StopLogs]);
    // A stream that ended follows again once the container is started again.
    press(&mut app, 'l');
    let g = app.logs.generation;
    update(&mut app, Msg::Logs(g, LogBatch { ended: true, ..Default::default() }));
    let same = Box::new(app.lists.clone());
    assert_eq!(update(&mut app, Msg::Loaded(same)), vec![], "same start: nothing to follow");
    let mut restarted = Box::new(app.lists.clone());
    restarted.containers[0].container.row.started_at += 1;
    let fx = update(&mut app, Msg::Loaded(restarted));
    assert!(matches!(&fx[..], [Effect::FollowLogs { generation, .. }] if *generation == g + 1));
    app.pane = Pane::Containers;
    let fx = update(&mut app, Msg::Resize(160, 48));
    assert_eq!(fx, vec![], "the same stream goes on below the list");
    update(&mut app, Msg::Resize(100, 30));
    assert!(app.logs.id.is_empty(), "no logs on a small containers pane");
    let fx = update(&mut app, Msg::Resize(160, 48));
    assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == web));
    let fx = press(&mut app, 'j');
    assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == "b".repeat(64)));
}

#[test]
fn kill_asks_for_a_signal_exec_and_rename_ask_for_text() {
    let mut app = testdata::app();
    let web = ("a".repeat(64), "web".to_string());
    press(&mut app, 'K');
    assert!(matches!(&app.mode, Mode::Choose(c) if c.options[0] == "KILL"));
    press(&mut app, 'j');
    let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(fx, vec![Effect::Job(Job::Kill { targets: vec![web.clone()], signal: "TERM".into() })]);
    assert_eq!(
        press(&mut app, 'e'),
        vec![Effect::Exec { id: web.0.clone(), name: "web".into(), args: vec!["sh".into()] }]
    );
    press(&mut app, 'E');
    for c in " -c date".chars() {
        press(&mut app, c);
    }
    let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let args: Vec<String> = ["sh", "-c", "date"].map(String::from).to_vec();
    assert_eq!(fx, vec![Effect::Exec { id: web.0.clone(), name: "web".into(), args }]);
    press(&mut app, 'R');
    for _ in 0.."web".len() {
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    }
    for c in "front".chars() {
        press(&mut app, c);
    }
    let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(
        fx,
        vec![Effect::Job(Job::Rename { id: web.0.clone(), name: "web".into(), to: "front".into() })]
    );
    assert_eq!(press(&mut app, 'a'), vec![Effect::Attach { id: web.0.clone(), name: "web".into() }]);
    assert_eq!(press(&mut app, 'y'), vec![Effect::Copy(web.0.clone())]);
    assert_eq!(press(&mut app, 'i'), vec![Effect::View(ViewOf::Container(web.0.clone()))]);
    // Read-only: none of the mutating ones.
    app.read_only = true;
    for c in ['K', 'e', 'E', 'R', 'a'] {
        assert!(press(&mut app, c).is_empty(), "{c} in read-only mode");
        assert_eq!(app.mode, Mode::Normal);
    }
}

#[test]
fn the_palette_runs_actions_by_fuzzy_name_and_the_viewer_closes() {
    let mut app = testdata::app();
    press(&mut app, ':');
    for c in "rstrt".chars() {
        press(&mut app, c);
    }
    let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(matches!(&fx[..], [Effect::Job(Job::Container(Action::Restart, t))] if t.len() == 1));
    // The viewer takes the keys until esc.
    let v = Viewer::new("inspect", "{\n  \"A\": [\n    1\n  ]\n}");
    update(&mut app, Msg::View(Ok(Box::new(v))));
    assert_eq!(app.mode, Mode::View);
    press(&mut app, 'j');
    assert!(press(&mut app, 's').is_empty(), "stop does nothing under the viewer");
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(app.viewer.as_ref().map(|v| v.visible().len()), Some(3));
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.viewer.is_none());
}

#[test]
fn sort_keys_cycle_columns_and_reverse() {
    let mut app = testdata::app();
    let names =
        |app: &App| app.visible_containers().iter().map(|c| c.container.row.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&app), ["web", "worker", "db"], "the engine's order first");
    press(&mut app, '>');
    assert_eq!(names(&app), ["db", "web", "worker"], "by name");
    assert!(app.notice.as_ref().is_some_and(|n| n.text == "sorted by name"));
    press(&mut app, '<');
    assert_eq!(names(&app), ["worker", "web", "db"]);
    press(&mut app, '>');
    press(&mut app, '<');
    assert_eq!(names(&app), ["db", "worker", "web"], "by state: exited, paused, running");
    press(&mut app, '>');
    assert_eq!(names(&app)[0], "web", "by CPU: the only one with figures first");
    press(&mut app, '>');
    press(&mut app, '>');
    assert_eq!(app.sort_name().as_deref(), Some("created"));
    app.pane = Pane::Logs;
    press(&mut app, '>');
    assert!(app.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn the_selection_stays_on_its_item_when_the_list_reorders() {
    let mut app = testdata::app();
    let selected = |app: &App| app.selected_container().map(|c| c.container.row.name.clone());
    // A filter, then Tab to the logs (which clears it): still db, and its logs.
    press(&mut app, '/');
    type_text(&mut app, "db");
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected(&app).as_deref(), Some("db"));
    let fx = key(&mut app, KeyCode::Tab);
    assert_eq!(app.pane, Pane::Logs);
    assert_eq!(selected(&app).as_deref(), Some("db"));
    assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == "c".repeat(64)), "{fx:?}");
    // A sort that moves it: still db.
    key(&mut app, KeyCode::BackTab);
    press(&mut app, '>');
    assert_eq!(selected(&app).as_deref(), Some("db"));
    // New lists without it: the nearest row; a move by key is kept.
    let mut fewer = Box::new(app.lists.clone());
    fewer.containers.retain(|c| c.container.row.name != "db");
    update(&mut app, Msg::Loaded(fewer));
    assert!(selected(&app).is_some());
    press(&mut app, 'g');
    assert_eq!(app.selected_index(), 0);
}

#[test]
fn questions_name_a_few_targets_then_count_the_rest() {
    let many: Vec<(String, String)> = (0..8).map(|i| (i.to_string(), format!("c{i}"))).collect();
    assert_eq!(super::targets::names(&many), "c0, c1, c2, c3, c4 and 3 more");
    assert_eq!(super::targets::names(&many[..2]), "c0, c1");
}

#[test]
fn single_row_actions_take_the_selected_row_even_with_marks() {
    let mut app = testdata::app();
    press(&mut app, ' ');
    assert!(app.marked.contains(&"a".repeat(64)), "web marked, worker now selected");
    let fx = press(&mut app, 'e');
    assert!(matches!(&fx[..], [Effect::Exec { name, .. }] if name == "worker"), "{fx:?}");
    // The logs pane shows no marks, so actions there take its container only.
    press(&mut app, 'l');
    let fx = press(&mut app, 's');
    assert!(
        matches!(&fx[..], [Effect::Job(Job::Container(Action::Stop, t))] if t.len() == 1 && t[0].1 == "worker")
    );
}

#[test]
fn pausing_follow_keeps_the_bottom_line_and_read_only_covers_the_palette() {
    let mut app = testdata::app();
    // web's lines are loaded already.
    press(&mut app, 'l');
    let bottom = app.logs.bottom();
    assert!(bottom > 0);
    press(&mut app, 'f');
    assert!(!app.logs.follow);
    assert_eq!(app.logs.bottom(), bottom, "the view stays where it was");
    app.read_only = true;
    press(&mut app, ':');
    type_text(&mut app, "stop");
    // The palette lists no mutating action in read-only mode; stop is not run.
    let fx = key(&mut app, KeyCode::Enter);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Job(_))), "{fx:?}");
}

#[test]
fn a_bad_regex_filter_says_why_and_matches_nothing() {
    let mut app = testdata::app();
    press(&mut app, '/');
    for c in "~(web".chars() {
        press(&mut app, c);
    }
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.starts_with("bad regex")));
    assert!(app.visible_containers().is_empty());
    press(&mut app, ')');
    assert!(app.notice.is_none());
    assert_eq!(app.visible_containers().len(), 1);
}

#[test]
fn stats_fill_the_history_and_engine_results_reload() {
    let mut app = testdata::app();
    let id = app.lists.containers[0].container.id().to_string();
    for i in 0..70 {
        let s = StatsSample { id: id.clone(), running: true, cpu_percent: i as f64, ..Default::default() };
        update(&mut app, Msg::Stats(vec![s]));
    }
    let h = &app.history[&id];
    assert_eq!(h.cpu.len(), crate::tui::app::HISTORY);
    assert_eq!(h.cpu.back(), Some(&69.0));
    let fx = update(&mut app, Msg::Done(Err("boom".into())));
    assert_eq!(fx, vec![Effect::Reload]);
    assert!(app.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn the_wheel_scrolls_and_a_click_selects_a_row() {
    use ratatui::crossterm::event::MouseButton;
    let mut app = testdata::app();
    let at = |kind, column, row| MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
    update(&mut app, Msg::Mouse(at(MouseEventKind::ScrollDown, 5, 5)));
    assert_eq!(app.selected_index(), 1);
    update(&mut app, Msg::Mouse(at(MouseEventKind::ScrollUp, 5, 5)));
    assert_eq!(app.selected_index(), 0);
    // Row 0 is the tabs, 1 the list's border, 2 its header: the third container is on row 5.
    update(&mut app, Msg::Mouse(at(MouseEventKind::Down(MouseButton::Left), 10, 5)));
    assert_eq!(app.selected_index(), 2);
    update(&mut app, Msg::Mouse(at(MouseEventKind::Down(MouseButton::Left), 10, 2)));
    assert_eq!(app.selected_index(), 2, "a click on the header selects nothing");
    update(&mut app, Msg::Mouse(at(MouseEventKind::Down(MouseButton::Left), 10, 12)));
    assert_eq!(app.selected_index(), 2, "below the last row: nothing");
    // In the logs pane the wheel scrolls the logs (of web, the first row).
    press(&mut app, 'g');
    let fx = press(&mut app, 'l');
    assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == "a".repeat(64)), "{fx:?}");
    assert!(app.logs.follow);
    update(&mut app, Msg::Mouse(at(MouseEventKind::ScrollUp, 5, 5)));
    assert!(!app.logs.follow);
    // The toggle hands the mouse to the terminal.
    assert_eq!(press(&mut app, 'm'), vec![Effect::MouseCapture(false)]);
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, c);
    }
}

#[test]
fn image_actions_remove_tag_and_run_form() {
    let mut app = testdata::app();
    app.pane = Pane::Images;
    let busybox = (
        "127.0.0.1:5000/fixtures/busybox:latest".to_string(),
        "127.0.0.1:5000/fixtures/busybox:latest".to_string(),
    );
    // Remove asks, then removes that name (Docker's rmi of a repo:tag).
    press(&mut app, 'd');
    assert!(matches!(&app.mode, Mode::Confirm(c) if c.lines[0].contains("fixtures/busybox:latest")));
    let fx = press(&mut app, 'y');
    assert_eq!(fx, vec![Effect::Job(Job::RemoveImages { targets: vec![busybox.clone()], force: false })]);
    press(&mut app, 'D');
    assert_eq!(
        press(&mut app, 'y'),
        vec![Effect::Job(Job::RemoveImages { targets: vec![busybox], force: true })]
    );
    // Tag: a prompt for the new name, applied to the image's ID.
    press(&mut app, '+');
    type_text(&mut app, "web:v2");
    let fx = key(&mut app, KeyCode::Enter);
    assert_eq!(
        fx,
        vec![Effect::Job(Job::Tag { image: format!("sha256:{}", "e".repeat(64)), to: "web:v2".into() })]
    );
    // The run form: a mistake keeps it open and says what is wrong; then it runs.
    press(&mut app, 'c');
    assert!(matches!(&app.mode, Mode::Form(f) if f.title == "run 127.0.0.1:5000/fixtures/busybox:latest"));
    type_text(&mut app, "front");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "8080:http");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(
        matches!(&app.mode, Mode::Form(f) if f.error.as_deref().is_some_and(|e| e.starts_with("ports: ")))
    );
    for _ in 0.."http".len() {
        key(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "80");
    let fx = key(&mut app, KeyCode::Enter);
    let [Effect::Run(req)] = &fx[..] else { panic!("{fx:?}") };
    assert_eq!(
        (req.name.as_deref(), req.image.as_str()),
        (Some("front"), "127.0.0.1:5000/fixtures/busybox:latest")
    );
    assert!(req.host.port_bindings.contains_key("80/tcp"));
    assert_eq!((app.pane, app.mode.clone()), (Pane::Containers, Mode::Normal), "shows the new container");
    // Esc cancels a form; container-only keys say where they work.
    app.pane = Pane::Images;
    press(&mut app, 'c');
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Normal);
    assert!(press(&mut app, 'C').is_empty());
    assert!(app.notice.as_ref().is_some_and(|n| n.error));
    // Read-only mode refuses them all.
    app.read_only = true;
    for c in ['c', '+', 'd', 'X'] {
        assert!(press(&mut app, c).is_empty());
        assert_eq!(app.mode, Mode::Normal);
    }
}

#[test]
fn network_actions_and_prune_preview() {
    let mut app = testdata::app();
    app.pane = Pane::Networks;
    let bridge = ("9".repeat(64), "bridge".to_string());
    // Connect offers the containers not on it; disconnect the ones that are.
    press(&mut app, 'C');
    let Mode::Choose(c) = app.mode.clone() else { panic!("{:?}", app.mode) };
    assert_eq!(c.options, vec!["worker", "db"]);
    key(&mut app, KeyCode::Down);
    let fx = key(&mut app, KeyCode::Enter);
    let db = ("c".repeat(64), "db".to_string());
    assert_eq!(fx, vec![Effect::Job(Job::Connect { network: bridge.clone(), container: db })]);
    press(&mut app, 'x');
    let fx = key(&mut app, KeyCode::Enter);
    let web = ("a".repeat(64), "web".to_string());
    assert_eq!(fx, vec![Effect::Job(Job::Disconnect { network: bridge.clone(), container: web })]);
    // Create: a form; the name is required.
    press(&mut app, 'c');
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    type_text(&mut app, "backend");
    let fx = key(&mut app, KeyCode::Enter);
    assert!(matches!(&fx[..], [Effect::Job(Job::CreateNetwork(n))] if n.name == "backend" && !n.internal));
    // Remove and mark: marked rows are the targets.
    press(&mut app, ' ');
    assert!(app.marked.contains(&bridge.0));
    press(&mut app, 'd');
    assert_eq!(press(&mut app, 'y'), vec![Effect::Job(Job::RemoveNetworks(vec![bridge]))]);
    assert!(app.marked.is_empty());
    // Prune: the preview comes from the engine, then y runs what it proposes.
    assert_eq!(press(&mut app, 'X'), vec![Effect::PrunePreview(Pane::Networks)]);
    let preview = Confirm {
        title: "prune".into(),
        lines: vec!["remove 1 networks without containers?".into()],
        yes: Effect::Job(Job::PruneNetworks),
    };
    update(&mut app, Msg::Ask(Ok(preview)));
    assert_eq!(press(&mut app, 'y'), vec![Effect::Job(Job::PruneNetworks)]);
    update(&mut app, Msg::Ask(Err("nothing to prune".into())));
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text == "nothing to prune"));
}
