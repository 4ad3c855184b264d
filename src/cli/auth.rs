//! `login` and `logout`: credentials are checked against the registry before anything is
//! stored ("Login Succeeded" means the registry accepted them), and kept in Docker's config.json.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::Arc;

use super::args::{LoginArgs, LogoutArgs};
use super::output::{Failure, Outcome, print};
use crate::engine::Engine;
use crate::engine::registry::Credentials;

/// `https://host:port/v2/` or `host:port` → `host:port`; Docker Hub's aliases → `docker.io`.
pub fn normalize_server(server: Option<&str>) -> String {
    let s = server.unwrap_or("docker.io").trim();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(s);
    let host = s.split('/').next().unwrap_or(s).to_string();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" | "" => "docker.io".into(),
        _ => host,
    }
}

pub async fn login(engine: &Arc<Engine>, a: LoginArgs) -> Outcome {
    let server = normalize_server(a.server.as_deref());
    if a.password.is_some() && a.password_stdin {
        return Err(Failure::new("--password and --password-stdin are mutually exclusive"));
    }
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let password = if a.password_stdin {
        if a.username.is_none() {
            return Err(Failure::new("Must provide --username with --password-stdin"));
        }
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::new(format!("reading password: {e}")))?;
        Some(s.trim_end_matches(['\n', '\r']).to_string())
    } else {
        a.password.clone()
    };
    let username = match a.username {
        Some(u) => u,
        None => prompt("Username: ", true)?,
    };
    let password = match password {
        Some(p) => p,
        None => prompt("Password: ", false)?,
    };
    if username.is_empty() {
        return Err(Failure::new("Username is required"));
    }
    let creds = Credentials { username, password };
    engine.registry().check_login(&server, &creds).await?;
    engine.registry().credentials().set(&server, &creds)?;
    print("Login Succeeded\n")
}

pub fn logout(engine: &Arc<Engine>, a: LogoutArgs) -> Outcome {
    let server = normalize_server(a.server.as_deref());
    if engine.registry().credentials().remove(&server)? {
        print(&format!("Removing login credentials for {server}\n"))
    } else {
        print(&format!("Not logged in to {server}\n"))
    }
}

/// Asks on the terminal; the password is read with echo off.
fn prompt(label: &str, echo: bool) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new("Cannot perform an interactive login from a non TTY device"));
    }
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    let saved = if echo { None } else { disable_echo(&stdin) };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &t);
        eprintln!();
    }
    read.map_err(|e| Failure::new(format!("reading {label}{e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn disable_echo(stdin: &std::io::Stdin) -> Option<rustix::termios::Termios> {
    let saved = rustix::termios::tcgetattr(stdin).ok()?;
    let mut t = saved.clone();
    t.local_modes.remove(rustix::termios::LocalModes::ECHO);
    rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &t).ok()?;
    Some(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_servers() {
        assert_eq!(normalize_server(None), "docker.io");
        assert_eq!(normalize_server(Some("https://index.docker.io/v1/")), "docker.io");
        assert_eq!(normalize_server(Some("https://127.0.0.1:5000/v2/")), "127.0.0.1:5000");
        assert_eq!(normalize_server(Some("localhost:5001")), "localhost:5001");
    }
}
