//! Tests for the layer extractor: containerd-style breakout attempts (each
//! must be refused or neutralized inside the root) and positive round trips.

use super::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::Cursor;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use tar::{Builder, EntryType, Header};

const MTIME: u64 = 1_600_000_000;

/// A temp dir holding the layer `root/` and a sibling `outside/canary`.
struct Env {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    root: PathBuf,
    outside: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::Builder::new().prefix("gx").tempdir_in("/tmp").unwrap();
        let base = tmp.path().to_path_buf();
        let (root, outside) = (base.join("root"), base.join("outside"));
        fs::create_dir(&root).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("canary"), b"canary").unwrap();
        Env { _tmp: tmp, base, root, outside }
    }

    fn canary(&self) -> String {
        self.outside.join("canary").to_str().unwrap().to_string()
    }

    fn outside_abs(&self) -> String {
        self.outside.to_str().unwrap().to_string()
    }

    /// `abs` (an absolute host path) as seen inside the layer root.
    fn in_root(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    fn run(&self, archive: Vec<u8>) -> Result<ExtractStats> {
        extract(&archive[..], &self.root, &Limits::default())
    }

    /// Runs a hostile archive and asserts nothing outside the root changed.
    fn hostile(&self, archive: Vec<u8>) -> Result<ExtractStats> {
        let before = listing(&self.base, &self.root);
        let result = self.run(archive);
        assert_eq!(before, listing(&self.base, &self.root), "outside changed: {result:?}");
        assert_eq!(fs::read(self.outside.join("canary")).unwrap(), b"canary");
        result
    }
}

/// Type, mode, owner, size, times, inode, xattrs and content of everything
/// under `base` except the `skip` subtree.
fn listing(base: &Path, skip: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![base.to_path_buf()];
    while let Some(p) = todo.pop() {
        let md = fs::symlink_metadata(&p).unwrap();
        let mut desc = format!(
            "{:o} {}:{} {} {}.{} {} {:?}",
            md.mode(),
            md.uid(),
            md.gid(),
            md.len(),
            md.mtime(),
            md.mtime_nsec(),
            md.ino(),
            xattr_names(&p)
        );
        if md.is_file() {
            desc += &format!(" {:?}", fs::read(&p).unwrap());
        } else if md.file_type().is_symlink() {
            desc += &format!(" -> {:?}", fs::read_link(&p).unwrap());
        } else if md.is_dir() {
            for e in fs::read_dir(&p).unwrap() {
                let child = e.unwrap().path();
                if child != skip {
                    todo.push(child);
                }
            }
        }
        out.insert(p, desc);
    }
    out
}

fn xattr_names(p: &Path) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = rfs::llistxattr(p, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    let n = rfs::lgetxattr(p, name, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

/// In-memory archive builder that writes names verbatim into the header,
/// bypassing `tar::Builder`'s own path sanitizing.
struct Tar(Builder<Vec<u8>>);

fn header(kind: EntryType, name: &str, size: u64, mode: u32) -> Header {
    let mut h = Header::new_gnu();
    let old = h.as_old_mut();
    old.name = [0; 100];
    old.name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h.set_device_major(0).unwrap();
    h.set_device_minor(0).unwrap();
    h
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = [format!(" {key}=").as_bytes(), value, b"\n"].concat();
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len = len.to_string().len() + body.len();
    }
    [len.to_string().as_bytes(), &body].concat()
}

impl Tar {
    fn new() -> Self {
        Tar(Builder::new(Vec::new()))
    }

    fn push(&mut self, mut h: Header, data: &[u8]) -> &mut Self {
        h.set_cksum();
        self.0.append(&h, data).unwrap();
        self
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.push(header(EntryType::Regular, name, data.len() as u64, 0o644), data)
    }

    fn dir(&mut self, name: &str) -> &mut Self {
        self.push(header(EntryType::Directory, name, 0, 0o755), b"")
    }

    fn link(&mut self, kind: EntryType, name: &str, target: &str) -> &mut Self {
        let mut h = header(kind, name, 0, 0o777);
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
        self.push(h, b"")
    }

    fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(EntryType::Symlink, name, target)
    }

    fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.link(EntryType::Link, name, target)
    }

    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let data: Vec<u8> = records.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        self.push(header(EntryType::XHeader, "pax", data.len() as u64, 0o644), &data)
    }

    fn build(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.0, Builder::new(Vec::new())).into_inner().unwrap()
    }
}

fn lstat(p: &Path) -> fs::Metadata {
    fs::symlink_metadata(p).unwrap()
}

// ---- breakout attempts -------------------------------------------------

