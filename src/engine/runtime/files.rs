//! The files a container gets from the engine rather than its image: /etc/hostname,
//! /etc/hosts and /etc/resolv.conf, written per container and bind-mounted over the image's.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// What the /etc files say.
#[derive(Debug, Clone, Default)]
pub struct EtcFiles<'a> {
    pub hostname: &'a str,
    pub domainname: &'a str,
    /// The container's address on its first network (none with `--network none`).
    pub ip: Option<Ipv4Addr>,
    /// `--add-host` values (`name:ip`).
    pub extra_hosts: &'a [String],
    /// Lines for linked containers.
    pub link_lines: Vec<String>,
    /// `--dns`, `--dns-search`, `--dns-option`.
    pub dns: &'a [String],
    pub dns_search: &'a [String],
    pub dns_options: &'a [String],
    /// A nameserver to use instead of the host's: the network's own DNS responder.
    pub network_dns: Option<Ipv4Addr>,
    /// What `host-gateway` in `--add-host` means.
    pub host_gateway: Option<Ipv4Addr>,
}

/// Parses `--add-host name:ip` (or `name=ip`); the address may be `host-gateway`.
pub fn parse_extra_host(s: &str) -> Result<(String, String), String> {
    let (name, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(|| format!("bad format for add-host: {s:?}"))?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("bad format for add-host: {s:?}"));
    }
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if ip != "host-gateway" && ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address in add-host: {ip:?}"));
    }
    Ok((name.to_string(), ip.to_string()))
}

/// The /etc/hosts text, in the layout of Docker as seed 004 shows it: the container's own
/// address and name first, the fixed localhost lines, the `--add-host` entries (the last flag
/// first, as there), then the links.
pub fn hosts(f: &EtcFiles<'_>) -> String {
    let names = if f.domainname.is_empty() {
        f.hostname.to_string()
    } else {
        format!("{}.{} {}", f.hostname, f.domainname, f.hostname)
    };
    let own = f.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "127.0.1.1".into());
    let mut out = format!(
        "{own}\t{names}\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
    );
    for line in add_host_lines(f).rev() {
        out.push_str(&line);
    }
    for l in &f.link_lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The `--add-host` entries as hosts lines, in flag order; `host-gateway` is the gateway's
/// address, and the entry is left out where there is none (no bridge network).
fn add_host_lines<'a>(f: &'a EtcFiles<'_>) -> impl DoubleEndedIterator<Item = String> + 'a {
    f.extra_hosts.iter().filter_map(|h| {
        let (name, ip) = parse_extra_host(h).ok()?;
        let ip = match (ip.as_str(), f.host_gateway) {
            ("host-gateway", Some(g)) => g.to_string(),
            ("host-gateway", None) => return None,
            _ => ip,
        };
        Some(format!("{ip}\t{name}\n"))
    })
}

/// Writes `hostname`, `hosts` and `resolv.conf` into `dir`. The files are rewritten in place
/// (same inode), so a restart updates what the container's bind mounts show.
pub fn write_etc_files(dir: &Path, f: &EtcFiles<'_>) -> io::Result<()> {
    std::fs::write(dir.join("hostname"), format!("{}\n", f.hostname))?;
    std::fs::write(dir.join("hosts"), hosts(f))?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    std::fs::write(dir.join("resolv.conf"), resolv_conf(&host, f))?;
    Ok(())
}

/// `--network host`: the host's own hosts file (plus `--add-host` lines) and, without `--dns`
/// flags, its resolv.conf as it is (loopback resolvers work in the host's namespace), as
/// Docker gives them.
pub fn write_host_mode_files(dir: &Path, f: &EtcFiles<'_>) -> io::Result<()> {
    std::fs::write(dir.join("hostname"), format!("{}\n", f.hostname))?;
    let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    if !hosts.is_empty() && !hosts.ends_with('\n') {
        hosts.push('\n');
    }
    hosts.extend(add_host_lines(f));
    std::fs::write(dir.join("hosts"), hosts)?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let custom = !f.dns.is_empty() || !f.dns_search.is_empty() || !f.dns_options.is_empty();
    std::fs::write(dir.join("resolv.conf"), if custom { resolv_conf(&host, f) } else { host })?;
    Ok(())
}

