//! The few raw system interfaces the monitor needs that have no safe wrapper in the crates it
//! uses: detaching from the starter (fork + setsid), becoming a child subreaper, receiving the
//! pty master over the console socket, bringing up loopback inside the container's network
//! namespace, and sizing a terminal. Each is small and documented at its `unsafe`.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// Detaches from the process that started us: new session, then a fork whose parent exits at
/// once, so the monitor is reparented away from the (short-lived) starter. Must be called while
/// the process is still single-threaded.
pub fn daemonize() -> io::Result<()> {
    rustix::process::setsid()?;
    // SAFETY: the monitor has just been exec'd and has started no thread, so the child is a
    // faithful copy; the parent only calls `_exit`.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(()),
        _ => unsafe { libc::_exit(0) },
    }
}

/// Makes orphaned descendants (e.g. processes that outlive the container's init in a shared
/// pid namespace) our children, so the monitor reaps them.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with an integer argument; no memory is passed.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Points fds 0, 1 and 2 at /dev/null (after the sync pipe has been moved off fd 1).
pub fn null_stdio() -> io::Result<()> {
    let null = File::options().read(true).write(true).open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives the pty master that the container's init sends over the console socket.
pub fn receive_fd(stream: &UnixStream) -> io::Result<OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
    let mut data = [0u8; 64];
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut iov = [io::IoSliceMut::new(&mut data)];
    recvmsg(stream.as_fd(), &mut iov, &mut anc, RecvFlags::CMSG_CLOEXEC)?;
    for msg in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg {
            if let Some(fd) = fds.next() {
                return Ok(fd);
            }
        }
    }
    Err(io::Error::other("console socket sent no file descriptor"))
}

/// Sets a terminal's window size.
pub fn set_winsize(fd: &impl AsFd, rows: u16, cols: u16) -> io::Result<()> {
    let ws = rustix::termios::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    rustix::termios::tcsetwinsize(fd, ws).map_err(io::Error::from)
}

/// Brings `lo` up inside the network namespace of `pid` (new network namespaces start with it
/// down). The monitor is single-threaded, so switching its own namespace and back is safe.
pub fn loopback_up(pid: i32) -> io::Result<()> {
    let own = File::open("/proc/self/ns/net")?;
    let target = File::open(format!("/proc/{pid}/ns/net"))?;
    rustix::thread::move_into_link_name_space(
        target.as_fd(),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )?;
    let result = set_lo_up();
    rustix::thread::move_into_link_name_space(own.as_fd(), Some(rustix::thread::LinkNameSpaceType::Network))?;
    result
}

fn set_lo_up() -> io::Result<()> {
    // SAFETY: a plain socket() call; the fd is owned immediately.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh, valid descriptor owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we own.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Docker's exit code for a wait(2) status: the exit status, or 128 + the killing signal.
pub fn exit_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
    }
}

/// The start time of a process (field 22 of /proc/<pid>/stat), to tell a live process from a
/// later one that reused its PID.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is alive and is the process that started at `start`.
pub fn same_process(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start) && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').and_then(|i| s[i + 2..].chars().next()))
        .is_some_and(|c| c == 'Z' || c == 'X')
}
