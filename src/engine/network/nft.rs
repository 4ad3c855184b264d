//! gantry's packet filter: one nftables table (family `ip`, named by `network.nft_table`),
//! driven through `nft -j` with the `nftables` crate, as netavark does. Nothing outside that
//! table is ever read or changed.
//!
//! Layout:
//! - `prerouting` / `output` (nat): traffic for a local address jumps to `ports`;
//! - `ports`: one DNAT rule per published port, commented with the container ID;
//! - `postrouting` (nat): per network, masquerade of traffic leaving its subnet, of DNATed
//!   localhost traffic (with `route_localnet` on the bridge) and of hairpin traffic;
//! - `forward` (filter): per network, established flows, inter-container traffic (or, with ICC
//!   off, a jump to `links`), outbound traffic and published ports are accepted, the rest of
//!   the traffic towards the bridge dropped; internal networks drop anything crossing them;
//! - `links`: with ICC off, one accept per linked container port.
//!
//! Each batch is one atomic transaction. Rules are found again by their comment (`net:<id>`
//! for a network's, the container ID for a container's), so removal never depends on state
//! a killed process may have lost.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use nftables::batch::Batch;
use nftables::expr::{
    CT, Expression, Fib, FibFlag, FibResult, Meta, MetaKey, NamedExpression, Payload, PayloadField, Prefix,
};
use nftables::schema::{Chain, NfListObject, Rule, Table};
use nftables::stmt::{JumpTarget, Match, NAT, NATFamily, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

/// What an nft invocation failed with.
#[derive(Debug, thiserror::Error)]
#[error("nftables: {0}")]
pub struct NftError(String);

/// A network's part of the filter.
pub struct NetworkRules<'a> {
    pub id: &'a str,
    pub bridge: &'a str,
    pub subnet: Ipv4Net,
    pub internal: bool,
    pub icc: bool,
}

/// A published port: host address (`0.0.0.0` = every local address) and port, to a
/// container's address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnat {
    pub proto: String,
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
}

/// One port of a linked container that ICC-off must still let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAccept {
    pub bridge: String,
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub proto: String,
    pub port: u16,
}

pub struct Nft {
    table: String,
}

fn field(protocol: &str, field: &str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(PayloadField {
        protocol: Cow::Owned(protocol.to_string()),
        field: Cow::Owned(field.to_string()),
    })))
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn ct(key: &str) -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT { key: Cow::Owned(key.to_string()), family: None, dir: None }))
}

fn text(s: impl Into<String>) -> Expression<'static> {
    Expression::String(Cow::Owned(s.into()))
}

fn is(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match { left, right, op: Operator::EQ })
}

fn is_not(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match { left, right, op: Operator::NEQ })
}

fn has(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match { left, right, op: Operator::IN })
}

fn prefix(net: &Ipv4Net) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix {
        addr: Box::new(text(net.network().to_string())),
        len: net.prefix_len() as u32,
    }))
}

fn masquerade() -> Statement<'static> {
    Statement::Masquerade(None)
}

fn jump(chain: &str) -> Statement<'static> {
    Statement::Jump(JumpTarget { target: Cow::Owned(chain.to_string()) })
}

fn local_daddr() -> Statement<'static> {
    is(
        Expression::Named(NamedExpression::Fib(Fib {
            result: FibResult::Type,
            flags: HashSet::from([FibFlag::Daddr]),
        })),
        text("local"),
    )
}

impl Nft {
    pub fn new(table: &str) -> Self {
        Self { table: table.to_string() }
    }

    fn rule(&self, chain: &str, comment: &str, expr: Vec<Statement<'static>>) -> NfListObject<'static> {
        NfListObject::Rule(Rule {
            family: NfFamily::IP,
            table: Cow::Owned(self.table.clone()),
            chain: Cow::Owned(chain.to_string()),
            expr: Cow::Owned(expr),
            handle: None,
            index: None,
            comment: Some(Cow::Owned(comment.to_string())),
        })
    }

    fn chain(&self, name: &str, hook: Option<(NfChainType, NfHook, i32)>) -> NfListObject<'static> {
        NfListObject::Chain(Chain {
            family: NfFamily::IP,
            table: Cow::Owned(self.table.clone()),
            name: Cow::Owned(name.to_string()),
            newname: None,
            handle: None,
            _type: hook.map(|h| h.0),
            hook: hook.map(|h| h.1),
            prio: hook.map(|h| h.2),
            dev: None,
            policy: hook.map(|_| NfChainPolicy::Accept),
        })
    }

    fn apply(&self, batch: Batch<'static>) -> Result<(), NftError> {
        let ruleset = batch.to_nftables();
        nftables::helper::apply_ruleset(&ruleset).map_err(|e| NftError(describe(e)))
    }

