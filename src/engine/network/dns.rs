//! Name resolution on user-defined networks: a small DNS responder per network on its gateway
//! address (Docker's embedded DNS, podman's aardvark-dns), started when the first container
//! joins and gone after the last leaves. Daemonless, like the monitors: `gantry __dns`.
//!
//! The engine keeps the network's name table in `run/net/<id>.hosts` (`IP name…` lines, and
//! `@IP server…` for a member started with `--dns`; rewritten by rename); the responder
//! re-reads it when it changes, answers A queries for the names in it and forwards the others
//! to the asking member's `--dns` servers, else to the host's resolvers. Two locks keep the start/stop
//! race-free: `<id>.dns.lock`, held by a live responder, and `<id>.lock`, under which the
//! engine edits the table and checks for a responder, and under which a responder decides to
//! exit when the table is gone.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};
use simple_dns::rdata::{A, RData};
use simple_dns::{CLASS, Packet, PacketFlag, QTYPE, RCODE, ResourceRecord, TYPE};

use crate::engine::Engine;
use crate::engine::container::config::HostConfig;
use crate::engine::store::lockfile::LockFile;
use crate::engine::store::networks::{self, NetworkRow};

/// Answers for container names are short-lived: containers come and go.
const TTL: u32 = 600;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);

fn dir(engine: &Engine) -> PathBuf {
    engine.paths.run().join("net")
}

pub fn hosts_path(run_net: &Path, id: &str) -> PathBuf {
    run_net.join(format!("{id}.hosts"))
}

/// Whether a network gets a responder: user-defined bridge networks only (the default bridge
/// resolves through links and /etc/hosts, as in Docker).
pub fn served(net: &NetworkRow) -> bool {
    net.driver == "bridge" && net.name != "bridge" && !net.gateway.is_empty()
}

/// The name table of a network: each running member's address with its name, aliases and
/// short ID, and the `--dns` servers of the members that chose their own.
fn table(engine: &Engine, net: &NetworkRow) -> String {
    let mut out = String::new();
    let eps = engine.db.read(|c| networks::endpoints_on(c, &net.id)).unwrap_or_default();
    for ep in eps {
        let Some(ip) = ep.ip else { continue };
        let Ok(Some(row)) = engine.db.read(|c| crate::engine::store::containers::get(c, &ep.container_id))
        else {
            continue;
        };
        let mut names = vec![row.name.clone(), row.id[..12].to_string()];
        names.extend(ep.aliases.iter().cloned());
        out.push_str(&format!("{ip} {}\n", names.join(" ")));
        let host: HostConfig = serde_json::from_str(&row.host_config).unwrap_or_default();
        if !host.dns.is_empty() {
            out.push_str(&format!("@{ip} {}\n", host.dns.join(" ")));
        }
    }
    out
}

/// Rewrites a network's name table after a container joined or left, and starts or stops its
/// responder to match. Failures are logged: name resolution is a convenience, not a reason to
/// fail a container start.
pub fn refresh(engine: &Engine, net: &NetworkRow) {
    if !served(net) {
        return;
    }
    if let Err(e) = try_refresh(engine, net) {
        tracing::warn!(network = %net.name, error = %e, "DNS responder update failed");
    }
}

fn try_refresh(engine: &Engine, net: &NetworkRow) -> std::io::Result<()> {
    let d = dir(engine);
    std::fs::create_dir_all(&d)?;
    let _edit = LockFile::exclusive(&d.join(format!("{}.lock", net.id)))?;
    let path = hosts_path(&d, &net.id);
    let text = table(engine, net);
    if text.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    let tmp = path.with_extension("hosts.tmp");
    std::fs::write(&tmp, &text)?;
    std::fs::rename(&tmp, &path)?;
    let alive = LockFile::try_exclusive(&d.join(format!("{}.dns.lock", net.id)))?.is_none();
    if !alive {
        spawn(engine, net)?;
    }
    Ok(())
}

fn spawn(engine: &Engine, net: &NetworkRow) -> std::io::Result<()> {
    let exe = crate::engine::container::exe::ensure(&engine.paths.protected_exe())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let status = std::process::Command::new(exe)
        .arg("__dns")
        .arg(dir(engine))
        .arg(&net.id)
        .arg(&net.gateway)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("the DNS responder failed to start ({status})")));
    }
    Ok(())
}

/// Stops a network's responder (network removal): the table goes, and the responder follows.
pub fn stop(engine: &Engine, net: &NetworkRow) {
    let d = dir(engine);
    if let Ok(_edit) = LockFile::exclusive(&d.join(format!("{}.lock", net.id))) {
        let _ = std::fs::remove_file(hosts_path(&d, &net.id));
    }
    // Wait (briefly) for it to let go of the gateway address.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        match LockFile::try_exclusive(&d.join(format!("{}.dns.lock", net.id))) {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let _ = std::fs::remove_file(d.join(format!("{}.dns.lock", net.id)));
    let _ = std::fs::remove_file(d.join(format!("{}.lock", net.id)));
}

