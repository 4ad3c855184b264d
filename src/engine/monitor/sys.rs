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
    daemonize_then(|_| {})
}

/// [`daemonize`], with the parent running `starter(child_pid)` before it exits, concurrently
/// with the child.
pub fn daemonize_then(starter: impl FnOnce(i32)) -> io::Result<()> {
    rustix::process::setsid()?;
    // SAFETY: the caller has just been exec'd and has started no thread, so the child is a
    // faithful copy and the parent, still single-threaded, may go on as usual before `_exit`.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(()),
        child => {
            starter(child);
            unsafe { libc::_exit(0) }
        }
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

/// Starts making a fresh network namespace, with loopback up, on a short-lived thread of its
/// own: `unshare(CLONE_NEWNET)` registers a whole network stack, about 0.8 ms here, which
/// then overlaps the rest of the launch (mounting the root, writing the spec) on the other CPU
/// instead of running in the container's init, on the path of every start. The init joins it
/// by path; it lives as long as the returned descriptor, or the processes that joined it.
///
/// The thread only unshares its own namespace and ends; join it before anything forks, so that
/// libcontainer clones from a single-threaded process again.
pub fn netns_in_background() -> io::Result<std::thread::JoinHandle<io::Result<OwnedFd>>> {
    std::thread::Builder::new().name("netns".into()).stack_size(64 * 1024).spawn(|| {
        use rustix::thread::{UnshareFlags, unshare_unsafe};
        // SAFETY: only this thread's network namespace is unshared, never the descriptor
        // table; the thread ends right after, so no other code ever runs in the namespace.
        unsafe { unshare_unsafe(UnshareFlags::NEWNET) }?;
        let made = File::open("/proc/thread-self/ns/net")?;
        set_lo_up()?;
        Ok(OwnedFd::from(made))
    })
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

/// Gives back the memory that setting the container up used and its supervision does not:
/// free heap pages go back to the kernel (`malloc_trim`), and the file-backed pages of
/// the binary and its libraries (code that parsed arguments, opened the store, built the
/// runtime spec) leave this process's resident set (`MADV_DONTNEED`; they stay in the page
/// cache and fault back in if ever run again). Only mappings that are read-only and hold no
/// private (anonymous: copied on write) page are touched, so nothing is lost: dropping a
/// relocated RELRO page would reload the unrelocated file contents. Returns the bytes advised
/// away.
///
/// # Safety
/// No other thread may change this process's mappings (mmap, mprotect, dlopen) while it runs:
/// a mapping made writable and written between the check and the advice would lose what was
/// written. The monitor is single-threaded.
pub unsafe fn shed_memory() -> usize {
    let shed = match std::fs::read_to_string("/proc/self/smaps") {
        Ok(smaps) => {
            let mut shed = shed_dead_stack(&smaps);
            for (range, clean) in clean_file_mappings(&smaps) {
                let len = range.end - range.start;
                // SAFETY: the range is a whole mapping of this process, read-only and without
                // a private page (checked above, and no other thread changes mappings, per the
                // contract): every page is the file's, so dropping them loses nothing.
                if unsafe { libc::madvise(range.start as *mut libc::c_void, len, libc::MADV_DONTNEED) } == 0 {
                    shed += clean;
                }
            }
            shed
        }
        Err(_) => 0,
    };
    // Last, so the buffers used above go back too.
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    shed
}

/// Stack pages more than 64 KiB below the current frame hold only the frames of calls that have
/// returned (setting the container up goes deep; supervising does not): they are dropped and
/// come back as zero pages if the stack ever grows there again. The frames of the calls made
/// from here (`madvise` itself) lie below this one but well within the margin.
fn shed_dead_stack(smaps: &str) -> usize {
    const MARGIN: usize = 64 * 1024;
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    let Some(start) = smaps.lines().find(|l| l.ends_with("[stack]")).and_then(|l| {
        let (start, end) = l.split_whitespace().next()?.split_once('-')?;
        let (start, end) = (usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?);
        (start..end).contains(&sp).then_some(start)
    }) else {
        return 0;
    };
    let page = 4096;
    let end = (sp.saturating_sub(MARGIN)) & !(page - 1);
    if end <= start {
        return 0;
    }
    // SAFETY: [start, end) lies in this thread's stack mapping, wholly below the live frames
    // (the current one, and the shallow calls made from it, stay within the margin above
    // `end`); nothing there is read before being written again.
    if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) } == 0 {
        end - start
    } else {
        0
    }
}

