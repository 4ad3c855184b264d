//! How commands end: an exit status and, on failure, one clear `Error: …` line on stderr.

use std::io::Write;
use std::process::ExitCode;

/// A command's failure: its message and exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

pub type Outcome = Result<(), Failure>;

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 1 }
    }

    /// A failure already reported line by line (e.g. some of several `rmi` targets).
    pub fn silent(code: u8) -> Self {
        Self { message: String::new(), code }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 125 }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::new(describe(&e))
    }
}

/// An error and the causes its own message does not already include.
pub fn describe(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

pub fn finish(outcome: Outcome) -> ExitCode {
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("Error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

/// Writes to stdout, treating a closed pipe (`gantry images | head`) as success.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(format!("writing output: {e}"))),
        Ok(()) => Ok(()),
    }
}
