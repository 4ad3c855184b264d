//! Network records, container endpoints with their address leases, and published ports.
//!
//! A lease is the `ip` column of an endpoint: set when the container starts, cleared when it
//! stops. A partial unique index on (network, ip) makes two concurrent starts that picked the
//! same address fail in the database instead of on the wire; allocation itself runs inside a
//! `BEGIN IMMEDIATE` transaction, so they do not even pick the same one.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::engine::network::ports::ActivePort;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkRow {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub bridge: String,
    pub subnet: String,
    pub gateway: String,
    pub ip_range: String,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub created: i64,
}

const NET_COLUMNS: &str =
    "id, name, driver, bridge, subnet, gateway, ip_range, internal, labels, options, created";

fn net_from_row(r: &Row<'_>) -> rusqlite::Result<NetworkRow> {
    Ok(NetworkRow {
        id: r.get(0)?,
        name: r.get(1)?,
        driver: r.get(2)?,
        bridge: r.get(3)?,
        subnet: r.get(4)?,
        gateway: r.get(5)?,
        ip_range: r.get(6)?,
        internal: r.get::<_, i64>(7)? != 0,
        labels: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
        options: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
        created: r.get(10)?,
    })
}

pub fn list(c: &Connection) -> rusqlite::Result<Vec<NetworkRow>> {
    let mut st = c.prepare_cached(&format!("SELECT {NET_COLUMNS} FROM networks ORDER BY name"))?;
    let rows = st.query_map([], net_from_row)?;
    rows.collect()
}

pub fn get(c: &Connection, id: &str) -> rusqlite::Result<Option<NetworkRow>> {
    c.query_row(&format!("SELECT {NET_COLUMNS} FROM networks WHERE id = ?1"), [id], net_from_row).optional()
}

/// Finds a network by full ID, exact name, or unique ID prefix (Docker's order).
pub fn resolve(c: &Connection, key: &str) -> rusqlite::Result<Vec<NetworkRow>> {
    for sql in ["id = ?1", "name = ?1"] {
        if let Some(n) = c
            .query_row(&format!("SELECT {NET_COLUMNS} FROM networks WHERE {sql}"), [key], net_from_row)
            .optional()?
        {
            return Ok(vec![n]);
        }
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let mut st = c.prepare_cached(&format!("SELECT {NET_COLUMNS} FROM networks WHERE id LIKE ?1 LIMIT 2"))?;
    let rows = st.query_map([format!("{}%", key.to_ascii_lowercase())], net_from_row)?;
    rows.collect()
}

pub fn insert(tx: &Transaction<'_>, n: &NetworkRow) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO networks ({NET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            n.id,
            n.name,
            n.driver,
            n.bridge,
            n.subnet,
            n.gateway,
            n.ip_range,
            n.internal as i64,
            serde_json::to_string(&n.labels).unwrap_or_else(|_| "{}".into()),
            serde_json::to_string(&n.options).unwrap_or_else(|_| "{}".into()),
            n.created
        ],
    )?;
    Ok(())
}

/// Records the bridge and addressing a network got on first use.
pub fn set_addressing(
    tx: &Transaction<'_>,
    id: &str,
    bridge: &str,
    subnet: &str,
    gateway: &str,
    ip_range: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE networks SET bridge = ?2, subnet = ?3, gateway = ?4, ip_range = ?5 WHERE id = ?1",
        params![id, bridge, subnet, gateway, ip_range],
    )?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM networks WHERE id = ?1", [id])?;
    Ok(())
}

/// A container's attachment to a network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointRow {
    pub container_id: String,
    pub network_id: String,
    pub ordinal: i64,
    pub aliases: Vec<String>,
    pub ip: Option<Ipv4Addr>,
    pub mac: String,
    pub endpoint_id: String,
}

const EP_COLUMNS: &str = "container_id, network_id, ordinal, aliases, ip, mac, endpoint_id";

fn ep_from_row(r: &Row<'_>) -> rusqlite::Result<EndpointRow> {
    Ok(EndpointRow {
        container_id: r.get(0)?,
        network_id: r.get(1)?,
        ordinal: r.get(2)?,
        aliases: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        ip: r.get::<_, Option<String>>(4)?.and_then(|s| s.parse().ok()),
        mac: r.get(5)?,
        endpoint_id: r.get(6)?,
    })
}

/// Attaches a container to a network (after any it already has).
pub fn add_endpoint(
    tx: &Transaction<'_>,
    container: &str,
    network: &str,
    aliases: &[String],
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO endpoints (container_id, network_id, ordinal, aliases) VALUES (?1, ?2, \
         (SELECT COALESCE(MAX(ordinal), -1) + 1 FROM endpoints WHERE container_id = ?1), ?3)",
        params![container, network, serde_json::to_string(aliases).unwrap_or_else(|_| "[]".into())],
    )?;
    Ok(())
}

