//! The Docker CLI's table layout; the shared text helpers (sizes, durations, IDs, STATUS)
//! live in [`crate::text`] and are re-exported here for the commands.

pub use crate::text::*;

/// A table aligned like Go's tabwriter as the Docker CLI configures it (min width 10,
/// padding 3); the last column is not padded.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self { rows: vec![header.iter().map(|s| s.to_string()).collect()] }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                let w =
                    self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0);
                (w + 3).max(10)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_like_tabwriter() {
        let mut t = Table::new(&["REPOSITORY", "TAG", "IMAGE ID"]);
        t.row(vec!["busybox".into(), "latest".into(), "abc".into()]);
        assert_eq!(t.render(), "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    abc\n");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(short_id("sha256:0123456789abcdef", false), "0123456789ab");
    }
}
