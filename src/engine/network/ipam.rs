//! Address management: picking a subnet no one on the host uses, and the container addresses
//! and MACs within it. Leases themselves live in the database (see `store::networks`), so that
//! concurrent runs serialize on its write lock and a lease outlives the process that took it.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Docker's default address pools: 172.17–31.0.0/16, then 192.168.0.0/16 cut into /20s.
pub fn default_pool() -> impl Iterator<Item = Ipv4Net> {
    let sixteens = (17u8..=31).filter_map(|b| Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16).ok());
    let twenties = (0u8..16).filter_map(|i| Ipv4Net::new(Ipv4Addr::new(192, 168, i * 16, 0), 20).ok());
    sixteens.chain(twenties)
}

/// Whether two networks share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The first pool subnet overlapping none of `used`.
pub fn choose_subnet(used: &[Ipv4Net]) -> Option<Ipv4Net> {
    default_pool().find(|cand| !used.iter().any(|u| overlaps(cand, u)))
}

/// The gateway of a subnet: its first host address, as Docker assigns it.
pub fn first_host(subnet: &Ipv4Net) -> Option<Ipv4Addr> {
    subnet.hosts().next()
}

/// The lowest address of `range` (within `subnet`) that is not the network, broadcast,
/// gateway, or already in `used`.
pub fn next_free(
    subnet: &Ipv4Net,
    range: &Ipv4Net,
    gateway: Ipv4Addr,
    used: &HashSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    range.hosts().find(|ip| {
        subnet.contains(ip)
            && *ip != gateway
            && *ip != subnet.network()
            && *ip != subnet.broadcast()
            && !used.contains(ip)
    })
}

/// Docker's MAC for an address: `02:42` followed by the four IPv4 bytes.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

pub fn format_mac(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn subnet_avoids_routes_and_addresses() {
        assert_eq!(choose_subnet(&[]), Some(net("172.17.0.0/16")));
        let used = [net("172.17.5.0/24"), net("172.18.0.0/15"), net("10.0.0.0/8")];
        assert_eq!(choose_subnet(&used), Some(net("172.20.0.0/16")));
        // A host route covering the whole 172.16/12 range pushes gantry to 192.168.
        assert_eq!(choose_subnet(&[net("172.16.0.0/12")]), Some(net("192.168.0.0/20")));
        let all: Vec<Ipv4Net> = default_pool().collect();
        assert_eq!(choose_subnet(&all), None);
    }

    #[test]
    fn addresses_skip_gateway_and_leases() {
        let s = net("172.20.0.0/16");
        let gw = first_host(&s).unwrap();
        assert_eq!(gw, Ipv4Addr::new(172, 20, 0, 1));
        let mut used = HashSet::new();
        assert_eq!(next_free(&s, &s, gw, &used), Some(Ipv4Addr::new(172, 20, 0, 2)));
        used.insert(Ipv4Addr::new(172, 20, 0, 2));
        assert_eq!(next_free(&s, &s, gw, &used), Some(Ipv4Addr::new(172, 20, 0, 3)));
        let range = net("172.20.5.0/30");
        assert_eq!(next_free(&s, &range, gw, &used), Some(Ipv4Addr::new(172, 20, 5, 1)));
        let tiny = net("192.0.2.0/30");
        let gw = first_host(&tiny).unwrap();
        let used: HashSet<_> = [Ipv4Addr::new(192, 0, 2, 2)].into();
        assert_eq!(next_free(&tiny, &tiny, gw, &used), None, "a full subnet has no address to give");
    }

    #[test]
    fn mac_is_derived_from_the_address() {
        assert_eq!(format_mac(mac_for(Ipv4Addr::new(172, 17, 0, 2))), "02:42:ac:11:00:02");
    }
}
