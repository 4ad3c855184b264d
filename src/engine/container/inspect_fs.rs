//! Looking into a container from the host: its processes (`top`), what its writable layer
//! changed (`diff`), and copying files in and out (`cp`). Every path inside the container is
//! resolved with `openat2(RESOLVE_IN_ROOT)` against the container's root, and no symlink below
//! it is ever followed, so a hostile container cannot make gantry read or write host files.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, openat, openat2};

use crate::engine::Engine;
use crate::engine::error::{Error, Result};
use crate::engine::runtime::rootfs;
use crate::engine::store::containers::State;

/// One `top` row.
#[derive(Debug, Clone)]
pub struct ProcessRow {
    pub uid: u32,
    pub pid: i32,
    pub ppid: i32,
    pub cpu_percent: u64,
    pub start_ticks: u64,
    pub tty: String,
    pub cpu_ticks: u64,
    pub cmd: String,
}

/// One `diff` line: `A`dded, `C`hanged or `D`eleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: char,
    pub path: String,
}

/// An open container root, unmounted on drop if gantry mounted it just for this.
pub struct ContainerRoot {
    pub fd: OwnedFd,
    mounted: Option<PathBuf>,
}

impl Drop for ContainerRoot {
    fn drop(&mut self) {
        if let Some(p) = &self.mounted {
            let _ = rootfs::unmount(p);
            let _ = std::fs::remove_dir(p);
        }
    }
}

fn ioerr(ctx: &str, e: impl Into<io::Error>) -> Error {
    Error::io(ctx.to_string(), e.into())
}

impl Engine {
    /// The processes of a running container, from its cgroup.
    pub fn top(&self, key: &str) -> Result<Vec<ProcessRow>> {
        let c = self.container(key)?;
        if !matches!(c.row.state, State::Running | State::Paused) {
            return Err(Error::Conflict(format!("container {} is not running", c.id())));
        }
        let id = c.id();
        let procs = [
            format!("/sys/fs/cgroup/pids/gantry/{id}/cgroup.procs"),
            format!("/sys/fs/cgroup/gantry/{id}/cgroup.procs"),
        ]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| c.row.pid.to_string());
        let boot = boot_time();
        let ticks = ticks_per_second();
        let now = chrono::Utc::now().timestamp() as u64;
        let mut rows = Vec::new();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let Some(close) = stat.rfind(')') else { continue };
            let comm = stat[stat.find('(').map(|i| i + 1).unwrap_or(0)..close].to_string();
            let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
            let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            let uid = std::fs::metadata(format!("/proc/{pid}")).map(|m| m.uid()).unwrap_or(0);
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = if cmdline.is_empty() {
                format!("[{comm}]")
            } else {
                String::from_utf8_lossy(&cmdline).trim_end_matches('\0').replace('\0', " ")
            };
            let cpu = num(11) + num(12);
            let start = num(19);
            let elapsed = now.saturating_sub(boot + start / ticks.max(1)).max(1);
            rows.push(ProcessRow {
                uid,
                pid,
                ppid: num(1) as i32,
                cpu_percent: cpu / ticks.max(1) * 100 / elapsed,
                start_ticks: start,
                tty: tty_name(num(4)),
                cpu_ticks: cpu,
                cmd,
            });
        }
        rows.sort_by_key(|r| r.pid);
        Ok(rows)
    }

    /// The changes of the container's writable layer, sorted by path.
    pub fn diff(&self, key: &str) -> Result<Vec<Change>> {
        let c = self.container(key)?;
        let image = self.find_image(&c.row.image_id)?;
        let lowers: Vec<PathBuf> = image.layers.iter().rev().map(|l| self.layers.diff_dir(l)).collect();
        let upper = self.container_dirs(c.id()).upper();
        let mut out = Vec::new();
        walk_upper(&upper, Path::new("/"), &lowers, &mut out)?;
        // The mount points of the engine-provided /etc files are not the container's changes
        // (Docker hides them too), nor is a directory changed only by holding them.
        const ENGINE_FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
        out.retain(|c| {
            !(ENGINE_FILES.contains(&c.path.as_str())
                && std::fs::metadata(upper.join(&c.path[1..])).map(|m| m.len() == 0).unwrap_or(false))
        });
        let paths: Vec<String> = out.iter().map(|c| c.path.clone()).collect();
        out.retain(|c| {
            c.kind != 'C'
                || !std::fs::symlink_metadata(upper.join(&c.path[1..])).map(|m| m.is_dir()).unwrap_or(false)
                || paths.iter().any(|p| p.starts_with(&format!("{}/", c.path)))
        });
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Opens the container's root: the running init's view, or a temporary mount of its
    /// layers when it is stopped.
    pub fn open_root(&self, key: &str) -> Result<ContainerRoot> {
        let c = self.container(key)?;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if matches!(c.row.state, State::Running | State::Paused) && c.row.pid > 0 {
            let fd = rustix::fs::open(format!("/proc/{}/root", c.row.pid), flags, Mode::empty())
                .map_err(|e| ioerr("opening the container's root", e))?;
            return Ok(ContainerRoot { fd, mounted: None });
        }
        let image = self.find_image(&c.row.image_id)?;
        let lowers: Vec<PathBuf> = image.layers.iter().rev().map(|l| self.layers.diff_dir(l)).collect();
        let dirs = self.container_dirs(c.id());
        let target =
            self.paths.tmp().join(format!("{}-cp-{:08x}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&target).map_err(|e| ioerr("creating a mount point", e))?;
        let links = self.paths.layer_links();
        // A `--rm` container's work dir may carry a volatile mount's mark, which only another
        // volatile mount clears.
        let o = rootfs::Overlay {
            lowers: &lowers,
            upper: &dirs.upper(),
            work: &dirs.work(),
            links: &links,
            volatile: c.host().auto_remove,
        };
        rootfs::mount(&o, &target).map_err(|e| ioerr("mounting the container's filesystem", e))?;
        let fd = rustix::fs::open(&target, flags, Mode::empty())
            .map_err(|e| ioerr("opening the container's root", e))?;
        Ok(ContainerRoot { fd, mounted: Some(target) })
    }
}

fn boot_time() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok())))
        .unwrap_or(0)
}