pub fn remove_endpoint(tx: &Transaction<'_>, container: &str, network: &str) -> rusqlite::Result<bool> {
    Ok(tx
        .execute("DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2", [container, network])?
        > 0)
}

/// A container's endpoints, first-connected first.
pub fn endpoints_of(c: &Connection, container: &str) -> rusqlite::Result<Vec<EndpointRow>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {EP_COLUMNS} FROM endpoints WHERE container_id = ?1 ORDER BY ordinal"
    ))?;
    let rows = st.query_map([container], ep_from_row)?;
    rows.collect()
}

/// Every endpoint holding an address (its container is running or starting).
pub fn leased_endpoints(c: &Connection) -> rusqlite::Result<Vec<EndpointRow>> {
    let mut st = c.prepare_cached(&format!("SELECT {EP_COLUMNS} FROM endpoints WHERE ip IS NOT NULL"))?;
    let rows = st.query_map([], ep_from_row)?;
    rows.collect()
}

/// The endpoints on a network.
pub fn endpoints_on(c: &Connection, network: &str) -> rusqlite::Result<Vec<EndpointRow>> {
    let mut st = c.prepare_cached(&format!("SELECT {EP_COLUMNS} FROM endpoints WHERE network_id = ?1"))?;
    let rows = st.query_map([network], ep_from_row)?;
    rows.collect()
}

/// The addresses leased on a network.
pub fn leased_ips(tx: &Transaction<'_>, network: &str) -> rusqlite::Result<HashSet<Ipv4Addr>> {
    let mut st = tx.prepare_cached("SELECT ip FROM endpoints WHERE network_id = ?1 AND ip IS NOT NULL")?;
    let rows = st.query_map([network], |r| r.get::<_, String>(0))?;
    Ok(rows.filter_map(|r| r.ok()?.parse().ok()).collect())
}

pub fn set_lease(
    tx: &Transaction<'_>,
    container: &str,
    network: &str,
    ip: Ipv4Addr,
    mac: &str,
    endpoint_id: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE endpoints SET ip = ?3, mac = ?4, endpoint_id = ?5 WHERE container_id = ?1 AND network_id = ?2",
        params![container, network, ip.to_string(), mac, endpoint_id],
    )?;
    Ok(())
}

/// Frees a container's leases (on one network, or all) and, with all, its published ports.
pub fn release(tx: &Transaction<'_>, container: &str, network: Option<&str>) -> rusqlite::Result<()> {
    match network {
        Some(n) => {
            tx.execute(
                "UPDATE endpoints SET ip = NULL, mac = '', endpoint_id = '' WHERE container_id = ?1 AND network_id = ?2",
                [container, n],
            )?;
        }
        None => {
            tx.execute(
                "UPDATE endpoints SET ip = NULL, mac = '', endpoint_id = '' WHERE container_id = ?1",
                [container],
            )?;
            tx.execute("DELETE FROM ports WHERE container_id = ?1", [container])?;
        }
    }
    Ok(())
}

pub fn set_ports(tx: &Transaction<'_>, container: &str, ports: &[ActivePort]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM ports WHERE container_id = ?1", [container])?;
    for p in ports {
        tx.execute(
            "INSERT INTO ports (container_id, proto, container_port, host_ip, host_port) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![container, p.proto, p.container_port, p.host_ip.to_string(), p.host_port],
        )?;
    }
    Ok(())
}

fn port_from_row(r: &Row<'_>) -> rusqlite::Result<(String, ActivePort)> {
    Ok((
        r.get::<_, String>(0)?,
        ActivePort {
            proto: r.get(1)?,
            container_port: r.get(2)?,
            host_ip: r.get::<_, String>(3)?.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            host_port: r.get(4)?,
        },
    ))
}

const PORT_COLUMNS: &str = "container_id, proto, container_port, host_ip, host_port";

/// Published ports per container (for `ps`), in publishing order.
pub fn all_ports(c: &Connection) -> rusqlite::Result<BTreeMap<String, Vec<ActivePort>>> {
    let mut st = c.prepare_cached(&format!("SELECT {PORT_COLUMNS} FROM ports ORDER BY rowid"))?;
    let mut out: BTreeMap<String, Vec<ActivePort>> = BTreeMap::new();
    for row in st.query_map([], port_from_row)? {
        let (id, p) = row?;
        out.entry(id).or_default().push(p);
    }
    Ok(out)
}

/// One container's published ports, in publishing order.
pub fn ports_of(c: &Connection, container: &str) -> rusqlite::Result<Vec<ActivePort>> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {PORT_COLUMNS} FROM ports WHERE container_id = ?1 ORDER BY rowid"
    ))?;
    let rows = st.query_map([container], port_from_row)?;
    rows.map(|r| r.map(|(_, p)| p)).collect()
}
