//! The real terminal: raw mode and the alternate screen while the UI runs, restored on every
//! way out — normal exit, error, or panic (the hook restores before the message prints).

use std::io::{Stdout, stdout};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, event, execute, terminal};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal; dropping it restores the user's screen.
pub struct Screen {
    pub term: Term,
}

/// The user's terminal as it was: mouse reporting off too (a captured mouse would send escape
/// sequences into the shell after gantry, or into an exec'd one during a hand-over).
fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(stdout(), event::DisableMouseCapture, terminal::LeaveAlternateScreen, cursor::Show);
}

impl Screen {
    pub fn enter() -> std::io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        if let Err(e) = execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        let term = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(Self { term })
    }
}

impl Screen {
    /// Draws a frame wrapped in a synchronized update (DEC mode 2026), so that terminals that
    /// support it show it whole; others ignore the sequence.
    pub fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame<'_>)) -> std::io::Result<()> {
        execute!(stdout(), terminal::BeginSynchronizedUpdate)?;
        let drawn = self.term.draw(render).map(|_| ());
        execute!(stdout(), terminal::EndSynchronizedUpdate)?;
        drawn
    }

    /// Gives the terminal back as it was before the UI (for a hand-over); the caller captures
    /// the mouse again afterwards if it wants it.
    pub fn suspend(&mut self) -> std::io::Result<()> {
        execute!(stdout(), event::DisableMouseCapture, terminal::LeaveAlternateScreen, cursor::Show)?;
        terminal::disable_raw_mode()
    }

    /// Takes the terminal again and redraws everything on the next frame.
    pub fn resume(&mut self) -> std::io::Result<()> {
        terminal::enable_raw_mode()?;
        execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        self.term.clear()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}
