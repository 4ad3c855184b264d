//! The command lines of gantry's hidden helpers (`__monitor`, `__exec`, `__attach`), which
//! gantry itself writes. The monitor's is read without clap: a monitor is started for every
//! container start, and building clap's whole command tree (every verb and flag of the CLI)
//! costs about 0.9 ms here, on the start's path. Anything that parser does not expect falls
//! back to clap (which then reports it).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

/// Where the engine that started a helper keeps its state and settings
/// (`Engine::helper_command` passes them).
#[derive(Debug, Clone, Args)]
pub struct HelperRoots {
    #[arg(long)]
    pub state_root: PathBuf,
    #[arg(long)]
    pub run_root: PathBuf,
    #[arg(long)]
    pub settings: PathBuf,
}

impl HelperRoots {
    /// The same engine as the one that started the helper.
    pub fn engine_options(self) -> crate::engine::EngineOptions {
        crate::engine::EngineOptions {
            root: Some(self.state_root),
            run: Some(self.run_root),
            config_path: Some(self.settings),
            credentials_path: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub roots: HelperRoots,
    #[arg(long)]
    pub credentials: PathBuf,
    #[arg(long)]
    pub wait_for_attach: bool,
    #[arg(long, conflicts_with = "id")]
    pub await_id: bool,
    #[arg(required_unless_present = "await_id")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExecHelperArgs {
    #[command(flatten)]
    pub roots: HelperRoots,
    pub id: String,
    pub request: String,
}

#[derive(Debug, Clone, Args)]
pub struct AttachHelperArgs {
    #[command(flatten)]
    pub roots: HelperRoots,
    pub id: String,
}

impl From<MonitorArgs> for crate::engine::monitor::MonitorArgs {
    fn from(m: MonitorArgs) -> Self {
        Self {
            state_root: m.roots.state_root,
            run_root: m.roots.run_root,
            settings: m.roots.settings,
            credentials: m.credentials,
            id: m.id.unwrap_or_default(),
            wait_for_attach: m.wait_for_attach,
            await_id: m.await_id,
        }
    }
}

/// `__monitor --state-root D --run-root D --settings F --credentials F [--wait-for-attach]
/// (ID | --await-id)` (the options in any order), as the engine writes it; `args` excludes the
/// verb.
pub fn monitor(args: &[OsString]) -> Option<crate::engine::monitor::MonitorArgs> {
    let (mut state_root, mut run_root, mut settings, mut credentials) = (None, None, None, None);
    let (mut wait_for_attach, mut await_id) = (false, false);
    let mut id = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let slot = match arg.to_str()? {
            "--state-root" => &mut state_root,
            "--run-root" => &mut run_root,
            "--settings" => &mut settings,
            "--credentials" => &mut credentials,
            "--wait-for-attach" => {
                wait_for_attach = true;
                continue;
            }
            "--await-id" => {
                await_id = true;
                continue;
            }
            s if s.starts_with('-') || id.is_some() => return None,
            s => {
                id = Some(s.to_string());
                continue;
            }
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(PathBuf::from(it.next()?));
    }
    // The ID comes on the command line or, for a monitor prepared ahead of it, on stdin.
    let id = match (id, await_id) {
        (Some(id), false) => id,
        (None, true) => String::new(),
        _ => return None,
    };
    Some(crate::engine::monitor::MonitorArgs {
        state_root: state_root?,
        run_root: run_root?,
        settings: settings?,
        credentials: credentials?,
        id,
        wait_for_attach,
        await_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn reads_what_the_engine_writes() {
        let m = monitor(&args(&[
            "--state-root",
            "/s",
            "--run-root",
            "/r",
            "--settings",
            "/c.toml",
            "--credentials",
            "/a.json",
            "--wait-for-attach",
            "abc",
        ]))
        .unwrap();
        assert_eq!(m.state_root, PathBuf::from("/s"));
        assert_eq!(m.run_root, PathBuf::from("/r"));
        assert_eq!(m.settings, PathBuf::from("/c.toml"));
        assert_eq!(m.credentials, PathBuf::from("/a.json"));
        assert_eq!(m.id, "abc");
        assert!(m.wait_for_attach);
        let detached = monitor(&args(&[
            "--credentials",
            "/a.json",
            "--settings",
            "/c",
            "--run-root",
            "/r",
            "--state-root",
            "/s",
            "x",
        ]))
        .unwrap();
        assert!(!detached.wait_for_attach);
        let prepared = monitor(&args(&[
            "--state-root",
            "/s",
            "--run-root",
            "/r",
            "--settings",
            "/c",
            "--credentials",
            "/a",
            "--await-id",
        ]))
        .unwrap();
        assert!(prepared.await_id && prepared.id.is_empty());
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        let full =
            ["--state-root", "/s", "--run-root", "/r", "--settings", "/c", "--credentials", "/a", "id"];
        assert!(monitor(&args(&full)).is_some());
        assert!(monitor(&args(&full[..full.len() - 1])).is_none(), "no id");
        assert!(monitor(&args(&full[2..])).is_none(), "no state root");
        let mut extra = full.to_vec();
        extra.push("second");
        assert!(monitor(&args(&extra)).is_none(), "two ids");
        let mut unknown = full.to_vec();
        unknown.insert(0, "--verbose");
        assert!(monitor(&args(&unknown)).is_none());
        let mut twice = full.to_vec();
        twice.extend(["--settings", "/d"]);
        assert!(monitor(&args(&twice)).is_none());
        assert!(monitor(&args(&["--state-root"])).is_none(), "a missing value");
        let mut both = full.to_vec();
        both.push("--await-id");
        assert!(monitor(&args(&both)).is_none(), "an ID and --await-id");
    }
}
