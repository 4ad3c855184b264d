//! `-u user[:group]`: names are looked up in the image's own /etc/passwd and /etc/group (read
//! with every path resolved inside the container root, so a hostile symlink in the image cannot
//! make gantry read a host file); numeric IDs need no entry.

use std::io::Read;
use std::path::Path;

use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (always includes the primary group).
    pub additional_gids: Vec<u32>,
    pub home: String,
}

struct Passwd {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// Reads a small file inside `root`, refusing to leave it; a missing file reads as empty.
fn read_in_root(root: &Path, rel: &str) -> String {
    let Ok(dir) = rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
    else {
        return String::new();
    };
    let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    let Ok(fd) = openat2(&dir, rel, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY, Mode::empty(), how)
    else {
        return String::new();
    };
    let mut s = String::new();
    // Cap what a hostile image can make gantry read.
    let _ = std::fs::File::from(fd).take(4 << 20).read_to_string(&mut s);
    s
}

fn passwd(root: &Path) -> Vec<Passwd> {
    read_in_root(root, "etc/passwd")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 7).then(|| {
                Some(Passwd {
                    name: f[0].into(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                    home: f[5].into(),
                })
            })?
        })
        .collect()
}

fn groups(root: &Path) -> Vec<Group> {
    read_in_root(root, "etc/group")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4).then(|| {
                Some(Group {
                    name: f[0].into(),
                    gid: f[2].parse().ok()?,
                    members: f[3].split(',').filter(|m| !m.is_empty()).map(String::from).collect(),
                })
            })?
        })
        .collect()
}

/// Resolves Docker's `--user` value against the root filesystem at `root`.
pub fn resolve(root: &Path, spec: &str) -> Result<ResolvedUser, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users = passwd(root);
    let user = if user.is_empty() { "0" } else { user };
    let entry = match user.parse::<u32>() {
        Ok(uid) => users.iter().find(|p| p.uid == uid),
        Err(_) => Some(
            users
                .iter()
                .find(|p| p.name == user)
                .ok_or_else(|| format!("unable to find user {user}: no matching entries in passwd file"))?,
        ),
    };
    let uid = match entry {
        Some(p) => p.uid,
        None => user.parse::<u32>().map_err(|_| format!("invalid user {user:?}"))?,
    };
    let all_groups = groups(root);
    let gid = match group {
        None | Some("") => entry.map(|p| p.gid).unwrap_or(0),
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => all_groups
                .iter()
                .find(|gr| gr.name == g)
                .map(|gr| gr.gid)
                .ok_or_else(|| format!("unable to find group {g}: no matching entries in group file"))?,
        },
    };
    let mut additional = vec![gid];
    if let (Some(p), None) = (entry, group) {
        for g in all_groups.iter().filter(|g| g.members.contains(&p.name)) {
            if !additional.contains(&g.gid) {
                additional.push(g.gid);
            }
        }
    }
    let home = entry.map(|p| p.home.clone()).filter(|h| !h.is_empty()).unwrap_or_else(|| "/".into());
    Ok(ResolvedUser { uid, gid, additional_gids: additional, home })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww:x:1000:1000::/home/www:/bin/sh\n").unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\nnogroup:x:65534:\nwww:x:1000:\nstaff:x:50:www\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn resolves_like_docker() {
        let r = root();
        let u = resolve(r.path(), "").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (0, 0, "/root"));
        let u = resolve(r.path(), "nobody").unwrap();
        assert_eq!((u.uid, u.gid), (65534, 65534));
        let u = resolve(r.path(), "www").unwrap();
        assert_eq!(u.additional_gids, vec![1000, 50]);
        let u = resolve(r.path(), "10000:20000").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (10000, 20000, "/"));
        let u = resolve(r.path(), "www:staff").unwrap();
        assert_eq!((u.uid, u.gid), (1000, 50));
        assert!(resolve(r.path(), "ghost").unwrap_err().contains("unable to find user ghost"));
        assert!(resolve(r.path(), "www:ghosts").unwrap_err().contains("unable to find group ghosts"));
    }

    #[test]
    fn hostile_passwd_symlink_stays_inside() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        // Points at the host's passwd when followed outside the root.
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("etc/passwd")).unwrap();
        // Inside the root, /etc/passwd is the symlink itself: a loop, so nothing is read.
        assert!(resolve(d.path(), "root").is_err() || resolve(d.path(), "root").unwrap().home == "/");
        assert!(resolve(d.path(), "daemon").is_err(), "host passwd was read");
    }
}
