//! Generated container names: `adjective_surname`, like Docker's, from gantry's own word lists
//! (adjectives of temperament; surnames of scientists and engineers).

use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "agile",
    "amazing",
    "bold",
    "brave",
    "bright",
    "busy",
    "calm",
    "careful",
    "charming",
    "cheerful",
    "clever",
    "cool",
    "curious",
    "daring",
    "dazzling",
    "eager",
    "earnest",
    "elated",
    "elegant",
    "epic",
    "fervent",
    "fierce",
    "focused",
    "friendly",
    "gallant",
    "gentle",
    "gifted",
    "glad",
    "happy",
    "hardy",
    "honest",
    "hopeful",
    "humble",
    "jolly",
    "keen",
    "kind",
    "lively",
    "loyal",
    "lucid",
    "merry",
    "mighty",
    "modest",
    "nimble",
    "noble",
    "patient",
    "peaceful",
    "plucky",
    "polite",
    "proud",
    "quick",
    "quiet",
    "radiant",
    "relaxed",
    "resolute",
    "serene",
    "sharp",
    "sincere",
    "smart",
    "snappy",
    "spirited",
    "steady",
    "stoic",
    "sunny",
    "swift",
    "tender",
    "thoughtful",
    "tidy",
    "trusting",
    "upbeat",
    "valiant",
    "vibrant",
    "vigilant",
    "warm",
    "wise",
    "witty",
    "zealous",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "archimedes",
    "babbage",
    "bardeen",
    "bell",
    "bohr",
    "boole",
    "cantor",
    "carson",
    "cerf",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "goldberg",
    "goodall",
    "hamilton",
    "hawking",
    "heisenberg",
    "hertz",
    "hodgkin",
    "hopper",
    "hypatia",
    "johnson",
    "joule",
    "kepler",
    "knuth",
    "lamarr",
    "lamport",
    "leakey",
    "liskov",
    "lovelace",
    "maxwell",
    "meitner",
    "mendel",
    "mirzakhani",
    "morse",
    "newton",
    "nobel",
    "noether",
    "pascal",
    "pasteur",
    "perlman",
    "planck",
    "poincare",
    "ritchie",
    "rosalind",
    "sagan",
    "shannon",
    "stallman",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "volta",
    "wilson",
    "wozniak",
    "wright",
    "yalow",
];

/// A random `adjective_surname`.
pub fn generate() -> String {
    let mut rng = rand::rng();
    let a = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
    let s = SURNAMES[rng.random_range(0..SURNAMES.len())];
    format!("{a}_{s}")
}

/// Docker's rule for user-given names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if name.len() >= 2 && first_ok && rest_ok && name.len() <= 128 {
        Ok(())
    } else {
        Err(format!("Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = generate();
        assert!(n.contains('_') && validate(&n).is_ok(), "{n}");
        assert!(validate("web-1").is_ok());
        assert!(validate("-x").is_err());
        assert!(validate("a").is_err());
        assert!(validate("a b").is_err());
        assert!(validate("a/b").is_err());
    }
}