    /// The table, its chains and the jumps into `ports` (idempotent: the hooked nat chains
    /// hold nothing but those jumps and are rewritten each time).
    fn base(&self, batch: &mut Batch<'static>) {
        batch.add(NfListObject::Table(Table {
            family: NfFamily::IP,
            name: Cow::Owned(self.table.clone()),
            handle: None,
        }));
        batch.add(self.chain("ports", None));
        batch.add(self.chain("links", None));
        batch.add(self.chain("prerouting", Some((NfChainType::NAT, NfHook::Prerouting, -100))));
        batch.add(self.chain("output", Some((NfChainType::NAT, NfHook::Output, -100))));
        batch.add(self.chain("postrouting", Some((NfChainType::NAT, NfHook::Postrouting, 100))));
        batch.add(self.chain("forward", Some((NfChainType::Filter, NfHook::Forward, 0))));
        for hooked in ["prerouting", "output"] {
            batch.add_cmd(nftables::schema::NfCmd::Flush(nftables::schema::FlushObject::Chain(Chain {
                family: NfFamily::IP,
                table: Cow::Owned(self.table.clone()),
                name: Cow::Owned(hooked.to_string()),
                newname: None,
                handle: None,
                _type: None,
                hook: None,
                prio: None,
                dev: None,
                policy: None,
            })));
            batch.add(self.rule(hooked, "gantry", vec![local_daddr(), jump("ports")]));
        }
    }

    /// Installs a network's rules (first removing any it had, so this is idempotent).
    pub fn add_network(&self, n: &NetworkRules<'_>) -> Result<(), NftError> {
        let comment = format!("net:{}", n.id);
        let stale = self.handles(&comment)?;
        let mut batch = Batch::new();
        self.base(&mut batch);
        self.delete_handles(&mut batch, &stale);
        let br = || text(n.bridge);
        let mut post = Vec::new();
        if !n.internal {
            post.push(vec![
                is(field("ip", "saddr"), prefix(&n.subnet)),
                is_not(meta(MetaKey::Oifname), br()),
                masquerade(),
            ]);
        }
        post.push(vec![
            is(meta(MetaKey::Oifname), br()),
            is(field("ip", "saddr"), prefix(&"127.0.0.0/8".parse().unwrap_or_default())),
            masquerade(),
        ]);
        post.push(vec![
            is(meta(MetaKey::Oifname), br()),
            is(field("ip", "saddr"), prefix(&n.subnet)),
            has(ct("status"), text("dnat")),
            masquerade(),
        ]);
        for expr in post {
            batch.add(self.rule("postrouting", &comment, expr));
        }
        let mut fwd = vec![vec![
            is(meta(MetaKey::Oifname), br()),
            has(ct("state"), Expression::List(vec![text("established"), text("related")])),
            Statement::Accept(None),
        ]];
        let both = || vec![is(meta(MetaKey::Iifname), br()), is(meta(MetaKey::Oifname), br())];
        if n.icc {
            fwd.push([both(), vec![Statement::Accept(None)]].concat());
        } else {
            fwd.push([both(), vec![jump("links")]].concat());
            fwd.push([both(), vec![Statement::Drop(None)]].concat());
        }
        if n.internal {
            fwd.push(vec![is(meta(MetaKey::Iifname), br()), Statement::Drop(None)]);
            fwd.push(vec![is(meta(MetaKey::Oifname), br()), Statement::Drop(None)]);
        } else {
            fwd.push(vec![is(meta(MetaKey::Iifname), br()), Statement::Accept(None)]);
            fwd.push(vec![
                is(meta(MetaKey::Oifname), br()),
                has(ct("status"), text("dnat")),
                Statement::Accept(None),
            ]);
            fwd.push(vec![is(meta(MetaKey::Oifname), br()), Statement::Drop(None)]);
        }
        for expr in fwd {
            batch.add(self.rule("forward", &comment, expr));
        }
        self.apply(batch)
    }

    /// Removes a network's rules.
    pub fn remove_network(&self, id: &str) -> Result<(), NftError> {
        self.remove_tagged(&format!("net:{id}"))
    }

    /// Adds a container's published ports and link exceptions, in one transaction.
    pub fn add_container(&self, id: &str, ports: &[Dnat], links: &[LinkAccept]) -> Result<(), NftError> {
        if ports.is_empty() && links.is_empty() {
            return Ok(());
        }
        // The table and chains exist (the network's setup made them); re-creating the hooked
        // chains costs the kernel a hook re-registration (~10 ms), so they are only rebuilt
        // if this batch fails for want of them (someone deleted the table).
        match self.apply(self.container_batch(id, ports, links, false)) {
            Ok(()) => Ok(()),
            Err(_) => self.apply(self.container_batch(id, ports, links, true)),
        }
    }