#[test]
fn absolute_symlink_parent_is_neutralized() {
    let env = Env::new();
    let tar = Tar::new().symlink("etc", &env.outside_abs()).file("etc/canary", b"pwned").build();
    env.hostile(tar).unwrap();
    assert_eq!(fs::read(env.in_root(&env.canary())).unwrap(), b"pwned");
}

#[test]
fn symlink_to_slash_stays_in_root() {
    let env = Env::new();
    env.hostile(Tar::new().symlink("etc", "/").file("etc/passwd", b"x").build()).unwrap();
    assert_eq!(fs::read(env.root.join("passwd")).unwrap(), b"x");
}

#[test]
fn self_referential_absolute_symlink_is_refused() {
    let env = Env::new();
    let err = env.hostile(Tar::new().symlink("etc", "/etc").file("etc/passwd", b"x").build());
    assert!(matches!(err, Err(ExtractError::Io { .. })), "{err:?}");
}

#[test]
fn dotdot_symlink_is_clamped_to_root() {
    let env = Env::new();
    let tar = Tar::new().symlink("link", "../../../outside").file("link/file", b"x").build();
    env.hostile(tar).unwrap();
    assert_eq!(fs::read(env.root.join("outside/file")).unwrap(), b"x");
}

#[test]
fn symlink_chains_are_clamped_to_root() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.symlink("a", "b").symlink("b", "../..").file("a/x", b"1");
    tar.symlink("c", "d").symlink("d", "../outside").file("c/canary", b"2");
    env.hostile(tar.build()).unwrap();
    assert_eq!(fs::read(env.root.join("x")).unwrap(), b"1");
    assert_eq!(fs::read(env.root.join("outside/canary")).unwrap(), b"2");
}

#[test]
fn symlink_loops_are_refused() {
    let env = Env::new();
    let err = env.hostile(Tar::new().symlink("a", "b").symlink("b", "a").file("a/x", b"").build());
    assert!(matches!(err, Err(ExtractError::Io { .. })), "{err:?}");
}

#[test]
fn symlinked_parent_directory_is_neutralized() {
    let env = Env::new();
    let base = env.base.to_str().unwrap();
    let tar = Tar::new().symlink("dir", base).file("dir/outside/canary", b"pwned").build();
    env.hostile(tar).unwrap();
    assert_eq!(fs::read(env.in_root(&env.canary())).unwrap(), b"pwned");
}

#[test]
fn dotdot_entries_are_refused() {
    let env = Env::new();
    for name in ["../x", "a/../../x", "/../outside/canary", "./../x"] {
        let err = env.hostile(Tar::new().file(name, b"pwned").build());
        assert!(matches!(err, Err(ExtractError::UnsafePath { .. })), "{name}: {err:?}");
    }
    env.hostile(Tar::new().file("a/../b", b"ok").build()).unwrap();
    assert_eq!(fs::read(env.root.join("b")).unwrap(), b"ok");
}

#[test]
fn absolute_entries_land_inside_root() {
    let env = Env::new();
    let name = env.base.join("abs-escape");
    let name = name.to_str().unwrap();
    env.hostile(Tar::new().file(name, b"x").file("/top", b"y").build()).unwrap();
    assert_eq!(fs::read(env.in_root(name)).unwrap(), b"x");
    assert_eq!(fs::read(env.root.join("top")).unwrap(), b"y");
}

#[test]
fn hardlink_escapes_are_refused() {
    let env = Env::new();
    let cases = [
        Tar::new().hardlink("x", "../outside/canary").build(),
        Tar::new().hardlink("x", &env.canary()).build(),
        Tar::new().symlink("link", &env.outside_abs()).hardlink("x", "link/canary").build(),
        Tar::new().symlink("link", "../outside").hardlink("x", "link/canary").build(),
        Tar::new().symlink("link", "/").hardlink("x", "link/../outside/canary").build(),
    ];
    for tar in cases {
        let env = Env::new();
        let err = env.hostile(tar);
        assert!(matches!(err, Err(ExtractError::HardlinkOutside { .. })), "{err:?}");
    }
}

#[test]
fn hardlink_to_symlink_links_the_symlink_itself() {
    let env = Env::new();
    env.hostile(Tar::new().symlink("s", &env.canary()).hardlink("h", "s").build()).unwrap();
    let (s, h) = (lstat(&env.root.join("s")), lstat(&env.root.join("h")));
    assert!(h.file_type().is_symlink());
    assert_eq!(s.ino(), h.ino());
}