/// A parsed name table.
#[derive(Debug, Default)]
pub struct Table {
    /// Lower-cased name → address.
    pub names: HashMap<String, Ipv4Addr>,
    /// Member address → the resolvers it chose (`--dns`).
    pub upstreams: HashMap<Ipv4Addr, Vec<SocketAddr>>,
}

/// Parses a name table.
pub fn parse_table(text: &str) -> Table {
    let mut out = Table::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some(member) = first.strip_prefix('@') {
            let Ok(member) = member.parse() else { continue };
            let servers =
                words.filter_map(|w| w.parse::<std::net::IpAddr>().ok()).map(|ip| SocketAddr::new(ip, 53));
            out.upstreams.insert(member, servers.collect());
            continue;
        }
        let Ok(ip) = first.parse() else { continue };
        for name in words {
            out.names.entry(name.to_ascii_lowercase()).or_insert(ip);
        }
    }
    out
}

/// The host's resolvers (loopback ones included: the responder runs in the host's namespace).
fn upstreams() -> Vec<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver")).then(|| w.next()).flatten()
        })
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// Builds the answer to a query from the table; `None` when the name is not ours.
pub fn answer(query: &[u8], names: &HashMap<String, Ipv4Addr>) -> Option<Vec<u8>> {
    let packet = Packet::parse(query).ok()?;
    let question = packet.questions.first()?;
    let name = question.qname.to_string().trim_end_matches('.').to_ascii_lowercase();
    let ip = names.get(&name)?;
    let mut reply = Packet::new_reply(packet.id());
    reply.set_flags(PacketFlag::AUTHORITATIVE_ANSWER | PacketFlag::RECURSION_AVAILABLE);
    if packet.has_flags(PacketFlag::RECURSION_DESIRED) {
        reply.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    reply.questions.push(question.clone());
    if matches!(question.qtype, QTYPE::TYPE(TYPE::A) | QTYPE::ANY) {
        reply.answers.push(ResourceRecord::new(
            question.qname.clone(),
            CLASS::IN,
            TTL,
            RData::A(A { address: u32::from(*ip) }),
        ));
    }
    // Other types for a known name: an empty NOERROR answer (the name exists).
    reply.build_bytes_vec().ok()
}

fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    let packet = Packet::parse(query).ok()?;
    let mut reply = Packet::new_reply(packet.id());
    *reply.rcode_mut() = RCODE::ServerFailure;
    if let Some(q) = packet.questions.first() {
        reply.questions.push(q.clone());
    }
    reply.build_bytes_vec().ok()
}

/// The responder (`gantry __dns RUN_NET_DIR NETWORK_ID GATEWAY`): daemonizes and serves until
/// its network's name table disappears. Returns the exit status.
pub fn serve_main(run_net: &Path, id: &str, gateway: &str) -> i32 {
    let Ok(gateway) = gateway.parse::<Ipv4Addr>() else { return 2 };
    let held = match LockFile::try_exclusive(&run_net.join(format!("{id}.dns.lock"))) {
        Ok(Some(f)) => f,
        // Another responder is already serving.
        Ok(None) => return 0,
        Err(_) => return 1,
    };
    let socket = match UdpSocket::bind(SocketAddrV4::new(gateway, 53)) {
        Ok(s) => s,
        Err(_) => return 1,
    };
    if crate::engine::monitor::sys::daemonize()
        .and_then(|_| crate::engine::monitor::sys::null_stdio())
        .is_err()
    {
        return 1;
    }
    let upstream = UdpSocket::bind("0.0.0.0:0").ok();
    let code = serve_loop(run_net, id, &socket, upstream.as_ref());
    drop(held);
    code
}

struct Pending {
    client: SocketAddr,
    /// Where the query went: only its answer is accepted.
    server: SocketAddr,
    client_id: u16,
    query: Vec<u8>,
    deadline: Instant,
}

