//! A container's seccomp profile as a BPF program, compiled once per distinct profile.
//!
//! libseccomp takes about 12 ms on the 2-core development machine to turn Docker's default
//! allowlist into BPF, and libcontainer does that inside every container's init, on the path
//! of every `run`. gantry compiles each distinct profile once, keeps the program under
//! `<root>/seccomp/`, and has the container's init load it with one seccomp(2) call right before
//! `execve` (see [`super::tenant::FilteredExecutor`]).
//!
//! The translation from OCI's `linux.seccomp` to libseccomp rules follows libcontainer 0.7's
//! `initialize_seccomp`, which only ever loads a filter: it cannot hand the program back.

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// File format tag; bumped whenever the compiled form of a profile could change.
const MAGIC: &[u8; 8] = b"GSECBPF2";
/// The kernel's limit on one filter's instructions (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;
const INSN_LEN: usize = 8;

/// A compiled filter: the instructions and the seccomp(2) flags to load them with.
#[derive(Clone)]
pub struct Program {
    flags: u32,
    insns: Vec<libc::sock_filter>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Program {{ flags: {:#x}, instructions: {} }}", self.flags, self.insns.len())
    }
}

impl Program {
    /// Compiles an OCI profile with libseccomp.
    pub fn compile(profile: &LinuxSeccomp) -> Result<Program, String> {
        let ctx = filter_context(profile).map_err(|e| format!("compiling the seccomp profile: {e}"))?;
        let mut out = tempfile::tempfile().map_err(|e| format!("compiling the seccomp profile: {e}"))?;
        ctx.export_bpf(&out).map_err(|e| format!("compiling the seccomp profile: {e}"))?;
        let mut code = Vec::new();
        out.rewind().and_then(|_| out.read_to_end(&mut code)).map_err(|e| format!("reading the BPF: {e}"))?;
        Ok(Program { flags: load_flags(profile), insns: decode(&code)? })
    }

    /// The program for `profile` (a spec's `linux.seccomp`) from the cache in `cache_dir`,
    /// compiled and stored there first if it is not cached yet.
    pub fn cached(cache_dir: &Path, tmp_dir: &Path, profile: &Value) -> Result<Program, String> {
        let path = cache_dir.join(format!("{}.bpf", cache_key(profile)));
        if let Some(p) = Program::read(&path)? {
            return Ok(p);
        }
        let parsed: LinuxSeccomp =
            serde_json::from_value(profile.clone()).map_err(|e| format!("invalid seccomp profile: {e}"))?;
        let program = Program::compile(&parsed)?;
        // Another process may store the same program at the same time: both renames are whole.
        if let Err(e) = program.store(&path, tmp_dir) {
            tracing::warn!(path = %path.display(), error = %e, "could not cache the seccomp program");
        }
        Ok(program)
    }

    /// Reads a program written by [`Program::store`]; `None` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<Program>, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Program::from_bytes(&bytes).map(Some).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the program to `path` atomically, through a scratch file in `tmp_dir` (named
    /// after this process, so a later gantry sweeps it if this one is killed mid-write).
    pub fn store(&self, path: &Path, tmp_dir: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::create_dir_all(tmp_dir)?;
        let scratch: PathBuf =
            tmp_dir.join(format!("{}-seccomp-{:016x}", std::process::id(), rand::random::<u64>()));
        std::fs::write(&scratch, self.to_bytes())?;
        std::fs::rename(&scratch, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&scratch);
        })
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + self.insns.len() * INSN_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.flags.to_le_bytes());
        for i in &self.insns {
            out.extend_from_slice(&i.code.to_ne_bytes());
            out.push(i.jt);
            out.push(i.jf);
            out.extend_from_slice(&i.k.to_ne_bytes());
        }
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Program, String> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or("not a gantry seccomp program")?;
        let (flags, code) = rest.split_at_checked(4).ok_or("truncated seccomp program")?;
        let flags = u32::from_le_bytes(flags.try_into().map_err(|_| "truncated seccomp program")?);
        Ok(Program { flags, insns: decode(code)? })
    }

    /// Installs the filter on the calling thread (and, with TSYNC, its siblings). Needs
    /// CAP_SYS_ADMIN or no_new_privs, as seccomp(2) does.
    pub fn load(&self) -> std::io::Result<()> {
        let prog = libc::sock_fprog {
            len: self.insns.len() as u16, // at most MAX_INSNS, checked by decode()
            filter: self.insns.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at `self.insns`, alive for the whole call; the kernel copies
        // the program and validates every instruction before installing it.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::c_ulong::from(self.flags),
                &prog as *const libc::sock_fprog,
            )
        };
        if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.insns.len()
    }
}

