//! Handing the real terminal to a container (attach, exec) and taking it back exactly as it
//! was: the input thread parks so it cannot steal keystrokes, the screen leaves raw mode and the
//! alternate screen, the child runs in the foreground with default signal handling while the
//! UI ignores the terminal's Ctrl-C/Ctrl-\, then everything is restored and redrawn.

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event as TermEvent, KeyEventKind};
use tokio::sync::mpsc;

use super::terminal::Screen;
use super::update::Msg;

/// Lets the event loop stop the input thread from reading the terminal.
#[derive(Default)]
pub struct InputGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    paused: bool,
    parked: bool,
}

impl InputGate {
    /// Asks the input thread to stop reading and waits (up to a second) until it has.
    fn pause(&self) {
        let Ok(mut s) = self.state.lock() else { return };
        s.paused = true;
        self.changed.notify_all();
        let _ = self.changed.wait_timeout_while(s, Duration::from_secs(1), |s| !s.parked);
    }

    fn resume(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.paused = false;
            self.changed.notify_all();
        }
    }

    /// Called by the input thread between reads: blocks while paused.
    fn wait_if_paused(&self) {
        let Ok(mut s) = self.state.lock() else { return };
        while s.paused {
            s.parked = true;
            self.changed.notify_all();
            s = match self.changed.wait(s) {
                Ok(s) => s,
                Err(_) => return,
            };
        }
        s.parked = false;
    }
}

/// Reads the terminal on a thread of its own (crossterm's read blocks) and forwards keys and
/// resizes. It polls with a timeout so that it can park for a hand-over.
pub fn spawn_input(tx: mpsc::UnboundedSender<Msg>, gate: Arc<InputGate>) {
    std::thread::spawn(move || {
        loop {
            gate.wait_if_paused();
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Ok(TermEvent::Resize(w, h)) => Msg::Resize(w, h),
                Ok(TermEvent::Mouse(m)) => Msg::Mouse(m),
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// Sets how this process treats the terminal's interrupt and quit signals.
fn terminal_signals(handler: libc::sighandler_t) {
    // SAFETY: installing SIG_IGN or SIG_DFL for two signals; no handler code runs.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGQUIT, handler);
    }
}

/// Runs `cmd` on the real terminal after printing `banner`, then restores the UI.
pub fn run_foreground(
    screen: &mut Screen,
    gate: &InputGate,
    banner: &str,
    mut cmd: Command,
) -> Result<ExitStatus, String> {
    gate.pause();
    let suspended = screen.suspend();
    println!("{banner}\r");
    terminal_signals(libc::SIG_IGN);
    // SAFETY: only async-signal-safe calls (signal) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = match suspended {
        Ok(()) => cmd.status().map_err(|e| format!("starting {:?}: {e}", cmd.get_program())),
        Err(e) => Err(format!("terminal: {e}")),
    };
    terminal_signals(libc::SIG_DFL);
    let resumed = screen.resume();
    gate.resume();
    resumed.map_err(|e| format!("terminal: {e}"))?;
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_parks_and_releases_the_reader() {
        let gate = Arc::new(InputGate::default());
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (g, r) = (Arc::clone(&gate), Arc::clone(&reads));
        std::thread::spawn(move || {
            loop {
                g.wait_if_paused();
                r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        std::thread::sleep(Duration::from_millis(30));
        gate.pause();
        let at_pause = reads.load(std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), at_pause, "no reads while paused");
        gate.resume();
        std::thread::sleep(Duration::from_millis(50));
        assert!(reads.load(std::sync::atomic::Ordering::SeqCst) > at_pause);
    }
}
