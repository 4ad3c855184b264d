//! The characters the UI draws with: Unicode box lines, bars and marks by default, plain ASCII
//! for terminals and fonts without them (`--ascii`, `GANTRY_ASCII=1`, or `TERM=linux`).

use ratatui::symbols::{bar, border};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Symbols {
    pub ascii: bool,
}

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

const ASCII_BARS: bar::Set = bar::Set {
    full: "#",
    seven_eighths: "#",
    three_quarters: "=",
    five_eighths: "=",
    half: "-",
    three_eighths: "-",
    one_quarter: ".",
    one_eighth: ".",
    empty: " ",
};

const UNICODE_SPARK: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const ASCII_SPARK: [&str; 8] = ["_", "_", ".", "-", "-", "=", "#", "#"];

impl Symbols {
    /// ASCII when asked for, or on the Linux console (its font lacks braille and eighths).
    pub fn detect(ascii_flag: bool) -> Self {
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        Self { ascii: ascii_flag || env("GANTRY_ASCII") == "1" || env("TERM") == "linux" }
    }

    pub fn border(self) -> border::Set {
        if self.ascii { ASCII_BORDER } else { border::PLAIN }
    }

    pub fn bars(self) -> bar::Set {
        if self.ascii { ASCII_BARS } else { bar::NINE_LEVELS }
    }

    /// Eight levels for in-row sparklines, lowest first.
    pub fn spark(self) -> [&'static str; 8] {
        if self.ascii { ASCII_SPARK } else { UNICODE_SPARK }
    }

    /// Before a marked row's name.
    pub fn mark(self) -> &'static str {
        if self.ascii { "* " } else { "● " }
    }

    /// The logs gutter: stderr lines, and the current search match.
    pub fn stderr(self) -> &'static str {
        if self.ascii { "!" } else { "▌" }
    }

    pub fn current(self) -> &'static str {
        if self.ascii { ">" } else { "›" }
    }

    /// Between items of a title or summary.
    pub fn sep(self) -> &'static str {
        if self.ascii { " - " } else { " · " }
    }

    /// The text cursor in prompts.
    pub fn cursor(self) -> &'static str {
        if self.ascii { "_" } else { "▏" }
    }
}
