//! The image-wide extraction budget: the bytes and entries all layers of one pull may expand
//! to together (the per-layer limits live in the extractor). Each download attempt draws from
//! it through a [`Draw`], which gives back what it took unless the layer was kept, so a retried
//! or failed attempt never counts twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one pull may still expand into.
#[derive(Debug)]
pub struct ImageBudget {
    bytes: AtomicU64,
    entries: AtomicU64,
    max_bytes: u64,
    max_entries: u64,
}

impl ImageBudget {
    pub fn new(max_bytes: u64, max_entries: u64) -> Arc<Self> {
        Arc::new(Self {
            bytes: AtomicU64::new(max_bytes),
            entries: AtomicU64::new(max_entries),
            max_bytes,
            max_entries,
        })
    }

    /// Starts one attempt's draw on the budget.
    pub fn draw(self: &Arc<Self>) -> Draw {
        Draw { budget: self.clone(), bytes: 0, entries: 0, kept: false }
    }
}

/// One attempt's share of the budget: returned on drop unless [`Draw::keep`] was called.
#[derive(Debug)]
pub struct Draw {
    budget: Arc<ImageBudget>,
    bytes: u64,
    entries: u64,
    kept: bool,
}

impl Draw {
    /// Takes `n` bytes; false (taking nothing) when the image has not that many left.
    pub fn take_bytes(&mut self, n: u64) -> bool {
        let ok = take(&self.budget.bytes, n);
        if ok {
            self.bytes += n;
        }
        ok
    }

    /// Takes `n` entries; false (taking nothing) when the image has not that many left.
    pub fn take_entries(&mut self, n: u64) -> bool {
        let ok = take(&self.budget.entries, n);
        if ok {
            self.entries += n;
        }
        ok
    }

    /// The whole image's byte budget (for messages).
    pub fn budget_bytes(&self) -> u64 {
        self.budget.max_bytes
    }

    /// The whole image's entry budget (for messages).
    pub fn budget_entries(&self) -> u64 {
        self.budget.max_entries
    }

    /// The layer was verified: what it used stays used.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Draw {
    fn drop(&mut self) {
        if !self.kept {
            self.budget.bytes.fetch_add(self.bytes, Ordering::Relaxed);
            self.budget.entries.fetch_add(self.entries, Ordering::Relaxed);
        }
    }
}

fn take(left: &AtomicU64, n: u64) -> bool {
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_draw_gives_back_what_it_took_and_a_kept_one_does_not() {
        let budget = ImageBudget::new(100, 3);
        let mut failed = budget.draw();
        assert!(failed.take_bytes(80) && failed.take_entries(2));
        assert!(!budget.draw().take_bytes(30), "only 20 left while the attempt runs");
        drop(failed);
        let mut retry = budget.draw();
        assert!(retry.take_bytes(90), "the failed attempt's bytes came back");
        assert!(retry.take_entries(3));
        retry.keep();
        let mut next = budget.draw();
        assert!(!next.take_bytes(11) && next.take_bytes(10));
        assert!(!next.take_entries(1));
    }
}
