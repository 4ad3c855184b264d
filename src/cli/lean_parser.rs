//! The verbs whose latency is measured (`run`, `ps`) read by parsers of their own: clap
//! building the whole command tree costs about a millisecond, and these need only their own
//! flags.

use clap::{Parser, Subcommand};

use super::args::{Cli, Command, Globals, PsArgs};
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

/// `gantry ps ...` alone, as [`RunOnly`].
#[derive(Debug, Clone, Parser)]
#[command(name = "gantry")]
pub struct PsOnly {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: PsVerb,
}

#[derive(Debug, Clone, Subcommand)]
pub enum PsVerb {
    Ps(PsArgs),
}

impl Cli {
    /// Parses the command line, through [`RunOnly`] or [`PsOnly`] for those verbs (global
    /// options may come first: `gantry --root DIR run ...`).
    pub fn parse_args(argv: Vec<std::ffi::OsString>) -> Self {
        let lean = match super::verb::find(&argv) {
            Some((_, "run")) => RunOnly::try_parse_from(&argv)
                .ok()
                .map(|RunOnly { globals, command: RunVerb::Run(a) }| (globals, Command::Run(a))),
            Some((_, "ps")) => PsOnly::try_parse_from(&argv)
                .ok()
                .map(|PsOnly { globals, command: PsVerb::Ps(a) }| (globals, Command::Ps(a))),
            _ => None,
        };
        match lean {
            Some((globals, command)) => {
                Cli { globals, theme: None, read_only: false, ascii: false, command: Some(command) }
            }
            None => Cli::parse_from(argv),
        }
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

    #[test]
    fn the_ps_fast_path_reads_ps_as_the_full_parser_does() {
        use super::{Cli, PsOnly};
        use clap::Parser;
        let argv = |list: &[&str]| -> Vec<std::ffi::OsString> { list.iter().map(Into::into).collect() };
        for line in [
            &["gantry", "ps"][..],
            &["gantry", "--root", "/r", "ps", "-aq", "--no-trunc"],
            &["gantry", "ps", "-n", "3", "--filter", "status=exited", "-f", "name=x", "--format", "{{.ID}}"],
        ] {
            let line = argv(line);
            assert!(PsOnly::try_parse_from(&line).is_ok(), "{line:?}");
            let full = Cli::try_parse_from(&line).unwrap();
            assert_eq!(format!("{:?}", Cli::parse_args(line)), format!("{full:?}"));
        }
        assert!(PsOnly::try_parse_from(argv(&["gantry", "ps", "--help"])).is_err());
        assert!(PsOnly::try_parse_from(argv(&["gantry", "ps", "--theme", "dark"])).is_err());
    }
}
