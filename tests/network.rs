//! Networking, end to end: the real binary as root, real bridges, veths and nftables rules in
//! the test's own table, traffic only to 127.0.0.1 and to the containers the test made.

mod common;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Gantry;

fn web(g: &Gantry) -> String {
    let image = format!("{}/fixtures/web", common::rig().registry);
    g.run(&["pull", "-q", &image]).ok();
    image
}

/// A TCP port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// GETs `/` from `addr`, retrying while the server starts; returns the response.
fn http_get(addr: &str, secs: u64) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(2))).ok();
                let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: t\r\n\r\n");
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                if out.starts_with("HTTP/1.") {
                    return Ok(out);
                }
                last = format!("unexpected reply {out:?}");
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(last)
}

fn nft_table(g: &Gantry) -> String {
    let out = Command::new("nft").args(["list", "table", "ip", &g.nft_table]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn links() -> String {
    let out = Command::new("ip").args(["-o", "link", "show"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn containers_on_the_default_bridge_reach_each_other() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&["run", "-d", "--name", "one", &img, "sleep", "60"]).ok();
    let ip = g.inspect("{{.NetworkSettings.IPAddress}}", "one");
    let mac = g.inspect("{{.NetworkSettings.MacAddress}}", "one");
    let gw = g.inspect("{{.NetworkSettings.Gateway}}", "one");
    let octets: Vec<u8> = ip.split('.').map(|o| o.parse().unwrap()).collect();
    assert_eq!(mac, format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", octets[0], octets[1], octets[2], octets[3]));
    assert!(gw.ends_with(".1") && gw != ip, "gateway {gw} for {ip}");
    // The bridge has the gateway address; the subnet overlaps none of the host's others.
    let addr = Command::new("ip").args(["-o", "-4", "addr", "show", "dev", &g.bridge]).output().unwrap();
    assert!(String::from_utf8_lossy(&addr.stdout).contains(&format!("inet {gw}/")), "bridge address");
    // The bridge has a MAC of its own (02:42 + the gateway), not one borrowed from a port that
    // may go away and leave the containers' ARP entries for the gateway stale.
    let g4: Vec<u8> = gw.split('.').map(|o| o.parse().unwrap()).collect();
    let link = Command::new("ip").args(["-o", "link", "show", "dev", &g.bridge]).output().unwrap();
    let want = format!("link/ether 02:42:{:02x}:{:02x}:{:02x}:{:02x}", g4[0], g4[1], g4[2], g4[3]);
    assert!(String::from_utf8_lossy(&link.stdout).contains(&want), "bridge MAC");
    let out = g.run(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        &format!("ping -c 1 -W 3 {ip} && ip route && cat /etc/hosts"),
    ]);
    let text = out.ok();
    assert!(text.contains("1 packets received"), "{text}");
    assert!(text.contains(&format!("default via {gw} dev eth0")), "{text}");
    // /etc/hosts of `one` starts with its own address and name (seed 004's layout).
    let hosts = g.run(&["exec", "one", "cat", "/etc/hosts"]).ok().to_string();
    let host = g.inspect("{{.Config.Hostname}}", "one");
    assert!(hosts.starts_with(&format!("{ip}\t{host}\n")), "{hosts}");
    // Leases are distinct and come back when a container goes.
    g.run(&["run", "-d", "--name", "two", &img, "sleep", "60"]).ok();
    let ip2 = g.inspect("{{.NetworkSettings.IPAddress}}", "two");
    assert_ne!(ip, ip2);
    g.run(&["rm", "-f", "one"]).ok();
    g.run(&["run", "-d", "--name", "three", &img, "sleep", "60"]).ok();
    assert_eq!(g.inspect("{{.NetworkSettings.IPAddress}}", "three"), ip, "the freed address is reused");
}

#[test]
fn every_publish_form_reaches_the_web_fixture() {
    let g = Gantry::new();
    let img = web(&g);
    let (fixed_local, fixed_any) = (free_port(), free_port());
    let a = format!("127.0.0.1:{fixed_local}:80");
    let b = format!("{fixed_any}:80");
    g.run(&["run", "-d", "--name", "web1", "-p", &a, "-p", &b, "-p", "80", "-p", "127.0.0.1::80", &img]).ok();
    let ports = g.run(&["port", "web1"]).ok().to_string();
    let mut addrs = Vec::new();
    for line in ports.lines() {
        let (left, right) = line.split_once(" -> ").expect("CONTAINER -> HOST");
        assert_eq!(left, "80/tcp");
        let (ip, port) = right.rsplit_once(':').unwrap();
        let ip = if ip == "0.0.0.0" { "127.0.0.1" } else { ip };
        addrs.push(format!("{ip}:{port}"));
    }
    assert_eq!(addrs.len(), 4, "{ports}");
    assert!(
        ports.contains(&format!("127.0.0.1:{fixed_local}"))
            && ports.contains(&format!("0.0.0.0:{fixed_any}"))
    );
    for addr in &addrs {
        let reply = http_get(addr, 10).unwrap_or_else(|e| panic!("{addr}: {e}"));
        assert!(reply.contains("gantry-fixture-web"), "{addr}: {reply}");
    }
    assert_eq!(g.run(&["port", "web1", "80/tcp"]).ok().lines().count(), 4);
    assert!(g.run(&["port", "web1", "81"]).fails().contains("No public port '81/tcp'"));
    let ps = g.run(&["ps", "--format", "{{.Ports}}"]).ok().to_string();
    assert!(ps.contains(&format!("127.0.0.1:{fixed_local}->80/tcp")), "{ps}");

    // -P publishes every exposed port (the image's 80, and --expose 81) on ephemeral ports.
    g.run(&["run", "-d", "--name", "all", "-P", "--expose", "81", &img]).ok();
    let all = g.run(&["port", "all"]).ok().to_string();
    assert!(all.contains("80/tcp -> 0.0.0.0:") && all.contains("81/tcp -> 0.0.0.0:"), "{all}");
    let p80 = g.run(&["port", "all", "80"]).ok().trim().rsplit(':').next().unwrap().to_string();
    assert!(http_get(&format!("127.0.0.1:{p80}"), 10).unwrap().contains("gantry-fixture-web"));
    let settings = g.inspect("{{json .NetworkSettings.Ports}}", "all");
    assert!(settings.contains("\"80/tcp\":[{\"HostIp\":\"0.0.0.0\""), "{settings}");

    // A range maps port for port.
    let lo = free_port_pair();
    let hi = lo + 1;
    let spec = format!("127.0.0.1:{lo}-{hi}:80-81");
    g.run(&["run", "-d", "--name", "ranged", "-p", &spec, &img]).ok();
    let ranged = g.run(&["port", "ranged"]).ok().to_string();
    assert!(ranged.contains(&format!("80/tcp -> 127.0.0.1:{lo}")), "{ranged}");
    assert!(ranged.contains(&format!("81/tcp -> 127.0.0.1:{hi}")), "{ranged}");
    assert!(http_get(&format!("127.0.0.1:{lo}"), 10).unwrap().contains("gantry-fixture-web"));
}

/// A port P such that P and P + 1 are both free now.
fn free_port_pair() -> u16 {
    loop {
        let p = free_port();
        if p < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

#[test]
fn a_published_udp_port_answers() {
    let g = Gantry::new();
    let img = web(&g);
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let spec = format!("127.0.0.1:{port}:5353/udp");
    g.run(&["run", "-d", "--name", "udp", "-p", &spec, &img, "udp-echo", "5353"]).ok();
    assert_eq!(g.run(&["port", "udp"]).ok().trim(), format!("5353/udp -> 127.0.0.1:{port}"));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 64];
    loop {
        sock.send_to(b"ping", ("127.0.0.1", port)).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            assert_eq!(&buf[..n], b"pong:ping");
            break;
        }
        assert!(Instant::now() < deadline, "no UDP answer through the published port");
    }
}

#[test]
fn a_taken_host_port_fails_the_second_container_before_it_starts() {
    let g = Gantry::new();
    let img = web(&g);
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    g.run(&["run", "-d", "--name", "first", "-p", &spec, &img]).ok();
    let r = g.run(&["run", "-d", "--name", "second", "-p", &spec, &img]);
    assert_eq!(r.code, 125, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("Bind for 127.0.0.1:{port} failed: port is already allocated")),
        "{}",
        r.stderr
    );
    assert_eq!(g.inspect("{{.State.StartedAt}}", "second"), "0001-01-01T00:00:00Z", "it never ran");
    // A host program holding a port blocks it the same way.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let spec = format!("127.0.0.1:{}:80", held.local_addr().unwrap().port());
    assert!(g.run(&["run", "-d", "-p", &spec, &img]).fails().contains("port is already allocated"));
    // The first is untouched.
    assert!(http_get(&format!("127.0.0.1:{port}"), 10).unwrap().contains("gantry-fixture-web"));
}

#[test]
fn network_modes_none_host_and_container() {
    let g = Gantry::new();
    let img = g.busybox();
    let none = g.run(&["run", "--rm", "--network", "none", &img, "ls", "/sys/class/net"]).ok().to_string();
    assert_eq!(none.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    // Host mode sees the host's interfaces: every one present both before and after the run
    // (other tests come and go in parallel). `--network <ID of the host network>` is the same.
    let host_id = g.run(&["network", "inspect", "-f", "{{.Id}}", "host"]).ok().trim().to_string();
    for mode in ["host", host_id.as_str()] {
        let before = common::list_dir(std::path::Path::new("/sys/class/net"));
        let seen = g.run(&["run", "--rm", "--network", mode, &img, "ls", "/sys/class/net"]).ok().to_string();
        let after = common::list_dir(std::path::Path::new("/sys/class/net"));
        let stable: Vec<&String> = before.iter().filter(|d| after.contains(d)).collect();
        assert!(stable.len() > 1, "the host has more than lo: {stable:?}");
        for dev in stable {
            assert!(seen.split_whitespace().any(|w| w == dev), "--network {mode} should see {dev}: {seen}");
        }
    }
    // container:X shares X's whole stack, loopback included.
    let web = web(&g);
    g.run(&["run", "-d", "--name", "srv", &web]).ok();
    let out = g.run(&[
        "run", "--rm", "--network", "container:srv", &img, "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:80/ && exit 0; sleep 0.2; done; exit 1",
    ]);
    assert!(out.ok().contains("gantry-fixture-web"));
    // ... and its name and /etc files, which describe that stack; a name of its own conflicts.
    let cat = |mode: &str| {
        let script = "hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf";
        g.run(&["run", "--rm", "--network", mode, &img, "sh", "-c", script]).ok().to_string()
    };
    let srv_files = g.run(&[
        "exec",
        "srv",
        "sh",
        "-c",
        "hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf",
    ]);
    assert_eq!(cat("container:srv"), srv_files.ok());
    assert!(
        g.run(&["run", "--rm", "--network", "container:srv", "-h", "other", &img, "true"])
            .fails()
            .contains("conflicting options: hostname and the network mode")
    );
    // Host mode: the host's name, hosts file and resolv.conf, as they are.
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut host_hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    if !host_hosts.ends_with('\n') {
        host_hosts.push('\n');
    }
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let seen = cat("host");
    let want = format!("{}\n---\n{}---\n{}", host_name.trim(), host_hosts, host_resolv);
    assert_eq!(seen.trim_end(), want.trim_end());
    // Port publishing needs a bridge network.
    assert!(
        g.run(&["run", "--rm", "--network", "none", "-p", "80", &img, "true"])
            .fails()
            .contains("conflicting options")
    );
}

#[test]
fn user_networks_resolve_names_until_disconnected() {
    let g = Gantry::new();
    let img = g.busybox();
    let id = g.run(&["network", "create", "--label", "team=qa", "appnet"]).ok().trim().to_string();
    assert_eq!(id.len(), 64);
    assert!(g.run(&["network", "create", "appnet"]).fails().contains("already exists"));
    g.run(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "appnet",
        "--network-alias",
        "database",
        &img,
        "sleep",
        "60",
    ])
    .ok();
    // app looks names up after db left: its forwarded queries go to a loopback test resolver.
    let (resolver, _) = fake_resolver();
    let dns = resolver.to_string();
    g.run(&["run", "-d", "--name", "app", "--network", "appnet", "--dns", &dns, &img, "sleep", "60"]).ok();
    let ping = |from: &str, name: &str| g.run(&["exec", from, "ping", "-c", "1", "-W", "2", name]).code == 0;
    assert!(ping("app", "db"), "by name");
    assert!(ping("app", "database"), "by alias");
    // A container on the default bridge joins while running, and resolves the others.
    g.run(&["run", "-d", "--name", "late", &img, "sleep", "60"]).ok();
    g.run(&["network", "connect", "appnet", "late"]).ok();
    assert!(ping("late", "db"), "after connect");
    assert!(ping("app", "late"), "the newcomer is resolvable at once");
    let inspect = g.run(&["network", "inspect", "appnet"]).ok().to_string();
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let n = &v[0];
    assert_eq!(n["Name"], "appnet");
    assert_eq!(n["Labels"]["team"], "qa");
    assert_eq!(n["Containers"].as_object().unwrap().len(), 3);
    assert!(n["IPAM"]["Config"][0]["Subnet"].as_str().unwrap().contains('/'));
    // Disconnected, db's name stops resolving (asked of the responder itself, not inferred
    // from a failed ping), and its interface is gone.
    let lookup = |name: &str| g.run(&["exec", "app", "nslookup", name]).stdout;
    let answer = lookup("db");
    let db_ip = answer
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("Address: "))
        .expect("db resolves")
        .trim()
        .to_string();
    assert!(db_ip.split('.').count() == 4, "{answer}");
    g.run(&["network", "disconnect", "appnet", "db"]).ok();
    assert!(!ping("app", "db"), "db must not resolve after disconnect");
    assert!(!lookup("db").contains(&db_ip), "the responder forgot db: {}", lookup("db"));
    let ifaces = g.run(&["exec", "db", "ls", "/sys/class/net"]).ok().to_string();
    assert_eq!(ifaces.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    // Leaving a network takes its responder out of resolv.conf.
    let gateway = n["IPAM"]["Config"][0]["Gateway"].as_str().unwrap().to_string();
    let resolv = |c: &str| g.run(&["exec", c, "cat", "/etc/resolv.conf"]).ok().to_string();
    assert!(resolv("late").contains(&format!("nameserver {gateway}")), "{}", resolv("late"));
    g.run(&["network", "disconnect", "appnet", "late"]).ok();
    assert!(!resolv("late").contains(&format!("nameserver {gateway}")), "{}", resolv("late"));
    // Published ports follow the first network: leaving it removes their rules.
    let web = g
        .run(&["run", "-d", "--network", "appnet", "-p", "127.0.0.1::80", &img, "sleep", "60"])
        .ok()
        .to_string();
    let web = web.trim();
    assert!(nft_table(&g).contains(web), "the port's rule is tagged with the container");
    g.run(&["network", "disconnect", "appnet", web]).ok();
    assert!(!nft_table(&g).contains(web), "no rule points at the address it gave back");
    assert_eq!(g.run(&["port", web]).ok(), "");
    g.run(&["rm", "-f", web]).ok();
    assert!(g.run(&["network", "rm", "appnet"]).fails().contains("active endpoints"));
    assert!(g.run(&["network", "rm", "bridge"]).fails().contains("pre-defined"));
    for c in ["db", "app", "late"] {
        g.run(&["rm", "-f", c]).ok();
    }
    let bridge = format!("gantry-{}", &id[..8]);
    assert!(links().contains(&bridge));
    g.run(&["network", "rm", "appnet"]).ok();
    assert!(!links().contains(&bridge), "the network's bridge goes with it");
    assert!(!nft_table(&g).contains(&format!("net:{id}")), "and its rules");
    let ls = g.run(&["network", "ls", "--format", "{{.Name}}"]).ok().to_string();
    assert_eq!(ls.split_whitespace().collect::<Vec<_>>(), ["bridge", "host", "none"]);
}

#[test]
fn links_inject_environment_and_hosts() {
    let g = Gantry::new();
    let img = g.busybox();
    g.run(&[
        "run",
        "-d",
        "--name",
        "mydb",
        "--expose",
        "2222",
        "--expose",
        "3333",
        "--expose",
        "4444/udp",
        "-e",
        "DB_USER=app",
        &img,
        "sleep",
        "60",
    ])
    .ok();
    let ip = g.inspect("{{.NetworkSettings.IPAddress}}", "mydb");
    let id = g.inspect("{{.Id}}", "mydb");
    let out = g.run(&[
        "run",
        "--rm",
        "--name",
        "web",
        "--link",
        "mydb:database",
        &img,
        "sh",
        "-c",
        "env; cat /etc/hosts",
    ]);
    let text = out.ok();
    for want in [
        "DATABASE_NAME=/web/database".to_string(),
        format!("DATABASE_PORT=tcp://{ip}:2222"),
        format!("DATABASE_PORT_3333_TCP=tcp://{ip}:3333"),
        format!("DATABASE_PORT_4444_UDP=udp://{ip}:4444"),
        "DATABASE_PORT_2222_TCP_PORT=2222".to_string(),
        format!("DATABASE_PORT_3333_TCP_ADDR={ip}"),
        "DATABASE_PORT_4444_UDP_PROTO=udp".to_string(),
        "DATABASE_ENV_DB_USER=app".to_string(),
        format!("{ip}\tdatabase {} mydb", &id[..12]),
    ] {
        assert!(text.lines().any(|l| l == want), "missing {want:?} in:\n{text}");
    }
    // Links are one-way: mydb knows nothing of web. And a stopped target cannot be linked.
    assert!(!g.run(&["exec", "mydb", "cat", "/etc/hosts"]).ok().contains("web"));
    g.run(&["stop", "-t", "0", "mydb"]).ok();
    let err = g.run(&["run", "--rm", "--link", "mydb:database", &img, "true"]).fails().to_string();
    assert!(err.contains("Cannot link to a non running container"), "{err}");
}

const BRIDGE_NF: &str = "/proc/sys/net/bridge/bridge-nf-call-iptables";

/// A sysctl changed for a test and restored when it ends, even on failure.
struct Sysctl {
    path: &'static str,
    before: Option<String>,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> Self {
        let before = std::fs::read_to_string(path).ok();
        if before.is_some() {
            std::fs::write(path, value).expect("writing the sysctl");
        }
        Self { path, before }
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        if let Some(v) = &self.before {
            let _ = std::fs::write(self.path, v.trim());
        }
    }
}

#[test]
fn icc_off_allows_only_linked_ports() {
    // ICC off on the default bridge (the engine setting), and on a user network (its driver
    // option) of an engine whose default bridge keeps ICC on.
    // Bridged frames must be made to pass the IPv4 hooks by gantry itself, not by whatever
    // the host had set: start from "off" (the value is put back afterwards).
    let _sysctl = Sysctl::set(BRIDGE_NF, "0");
    let off = Gantry::new();
    off.set_network_config("icc = false");
    let on = Gantry::new();
    on.run(&["network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "quiet"]).ok();
    for (g, network) in [(&off, "bridge"), (&on, "quiet")] {
        let img = g.busybox();
        let web = web(g);
        let srv = format!("srv-{network}");
        g.run(&["run", "-d", "--name", &srv, "--network", network, &web]).ok();
        let ip = g.inspect(&format!("{{{{.NetworkSettings.Networks.{network}.IPAddress}}}}"), &srv);
        // From the host the server answers (host traffic is not inter-container traffic).
        assert!(http_get(&format!("{ip}:80"), 10).unwrap().contains("gantry-fixture-web"));
        let fetch = |extra: &[&str]| {
            let mut args = vec!["run", "--rm", "--network", network];
            args.extend_from_slice(extra);
            // busybox's wget crashes on -T, so timeout(1) bounds it; not as PID 1 (which
            // would ignore the TERM), hence the `exit` that keeps sh from exec'ing it.
            let script = format!("timeout 3 wget -q -O - http://{ip}:80/; exit $?");
            args.extend([img.as_str(), "sh", "-c", &script]);
            g.run(&args)
        };
        let blocked = fetch(&[]);
        assert_ne!(
            blocked.code, 0,
            "{network}: an unlinked container must not reach srv: {}",
            blocked.stdout
        );
        let link = format!("{srv}:srv");
        let linked = fetch(&["--link", &link]);
        assert!(
            linked.code == 0 && linked.stdout.contains("gantry-fixture-web"),
            "{network}: a linked container must reach srv: {} {}",
            linked.stdout,
            linked.stderr
        );
        let table = nft_table(g);
        let links_chain = table.split("chain links {").nth(1).and_then(|r| r.split('}').next()).unwrap_or("");
        assert!(
            !links_chain.contains("accept"),
            "{network}: the link's exception left with it: {links_chain}"
        );
    }
    assert_eq!(std::fs::read_to_string(BRIDGE_NF).unwrap().trim(), "1", "gantry turned bridge filtering on");
    // `network create` set up the user network's bridge first, so that engine found "0".
    let recorded = on.root().join("bridge-nf-call-iptables.previous");
    assert_eq!(std::fs::read_to_string(recorded).unwrap_or_default(), "0", "and recorded what it was");
}

/// A resolver on a loopback address of its own that knows one name, for `--dns`: containers
/// on user networks that look up unknown names get one, so that the responder's forwarding
/// never reaches the host's real resolvers.
fn fake_resolver() -> (std::net::Ipv4Addr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let tag = common::rand_u32();
    let ip = std::net::Ipv4Addr::new(127, 53, (tag >> 8) as u8, (tag as u8).max(2));
    let socket = std::net::UdpSocket::bind((ip, 53)).expect("bind the test resolver");
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        let names = std::collections::HashMap::from([(
            "outside.test".to_string(),
            std::net::Ipv4Addr::new(192, 0, 2, 7),
        )]);
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = gantry::engine::network::dns::answer(&buf[..n], &names).unwrap_or_else(|| {
                // NXDOMAIN: the query back with QR set and RCODE 3.
                let mut r = buf[..n].to_vec();
                if r.len() >= 4 {
                    r[2] |= 0x80;
                    r[3] = (r[3] & 0xf0) | 3;
                }
                r
            });
            let _ = socket.send_to(&reply, from);
        }
    });
    (ip, asked)
}

#[test]
fn the_network_responder_forwards_to_a_members_dns_servers() {
    // Docker's embedded DNS keeps answering container names for a member started with
    // `--dns`, and sends it the other names to those servers.
    let g = Gantry::new();
    let img = g.busybox();
    let (resolver, asked) = fake_resolver();
    g.run(&["network", "create", "fwdnet"]).ok();
    g.run(&["run", "-d", "--name", "peer", "--network", "fwdnet", &img, "sleep", "60"]).ok();
    let dns = resolver.to_string();
    g.run(&["run", "-d", "--name", "asker", "--network", "fwdnet", "--dns", &dns, &img, "sleep", "60"]).ok();
    let gateway = g.inspect("{{.NetworkSettings.Networks.fwdnet.Gateway}}", "asker");
    let resolv = g.run(&["exec", "asker", "cat", "/etc/resolv.conf"]).ok().to_string();
    assert!(resolv.starts_with(&format!("nameserver {gateway}\n")), "{resolv}");
    let peer = g.run(&["exec", "asker", "nslookup", "peer"]).ok().to_string();
    let peer_ip = g.inspect("{{.NetworkSettings.Networks.fwdnet.IPAddress}}", "peer");
    assert!(peer.contains(&peer_ip), "container names still resolve: {peer}");
    let outside = g.run(&["exec", "asker", "nslookup", "outside.test"]).ok().to_string();
    assert!(outside.contains("192.0.2.7"), "forwarded to its --dns server: {outside}");
    assert!(asked.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let unknown = g.run(&["exec", "asker", "nslookup", "nowhere.test"]);
    assert!(!unknown.stdout.contains("192.0.2.7"), "its NXDOMAIN comes back: {}", unknown.stdout);
    for c in ["asker", "peer"] {
        g.run(&["rm", "-f", c]).ok();
    }
    g.run(&["network", "rm", "fwdnet"]).ok();
}

#[test]
fn user_network_addressing_and_internal() {
    let g = Gantry::new();
    let img = g.busybox();
    // A subnet gantry found free (so the test never collides with the host's routes), given
    // back explicitly with a gateway and an address range of its own.
    g.run(&["network", "create", "probe"]).ok();
    let ipam = g.run(&["network", "inspect", "-f", "{{json .IPAM.Config}}", "probe"]).ok().to_string();
    let ipam: serde_json::Value = serde_json::from_str(&ipam).unwrap();
    let subnet = ipam[0]["Subnet"].as_str().unwrap().to_string();
    g.run(&["network", "rm", "probe"]).ok();
    let base: Vec<u8> = subnet.split('/').next().unwrap().split('.').map(|o| o.parse().unwrap()).collect();
    let net = |c: u8, d: u8| format!("{}.{}.{c}.{d}", base[0], base[1]);
    let gateway = net(0, 254);
    let range = format!("{}/28", net(9, 16));
    g.run(&["network", "create", "--subnet", &subnet, "--gateway", &gateway, "--ip-range", &range, "custom"])
        .ok();
    assert!(
        g.run(&["network", "create", "--subnet", &subnet, "again"]).fails().contains("overlaps"),
        "a subnet in use is refused"
    );
    g.run(&["run", "-d", "--name", "c1", "--network", "custom", &img, "sleep", "60"]).ok();
    let ip = g.inspect("{{.NetworkSettings.Networks.custom.IPAddress}}", "c1");
    assert_eq!(ip, net(9, 17), "the first address of the range");
    let gw = g.inspect("{{.NetworkSettings.Networks.custom.Gateway}}", "c1");
    assert_eq!(gw, gateway);
    let route = g.run(&["exec", "c1", "ip", "route"]).ok().to_string();
    assert!(route.contains(&format!("default via {gateway}")), "{route}");
    // An internal network: no default route out, and its members still talk to each other.
    g.run(&["network", "create", "--internal", "inner"]).ok();
    g.run(&["run", "-d", "--name", "i1", "--network", "inner", &img, "sleep", "60"]).ok();
    let out = g.run(&["run", "--rm", "--network", "inner", &img, "sh", "-c", "ip route; ping -c 1 -W 2 i1"]);
    let text = out.ok();
    assert!(!text.contains("default"), "no default route on an internal network: {text}");
    assert!(text.contains("1 packets received"), "{text}");
}

#[test]
fn etc_files_follow_the_flags() {
    let g = Gantry::new();
    let img = g.busybox();
    let out = g.run(&[
        "run",
        "--rm",
        "-h",
        "box1",
        "--domainname",
        "example.org",
        "--add-host",
        "db.local:10.1.2.3",
        "--add-host",
        "gw:host-gateway",
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "corp.example",
        "--dns-option",
        "ndots:3",
        &img,
        "sh",
        "-c",
        "hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf",
    ]);
    let text = out.ok().to_string();
    let parts: Vec<&str> = text.split("---\n").collect();
    assert_eq!(parts[0].trim(), "box1");
    let hosts = parts[1];
    // Seed 004's layout: own address and name first, then localhost, then the --add-host
    // entries, the last flag first.
    let first = hosts.lines().next().unwrap_or("");
    assert!(first.ends_with("\tbox1.example.org box1"), "{hosts}");
    assert_eq!(hosts.lines().nth(1), Some("127.0.0.1\tlocalhost"), "{hosts}");
    assert!(hosts.contains("10.1.2.3\tdb.local\n"), "{hosts}");
    let gw = hosts.lines().find(|l| l.ends_with("\tgw")).expect("host-gateway entry");
    assert!(gw.starts_with("172.") || gw.starts_with("192.168."), "{hosts}");
    let (db, gw) = (hosts.find("\tdb.local\n").unwrap(), hosts.find("\tgw\n").unwrap());
    assert!(gw < db, "reverse flag order, as the seed shows it: {hosts}");
    assert_eq!(parts[2], "nameserver 192.0.2.53\nsearch corp.example\noptions ndots:3\n");
    assert!(g.run(&["run", "--rm", "--add-host", "bad", &img, "true"]).fails().contains("add-host"));
    assert!(g.run(&["run", "--rm", "--dns", "nope", &img, "true"]).fails().contains("not an ip address"));
}

#[test]
fn rules_and_links_exist_only_while_containers_run() {
    let g = Gantry::new();
    let img = web(&g);
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:80");
    g.run(&["run", "-d", "--name", "ruled", "-p", &spec, &img]).ok();
    let id = g.inspect("{{.Id}}", "ruled");
    let endpoint = g.inspect("{{.NetworkSettings.EndpointID}}", "ruled");
    let veth = format!("veth{}", &endpoint[..7]);
    let table = nft_table(&g);
    assert!(table.contains(&format!("dport {port} dnat to")) && table.contains(&id), "{table}");
    assert!(links().contains(&veth));
    g.run(&["stop", "-t", "1", "ruled"]).ok();
    assert!(!nft_table(&g).contains(&id), "rules removed on stop");
    assert!(!links().contains(&veth), "veth removed on stop");
    assert_eq!(g.inspect("{{.NetworkSettings.IPAddress}}", "ruled"), "", "lease freed on stop");
    g.run(&["start", "ruled"]).ok();
    assert!(http_get(&format!("127.0.0.1:{port}"), 10).unwrap().contains("gantry-fixture-web"));

    // A killed monitor: the next command notices, and the rules, veth and lease go.
    let (_init, monitor) = g.init_and_monitor("ruled");
    let endpoint = g.inspect("{{.NetworkSettings.EndpointID}}", "ruled");
    let veth = format!("veth{}", &endpoint[..7]);
    // Orphans as a crash between two steps of a teardown leaves them: a gantry-named veth on
    // the bridge and a rule tagged with a container the database no longer has. A port gantry
    // did not name stays.
    let tag = common::rand_u32();
    let orphan = format!("veth{:07x}", tag & 0x0fff_ffff);
    let foreign = format!("keep{:07x}", tag & 0x0fff_ffff);
    let _links = LinkGuard(vec![orphan.clone(), foreign.clone()]);
    for (name, peer) in [(&orphan, "a"), (&foreign, "b")] {
        let peer = format!("gtp{peer}{:07x}", tag & 0x0fff_ffff);
        ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", name, "master", &g.bridge]);
    }
    let ghost = "e".repeat(64);
    let rule = format!("ip saddr 192.0.2.1 accept comment \"{ghost}\"");
    let added =
        Command::new("sh").args(["-c", &format!("nft add rule ip {} links {rule}", g.nft_table)]).status();
    assert!(added.unwrap().success());
    assert!(nft_table(&g).contains(&ghost));
    unsafe { libc::kill(monitor, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(200));
    g.wait_for("{{.State.Status}}", "ruled", "exited", 10);
    assert!(!nft_table(&g).contains(&id), "rules of a crashed container are removed");
    assert!(!links().contains(&veth), "its veth too");
    assert!(!links().contains(&orphan), "the orphaned veth too");
    assert!(!nft_table(&g).contains(&ghost), "and the orphaned rule");
    assert!(links().contains(&foreign), "a port gantry did not name is left alone");
    // Its host port is free again.
    g.run(&["run", "-d", "--name", "again", "-p", &spec, &img]).ok();
    g.run(&["rm", "-f", "again", "ruled"]).ok();
    assert!(!nft_table(&g).contains("dnat to"), "{}", nft_table(&g));
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip");
    assert!(st.success(), "ip {args:?}");
}

/// Links a test made by hand, deleted when it ends (a bridge's removal leaves its ports).
struct LinkGuard(Vec<String>);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        for l in &self.0 {
            let _ = Command::new("ip").args(["link", "del", l]).stderr(std::process::Stdio::null()).status();
        }
    }
}

#[test]
fn concurrent_starts_never_share_an_address() {
    let g = Gantry::new();
    let img = g.busybox();
    // The bridge first (so the race is on leases, not on creating it).
    g.run(&["run", "--rm", &img, "true"]).ok();
    let names: Vec<String> = (0..4).map(|i| format!("par{i}")).collect();
    std::thread::scope(|s| {
        for n in &names {
            let g = &g;
            let img = &img;
            s.spawn(move || g.run(&["run", "-d", "--name", n, img, "sleep", "60"]).ok().to_string());
        }
    });
    let mut ips: Vec<String> = names.iter().map(|n| g.inspect("{{.NetworkSettings.IPAddress}}", n)).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), names.len(), "every container has its own address: {ips:?}");
}
