//! `gantry pull`: drives the engine's pull and prints its events like `docker pull` — one line
//! per layer step when piped, live progress bars on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use super::args::PullArgs;
use super::format::human_size;
use super::output::{Failure, Outcome, print};
use crate::engine::Engine;
use crate::engine::events::{Event, LayerStatus, PullProgress};
use crate::engine::platform::Platform;
use crate::engine::pull::{PullOptions, PullOutcome};
use crate::engine::reference::Reference;

pub async fn pull(engine: &Arc<Engine>, a: PullArgs) -> Outcome {
    let reference = Reference::parse(&a.image)?;
    let platform = a.platform.as_deref().map(Platform::parse).transpose().map_err(Failure::new)?;
    let defaulted = !a.image.contains('@') && reference.tag() == Some("latest") && !ends_with_tag(&a.image);
    if defaulted && !a.quiet {
        print("Using default tag: latest\n")?;
    }
    let outcome = pull_with_progress(engine, &reference, platform, a.quiet).await?;
    if a.quiet {
        print(&format!("{}\n", outcome.reference))?;
    }
    Ok(())
}

/// Whether the user typed a tag (so `Using default tag` is not printed for `x:latest`).
fn ends_with_tag(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/'))
}

/// Pulls with progress output on stdout (`pull`).
pub async fn pull_with_progress(
    engine: &Arc<Engine>,
    reference: &Reference,
    platform: Option<Platform>,
    quiet: bool,
) -> Result<PullOutcome, Failure> {
    pull_showing(engine, reference, platform, quiet, Target::Stdout).await
}

/// Pulls with progress output on stderr (`run` of a missing image: stdout is the container's).
pub async fn pull_with_progress_to_stderr(
    engine: &Arc<Engine>,
    reference: &Reference,
    platform: Option<Platform>,
) -> Result<PullOutcome, Failure> {
    pull_showing(engine, reference, platform, false, Target::Stderr).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Stdout,
    Stderr,
}

fn emit(target: Target, text: &str) {
    match target {
        Target::Stdout => {
            let _ = print(text);
        }
        Target::Stderr => {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(text.as_bytes());
        }
    }
}

async fn pull_showing(
    engine: &Arc<Engine>,
    reference: &Reference,
    platform: Option<Platform>,
    quiet: bool,
    target: Target,
) -> Result<PullOutcome, Failure> {
    let mut events = engine.subscribe();
    let key = reference.to_string();
    let is_tty = match target {
        Target::Stdout => std::io::stdout().is_terminal(),
        Target::Stderr => std::io::stderr().is_terminal(),
    };
    let mut view = Progress::new(is_tty && !quiet, quiet, target);
    let label =
        reference.digest().map(|d| d.to_string()).or(reference.tag().map(String::from)).unwrap_or_default();
    view.line(format!("{label}: Pulling from {}", reference.repository()));
    let opts = PullOptions { platform };
    let pull = engine.pull(reference, &opts);
    tokio::pin!(pull);
    let result = loop {
        tokio::select! {
            biased;
            ev = events.recv() => match ev {
                Ok(Event::Pull(p)) if p.reference == key => view.event(&p.progress),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => {}
            },
            r = &mut pull => break r,
        }
    };
    // Drain what was published before the pull returned.
    while let Ok(ev) = events.try_recv() {
        if let Event::Pull(p) = ev {
            if p.reference == key {
                view.event(&p.progress);
            }
        }
    }
    let outcome = result?;
    view.line(format!("Digest: {}", outcome.digest));
    let status = if outcome.new { "Downloaded newer image for" } else { "Image is up to date for" };
    view.line(format!("Status: {status} {}", reference.familiar()));
    if !quiet && target == Target::Stdout {
        print(&format!("{reference}\n"))?;
    }
    Ok(outcome)
}

/// Renders pull events: plain lines, or a redrawn block of layer lines on a terminal.
struct Progress {
    tty: bool,
    quiet: bool,
    target: Target,
    /// Layer short IDs in order of appearance and their current line text.
    layers: Vec<(String, String)>,
    /// Lines of the redrawable block currently on screen.
    drawn: usize,
}

impl Progress {
    fn new(tty: bool, quiet: bool, target: Target) -> Self {
        Self { tty, quiet, target, layers: Vec::new(), drawn: 0 }
    }

    fn line(&mut self, text: String) {
        if self.quiet {
            return;
        }
        if self.tty {
            self.redraw();
            self.drawn = 0;
            self.layers.clear();
        }
        emit(self.target, &format!("{text}\n"));
    }

    fn event(&mut self, p: &PullProgress) {
        let PullProgress::Layer { layer, status } = p else { return };
        let id = layer.short().to_string();
        let text = match status {
            LayerStatus::Waiting => "Pulling fs layer".to_string(),
            LayerStatus::AlreadyExists => "Already exists".to_string(),
            LayerStatus::Downloading { current, total } => {
                if !self.tty {
                    return;
                }
                format!(
                    "Downloading {} {}/{}",
                    bar(*current, *total),
                    human_size(*current),
                    human_size(*total)
                )
            }
            LayerStatus::Verifying => {
                if !self.tty {
                    self.plain(&id, "Verifying Checksum");
                }
                "Download complete".to_string()
            }
            LayerStatus::Extracting { .. } => {
                if !self.tty {
                    return;
                }
                "Extracting".to_string()
            }
            LayerStatus::Done => "Pull complete".to_string(),
            LayerStatus::Error { message } => format!("Error: {message}"),
        };
        if self.tty {
            match self.layers.iter_mut().find(|(l, _)| *l == id) {
                Some(entry) => entry.1 = text,
                None => self.layers.push((id, text)),
            }
            self.redraw();
        } else {
            self.plain(&id, &text);
        }
    }

    fn plain(&self, id: &str, text: &str) {
        if !self.quiet {
            emit(self.target, &format!("{id}: {text}\n"));
        }
    }

    /// Moves the cursor back over the block and prints every layer line again.
    fn redraw(&mut self) {
        if self.quiet || self.layers.is_empty() {
            return;
        }
        let mut out = String::new();
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for (id, text) in &self.layers {
            out.push_str(&format!("\x1b[2K{id}: {text}\n"));
        }
        self.drawn = self.layers.len();
        emit(self.target, &out);
    }
}

/// Docker's 50-column progress bar.
fn bar(current: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    let filled = current.min(total).saturating_mul(WIDTH).checked_div(total).unwrap_or(0) as usize;
    let mut s = String::from("[");
    s.push_str(&"=".repeat(filled));
    if filled < WIDTH as usize {
        s.push('>');
        s.push_str(&" ".repeat(WIDTH as usize - filled - 1));
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills() {
        assert_eq!(bar(0, 100).len(), 52);
        assert!(bar(100, 100).starts_with("[=================================================="));
        assert!(bar(50, 100).contains("=>"));
        assert!(ends_with_tag("busybox:latest"));
        assert!(!ends_with_tag("localhost:5000/busybox"));
    }
}
