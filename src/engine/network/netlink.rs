//! Links, addresses and routes through rtnetlink (the `netlink-packet-route` message types over
//! a plain blocking `netlink-sys` socket). A socket acts on the network namespace it was opened
//! in, so configuring a container's side means opening one from a thread inside that namespace
//! (see [`in_netns`]).
//!
//! Written against the message crates rather than `rtnetlink` because the monitor is not an
//! async program: a dozen synchronous request/acknowledge exchanges are all it needs.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use ipnet::Ipv4Net;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

/// A route-netlink socket in the namespace it was opened in.
pub struct Netlink {
    socket: Socket,
    seq: u32,
}

impl Netlink {
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        Ok(Self { socket, seq: 0 })
    }

    /// Sends one request and collects the replies until its acknowledgement (or the end of a
    /// dump); a negative acknowledgement becomes the matching `io::Error`.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut req = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        req.finalize();
        let mut buf = vec![0u8; req.buffer_len()];
        req.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Vec::new();
        let mut rx = vec![0u8; 64 * 1024];
        loop {
            let n = self.socket.recv(&mut &mut rx[..], 0)?;
            let mut off = 0;
            while off < n {
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[off..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("netlink: {e}")))?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq {
                    match msg.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                None => Ok(out),
                                Some(_) => Err(e.to_io()),
                            };
                        }
                        NetlinkPayload::Done(_) => return Ok(out),
                        NetlinkPayload::InnerMessage(m) => {
                            out.push(m);
                            if !dump {
                                return Ok(out);
                            }
                        }
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                off += len;
            }
        }
    }

    /// The index of the link called `name`, if there is one.
    pub fn link_index(&mut self, name: &str) -> io::Result<Option<u32>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::GetLink(m), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a bridge (if it does not exist yet) with the fixed MAC `mac`; returns its index.
    /// Without a MAC of its own a Linux bridge takes the lowest of its ports', which changes
    /// as containers come and go and leaves the containers' ARP entries for the gateway stale.
    pub fn ensure_bridge(&mut self, name: &str, mtu: u32, mac: [u8; 6]) -> io::Result<u32> {
        if let Some(i) = self.link_index(name)? {
            return Ok(i);
        }
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        m.attributes.push(LinkAttribute::Mtu(mtu));
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        m.attributes.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Bridge)]));
        match self.request(RouteNetlinkMessage::NewLink(m), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => return Err(e),
        }
        self.link_index(name)?.ok_or_else(|| io::Error::other(format!("bridge {name} vanished")))
    }

    pub fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(m), NLM_F_ACK).map(drop)
    }

    /// Adds `addr/prefix` to a link; an address it already has is fine.
    pub fn add_address(&mut self, index: u32, addr: Ipv4Addr, prefix: u8) -> io::Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = prefix;
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(IpAddr::V4(addr)));
        m.attributes.push(AddressAttribute::Address(IpAddr::V4(addr)));
        if let Ok(net) = Ipv4Net::new(addr, prefix) {
            if prefix < 31 {
                m.attributes.push(AddressAttribute::Broadcast(net.broadcast()));
            }
        }
        match self.request(RouteNetlinkMessage::NewAddress(m), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => Err(e),
            _ => Ok(()),
        }
    }

    /// Creates a veth pair: `host` enslaved to `bridge`, and `peer` (with `mac`) created
    /// directly inside the network namespace of process `pid`.
    pub fn create_veth(
        &mut self,
        host: &str,
        bridge: u32,
        mtu: u32,
        peer: &str,
        mac: [u8; 6],
        pid: i32,
    ) -> io::Result<()> {
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.to_string()));
        p.attributes.push(LinkAttribute::Mtu(mtu));
        p.attributes.push(LinkAttribute::Address(mac.to_vec()));
        p.attributes.push(LinkAttribute::NetNsPid(pid as u32));
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(host.to_string()));
        m.attributes.push(LinkAttribute::Mtu(mtu));
        m.attributes.push(LinkAttribute::Controller(bridge));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        self.request(RouteNetlinkMessage::NewLink(m), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)?;
        let index = self.link_index(host)?.ok_or_else(|| io::Error::other(format!("{host} vanished")))?;
        self.set_up(index)
    }

    /// Deletes a link by name; false when there was none.
    pub fn delete_link(&mut self, name: &str) -> io::Result<bool> {
        let Some(index) = self.link_index(name)? else { return Ok(false) };
        let mut m = LinkMessage::default();
        m.header.index = index;
        match self.request(RouteNetlinkMessage::DelLink(m), NLM_F_ACK) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds the default route through `gateway` (replacing none that exists).
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.table = libc::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes.push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        match self.request(RouteNetlinkMessage::NewRoute(m), NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) {
            Err(e) if e.raw_os_error() != Some(libc::EEXIST) => Err(e),
            _ => Ok(()),
        }
    }

    /// The names of the links enslaved to the bridge with index `bridge`.
    pub fn ports_of(&mut self, bridge: u32) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for reply in self.request(RouteNetlinkMessage::GetLink(LinkMessage::default()), NLM_F_DUMP)? {
            let RouteNetlinkMessage::NewLink(l) = reply else { continue };
            let on_bridge =
                l.attributes.iter().any(|a| matches!(a, LinkAttribute::Controller(c) if *c == bridge));
            let name = l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some(n.clone()),
                _ => None,
            });
            if let (true, Some(name)) = (on_bridge, name) {
                out.push(name);
            }
        }
        Ok(out)
    }

    /// Every IPv4 network the host already uses: route destinations and interface addresses.
    /// A new bridge subnet must overlap none of them.
    pub fn used_ipv4_networks(&mut self) -> io::Result<Vec<Ipv4Net>> {
        let mut out = Vec::new();
        let mut r = RouteMessage::default();
        r.header.address_family = AddressFamily::Inet;
        for reply in self.request(RouteNetlinkMessage::GetRoute(r), NLM_F_DUMP)? {
            let RouteNetlinkMessage::NewRoute(route) = reply else { continue };
            let len = route.header.destination_prefix_length;
            if len == 0 {
                continue; // the default route
            }
            let table = route.attributes.iter().find_map(|a| match a {
                RouteAttribute::Table(t) => Some(*t),
                _ => None,
            });
            // Local and broadcast routes duplicate the interface addresses collected below.
            if table == Some(libc::RT_TABLE_LOCAL as u32) || route.header.table == libc::RT_TABLE_LOCAL {
                continue;
            }
            for a in &route.attributes {
                if let RouteAttribute::Destination(RouteAddress::Inet(d)) = a {
                    if let Ok(n) = Ipv4Net::new(*d, len) {
                        out.push(n.trunc());
                    }
                }
            }
        }
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet;
        for reply in self.request(RouteNetlinkMessage::GetAddress(a), NLM_F_DUMP)? {
            let RouteNetlinkMessage::NewAddress(addr) = reply else { continue };
            for attr in &addr.attributes {
                if let AddressAttribute::Local(IpAddr::V4(ip)) | AddressAttribute::Address(IpAddr::V4(ip)) =
                    attr
                {
                    if let Ok(n) = Ipv4Net::new(*ip, addr.header.prefix_len) {
                        out.push(n.trunc());
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Runs `f` on a new thread that has joined the network namespace at `ns` (a
/// `/proc/PID/ns/net` path), so that the caller's own threads never change namespace: the
/// safe way for a multi-threaded process (netavark does the same). The thread ends with `f`.
pub fn in_netns<T: Send>(ns: &Path, f: impl FnOnce() -> io::Result<T> + Send) -> io::Result<T> {
    let file = std::fs::File::open(ns)?;
    std::thread::scope(|s| {
        s.spawn(|| {
            rustix::thread::move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&file),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )?;
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    })
}
