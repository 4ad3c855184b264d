//! `gantry run ...` read by a parser of its own: `run` is the command whose latency is
//! measured, and clap building the whole command tree for it costs about a millisecond.

use clap::{Parser, Subcommand};

use super::args::{Cli, Command, Globals};
use super::run_args::RunArgs;

/// `gantry run ...` alone: clap builds only this verb's flags, not the whole command tree
/// (about 0.9 ms less on every `run`). Whatever it rejects, including `--help`, goes to the
/// full [`Cli`], so errors and help read the same.
#[derive(Debug, Clone, Parser)]
#[command(name = "gantry")]
pub struct RunOnly {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: RunVerb,
}

#[derive(Debug, Clone, Subcommand)]
pub enum RunVerb {
    Run(RunArgs),
}

impl Cli {
    /// Parses the command line, through [`RunOnly`] for a `run` (global options may come
    /// first: `gantry --root DIR run ...`).
    pub fn parse_args(argv: Vec<std::ffi::OsString>) -> Self {
        if matches!(super::verb::find(&argv), Some((_, "run"))) {
            if let Ok(RunOnly { globals, command: RunVerb::Run(args) }) = RunOnly::try_parse_from(&argv) {
                return Cli {
                    globals,
                    theme: None,
                    read_only: false,
                    ascii: false,
                    command: Some(Command::Run(args)),
                };
            }
        }
        Cli::parse_from(argv)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_run_fast_path_reads_run_as_the_full_parser_does() {
        use super::{Cli, Command, RunOnly, RunVerb};
        use clap::Parser;
        let argv = |list: &[&str]| -> Vec<std::ffi::OsString> { list.iter().map(Into::into).collect() };
        let line = argv(&[
            "gantry",
            "run",
            "--rm",
            "-it",
            "-e",
            "A=1",
            "-p",
            "8080:80",
            "--name",
            "x",
            "--root",
            "/r",
            "busybox",
            "sh",
            "-c",
            "echo -n hi",
        ]);
        let RunOnly { globals, command: RunVerb::Run(fast) } = RunOnly::try_parse_from(&line).unwrap();
        let full = Cli::try_parse_from(&line).unwrap();
        let Some(Command::Run(slow)) = &full.command else { panic!("not run") };
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
        assert_eq!(format!("{globals:?}"), format!("{:?}", full.globals));
        assert_eq!(format!("{:?}", Cli::parse_args(line.clone())), format!("{full:?}"));
        // What the fast path rejects still reaches the full parser: help, and top-level flags.
        assert!(RunOnly::try_parse_from(argv(&["gantry", "run", "--help"])).is_err());
        assert!(RunOnly::try_parse_from(argv(&["gantry", "run", "--theme", "dark", "busybox"])).is_err());
        // Global options before the verb take the fast path too, and read the same.
        let early = argv(&["gantry", "--root", "/r", "--config=/c", "run", "-d", "busybox"]);
        assert!(RunOnly::try_parse_from(&early).is_ok());
        let full = Cli::try_parse_from(&early).unwrap();
        assert_eq!(format!("{:?}", Cli::parse_args(early)), format!("{full:?}"));
    }
}