/// The instructions of a raw BPF program, as libseccomp exports them (native byte order).
fn decode(code: &[u8]) -> Result<Vec<libc::sock_filter>, String> {
    if code.is_empty() || code.len() % INSN_LEN != 0 || code.len() / INSN_LEN > MAX_INSNS {
        return Err(format!("a seccomp program of {} bytes is not 1..={MAX_INSNS} instructions", code.len()));
    }
    Ok(code
        .chunks_exact(INSN_LEN)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// Names a profile's program: the profile itself, this gantry and the libseccomp compiling it
/// (a newer libseccomp may know more syscall names).
fn cache_key(profile: &Value) -> String {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(v) = libseccomp::ScmpVersion::current() {
        h.update(v.to_string().as_bytes());
    }
    h.update(serde_json::to_vec(profile).unwrap_or_default());
    hex::encode(h.finalize())
}

/// seccomp(2) flags from the profile's; `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` only has a
/// meaning for notify actions, which gantry refuses.
fn load_flags(profile: &LinuxSeccomp) -> u32 {
    let mut flags = 0;
    for f in profile.flags().iter().flatten() {
        flags |= match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => 0,
        } as u32;
    }
    flags
}

fn filter_context(profile: &LinuxSeccomp) -> Result<ScmpFilterContext, String> {
    let default_action = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default_action).map_err(|e| e.to_string())?;
    // A binary tree of syscall numbers rather than libseccomp's default linear list. Same
    // decisions; but the kernel, as it installs a filter, runs it once per syscall number and
    // architecture to cache the always-allowed ones, and over a linear list of Docker's ~350
    // syscalls that costs 1.3 ms on the path of every `run` (0.2 ms as a tree). Every syscall
    // the cache cannot answer is also decided in a handful of jumps instead of hundreds.
    ctx.set_ctl_optimize(2).map_err(|e| format!("seccomp binary-tree optimization: {e}"))?;
    for &a in profile.architectures().iter().flatten() {
        ctx.add_arch(arch(a)).map_err(|e| format!("architecture {a:?}: {e}"))?;
    }
    for rule in profile.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default_action {
            continue; // libseccomp refuses a rule that repeats the default action
        }
        for name in rule.names() {
            // A name this libseccomp does not know is a syscall this kernel line lacks.
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                tracing::debug!(syscall = %name, "seccomp profile names an unknown syscall");
                continue;
            };
            let args = rule.args().as_deref().unwrap_or_default();
            let cmps: Vec<ScmpArgCompare> = args
                .iter()
                .map(|a| ScmpArgCompare::new(a.index() as u32, compare_op(a.op(), a.value_two()), a.value()))
                .collect();
            let mut seen = HashSet::new();
            let repeats_an_index = args.iter().any(|a| !seen.insert(a.index()));
            let added = if cmps.is_empty() {
                ctx.add_rule(act, sc).map(drop)
            } else if repeats_an_index {
                // One comparison per argument per rule (seccomp_rule_add(3)): as runc and
                // libcontainer do, each comparison becomes a rule of its own.
                cmps.iter()
                    .try_for_each(|c| ctx.add_rule_conditional(act, sc, std::slice::from_ref(c)).map(drop))
            } else {
                ctx.add_rule_conditional(act, sc, &cmps).map(drop)
            };
            added.map_err(|e| format!("seccomp rule for {name}: {e}"))?;
        }
    }
    Ok(ctx)
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, String> {
    let errno = errno.map(|e| e as i32).unwrap_or(libc::EPERM);
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActTrace => {
            ScmpAction::Trace(u16::try_from(errno).map_err(|_| format!("SCMP_ACT_TRACE value {errno}"))?)
        }
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => {
            return Err("seccomp profiles with SCMP_ACT_NOTIFY are not supported".into());
        }
    })
}

fn compare_op(op: LinuxSeccompOperator, value_two: Option<u64>) -> ScmpCompareOp {
    match op {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        // libcontainer's operand order: `valueTwo` is the mask, `value` the datum.
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(value_two.unwrap_or(0)),
    }
}