#[test]
fn hardlink_to_directory_is_refused() {
    let env = Env::new();
    let err = env.hostile(Tar::new().dir("d").hardlink("x", "d").build());
    assert!(matches!(err, Err(ExtractError::HardlinkOutside { .. })), "{err:?}");
    let env = Env::new();
    let err = env.hostile(Tar::new().hardlink("x", "./").build());
    assert!(matches!(err, Err(ExtractError::HardlinkOutside { .. })), "{err:?}");
}

#[test]
fn directory_replaces_symlink() {
    let env = Env::new();
    let tar = Tar::new().symlink("d", "../outside").dir("d").file("d/file", b"x").build();
    env.hostile(tar).unwrap();
    assert!(lstat(&env.root.join("d")).is_dir());
    assert_eq!(fs::read(env.root.join("d/file")).unwrap(), b"x");
}

#[test]
fn file_replaces_symlink() {
    let env = Env::new();
    env.hostile(Tar::new().symlink("f", &env.canary()).file("f", b"pwned").build()).unwrap();
    let f = env.root.join("f");
    assert!(lstat(&f).is_file());
    assert_eq!(fs::read(f).unwrap(), b"pwned");
}

#[test]
fn special_files_through_symlinks_stay_inside() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.symlink("link", &env.outside_abs());
    tar.push(header(EntryType::Fifo, "link/fifo", 0, 0o644), b"");
    tar.symlink("dev", "../outside").push(header(EntryType::Char, "dev/canary", 0, 0o666), b"");
    env.hostile(tar.build()).unwrap();
    assert!(lstat(&env.in_root(&env.outside_abs()).join("fifo")).file_type().is_fifo());
    assert!(lstat(&env.root.join("outside/canary")).file_type().is_char_device());
}

#[test]
fn metadata_never_follows_symlinks() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.symlink("s", &env.canary()).hardlink("h", "s");
    let mut h = header(EntryType::Regular, "h", 0, 0o777);
    h.set_uid(99);
    tar.push(h, b"");
    let mut h = header(EntryType::Directory, "s", 0, 0o700);
    h.set_uid(99);
    tar.push(h, b"");
    tar.symlink("o", &env.outside_abs()).push(header(EntryType::Directory, "o", 0, 0o700), b"");
    tar.symlink("f", &env.canary()).push(header(EntryType::Fifo, "f", 0, 0o777), b"");
    env.hostile(tar.build()).unwrap();
    assert_eq!(lstat(&env.root.join("s")).mode() & 0o7777, 0o700);
    assert!(lstat(&env.root.join("f")).file_type().is_fifo());
}

#[test]
fn invalid_whiteouts_are_refused() {
    let env = Env::new();
    for name in [".wh..", "a/.wh..", ".wh...", ".wh."] {
        let err = env.hostile(Tar::new().file(name, b"").build());
        assert!(matches!(err, Err(ExtractError::UnsafePath { .. })), "{name}: {err:?}");
    }
}

#[test]
fn whiteouts_through_symlinks_stay_inside() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.symlink("link", "../outside").file("link/.wh.canary", b"");
    tar.symlink("abs", &env.outside_abs()).file("abs/.wh..wh..opq", b"");
    tar.symlink("up", "/").file("up/.wh.link", b"").file("up/.wh.up", b"");
    env.hostile(tar.build()).unwrap();
    assert!(lstat(&env.root.join("up")).file_type().is_char_device());
    assert!(lstat(&env.root.join("link")).file_type().is_char_device());
    let wh = lstat(&env.root.join("outside/canary"));
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    let opq = env.in_root(&env.outside_abs());
    assert_eq!(xattr(&opq, OPAQUE_XATTR).as_deref(), Some(&b"y"[..]));
}

#[test]
fn nul_in_pax_path_is_refused() {
    let env = Env::new();
    let tar = Tar::new().pax(&[("path", b"a\0/../../outside/canary")]).file("x", b"").build();
    let err = env.hostile(tar);
    assert!(matches!(err, Err(ExtractError::UnsafePath { .. })), "{err:?}");
}

#[test]
fn forged_overlay_xattrs_are_dropped() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.pax(&[
        ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
        ("SCHILY.xattr.user.overlay.redirect", b"/x"),
        ("SCHILY.xattr.security.selinux", b"system_u"),
        ("SCHILY.xattr.user.ok", b"1"),
    ]);
    env.hostile(tar.dir("d").build()).unwrap();
    let d = env.root.join("d");
    assert_eq!(xattr(&d, "trusted.overlay.opaque"), None);
    assert_eq!(xattr(&d, "user.overlay.redirect"), None);
    assert_eq!(xattr(&d, "user.ok").as_deref(), Some(&b"1"[..]));
}

// ---- faithful extraction ----------------------------------------------