    fn container_batch(
        &self,
        id: &str,
        ports: &[Dnat],
        links: &[LinkAccept],
        with_base: bool,
    ) -> Batch<'static> {
        let mut batch = Batch::new();
        if with_base {
            self.base(&mut batch);
        }
        for p in ports {
            let mut expr = Vec::new();
            if !p.host_ip.is_unspecified() {
                expr.push(is(field("ip", "daddr"), text(p.host_ip.to_string())));
            }
            expr.push(is(field(&p.proto, "dport"), Expression::Number(p.host_port as u32)));
            expr.push(Statement::DNAT(Some(NAT {
                addr: Some(text(p.container_ip.to_string())),
                family: Some(NATFamily::IP),
                port: Some(Expression::Number(p.container_port as u32)),
                flags: None,
            })));
            batch.add(self.rule("ports", id, expr));
        }
        for l in links {
            batch.add(self.rule(
                "links",
                id,
                vec![
                    is(meta(MetaKey::Iifname), text(l.bridge.clone())),
                    is(field("ip", "saddr"), text(l.from.to_string())),
                    is(field("ip", "daddr"), text(l.to.to_string())),
                    is(field(&l.proto, "dport"), Expression::Number(l.port as u32)),
                    Statement::Accept(None),
                ],
            ));
        }
        batch
    }

    /// Removes every rule a container added.
    pub fn remove_container(&self, id: &str) -> Result<(), NftError> {
        self.remove_tagged(id)
    }

    /// Removes, in one transaction, every rule whose tag `stale` says belongs to nothing any
    /// more (the reconciliation's orphans); returns how many went.
    pub fn remove_stale(&self, stale: impl Fn(&str) -> bool) -> Result<usize, NftError> {
        let handles: Vec<(String, u32)> =
            self.rules()?.into_iter().filter(|r| stale(&r.2)).map(|r| (r.0, r.1)).collect();
        if handles.is_empty() {
            return Ok(0);
        }
        let mut batch = Batch::new();
        self.delete_handles(&mut batch, &handles);
        self.apply(batch)?;
        Ok(handles.len())
    }

    fn remove_tagged(&self, comment: &str) -> Result<(), NftError> {
        let handles = self.handles(comment)?;
        if handles.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        self.delete_handles(&mut batch, &handles);
        self.apply(batch)
    }

    fn delete_handles(&self, batch: &mut Batch<'static>, handles: &[(String, u32)]) {
        for (chain, handle) in handles {
            batch.delete(NfListObject::Rule(Rule {
                family: NfFamily::IP,
                table: Cow::Owned(self.table.clone()),
                chain: Cow::Owned(chain.clone()),
                expr: Cow::Owned(Vec::new()),
                handle: Some(*handle),
                index: None,
                comment: None,
            }));
        }
    }

    /// The current rules of the table, as (chain, handle, comment).
    pub fn rules(&self) -> Result<Vec<(String, u32, String)>, NftError> {
        let out = nftables::helper::get_current_ruleset_raw(
            nftables::helper::DEFAULT_NFT,
            ["list", "table", "ip", self.table.as_str()],
        );
        let json = match out {
            Ok(j) => j,
            // No table yet: nothing of ours to find.
            Err(nftables::helper::NftablesError::NftFailed { stderr, .. })
                if stderr.contains("No such file or directory") =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(NftError(describe(e))),
        };
        let v: serde_json::Value = serde_json::from_str(&json).map_err(|e| NftError(e.to_string()))?;
        let mut found = Vec::new();
        for obj in v.get("nftables").and_then(|a| a.as_array()).into_iter().flatten() {
            let Some(rule) = obj.get("rule") else { continue };
            let chain = rule.get("chain").and_then(|c| c.as_str()).unwrap_or("");
            let handle = rule.get("handle").and_then(|h| h.as_u64()).unwrap_or(0) as u32;
            let comment = rule.get("comment").and_then(|c| c.as_str()).unwrap_or("");
            found.push((chain.to_string(), handle, comment.to_string()));
        }
        Ok(found)
    }

    fn handles(&self, comment: &str) -> Result<Vec<(String, u32)>, NftError> {
        Ok(self.rules()?.into_iter().filter(|r| r.2 == comment).map(|r| (r.0, r.1)).collect())
    }
}

fn describe(e: nftables::helper::NftablesError) -> String {
    match e {
        nftables::helper::NftablesError::NftExecution { inner, .. }
            if inner.kind() == std::io::ErrorKind::NotFound =>
        {
            "the nft program is not installed (Debian package nftables)".to_string()
        }
        nftables::helper::NftablesError::NftFailed { stderr, .. } => stderr.trim().to_string(),
        other => other.to_string(),
    }
}
