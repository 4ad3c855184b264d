//! Driving gantry through a pseudo-terminal, as a user at a terminal would (`run -it`,
//! `attach`, detach keys).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

pub struct Pty {
    master: std::fs::File,
    pub child: Child,
    pub output: Vec<u8>,
}

impl Pty {
    /// Spawns `cmd` with a new terminal as its stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Self {
        let master: OwnedFd =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave = std::fs::File::options()
            .read(true)
            .write(true)
            .open(name.to_str().expect("utf8"))
            .expect("open slave");
        rustix::termios::tcsetwinsize(
            &slave,
            rustix::termios::Winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 },
        )
        .expect("winsize");
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec (setsid, ioctl).
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn under pty");
        let master = std::fs::File::from(master);
        rustix::fs::fcntl_setfl(&master, rustix::fs::OFlags::NONBLOCK).expect("nonblock");
        let _ = master.as_raw_fd();
        Self { master, child, output: Vec::new() }
    }

    pub fn send(&mut self, data: &[u8]) {
        self.master.write_all(data).expect("write to pty");
    }

    fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.output.extend_from_slice(&buf[..n]),
                Err(_) => return,
            }
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// Waits until the output contains `s`.
    #[track_caller]
    pub fn expect(&mut self, s: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            self.pump();
            if self.text().contains(s) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("pty output never contained {s:?}; got:\n{}", self.text());
    }

    /// Waits for the child to exit; returns its status code.
    #[track_caller]
    pub fn wait(&mut self, secs: u64) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            self.pump();
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                self.pump();
                return s.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("child did not exit; output:\n{}", self.text());
    }
}
