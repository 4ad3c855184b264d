//! The files a container gets from the engine rather than its image: /etc/hostname,
//! /etc/hosts and /etc/resolv.conf, written per container and bind-mounted over the image's.

use std::io;
use std::path::Path;

/// Writes `hostname`, `hosts` and `resolv.conf` into `dir`.
pub fn write_etc_files(dir: &Path, hostname: &str, domainname: &str) -> io::Result<()> {
    std::fs::write(dir.join("hostname"), format!("{hostname}\n"))?;
    let fqdn = if domainname.is_empty() {
        hostname.to_string()
    } else {
        format!("{hostname}.{domainname} {hostname}")
    };
    let hosts = format!(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n127.0.1.1\t{fqdn}\n"
    );
    std::fs::write(dir.join("hosts"), hosts)?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    std::fs::write(dir.join("resolv.conf"), container_resolv_conf(&host))?;
    Ok(())
}

/// The host's resolv.conf without loopback nameservers, which mean nothing inside the
/// container's own network namespace.
pub fn container_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let addr = words.next().unwrap_or("");
            let loopback = addr.parse::<std::net::IpAddr>().map(|a| a.is_loopback()).unwrap_or(false);
            if loopback {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_loopback_nameservers() {
        let host = "# c\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\nsearch lan\n";
        assert_eq!(container_resolv_conf(host), "# c\nnameserver 192.0.2.53\nsearch lan\n");
    }
}