#[test]
fn modes_owners_and_mtimes_are_preserved() {
    let env = Env::new();
    let mut tar = Tar::new();
    let mut h = header(EntryType::Directory, "d/", 0, 0o1777);
    h.set_mtime(1_400_000_000);
    tar.push(h, b"");
    tar.push(header(EntryType::Regular, "d/su", 1, 0o4755), b"s");
    let mut h = header(EntryType::Regular, "f", 2, 0o2640);
    h.set_uid(1234);
    h.set_gid(5678);
    h.set_mtime(1_500_000_000);
    tar.push(h, b"hi");
    let mut h = header(EntryType::Symlink, "l", 0, 0o777);
    h.set_link_name("f").unwrap();
    h.set_uid(42);
    tar.push(h, b"");
    tar.pax(&[("mtime", b"1500000000.25")]).file("frac", b"");
    env.run(tar.build()).unwrap();

    let d = lstat(&env.root.join("d"));
    assert_eq!((d.mode() & 0o7777, d.mtime()), (0o1777, 1_400_000_000));
    assert_eq!(lstat(&env.root.join("d/su")).mode() & 0o7777, 0o4755);
    let f = lstat(&env.root.join("f"));
    assert_eq!((f.mode() & 0o7777, f.uid(), f.gid()), (0o2640, 1234, 5678));
    assert_eq!(f.mtime(), 1_500_000_000);
    let l = lstat(&env.root.join("l"));
    assert_eq!((l.uid(), l.mtime()), (42, MTIME as i64));
    let frac = lstat(&env.root.join("frac"));
    assert_eq!((frac.mtime(), frac.mtime_nsec()), (1_500_000_000, 250_000_000));
}

#[test]
fn pax_mtimes_parse_strictly() {
    let ts = |s: i64, n: i64| Some(Timespec { tv_sec: s, tv_nsec: n as _ });
    assert_eq!(pax_mtime(b"12"), ts(12, 0));
    assert_eq!(pax_mtime(b"12.5"), ts(12, 500_000_000));
    assert_eq!(pax_mtime(b"-1.25"), ts(-2, 750_000_000));
    assert_eq!(pax_mtime(b"1.1234567891"), ts(1, 123_456_789));
    for bad in [&b"-9223372036854775808.5"[..], b"1.x", b"", b"1e3", b"\xff"] {
        assert_eq!(pax_mtime(bad), None);
    }
}

#[test]
fn root_entry_updates_the_root_only_as_a_directory() {
    let env = Env::new();
    env.run(Tar::new().push(header(EntryType::Directory, "./", 0, 0o750), b"").build()).unwrap();
    assert_eq!(lstat(&env.root).mode() & 0o7777, 0o750);
    assert_eq!(lstat(&env.root).mtime(), MTIME as i64);
    let env = Env::new();
    let err = env.hostile(Tar::new().file(".", b"x").build());
    assert!(matches!(err, Err(ExtractError::UnsafePath { .. })), "{err:?}");
}

#[test]
fn implicit_parents_are_0755_root() {
    let env = Env::new();
    env.run(Tar::new().file("a/b/c", b"").build()).unwrap();
    let a = lstat(&env.root.join("a/b"));
    assert_eq!((a.mode() & 0o7777, a.uid(), a.gid()), (0o755, 0, 0));
}

#[test]
fn user_xattrs_are_restored() {
    let env = Env::new();
    let tar = Tar::new().pax(&[("SCHILY.xattr.user.k", b"v\0w")]).file("f", b"").build();
    env.run(tar).unwrap();
    assert_eq!(xattr(&env.root.join("f"), "user.k").as_deref(), Some(&b"v\0w"[..]));
}

#[test]
fn symlink_targets_are_verbatim() {
    let env = Env::new();
    let tar = Tar::new().symlink("a", "../../../../etc/shadow").symlink("b", "/abs//x/").build();
    env.run(tar).unwrap();
    assert_eq!(fs::read_link(env.root.join("a")).unwrap(), Path::new("../../../../etc/shadow"));
    assert_eq!(fs::read_link(env.root.join("b")).unwrap().as_os_str(), "/abs//x/");
}

#[test]
fn hardlinks_share_an_inode() {
    let env = Env::new();
    env.run(Tar::new().file("dir/a", b"data").hardlink("b", "./dir/a").build()).unwrap();
    let (a, b) = (lstat(&env.root.join("dir/a")), lstat(&env.root.join("b")));
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
}