/// The address ranges of the read-only file mappings in `smaps` text without a private page,
/// with the resident bytes each holds.
fn clean_file_mappings(smaps: &str) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut out = Vec::new();
    // The mapping being read: its range, whether it qualifies so far, its resident bytes.
    let mut current: Option<(std::ops::Range<usize>, bool, usize)> = None;
    let mut finish = |m: Option<(std::ops::Range<usize>, bool, usize)>| {
        if let Some((range, true, rss)) = m
            && rss > 0
        {
            out.push((range, rss));
        }
    };
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16))
        {
            finish(current.take());
            let perms = words.next().unwrap_or("");
            // Fields: perms offset dev inode path; a file mapping has a path starting with '/'.
            let path = words.nth(3).unwrap_or("");
            let eligible =
                perms.starts_with('r') && perms.as_bytes().get(1) == Some(&b'-') && path.starts_with('/');
            current = Some((start..end, eligible, 0));
            continue;
        }
        let kb = || words.clone().next().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0) * 1024;
        if let Some((_, eligible, rss)) = current.as_mut() {
            match first {
                "Rss:" => *rss = kb(),
                // A page this process wrote (copy-on-write) is anonymous; a file page that is
                // dirty in the page cache (a binary just copied) is not, and is safe to drop.
                "Anonymous:" | "Swap:" if kb() > 0 => *eligible = false,
                _ => {}
            }
        }
    }
    finish(current.take());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_clean_read_only_file_mappings_are_shed() {
        let smaps = "\
55d0-55e0 r--p 00000000 08:01 100 /usr/bin/gantry
Rss:                  16 kB
Anonymous:             0 kB
55e0-55f0 r-xp 00010000 08:01 100 /usr/bin/gantry
Rss:                  32 kB
Private_Dirty:        32 kB
Anonymous:             0 kB
55f0-5600 r--p 00020000 08:01 100 /usr/bin/gantry
Rss:                  12 kB
Anonymous:             8 kB
5600-5610 rw-p 00030000 08:01 100 /usr/bin/gantry
Rss:                   4 kB
Anonymous:             0 kB
5610-5620 r--p 00000000 00:00 0 
Rss:                   4 kB
Anonymous:             0 kB
7f00-7f10 r-xp 00000000 08:01 200 /usr/lib/libc.so.6
Rss:                   0 kB
Anonymous:             0 kB
7ff0-7ff8 rw-p 00000000 00:00 0                          [stack]
Rss:                   8 kB
Anonymous:             8 kB
";
        let got = super::clean_file_mappings(smaps);
        assert_eq!(got, vec![(0x55d0..0x55e0, 16 * 1024), (0x55e0..0x55f0, 32 * 1024)]);
    }

    /// Read-only data of the test binary: it lives in a file-backed read-only mapping.
    static PATTERN: [u8; 1 << 16] = {
        let mut a = [0u8; 1 << 16];
        let mut i = 0;
        while i < a.len() {
            a[i] = (i * 7 % 251) as u8;
            i += 1;
        }
        a
    };

    fn checksum() -> u64 {
        std::hint::black_box(&PATTERN).iter().enumerate().map(|(i, b)| i as u64 * u64::from(*b)).sum()
    }

    #[test]
    fn shedding_keeps_this_process_working() {
        let before = checksum();
        // SAFETY: the test threads running alongside make no mappings writable (the contract
        // guards against a write landing between the check and the advice).
        let shed = unsafe { super::shed_memory() };
        // The test binary's own code and read-only data were resident: some of it goes.
        assert!(shed > 0);
        // What was dropped faults back in unchanged.
        assert_eq!(checksum(), before);
    }
}
