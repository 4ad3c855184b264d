//! What `/` types: words that must all appear (any case), or after a leading `~` a regular
//! expression (case-insensitive). Used by the list filters and the logs search alike.

use regex::{Regex, RegexBuilder};

#[derive(Debug, Clone, Default)]
pub enum Matcher {
    /// Matches everything.
    #[default]
    All,
    /// A search that did not compile: matches nothing.
    Invalid,
    /// Lower-cased words.
    Words(Vec<String>),
    Regex(Regex),
}

impl Matcher {
    /// Builds the matcher; a bad regex is an error the prompt shows.
    pub fn new(text: &str) -> Result<Self, String> {
        if let Some(re) = text.strip_prefix('~') {
            if re.is_empty() {
                return Ok(Self::All);
            }
            return RegexBuilder::new(re)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map(Self::Regex)
                .map_err(|e| format!("bad regex: {}", e.to_string().lines().last().unwrap_or("")));
        }
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        Ok(if words.is_empty() { Self::All } else { Self::Words(words) })
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }

    pub fn is_match(&self, hay: &str) -> bool {
        match self {
            Self::All => true,
            Self::Invalid => false,
            Self::Words(words) => {
                let hay = hay.to_lowercase();
                words.iter().all(|w| hay.contains(w.as_str()))
            }
            Self::Regex(re) => re.is_match(hay),
        }
    }

    /// Byte ranges of the matches in `hay`, in order, not overlapping (for highlighting).
    pub fn ranges(&self, hay: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        match self {
            Self::All | Self::Invalid => {}
            Self::Words(words) => {
                // ASCII lower-casing keeps byte offsets; words with other letters still match
                // `is_match`, they are just not highlighted in another case.
                let lower = hay.to_ascii_lowercase();
                for w in words {
                    let mut from = 0;
                    while let Some(i) = lower[from..].find(w.as_str()) {
                        out.push((from + i, from + i + w.len()));
                        from += i + w.len().max(1);
                    }
                }
                out.sort_unstable();
                out.dedup_by(|b, a| {
                    // Merge overlapping and touching ranges into the earlier one.
                    if b.0 <= a.1 {
                        a.1 = a.1.max(b.1);
                        true
                    } else {
                        false
                    }
                });
            }
            Self::Regex(re) => {
                out.extend(re.find_iter(hay).filter(|m| !m.is_empty()).map(|m| (m.start(), m.end())))
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_regexes() {
        let m = Matcher::new("WEB run").unwrap();
        assert!(m.is_match("web-1 running"));
        assert!(!m.is_match("web-1 exited"));
        assert_eq!(m.ranges("a web, Web running"), vec![(2, 5), (7, 10), (11, 14)]);
        let m = Matcher::new("~^db-[0-9]+$").unwrap();
        assert!(m.is_match("DB-12") && !m.is_match("db-x"));
        assert_eq!(Matcher::new("~a+").unwrap().ranges("baaab a"), vec![(1, 4), (6, 7)]);
        assert!(Matcher::new("~(").unwrap_err().starts_with("bad regex"));
        assert!(Matcher::new("  ").unwrap().is_all());
        assert!(Matcher::new("~").unwrap().is_all());
        assert_eq!(Matcher::new("aa").unwrap().ranges("aaaa"), vec![(0, 4)]);
    }
}