#[test]
fn devices_and_fifos_are_created() {
    let env = Env::new();
    let mut tar = Tar::new();
    let mut h = header(EntryType::Char, "null", 0, 0o666);
    h.set_device_major(1).unwrap();
    h.set_device_minor(3).unwrap();
    tar.push(h, b"").push(header(EntryType::Fifo, "fifo", 0, 0o620), b"");
    env.run(tar.build()).unwrap();
    let null = lstat(&env.root.join("null"));
    assert!(null.file_type().is_char_device());
    assert_eq!((rfs::major(null.rdev()), rfs::minor(null.rdev())), (1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666);
    let fifo = lstat(&env.root.join("fifo"));
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o620);
}

#[test]
fn whiteouts_become_overlay_markers() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.file("gone", b"x").file(".wh.gone", b"").file("a/.wh..wh..opq", b"");
    tar.file(".wh..wh.plnk", b"").file(".wh..wh..opq", b"");
    env.run(tar.build()).unwrap();
    let wh = lstat(&env.root.join("gone"));
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), rfs::makedev(0, 0));
    assert_eq!(xattr(&env.root.join("a"), OPAQUE_XATTR).as_deref(), Some(&b"y"[..]));
    assert_eq!(xattr(&env.root, OPAQUE_XATTR).as_deref(), Some(&b"y"[..]));
    assert!(!env.root.join(".wh..wh.plnk").exists());
}

#[test]
fn later_entries_replace_earlier_ones() {
    let env = Env::new();
    let mut tar = Tar::new();
    tar.file("f", b"one").file("f", b"two");
    tar.file("d/x/y", b"").file("d", b"file now");
    tar.file("e", b"").dir("e").file("e/z", b"");
    tar.dir("k").dir("k/");
    env.run(tar.build()).unwrap();
    assert_eq!(fs::read(env.root.join("f")).unwrap(), b"two");
    assert_eq!(fs::read(env.root.join("d")).unwrap(), b"file now");
    assert!(lstat(&env.root.join("e")).is_dir());
    assert!(lstat(&env.root.join("k")).is_dir());
}

#[test]
fn budgets_are_enforced() {
    let env = Env::new();
    let tar = Tar::new().file("a", b"").file("b", b"").file("c", b"").build();
    let limits = Limits { max_entries: 2, ..Limits::default() };
    let err = extract(&tar[..], &env.root, &limits);
    assert!(matches!(err, Err(ExtractError::Budget { what: "entry", .. })), "{err:?}");

    let env = Env::new();
    let tar = Tar::new().file("big", &[7u8; 4096]).build();
    let limits = Limits { max_bytes: 2048, ..Limits::default() };
    let err = extract(&tar[..], &env.root, &limits);
    assert!(matches!(err, Err(ExtractError::Budget { what: "byte", .. })), "{err:?}");

    let env = Env::new();
    let huge = vec![b'a'; (HEADER_BUDGET + 1) as usize];
    let tar = Tar::new().pax(&[("comment", &huge)]).file("x", b"").build();
    let err = env.run(tar);
    assert!(matches!(err, Err(ExtractError::Budget { what: "header", .. })), "{err:?}");
}

#[test]
fn reader_stops_at_end_of_archive_marker() {
    let env = Env::new();
    let mut bytes = Tar::new().file("a", b"abc").dir("d").build();
    bytes.extend_from_slice(b"trailing");
    let mut cursor = Cursor::new(bytes);
    let stats = extract(&mut cursor, &env.root, &Limits::default()).unwrap();
    assert_eq!(stats, ExtractStats { entries: 2, bytes: 3 });
    let mut rest = Vec::new();
    cursor.read_to_end(&mut rest).unwrap();
    assert!(rest.ends_with(b"trailing") && rest.len() <= 512 + 8, "{}", rest.len());
}

#[test]
fn root_must_be_empty() {
    let env = Env::new();
    fs::write(env.root.join("x"), b"").unwrap();
    let err = env.run(Tar::new().build());
    assert!(matches!(err, Err(ExtractError::BadRoot { .. })), "{err:?}");
}

#[test]
fn sparse_is_refused_and_unknown_types_skipped() {
    let env = Env::new();
    let mut h = header(EntryType::GNUSparse, "s", 0, 0o644);
    h.as_gnu_mut().unwrap().set_real_size(0);
    let err = env.run(Tar::new().push(h, b"").build());
    assert!(matches!(err, Err(ExtractError::UnsupportedEntry { .. })), "{err:?}");

    let env = Env::new();
    let tar = Tar::new().push(header(EntryType::new(b'Z'), "../../z", 3, 0o644), b"abc").build();
    assert_eq!(env.hostile(tar).unwrap().entries, 1);
    assert_eq!(fs::read_dir(&env.root).unwrap().count(), 0);
}