fn arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn default_profile() -> Value {
        crate::engine::runtime::seccomp::default_profile(&["CHOWN".into(), "KILL".into()])
    }

    #[test]
    fn the_default_profile_compiles_to_a_program_that_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, tmp) = (dir.path().join("seccomp"), dir.path().join("tmp"));
        let p = Program::cached(&cache, &tmp, &default_profile()).unwrap();
        assert!(p.len() > 100, "{} instructions", p.len());
        let files: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
        assert_eq!(files.len(), 1, "one cached program");
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "no scratch file left");
        let again = Program::read(&files[0].path()).unwrap().unwrap();
        assert_eq!(again.to_bytes(), p.to_bytes());
        // A second lookup reads the cache: a program planted under the key is what comes back.
        let planted = Program { flags: 0, insns: p.insns[..1].to_vec() };
        planted.store(&files[0].path(), &tmp).unwrap();
        assert_eq!(Program::cached(&cache, &tmp, &default_profile()).unwrap().len(), 1);
    }

    /// Runs `prog` on a seccomp_data of `nr` (x86-64, zero arguments) as the kernel would;
    /// returns the action and how many instructions it took. Covers the classic-BPF subset
    /// libseccomp emits; any other opcode fails the test.
    fn run(prog: &Program, nr: u32) -> (u32, usize) {
        let data = |off: u32| -> u32 {
            match off {
                0 => nr,
                4 => 0xc000_003e, // AUDIT_ARCH_X86_64
                _ => 0,           // instruction pointer and arguments
            }
        };
        let (mut a, mut x, mut mem, mut pc, mut steps) = (0u32, 0u32, [0u32; 16], 0usize, 0);
        loop {
            let i = prog.insns[pc];
            steps += 1;
            pc += 1;
            let k = i.k;
            let jump = |taken: bool| if taken { i.jt as usize } else { i.jf as usize };
            match i.code {
                0x20 => a = data(k),            // ld [k]
                0x00 => a = k,                  // ld #k
                0x60 => a = mem[k as usize],    // ld M[k]
                0x61 => x = mem[k as usize],    // ldx M[k]
                0x02 => mem[k as usize] = a,    // st M[k]
                0x03 => mem[k as usize] = x,    // stx M[k]
                0x54 => a &= k,                 // and #k
                0x07 => x = a,                  // tax
                0x87 => a = x,                  // txa
                0x05 => pc += k as usize,       // ja
                0x15 => pc += jump(a == k),     // jeq #k
                0x25 => pc += jump(a > k),      // jgt #k
                0x35 => pc += jump(a >= k),     // jge #k
                0x45 => pc += jump(a & k != 0), // jset #k
                0x06 => return (k, steps),      // ret #k
                0x16 => return (a, steps),      // ret a
                c => panic!("opcode {c:#x} at {}", pc - 1),
            }
        }
    }

    #[test]
    fn the_program_finds_any_syscall_in_a_few_jumps() {
        // Compiled as a binary tree: the kernel runs the filter once per syscall number as it
        // installs it (and again for every call its cache cannot answer), so a linear list of
        // ~350 numbers is a cost on every container start.
        let p = Program::compile(&serde_json::from_value(default_profile()).unwrap()).unwrap();
        let allow = libc::SECCOMP_RET_ALLOW;
        let mut allowed = 0;
        let mut longest = 0;
        for nr in 0..460 {
            let (action, steps) = run(&p, nr);
            allowed += usize::from(action == allow);
            longest = longest.max(steps);
        }
        assert!(allowed > 250, "{allowed} syscalls allowed");
        assert!(longest <= 40, "a syscall took {longest} instructions to decide");
        let reboot = libc::SYS_reboot as u32; // refused without CAP_SYS_BOOT
        assert_ne!(run(&p, reboot).0, allow);
        assert_eq!(run(&p, libc::SYS_read as u32).0, allow);
    }

    #[test]
    fn different_profiles_get_different_programs() {
        let with_admin = crate::engine::runtime::seccomp::default_profile(&["SYS_ADMIN".into()]);
        assert_ne!(cache_key(&default_profile()), cache_key(&with_admin));
        assert_eq!(cache_key(&default_profile()), cache_key(&default_profile()));
    }

    #[test]
    fn damaged_programs_are_refused() {
        let p = Program::compile(&serde_json::from_value(default_profile()).unwrap()).unwrap();
        let bytes = p.to_bytes();
        assert!(Program::from_bytes(&bytes[..bytes.len() - 3]).is_err(), "partial instruction");
        assert!(Program::from_bytes(&bytes[..MAGIC.len() + 4]).is_err(), "no instructions");
        assert!(Program::from_bytes(b"GSECBPF0\0\0\0\0\0\0\0\0\0\0\0\0").is_err(), "wrong tag");
        let mut huge = bytes[..MAGIC.len() + 4].to_vec();
        huge.extend(std::iter::repeat_n(0u8, (MAX_INSNS + 1) * INSN_LEN));
        assert!(Program::from_bytes(&huge).is_err(), "over BPF_MAXINSNS");
    }

    #[test]
    fn flags_and_notify() {
        let p: LinuxSeccomp = serde_json::from_value(json!({
            "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]
        }))
        .unwrap();
        let prog = Program::compile(&p).unwrap();
        assert_eq!(
            prog.flags as libc::c_ulong,
            libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
        );
        let notify: LinuxSeccomp = serde_json::from_value(json!({
            "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]
        }))
        .unwrap();
        assert!(Program::compile(&notify).unwrap_err().contains("SCMP_ACT_NOTIFY"));
    }

    /// The compiled default profile, loaded in a child process: an allowed call works, a
    /// denied one fails with EPERM, and clone3 with ENOSYS (so libc falls back to clone).
    #[test]
    fn a_loaded_program_filters() {
        let prog = Program::compile(&serde_json::from_value(default_profile()).unwrap()).unwrap();
        // SAFETY: the child only makes raw syscalls and leaves with _exit (no allocation, no
        // locks), as is safe after fork in a multi-threaded test binary.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = unsafe {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prog.load().is_err() {
                    10
                } else if libc::getpid() <= 0 {
                    11
                } else if libc::unshare(libc::CLONE_NEWUTS) == 0 || *libc::__errno_location() != libc::EPERM {
                    12
                } else if libc::syscall(libc::SYS_clone3, 0usize, 0usize) == 0
                    || *libc::__errno_location() != libc::ENOSYS
                {
                    13
                } else {
                    0
                }
            };
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "10 load, 11 getpid, 12 unshare, 13 clone3");
    }
}
