//! Published ports: Docker's `-p` / `--expose` syntax, and the host-side reservation that makes
//! a port gantry's while its container runs.
//!
//! The reservation is a socket bound (not listening) to the host address and port, held by the
//! container's monitor: the kernel then refuses the port to anyone else (another container, or a
//! host program), and a conflict is found before the container starts. Traffic itself never
//! reaches that socket: nftables DNAT sends it to the container first.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;

use rustix::net::{AddressFamily, SocketType};
use serde::{Deserialize, Serialize};

/// One host side of a container port, as Docker's `HostConfig.PortBindings` stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// `"80/tcp"` → host bindings.
pub type PortMap = BTreeMap<String, Vec<PortBinding>>;

/// Splits `"80/tcp"` into (80, "tcp").
pub fn split_key(key: &str) -> Option<(u16, &str)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto))
}

fn parse_proto(p: &str) -> Result<&'static str, String> {
    match p.to_ascii_lowercase().as_str() {
        "" | "tcp" => Ok("tcp"),
        "udp" => Ok("udp"),
        "sctp" => Err("sctp ports are not supported".into()),
        other => Err(format!("invalid proto: {other}")),
    }
}

/// Parses `N` or `N-M` (1–65535).
fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let bad = || format!("invalid port: {s:?}");
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// Parses one `-p` value: `[ip:[hostPort]:]containerPort[/proto]`, where either port may be a
/// range. Returns `("80/tcp", binding)` pairs.
pub fn parse_publish(spec: &str) -> Result<Vec<(String, PortBinding)>, String> {
    let (body, proto) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, parse_proto(p)?),
        None => (spec, "tcp"),
    };
    if body.starts_with('[') {
        return Err(format!("invalid publish {spec:?}: IPv6 host addresses are not supported"));
    }
    let parts: Vec<&str> = body.split(':').collect();
    let (ip, host, ctr) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => return Err(format!("invalid publish {spec:?}")),
    };
    if !ip.is_empty() {
        ip.parse::<Ipv4Addr>().map_err(|_| format!("invalid IP address in publish {spec:?}: {ip}"))?;
    }
    let (c0, c1) = parse_range(ctr).map_err(|e| format!("invalid containerPort in {spec:?}: {e}"))?;
    let count = (c1 - c0) as usize + 1;
    let mut out = Vec::with_capacity(count);
    if host.is_empty() {
        for p in c0..=c1 {
            out.push((format!("{p}/{proto}"), PortBinding { host_ip: ip.into(), host_port: String::new() }));
        }
        return Ok(out);
    }
    let (h0, h1) = parse_range(host).map_err(|e| format!("invalid hostPort in {spec:?}: {e}"))?;
    let hcount = (h1 - h0) as usize + 1;
    if count == 1 {
        // One container port, maybe a host range: any free port of the range will do.
        let host_port = if hcount == 1 { h0.to_string() } else { format!("{h0}-{h1}") };
        out.push((format!("{c0}/{proto}"), PortBinding { host_ip: ip.into(), host_port }));
    } else if hcount == count {
        for (c, h) in (c0..=c1).zip(h0..=h1) {
            out.push((format!("{c}/{proto}"), PortBinding { host_ip: ip.into(), host_port: h.to_string() }));
        }
    } else {
        return Err(format!("invalid ranges specified for container and host ports in {spec:?}"));
    }
    Ok(out)
}

/// Parses `--expose` (`80`, `8000-8010/udp`) into port keys.
pub fn parse_expose(spec: &str) -> Result<Vec<String>, String> {
    let (body, proto) = match spec.rsplit_once('/') {
        Some((b, p)) => (b, parse_proto(p)?),
        None => (spec, "tcp"),
    };
    let (a, b) = parse_range(body).map_err(|e| format!("invalid range format for --expose: {e}"))?;
    Ok((a..=b).map(|p| format!("{p}/{proto}")).collect())
}

/// A published port as it is while its container runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePort {
    pub proto: String,
    pub container_port: u16,
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
}

impl ActivePort {
    /// A `docker port` line: `80/tcp -> 127.0.0.1:8080`.
    pub fn mapping(&self) -> String {
        format!("{}/{} -> {}:{}", self.container_port, self.proto, self.host_ip, self.host_port)
    }
}