fn serve_loop(run_net: &Path, id: &str, socket: &UdpSocket, upstream: Option<&UdpSocket>) -> i32 {
    let hosts = hosts_path(run_net, id);
    let mut table = Table::default();
    // The table's text as last parsed. It is re-read (a few hundred bytes) rather than
    // judged by mtime and inode: on filesystems with one-second timestamps a rewrite
    // within the same second can reuse both.
    let mut seen: Option<String> = None;
    let mut pending: HashMap<u16, Pending> = HashMap::new();
    let mut next_id: u16 = rand::random();
    let servers = upstreams();
    let mut buf = [0u8; 4096];
    let mut last_check = Instant::now() - Duration::from_secs(1);
    loop {
        let mut fds = vec![PollFd::new(socket, PollFlags::IN)];
        if let Some(u) = upstream {
            fds.push(PollFd::new(u, PollFlags::IN));
        }
        let _ = poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 200_000_000 }));
        let (client_ready, upstream_ready) =
            (!fds[0].revents().is_empty(), fds.get(1).map(|f| !f.revents().is_empty()).unwrap_or(false));
        drop(fds);
        // The table is checked before every answer, so a container that just joined resolves
        // at once; and now and then while idle, to notice the network emptied.
        if client_ready || last_check.elapsed() >= Duration::from_millis(200) {
            last_check = Instant::now();
            match std::fs::read_to_string(&hosts) {
                Ok(text) if seen.as_deref() != Some(text.as_str()) => {
                    table = parse_table(&text);
                    seen = Some(text);
                }
                Ok(_) => {}
                Err(_) => {
                    // Decide to exit under the edit lock, so no container joins in between.
                    let _edit = LockFile::exclusive(&run_net.join(format!("{id}.lock")));
                    if !hosts.exists() {
                        return 0;
                    }
                }
            }
        }
        if client_ready {
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                let query = &buf[..n];
                let chosen = match from.ip() {
                    std::net::IpAddr::V4(ip) => table.upstreams.get(&ip),
                    std::net::IpAddr::V6(_) => None,
                };
                if let Some(reply) = answer(query, &table.names) {
                    let _ = socket.send_to(&reply, from);
                } else if let (Some(u), Some(&server)) = (upstream, chosen.unwrap_or(&servers).first()) {
                    // Forward with our own ID, remembering whose query it was.
                    if n >= 2 {
                        next_id = next_id.wrapping_add(1);
                        let client_id = u16::from_be_bytes([query[0], query[1]]);
                        let mut fwd = query.to_vec();
                        fwd[..2].copy_from_slice(&next_id.to_be_bytes());
                        if u.send_to(&fwd, server).is_ok() {
                            pending.insert(
                                next_id,
                                Pending {
                                    client: from,
                                    server,
                                    client_id,
                                    query: query.to_vec(),
                                    deadline: Instant::now() + UPSTREAM_TIMEOUT,
                                },
                            );
                        }
                    }
                } else if let Some(reply) = servfail(query) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        }
        if upstream_ready {
            if let Some(u) = upstream {
                if let Ok((n, from)) = u.recv_from(&mut buf) {
                    if n >= 2 {
                        let rid = u16::from_be_bytes([buf[0], buf[1]]);
                        // Only the server asked may answer (no spoofed replies from elsewhere).
                        let asked = pending.get(&rid).is_some_and(|p| p.server == from);
                        if let Some(p) = asked.then(|| pending.remove(&rid)).flatten() {
                            let mut reply = buf[..n].to_vec();
                            reply[..2].copy_from_slice(&p.client_id.to_be_bytes());
                            let _ = socket.send_to(&reply, p.client);
                        }
                    }
                }
            }
        }
        let now = Instant::now();
        let expired: Vec<u16> = pending.iter().filter(|(_, p)| p.deadline < now).map(|(k, _)| *k).collect();
        for k in expired {
            if let Some(p) = pending.remove(&k) {
                if let Some(reply) = servfail(&p.query) {
                    let _ = socket.send_to(&reply, p.client);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: TYPE) -> Vec<u8> {
        let mut p = Packet::new_query(0x1234);
        p.set_flags(PacketFlag::RECURSION_DESIRED);
        p.questions.push(simple_dns::Question::new(
            simple_dns::Name::new_unchecked(name),
            QTYPE::TYPE(qtype),
            simple_dns::QCLASS::CLASS(CLASS::IN),
            false,
        ));
        p.build_bytes_vec().unwrap()
    }

    #[test]
    fn answers_names_in_the_table_only() {
        let table =
            parse_table("172.20.0.2 web 0123456789ab frontend\n172.20.0.3 db\n@172.20.0.3 192.0.2.53 ::1\n");
        assert_eq!(
            table.upstreams[&"172.20.0.3".parse().unwrap()],
            ["192.0.2.53:53".parse::<SocketAddr>().unwrap(), "[::1]:53".parse().unwrap()]
        );
        assert_eq!(table.upstreams.len(), 1);
        let names = table.names;
        let reply = answer(&query("Web", TYPE::A), &names).expect("web is known");
        let p = Packet::parse(&reply).unwrap();
        assert_eq!(p.id(), 0x1234);
        assert_eq!(p.answers.len(), 1);
        match &p.answers[0].rdata {
            RData::A(a) => assert_eq!(Ipv4Addr::from(a.address), Ipv4Addr::new(172, 20, 0, 2)),
            other => panic!("unexpected {other:?}"),
        }
        let alias_bytes = answer(&query("frontend.", TYPE::A), &names).unwrap();
        let alias = Packet::parse(&alias_bytes).unwrap();
        assert_eq!(alias.answers.len(), 1);
        let v6_bytes = answer(&query("db", TYPE::AAAA), &names).unwrap();
        let v6 = Packet::parse(&v6_bytes).unwrap();
        assert!(v6.answers.is_empty(), "no IPv6 address, but the name exists");
        assert_eq!(v6.rcode(), RCODE::NoError);
        assert!(answer(&query("elsewhere.example", TYPE::A), &names).is_none());
        assert!(answer(b"\x00garbage", &names).is_none());
        let fail_bytes = servfail(&query("x", TYPE::A)).unwrap();
        let fail = Packet::parse(&fail_bytes).unwrap();
        assert_eq!(fail.rcode(), RCODE::ServerFailure);
    }
}
