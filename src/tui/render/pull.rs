//! The pull dialog: where you are (registry › repository › tag), what is typed, the list to pick
//! from (tags with digest, platforms and size), and one bar per layer for the pull watched.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::engine::events::LayerStatus;
use crate::text::human_size;
use crate::tui::app::App;
use crate::tui::pull_dialog::{LayerTrack, PullDialog, PullState, PullTrack, Stage};

/// A bar `width` cells wide, `done` of `total` filled.
fn bar(app: &App, done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((done.min(total) as f64 / total as f64) * width as f64).round() as usize
    };
    let (full, empty) = if app.symbols.ascii { ("#", "-") } else { ("█", "░") };
    format!("{}{}", full.repeat(filled), empty.repeat(width - filled))
}

/// One layer's line: short digest, bar, bytes, rate and what it is doing.
fn layer_line<'a>(app: &App, l: &LayerTrack, now: i64) -> Line<'a> {
    let t = &app.theme;
    let short = l.digest.short();
    let width = 24;
    let (bar_text, figures, what, style) = match &l.status {
        LayerStatus::Waiting => (bar(app, 0, 1, width), String::new(), "waiting".to_string(), t.fg(t.muted)),
        LayerStatus::Downloading { current, total } => {
            let secs = l.started.map(|s| (now - s) as f64 / 1e9).unwrap_or(0.0);
            let rate = if secs > 0.2 {
                format!("  {}/s", human_size((*current as f64 / secs) as u64))
            } else {
                String::new()
            };
            let total = if *total > 0 { *total } else { l.size };
            (
                bar(app, *current, total, width),
                format!("{} / {}{rate}", human_size(*current), human_size(total)),
                "downloading".into(),
                t.fg(t.accent),
            )
        }
        LayerStatus::Verifying => {
            (bar(app, 1, 1, width), human_size(l.size), "verifying".into(), t.fg(t.accent))
        }
        LayerStatus::Extracting { entries } => (
            bar(app, 1, 1, width),
            human_size(l.size),
            format!("extracting ({entries} entries)"),
            t.fg(t.paused),
        ),
        LayerStatus::Done => (bar(app, 1, 1, width), human_size(l.size), "done".into(), t.fg(t.ok)),
        LayerStatus::AlreadyExists => {
            (bar(app, 1, 1, width), human_size(l.size), "already exists".into(), t.fg(t.ok))
        }
        LayerStatus::Error { message } => {
            (bar(app, 0, 1, width), String::new(), format!("error: {message}"), t.fg(t.error))
        }
    };
    Line::from(vec![
        Span::styled(format!("{short}  "), t.fg(t.text)),
        Span::styled(bar_text, style),
        Span::styled(format!("  {figures:<28}"), t.fg(t.text)),
        Span::styled(what, style),
    ])
}

fn progress_lines<'a>(app: &App, reference: &str, p: &PullTrack) -> Vec<Line<'a>> {
    let t = &app.theme;
    let (state, style) = match &p.state {
        PullState::Resolving => (app.symbols.text("resolving…").into_owned(), t.fg(t.accent)),
        PullState::Pulling => {
            let done = p
                .layers
                .iter()
                .filter(|l| matches!(l.status, LayerStatus::Done | LayerStatus::AlreadyExists))
                .count();
            (format!("{done}/{} layers", p.layers.len()), t.fg(t.accent))
        }
        PullState::Done { new: true } => ("pulled".to_string(), t.fg(t.ok)),
        PullState::Done { new: false } => ("up to date".to_string(), t.fg(t.ok)),
        PullState::Failed(m) => (format!("failed: {m}"), t.fg(t.error)),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(reference.to_string(), t.fg(t.text).add_modifier(Modifier::BOLD)),
        Span::styled(format!("  {state}"), style),
    ])];
    lines.extend(p.layers.iter().map(|l| layer_line(app, l, app.now)));
    lines
}

/// The rows on screen (from `offset`, `height` of them) of the current list stage.
fn list_lines<'a>(app: &App, d: &PullDialog, width: u16, offset: usize, height: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    // Tags leave room for digest, platforms and size on narrow screens.
    let name_width =
        if d.stage == Stage::Tags { (width as usize).saturating_sub(56).clamp(8, 32) } else { 48 };
    d.matching()
        .into_iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, i)| {
            let name = d.name(i);
            let mut spans = vec![Span::styled(format!(" {name:<name_width$}"), t.fg(t.text))];
            if d.stage == Stage::Tags {
                let tag = &d.tags[i];
                spans.push(Span::styled(
                    format!(
                        " {} {:>9}  {}",
                        tag.digest.short(),
                        human_size(tag.size),
                        tag.platforms.join(",")
                    ),
                    t.fg(t.muted),
                ));
            }
            let line = Line::from(spans);
            if row == d.selected { line.style(t.selected()) } else { line }
        })
        .collect()
}

pub fn dialog(app: &App, f: &mut Frame<'_>, d: &PullDialog) {
    let t = &app.theme;
    let area = f.area().inner(Margin { horizontal: 3, vertical: 1 });
    let mut crumbs = vec!["Pull".to_string()];
    if d.stage != Stage::Registry {
        crumbs.push(d.registry.clone());
    }
    if matches!(d.stage, Stage::Tags | Stage::Progress) && !d.repository.is_empty() {
        crumbs.push(d.repository.clone());
    }
    let hint = match d.stage {
        Stage::Registry => "type a registry (or a whole image reference), ↑↓ picks, enter lists it",
        Stage::Repositories => "type to narrow, ↑↓ picks, enter lists its tags, backspace goes back",
        Stage::Tags => "type to narrow, ↑↓ picks, enter pulls, backspace goes back",
        Stage::Progress => "esc or enter closes; the pull goes on in the background",
    };
    let title = format!(" {} ", app.symbols.text(&crumbs.join(" › ")));
    let hint = app.symbols.text(hint);
    let block = super::bordered(app, Span::styled(title, t.header_style())).border_style(t.fg(t.accent));
    let inner = block.inner(area);
    f.render_widget(Clear, area);
    f.render_widget(block, area);
    let [input, list, help] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(3), Constraint::Length(1)]).areas(inner);
    let label = match d.stage {
        Stage::Registry => "registry: ",
        Stage::Progress => "",
        _ => "filter: ",
    };
    let mut first = vec![Span::styled(label, t.fg(t.muted))];
    if d.stage != Stage::Progress {
        first.push(Span::styled(d.input.clone(), t.fg(t.text)));
        first.push(Span::styled(app.symbols.cursor(), t.fg(t.accent)));
    }
    if d.loading {
        first.push(Span::styled(app.symbols.text("   asking the registry…"), t.fg(t.accent)));
    }
    f.render_widget(Paragraph::new(Line::from(first)), input);
    let body = if let Some(e) = &d.error {
        vec![Line::from(Span::styled(e.clone(), t.fg(t.error)))]
    } else if d.stage == Stage::Progress {
        match app.pulls.tracks.get(&d.watching) {
            Some(p) => progress_lines(app, &d.watching, p),
            None => vec![],
        }
    } else {
        let height = list.height as usize;
        let offset = (d.selected + 1).saturating_sub(height);
        list_lines(app, d, list.width, offset, height)
    };
    f.render_widget(Paragraph::new(body), list);
    f.render_widget(Paragraph::new(Span::styled(hint, t.fg(t.muted))), help);
}
