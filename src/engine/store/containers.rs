//! Container records. The row is the container's state of record: every gantry process and
//! every monitor reads and writes it, always through short transactions.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

/// Docker's container states (plus `starting` and `removing`, transient states that keep two
/// processes from starting or removing one container at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Created,
    Starting,
    Running,
    Paused,
    Restarting,
    Exited,
    Dead,
    Removing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Starting => "starting",
            State::Running => "running",
            State::Paused => "paused",
            State::Restarting => "restarting",
            State::Exited => "exited",
            State::Dead => "dead",
            State::Removing => "removing",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "created" => State::Created,
            "starting" => State::Starting,
            "running" => State::Running,
            "paused" => State::Paused,
            "restarting" => State::Restarting,
            "exited" => State::Exited,
            "removing" => State::Removing,
            _ => State::Dead,
        }
    }

    /// Whether a monitor is (supposed to be) alive for the container.
    pub fn has_monitor(self) -> bool {
        matches!(self, State::Starting | State::Running | State::Paused | State::Restarting)
    }
}

/// One container row.
#[derive(Debug, Clone)]
pub struct ContainerRow {
    pub id: String,
    pub name: String,
    pub image_id: String,
    pub image_name: String,
    pub config: String,
    pub host_config: String,
    pub created: i64,
    pub state: State,
    pub pid: i32,
    pub monitor_pid: i32,
    pub monitor_start: u64,
    pub exit_code: i32,
    pub started_at: i64,
    pub finished_at: i64,
    pub oom_killed: bool,
    pub error: String,
    pub restart_count: i64,
    pub stopped_by_user: bool,
}

impl ContainerRow {
    /// The record of a container just created: nothing has run yet.
    pub fn created(
        id: String,
        name: String,
        image: (String, String),
        config: String,
        host_config: String,
        created: i64,
    ) -> Self {
        let (image_id, image_name) = image;
        Self {
            id,
            name,
            image_id,
            image_name,
            config,
            host_config,
            created,
            state: State::Created,
            pid: 0,
            monitor_pid: 0,
            monitor_start: 0,
            exit_code: 0,
            started_at: 0,
            finished_at: 0,
            oom_killed: false,
            error: String::new(),
            restart_count: 0,
            stopped_by_user: false,
        }
    }
}

const COLUMNS: &str = "id, name, image_id, image_name, config, host_config, created, state, pid, monitor_pid, \
    monitor_start, exit_code, started_at, finished_at, oom_killed, error, restart_count, stopped_by_user";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ContainerRow> {
    Ok(ContainerRow {
        id: r.get(0)?,
        name: r.get(1)?,
        image_id: r.get(2)?,
        image_name: r.get(3)?,
        config: r.get(4)?,
        host_config: r.get(5)?,
        created: r.get(6)?,
        state: State::parse(&r.get::<_, String>(7)?),
        pid: r.get(8)?,
        monitor_pid: r.get(9)?,
        monitor_start: r.get::<_, i64>(10)? as u64,
        exit_code: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        oom_killed: r.get::<_, i64>(14)? != 0,
        error: r.get(15)?,
        restart_count: r.get(16)?,
        stopped_by_user: r.get::<_, i64>(17)? != 0,
    })
}

pub fn insert(tx: &Transaction<'_>, c: &ContainerRow) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO containers ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, 0, 0, 0, 0, 0, '', 0, 0)"),
        params![c.id, c.name, c.image_id, c.image_name, c.config, c.host_config, c.created, c.state.as_str()],
    )?;
    Ok(())
}

pub fn get(c: &Connection, id: &str) -> rusqlite::Result<Option<ContainerRow>> {
    c.query_row(&format!("SELECT {COLUMNS} FROM containers WHERE id = ?1"), [id], from_row).optional()
}

pub fn list(c: &Connection) -> rusqlite::Result<Vec<ContainerRow>> {
    // Sorted here rather than by `ORDER BY`: SQLite would copy every whole row (a kilobyte
    // or more of JSON each) into a temporary B-tree to sort it.
    let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM containers"))?;
    let mut rows: Vec<ContainerRow> = st.query_map([], from_row)?.collect::<rusqlite::Result<_>>()?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.created));
    Ok(rows)
}

/// Resolves a full ID, a unique ID prefix or a name (Docker's order: exact ID, exact name, prefix).
pub fn resolve(c: &Connection, key: &str) -> rusqlite::Result<Resolved> {
    let key = key.strip_prefix('/').unwrap_or(key);
    if let Some(id) =
        c.query_row("SELECT id FROM containers WHERE id = ?1", [key], |r| r.get(0)).optional()?
    {
        return Ok(Resolved::One(id));
    }
    if let Some(id) =
        c.query_row("SELECT id FROM containers WHERE name = ?1", [key], |r| r.get(0)).optional()?
    {
        return Ok(Resolved::One(id));
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Resolved::None);
    }
    let mut st = c.prepare_cached("SELECT id FROM containers WHERE id LIKE ?1 LIMIT 2")?;
    let ids: Vec<String> =
        st.query_map([format!("{}%", key.to_ascii_lowercase())], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(match ids.len() {
        0 => Resolved::None,
        1 => Resolved::One(ids.into_iter().next().unwrap_or_default()),
        _ => Resolved::Ambiguous,
    })
}

