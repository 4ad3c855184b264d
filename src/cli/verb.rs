//! Finds a command line's verb before clap has parsed it. `main` needs it at once: a `run`
//! picks its lean parser by it, which is worth more the earlier it happens (clap's parse
//! alone is a millisecond). A verb found wrongly costs nothing but that: clap still parses
//! every command line and reports what is wrong with it.

use std::ffi::OsString;

/// The options before a verb that take their value as the next argument.
const VALUED: &[&str] = &["--root", "--config", "--theme"];

/// Where the verb is in `argv` (program name first) and what it is; `container run`,
/// `container start` and `container restart` count as `run`, `start` and `restart`.
/// `None` when there is no verb (the terminal UI) or it is not valid UTF-8.
pub fn find(argv: &[OsString]) -> Option<(usize, &str)> {
    let mut i = 1;
    while let Some(arg) = argv.get(i) {
        let arg = arg.to_str()?;
        if VALUED.contains(&arg) {
            i += 2;
        } else if arg.starts_with('-') {
            i += 1;
        } else if arg == "container" {
            let next = argv.get(i + 1)?.to_str()?;
            return Some(match next {
                "run" | "start" | "restart" => (i + 1, next),
                _ => (i, arg),
            });
        } else {
            return Some((i, arg));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("gantry").chain(words.iter().copied()).map(OsString::from).collect()
    }

    #[test]
    fn finds_the_verb_after_global_options() {
        assert_eq!(find(&argv(&["run", "busybox"])), Some((1, "run")));
        assert_eq!(find(&argv(&["--root", "/r", "run", "-d", "busybox"])), Some((3, "run")));
        assert_eq!(find(&argv(&["--root=/r", "--config", "c.toml", "ps", "-a"])), Some((4, "ps")));
        assert_eq!(find(&argv(&["container", "start", "x"])), Some((2, "start")));
        assert_eq!(find(&argv(&["container", "ls"])), Some((1, "container")));
        assert_eq!(find(&argv(&["--theme", "run"])), None, "a value is not a verb");
        assert_eq!(find(&argv(&["--ascii"])), None);
        assert_eq!(find(&argv(&[])), None);
    }
}