fn ticks_per_second() -> u64 {
    rustix::param::clock_ticks_per_second()
}

fn tty_name(nr: u64) -> String {
    let major = (nr >> 8) & 0xfff;
    let minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    match major {
        0 => "?".into(),
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 => format!("tty{minor}"),
        _ => "?".into(),
    }
}

/// Whether `rel` exists in the image's layers (topmost first), honouring whiteouts.
fn in_lower(lowers: &[PathBuf], rel: &Path) -> bool {
    let rel = rel.strip_prefix("/").unwrap_or(rel);
    for layer in lowers {
        // A whiteout of the path or an ancestor in this layer hides everything below.
        let mut hidden = false;
        let mut acc = PathBuf::new();
        for comp in rel.components() {
            let name = comp.as_os_str().to_string_lossy();
            if std::fs::symlink_metadata(layer.join(&acc).join(format!(".wh.{name}"))).is_ok() {
                hidden = true;
                break;
            }
            acc.push(comp);
        }
        if hidden {
            return false;
        }
        if let Ok(m) = std::fs::symlink_metadata(layer.join(rel)) {
            use std::os::unix::fs::FileTypeExt;
            return !(m.file_type().is_char_device() && m.rdev() == 0);
        }
    }
    false
}

fn walk_upper(dir: &Path, rel: &Path, lowers: &[PathBuf], out: &mut Vec<Change>) -> Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ioerr("reading the writable layer", e)),
    };
    for e in rd.flatten() {
        let path = rel.join(e.file_name());
        let m = e.metadata().map_err(|x| ioerr("reading the writable layer", x))?;
        use std::os::unix::fs::FileTypeExt;
        if m.file_type().is_char_device() && m.rdev() == 0 {
            out.push(Change { kind: 'D', path: path.display().to_string() });
            continue;
        }
        let existed = in_lower(lowers, &path);
        out.push(Change { kind: if existed { 'C' } else { 'A' }, path: path.display().to_string() });
        if m.is_dir() {
            walk_upper(&e.path(), &path, lowers, out)?;
        }
    }
    Ok(())
}

const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// Opens `path` inside the container root (symlinks resolved within it).
fn open_in(root: &ContainerRoot, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    Ok(openat2(root.fd.as_fd(), rel, flags | OFlags::CLOEXEC, Mode::empty(), IN_ROOT)?)
}