pub enum Resolved {
    One(String),
    None,
    Ambiguous,
}

/// Moves a container from one of `from` to `to`; false when it was in another state.
pub fn transition(tx: &Transaction<'_>, id: &str, from: &[State], to: State) -> rusqlite::Result<bool> {
    let list: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let n = tx.execute(
        &format!("UPDATE containers SET state = ?1 WHERE id = ?2 AND state IN ({})", list.join(",")),
        params![to.as_str(), id],
    )?;
    Ok(n == 1)
}

/// A user's start: the container is no longer one the user stopped. (Restarts by the
/// monitor keep the mark, so a stop that lands between two runs is not forgotten.)
pub fn clear_stopped_by_user(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE containers SET stopped_by_user = 0 WHERE id = ?1", [id])?;
    Ok(())
}

/// Records that the monitor started the container's process.
pub fn set_running(
    tx: &Transaction<'_>,
    id: &str,
    pid: i32,
    monitor_pid: i32,
    monitor_start: u64,
    started_at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE containers SET state = 'running', pid = ?2, monitor_pid = ?3, monitor_start = ?4, started_at = ?5,
         error = '', oom_killed = 0 WHERE id = ?1",
        params![id, pid, monitor_pid, monitor_start as i64, started_at],
    )?;
    Ok(())
}

/// Records an exit (exit code, OOM, error) and the state that follows it.
pub fn set_exited(
    tx: &Transaction<'_>,
    id: &str,
    state: State,
    exit_code: i32,
    oom: bool,
    error: &str,
    finished_at: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE containers SET state = ?2, pid = 0, exit_code = ?3, oom_killed = ?4, error = ?5, finished_at = ?6 WHERE id = ?1",
        params![id, state.as_str(), exit_code, oom as i64, error, finished_at],
    )?;
    Ok(())
}

pub fn set_monitor(
    tx: &Transaction<'_>,
    id: &str,
    monitor_pid: i32,
    monitor_start: u64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE containers SET monitor_pid = ?2, monitor_start = ?3 WHERE id = ?1",
        params![id, monitor_pid, monitor_start as i64],
    )?;
    Ok(())
}

pub fn bump_restart(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE containers SET restart_count = restart_count + 1, state = 'restarting' WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn set_stopped_by_user(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE containers SET stopped_by_user = 1 WHERE id = ?1", [id])?;
    Ok(())
}

pub fn rename(tx: &Transaction<'_>, id: &str, name: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE containers SET name = ?2 WHERE id = ?1", params![id, name])?;
    Ok(())
}

pub fn set_host_config(tx: &Transaction<'_>, id: &str, host_config: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE containers SET host_config = ?2 WHERE id = ?1", params![id, host_config])?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM containers WHERE id = ?1", [id])?;
    Ok(())
}

/// Containers created from an image (any state), for `rmi` conflicts.
pub fn using_image(c: &Connection, image_id: &str) -> rusqlite::Result<Vec<(String, State)>> {
    let mut st = c.prepare_cached("SELECT id, state FROM containers WHERE image_id = ?1")?;
    let rows =
        st.query_map([image_id], |r| Ok((r.get::<_, String>(0)?, State::parse(&r.get::<_, String>(1)?))))?;
    rows.collect()
}

/// A container's name and image as the user named it: what Docker attaches to every container
/// event, so `events --filter container=NAME` still finds a removed container's events.
pub fn identity(c: &Connection, id: &str) -> rusqlite::Result<Option<(String, String)>> {
    c.prepare_cached("SELECT name, image_name FROM containers WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

pub fn name_taken(c: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT id FROM containers WHERE name = ?1", [name], |r| r.get(0)).optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::db::Db;

    fn row(id: &str, created: i64) -> ContainerRow {
        let image = ("sha256:0".into(), "img".into());
        ContainerRow::created(id.into(), format!("name-{id}"), image, "{}".into(), "{}".into(), created)
    }

    #[test]
    fn lists_newest_first_whatever_the_insertion_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.db")).unwrap();
        for (id, created) in [("b", 20), ("c", 30), ("a", 10)] {
            db.write(|tx| insert(tx, &row(id, created)).map_err(|e| db.err(e))).unwrap();
        }
        let ids: Vec<String> = db.read(list).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["c", "b", "a"]);
    }
}