/// `--network container:X`: X's own files, which describe the network the container joins.
pub fn copy_etc_files(from: &Path, dir: &Path) -> io::Result<()> {
    for f in ["hostname", "hosts", "resolv.conf"] {
        std::fs::write(dir.join(f), std::fs::read(from.join(f))?)?;
    }
    Ok(())
}

/// The container's resolv.conf: the network's responder (which forwards to `--dns` servers
/// itself, as Docker's embedded DNS does), else `--dns`, else the host's non-loopback
/// nameservers (Docker's public fallback when none remain); `--dns-search` and
/// `--dns-option` replace the host's search and options lines.
pub fn resolv_conf(host: &str, f: &EtcFiles<'_>) -> String {
    let mut servers: Vec<String> = match f.network_dns {
        Some(d) => vec![d.to_string()],
        None => f.dns.to_vec(),
    };
    let mut search: Vec<String> = f.dns_search.to_vec();
    let mut options: Vec<String> = f.dns_options.to_vec();
    let mut host_servers = Vec::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                let addr = words.next().unwrap_or("");
                let loopback = addr.parse::<IpAddr>().map(|a| a.is_loopback()).unwrap_or(true);
                if !loopback {
                    host_servers.push(addr.to_string());
                }
            }
            Some("search") | Some("domain") if f.dns_search.is_empty() => {
                search.extend(words.map(String::from))
            }
            Some("options") if f.dns_options.is_empty() => options.extend(words.map(String::from)),
            _ => {}
        }
    }
    if servers.is_empty() {
        servers = host_servers;
    }
    if servers.is_empty() {
        servers = vec!["8.8.8.8".into(), "8.8.4.4".into()];
    }
    let mut out = String::new();
    for s in servers {
        out.push_str(&format!("nameserver {s}\n"));
    }
    if !search.is_empty() && search != ["."] {
        out.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        out.push_str(&format!("options {}\n", options.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_sources() {
        let host =
            "# c\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\nsearch lan\noptions edns0\n";
        let plain = EtcFiles::default();
        assert_eq!(resolv_conf(host, &plain), "nameserver 192.0.2.53\nsearch lan\noptions edns0\n");
        let dns = vec!["10.0.0.2".to_string()];
        let search = vec!["example.com".to_string()];
        let opts = vec!["ndots:2".to_string()];
        let custom = EtcFiles { dns: &dns, dns_search: &search, dns_options: &opts, ..Default::default() };
        assert_eq!(resolv_conf(host, &custom), "nameserver 10.0.0.2\nsearch example.com\noptions ndots:2\n");
        let net = EtcFiles { network_dns: Some(Ipv4Addr::new(172, 20, 0, 1)), ..Default::default() };
        assert!(resolv_conf(host, &net).starts_with("nameserver 172.20.0.1\nsearch lan"));
        // On a network with a responder, `--dns` goes to the responder, not resolv.conf.
        let both =
            EtcFiles { network_dns: Some(Ipv4Addr::new(172, 20, 0, 1)), dns: &dns, ..Default::default() };
        assert_eq!(resolv_conf(host, &both), "nameserver 172.20.0.1\nsearch lan\noptions edns0\n");
        assert!(resolv_conf("nameserver 127.0.0.53\n", &plain).contains("nameserver 8.8.8.8"));
    }

    #[test]
    fn hosts_layout() {
        let extra = vec!["db.local:10.1.2.3".to_string(), "gw:host-gateway".to_string()];
        let f = EtcFiles {
            hostname: "web",
            domainname: "",
            ip: Some(Ipv4Addr::new(172, 17, 0, 3)),
            extra_hosts: &extra,
            link_lines: vec!["172.17.0.2\tdatabase 0123456789ab mydb".into()],
            host_gateway: Some(Ipv4Addr::new(172, 17, 0, 1)),
            ..Default::default()
        };
        let text = hosts(&f);
        assert!(text.starts_with("172.17.0.3\tweb\n127.0.0.1\tlocalhost\n"), "{text}");
        assert!(
            text.ends_with("ff02::2\tip6-allrouters\n172.17.0.1\tgw\n10.1.2.3\tdb.local\n172.17.0.2\tdatabase 0123456789ab mydb\n"),
            "{text}"
        );
        assert!(parse_extra_host("nocolon").is_err());
        assert!(parse_extra_host("a:notanip").is_err());
        assert_eq!(parse_extra_host("a=10.0.0.1").unwrap(), ("a".into(), "10.0.0.1".into()));
    }
}