/// `cp CONTAINER:SRC DEST`: copies a file or tree out of the container.
pub fn copy_out(root: &ContainerRoot, src: &str, dest: &Path) -> Result<()> {
    let fd = open_in(root, src, OFlags::PATH)
        .map_err(|e| ioerr(&format!("Could not find the file {src} in container"), e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| ioerr("stat", e))?;
    let name = Path::new(src).file_name().map(|n| n.to_owned()).unwrap_or_else(|| "root".into());
    let target = if dest.is_dir() { dest.join(name) } else { dest.to_path_buf() };
    copy_out_fd(fd, st.st_mode, &target)
}

fn copy_out_fd(fd: OwnedFd, mode: u32, target: &Path) -> Result<()> {
    let kind = mode & libc::S_IFMT;
    let perm = mode & 0o7777;
    if kind == libc::S_IFDIR {
        let dir = openat(&fd, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| ioerr("opening a directory", e))?;
        std::fs::create_dir_all(target).map_err(|e| ioerr(&format!("creating {}", target.display()), e))?;
        let _ = std::fs::set_permissions(target, std::fs::Permissions::from_mode(perm));
        let entries = rustix::fs::Dir::read_from(&dir).map_err(|e| ioerr("listing a directory", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ioerr("listing a directory", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            // Each child relative to its parent's descriptor, never following a symlink.
            let child =
                openat(&dir, name.as_str(), OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
                    .map_err(|e| ioerr("opening an entry", e))?;
            let st = rustix::fs::fstat(&child).map_err(|e| ioerr("stat", e))?;
            copy_out_fd(child, st.st_mode, &target.join(&name))?;
        }
        Ok(())
    } else if kind == libc::S_IFLNK {
        let link = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(|e| ioerr("reading a link", e))?;
        let _ = std::fs::remove_file(target);
        std::os::unix::fs::symlink(Path::new(link.to_str().unwrap_or("")), target)
            .map_err(|e| ioerr(&format!("creating {}", target.display()), e))
    } else if kind == libc::S_IFREG {
        let reader = openat(&fd, "", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty());
        // O_PATH descriptors cannot be read; reopen through the descriptor itself.
        let reader = match reader {
            Ok(r) => r,
            Err(_) => rustix::fs::open(
                format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)),
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| ioerr("opening a file", e))?,
        };
        let mut input = File::from(reader);
        let mut output =
            File::create(target).map_err(|e| ioerr(&format!("creating {}", target.display()), e))?;
        io::copy(&mut input, &mut output).map_err(|e| ioerr("copying", e))?;
        let _ = std::fs::set_permissions(target, std::fs::Permissions::from_mode(perm));
        Ok(())
    } else {
        Ok(()) // devices, fifos and sockets are not copied
    }
}

/// `cp SRC CONTAINER:DEST`: copies a host file or tree into the container.
pub fn copy_in(root: &ContainerRoot, src: &Path, dest: &str) -> Result<()> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| ioerr(&format!("{}", src.display()), e))?;
    let dest_fd = open_in(root, dest, OFlags::PATH);
    let (parent, name) = match dest_fd {
        Ok(fd)
            if rustix::fs::fstat(&fd).map(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR).unwrap_or(false) =>
        {
            let name = src
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::InvalidArgument("source has no name".into()))?;
            (
                open_in(root, dest, OFlags::RDONLY | OFlags::DIRECTORY)
                    .map_err(|e| ioerr("opening the destination", e))?,
                name,
            )
        }
        _ => {
            let p = Path::new(dest);
            let parent = p.parent().map(|x| x.to_string_lossy().into_owned()).unwrap_or_else(|| "/".into());
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::InvalidArgument(format!("invalid destination {dest}")))?;
            (
                open_in(root, &parent, OFlags::RDONLY | OFlags::DIRECTORY)
                    .map_err(|e| ioerr(&format!("destination directory {parent} in the container"), e))?,
                name,
            )
        }
    };
    copy_in_entry(&parent, &name, src, &meta)
}

fn copy_in_entry(parent: &OwnedFd, name: &str, src: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let perm = Mode::from_raw_mode(meta.permissions().mode() & 0o7777);
    let ft = meta.file_type();
    if ft.is_dir() {
        match rustix::fs::mkdirat(parent, name, perm) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(ioerr(&format!("creating {name}"), e)),
        }
        let dir = openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ioerr(&format!("opening {name} (a symlink?)"), e))?;
        for e in std::fs::read_dir(src).map_err(|e| ioerr("reading the source", e))?.flatten() {
            let m = std::fs::symlink_metadata(e.path()).map_err(|x| ioerr("reading the source", x))?;
            copy_in_entry(&dir, &e.file_name().to_string_lossy(), &e.path(), &m)?;
        }
        Ok(())
    } else if ft.is_symlink() {
        let target = std::fs::read_link(src).map_err(|e| ioerr("reading a link", e))?;
        let _ = rustix::fs::unlinkat(parent, name, AtFlags::empty());
        rustix::fs::symlinkat(&target, parent, name).map_err(|e| ioerr(&format!("creating {name}"), e))
    } else if ft.is_file() {
        // Replace whatever is there (a symlink included) rather than writing through it.
        match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => {}
            Err(rustix::io::Errno::ISDIR) => {
                return Err(Error::InvalidArgument(format!("cannot overwrite directory {name} with a file")));
            }
            Err(e) => return Err(ioerr(&format!("replacing {name}"), e)),
        }
        let out = openat(
            parent,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            perm,
        )
        .map_err(|e| ioerr(&format!("creating {name}"), e))?;
        let mut out = File::from(out);
        let mut input = File::open(src).map_err(|e| ioerr("opening the source", e))?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = input.read(&mut buf).map_err(|e| ioerr("reading the source", e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(|e| ioerr("writing into the container", e))?;
        }
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("{} is not a regular file, directory or symlink", src.display())))
    }
}
