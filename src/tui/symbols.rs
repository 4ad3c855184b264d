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

    /// Text for the screen: in ASCII mode the few non-ASCII signs of titles, hints and key
    /// names (dashes, ellipses, arrows, separators) spelled in ASCII.
    pub fn text(self, s: &str) -> std::borrow::Cow<'_, str> {
        if !self.ascii || s.is_ascii() {
            return std::borrow::Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '—' => out.push('-'),
                '…' => out.push_str("..."),
                '›' => out.push('>'),
                '·' => out.push('|'),
                '↑' => out.push_str("up"),
                '↓' => out.push_str("down"),
                '←' => out.push_str("left"),
                '→' => out.push_str("right"),
                c if c.is_ascii() => out.push(c),
                _ => out.push('?'),
            }
        }
        std::borrow::Cow::Owned(out)
    }

    /// The text cursor in prompts.
    pub fn cursor(self) -> &'static str {
        if self.ascii { "_" } else { "▏" }
    }
}