/// Reserves the host side of a binding; returns the chosen port and the socket holding it.
pub fn reserve(proto: &str, container_port: u16, b: &PortBinding) -> Result<(ActivePort, OwnedFd), String> {
    let ip: Ipv4Addr = if b.host_ip.is_empty() {
        Ipv4Addr::UNSPECIFIED
    } else {
        b.host_ip.parse().map_err(|_| format!("invalid host IP {:?}", b.host_ip))?
    };
    let candidates: Vec<u16> = if b.host_port.is_empty() {
        vec![0]
    } else {
        let (a, z) = parse_range(&b.host_port)?;
        (a..=z).collect()
    };
    let kind = if proto == "udp" { SocketType::DGRAM } else { SocketType::STREAM };
    let mut last = None;
    for port in candidates {
        let sock =
            rustix::net::socket_with(AddressFamily::INET, kind, rustix::net::SocketFlags::CLOEXEC, None)
                .map_err(|e| format!("reserving a host port: {e}"))?;
        match rustix::net::bind(&sock, &SocketAddrV4::new(ip, port)) {
            Ok(()) => {
                let host_port = match rustix::net::getsockname(&sock) {
                    Ok(addr) => SocketAddrV4::try_from(addr).map(|a| a.port()).unwrap_or(port),
                    Err(_) => port,
                };
                let active = ActivePort { proto: proto.into(), container_port, host_ip: ip, host_port };
                return Ok((active, sock));
            }
            Err(e) => last = Some((port, e)),
        }
    }
    let (port, e) = last.unwrap_or((0, rustix::io::Errno::INVAL));
    Err(match e {
        rustix::io::Errno::ADDRINUSE => {
            format!("Bind for {ip}:{port} failed: port is already allocated")
        }
        rustix::io::Errno::ADDRNOTAVAIL => {
            format!(
                "Error starting userland proxy: listen {proto} {ip}:{port}: bind: cannot assign requested address"
            )
        }
        other => format!("Bind for {ip}:{port} failed: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ip: &str, port: &str) -> PortBinding {
        PortBinding { host_ip: ip.into(), host_port: port.into() }
    }

    #[test]
    fn every_publish_form() {
        assert_eq!(parse_publish("80").unwrap(), vec![("80/tcp".into(), b("", ""))]);
        assert_eq!(parse_publish("8080:80").unwrap(), vec![("80/tcp".into(), b("", "8080"))]);
        assert_eq!(
            parse_publish("127.0.0.1:8080:80").unwrap(),
            vec![("80/tcp".into(), b("127.0.0.1", "8080"))]
        );
        assert_eq!(parse_publish("127.0.0.1::80").unwrap(), vec![("80/tcp".into(), b("127.0.0.1", ""))]);
        assert_eq!(parse_publish("53:53/udp").unwrap(), vec![("53/udp".into(), b("", "53"))]);
        assert_eq!(
            parse_publish("8000-8001:80-81").unwrap(),
            vec![("80/tcp".into(), b("", "8000")), ("81/tcp".into(), b("", "8001"))]
        );
        assert_eq!(parse_publish("8000-8010:80").unwrap(), vec![("80/tcp".into(), b("", "8000-8010"))]);
        assert_eq!(parse_publish("80-81").unwrap().len(), 2);
        for bad in [
            "",
            "x",
            "0",
            "70000",
            "1.2.3:80:80",
            "8000-8002:80-81",
            "80/icmp",
            "81-80",
            "a:b:c:d",
            "[::1]:80:80",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn expose_forms() {
        assert_eq!(parse_expose("80").unwrap(), vec!["80/tcp"]);
        assert_eq!(parse_expose("53/udp").unwrap(), vec!["53/udp"]);
        assert_eq!(parse_expose("8000-8002").unwrap().len(), 3);
        assert!(parse_expose("http").is_err());
        assert_eq!(split_key("53/udp"), Some((53, "udp")));
    }

    #[test]
    fn a_reserved_port_is_refused_to_the_next_taker() {
        let (first, _held) = reserve("tcp", 80, &b("127.0.0.1", "")).unwrap();
        assert_ne!(first.host_port, 0, "an ephemeral port was chosen");
        let again = b("127.0.0.1", &first.host_port.to_string());
        let err = reserve("tcp", 80, &again).unwrap_err();
        assert!(err.contains("port is already allocated"), "{err}");
        // The wildcard address conflicts with the specific one too.
        assert!(reserve("tcp", 80, &b("", &first.host_port.to_string())).is_err());
        // UDP is a different space.
        assert!(reserve("udp", 80, &again).is_ok());
        // From a range, a free port is taken.
        let range = format!("{}-{}", first.host_port, first.host_port.saturating_add(20));
        let (next, _h2) = reserve("tcp", 80, &b("127.0.0.1", &range)).unwrap();
        assert_ne!(next.host_port, first.host_port);
    }
}
