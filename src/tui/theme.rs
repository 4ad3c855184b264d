//! Colour themes: every colour a widget uses comes from here, by role, never hard-coded in a
//! widget. Built-in themes are the files of `themes/`, compiled in; user themes are read from
//! the config dir. `NO_COLOR` turns every colour off.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::engine::store::containers::State;

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("16-colour", include_str!("../../themes/16-colour.toml")),
];

#[derive(Debug, Deserialize)]
struct ThemeFile {
    name: String,
    colors: BTreeMap<String, String>,
}

/// The colours of every role.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Color,
    pub muted: Color,
    pub accent: Color,
    pub header: Color,
    pub border: Color,
    pub selected_fg: Color,
    pub selected_bg: Color,
    pub marked: Color,
    pub running: Color,
    pub paused: Color,
    pub restarting: Color,
    pub exited: Color,
    pub created: Color,
    pub error: Color,
    pub ok: Color,
    pub chart: Color,
    /// Background of search matches.
    pub r#match: Color,
    /// `NO_COLOR`: styles keep their modifiers only.
    pub monochrome: bool,
}

impl Theme {
    /// Parses a theme file; every role must be given.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| format!("theme: {e}"))?;
        let get = |role: &str| -> Result<Color, String> {
            let v = f.colors.get(role).ok_or_else(|| format!("theme {}: no colour for {role}", f.name))?;
            Color::from_str(v).map_err(|_| format!("theme {}: {role} = {v:?} is not a colour", f.name))
        };
        Ok(Self {
            name: f.name.clone(),
            text: get("text")?,
            muted: get("muted")?,
            accent: get("accent")?,
            header: get("header")?,
            border: get("border")?,
            selected_fg: get("selected_fg")?,
            selected_bg: get("selected_bg")?,
            marked: get("marked")?,
            running: get("running")?,
            paused: get("paused")?,
            restarting: get("restarting")?,
            exited: get("exited")?,
            created: get("created")?,
            error: get("error")?,
            ok: get("ok")?,
            chart: get("chart")?,
            // Themes written before search matches had a colour of their own use the chart's.
            r#match: if f.colors.contains_key("match") { get("match")? } else { get("chart")? },
            monochrome: false,
        })
    }

    /// The built-in default.
    pub fn default_dark() -> Self {
        Self::parse(BUILT_IN[0].1).expect("the built-in dark theme parses")
    }

    /// Finds a theme by name: the user's config dir first, then the built-in ones.
    pub fn load(name: &str) -> Result<Self, String> {
        if let Some(dir) = user_theme_dir() {
            let path = dir.join(format!("{name}.toml"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()));
            }
        }
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| Self::parse(t)).unwrap_or_else(|| {
            let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            Err(format!("no theme {name:?} (built in: {})", names.join(", ")))
        })
    }

    /// Drops every colour (for `NO_COLOR`).
    pub fn without_colour(mut self) -> Self {
        self.monochrome = true;
        self
    }

    /// A style in a role's colour (or plain, without colour).
    pub fn fg(&self, c: Color) -> Style {
        if self.monochrome { Style::default() } else { Style::default().fg(c) }
    }

    pub fn selected(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(self.selected_fg).bg(self.selected_bg)
        }
    }

    /// A search match: dark text on the match colour (without colour: bold and underlined, so
    /// a match on the reversed selection still shows).
    pub fn matched(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            Style::default().fg(Color::Black).bg(self.r#match)
        }
    }

    pub fn header_style(&self) -> Style {
        self.fg(self.header).add_modifier(Modifier::BOLD)
    }

    /// The colour of a container state (bold without colour, for running ones).
    pub fn state(&self, s: State) -> Style {
        let c = match s {
            State::Running => self.running,
            State::Paused => self.paused,
            State::Restarting => self.restarting,
            State::Exited | State::Dead => self.exited,
            State::Created | State::Starting | State::Removing => self.created,
        };
        let style = self.fg(c);
        if self.monochrome && s == State::Running { style.add_modifier(Modifier::BOLD) } else { style }
    }
}

fn user_theme_dir() -> Option<PathBuf> {
    super::user_config_dir().map(|d| d.join("themes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse_and_differ() {
        let themes: Vec<Theme> = BUILT_IN.iter().map(|(n, _)| Theme::load(n).unwrap()).collect();
        assert_eq!(themes.len(), 4);
        assert_eq!(themes[0].running, Color::Green);
        assert_eq!(themes[2].running, Color::Rgb(0, 255, 0));
        assert_ne!(themes[0], themes[1]);
        assert!(Theme::load("nope").unwrap_err().contains("built in: dark, light"));
        assert!(
            Theme::parse("name = \"x\"\n[colors]\ntext = \"white\"\n").unwrap_err().contains("no colour for")
        );
        let mono = Theme::default_dark().without_colour();
        assert_eq!(mono.state(State::Exited), Style::default());
        assert!(mono.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(mono.matched().add_modifier.contains(Modifier::UNDERLINED), "distinct from the selection");
        // A theme without the newer `match` role still loads, with the chart's colour.
        let old = BUILT_IN[0]
            .1
            .lines()
            .filter(|l| !l.trim_start().starts_with("match"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = Theme::parse(&old).unwrap();
        assert_eq!(t.r#match, t.chart);
    }
}
