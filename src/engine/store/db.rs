//! The state database: one SQLite file in WAL mode, shared by every gantry process on the host.
//! Writers take `BEGIN IMMEDIATE` transactions and readers never block them, so concurrent
//! commands cannot corrupt or race each other; a busy timeout absorbs short contention.
//! The schema is versioned through `PRAGMA user_version` and migrated forward on open.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::engine::error::{Error, Result};

/// Forward migrations, applied in order; index + 1 is the schema version they produce.
const MIGRATIONS: &[&str] = &[
    // 1: images, tags, layers and the recorded event log.
    r#"
    CREATE TABLE images (
        id            TEXT PRIMARY KEY,   -- config digest
        config        BLOB NOT NULL,      -- raw config JSON as pulled
        manifest      TEXT NOT NULL,      -- digest of the platform manifest
        size          INTEGER NOT NULL,   -- bytes of the extracted layers
        created       TEXT,               -- the config's created time (RFC 3339)
        stored_at     INTEGER NOT NULL    -- unix seconds when first stored
    );
    CREATE TABLE tags (
        name      TEXT PRIMARY KEY,       -- docker.io/library/busybox:latest
        image_id  TEXT NOT NULL REFERENCES images(id),
        tagged_at INTEGER NOT NULL
    );
    CREATE INDEX tags_by_image ON tags(image_id);
    CREATE TABLE repo_digests (
        name      TEXT PRIMARY KEY,       -- docker.io/library/busybox@sha256:...
        image_id  TEXT NOT NULL REFERENCES images(id)
    );
    CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
    CREATE TABLE layers (
        chain_id   TEXT PRIMARY KEY,
        diff_id    TEXT NOT NULL,
        size       INTEGER NOT NULL,      -- bytes of regular file content
        entries    INTEGER NOT NULL,
        stored_at  INTEGER NOT NULL
    );
    CREATE TABLE image_layers (
        image_id  TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        chain_id  TEXT NOT NULL REFERENCES layers(chain_id),
        PRIMARY KEY (image_id, position)
    );
    CREATE INDEX image_layers_by_layer ON image_layers(chain_id);
    CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        time_nanos INTEGER NOT NULL,
        kind       TEXT NOT NULL,
        action     TEXT NOT NULL,
        actor      TEXT NOT NULL,
        attributes TEXT NOT NULL          -- JSON array of [key, value]
    );
    CREATE TABLE registries (
        host       TEXT PRIMARY KEY,      -- registries pulled from, for the TUI's picker
        last_used  INTEGER NOT NULL
    );
    "#,
    // 2: containers. The name is UNIQUE so two racing `run --name x` cannot both win.
    r#"
    CREATE TABLE containers (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        image_id      TEXT NOT NULL,
        image_name    TEXT NOT NULL,
        config        TEXT NOT NULL,      -- JSON ContainerConfig
        host_config   TEXT NOT NULL,      -- JSON HostConfig
        created       INTEGER NOT NULL,   -- unix nanoseconds
        state         TEXT NOT NULL,      -- created|starting|running|paused|restarting|exited|dead|removing
        pid           INTEGER NOT NULL DEFAULT 0,
        monitor_pid   INTEGER NOT NULL DEFAULT 0,
        monitor_start INTEGER NOT NULL DEFAULT 0,  -- the monitor's /proc start time (pid reuse guard)
        exit_code     INTEGER NOT NULL DEFAULT 0,
        started_at    INTEGER NOT NULL DEFAULT 0,
        finished_at   INTEGER NOT NULL DEFAULT 0,
        oom_killed    INTEGER NOT NULL DEFAULT 0,
        error         TEXT NOT NULL DEFAULT '',
        restart_count INTEGER NOT NULL DEFAULT 0,
        stopped_by_user INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX containers_by_image ON containers(image_id);
    "#,
    // v3: networks, container endpoints (with their address leases) and published ports.
    r#"
    CREATE TABLE networks (
        id        TEXT PRIMARY KEY,
        name      TEXT NOT NULL UNIQUE,
        driver    TEXT NOT NULL,              -- bridge|host|null
        bridge    TEXT NOT NULL DEFAULT '',   -- the Linux bridge device
        subnet    TEXT NOT NULL DEFAULT '',   -- empty until first use for the default bridge
        gateway   TEXT NOT NULL DEFAULT '',
        ip_range  TEXT NOT NULL DEFAULT '',
        internal  INTEGER NOT NULL DEFAULT 0,
        labels    TEXT NOT NULL DEFAULT '{}',
        options   TEXT NOT NULL DEFAULT '{}',
        created   INTEGER NOT NULL            -- unix nanoseconds
    );
    INSERT INTO networks (id, name, driver, created) VALUES
        (lower(hex(randomblob(32))), 'bridge', 'bridge', CAST(strftime('%s', 'now') AS INTEGER) * 1000000000),
        (lower(hex(randomblob(32))), 'host', 'host', CAST(strftime('%s', 'now') AS INTEGER) * 1000000000),
        (lower(hex(randomblob(32))), 'none', 'null', CAST(strftime('%s', 'now') AS INTEGER) * 1000000000);
    CREATE TABLE endpoints (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        network_id   TEXT NOT NULL REFERENCES networks(id),
        ordinal      INTEGER NOT NULL,        -- connection order: the first is eth0 and the default route
        aliases      TEXT NOT NULL DEFAULT '[]',
        ip           TEXT,                    -- the address lease, held while the container runs
        mac          TEXT NOT NULL DEFAULT '',
        endpoint_id  TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (container_id, network_id)
    );
    CREATE UNIQUE INDEX endpoint_leases ON endpoints(network_id, ip) WHERE ip IS NOT NULL;
    CREATE INDEX endpoints_by_network ON endpoints(network_id);
    CREATE TABLE ports (
        container_id   TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        proto          TEXT NOT NULL,
        container_port INTEGER NOT NULL,
        host_ip        TEXT NOT NULL,
        host_port      INTEGER NOT NULL
    );
    CREATE INDEX ports_by_container ON ports(container_id);
    "#,
];

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL pages (frames) after which an idle monitor empties the WAL: a `run --rm` writes about
/// 20, so the next process reads at most a few hundred kilobytes of it, and the writer after
/// an emptying syncs the new WAL's header (about 0.3 ms) once every few runs. Commits
/// checkpoint by themselves at twice that (SQLite's default is 1000 pages): what monitors do
/// not see, a run of `create`s say, stays short too, and work with monitors seldom gets there.
pub const WAL_RESET_FRAMES: i64 = 64;

/// A handle on the state database. Cheap to share; calls are short and serialized per process.
pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let err = |source| Error::Database { path: path.to_path_buf(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(err)?;
        // The last connection to close would checkpoint the WAL, and the next writer (nearly
        // every gantry command is a short-lived process) then restarts it and syncs its header
        // and the directory: 0.6-0.8 ms at the start of each. The WAL is checkpointed when it
        // reaches its autocheckpoint size instead.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        set_wal(&conn).map_err(err)?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
            2 * WAL_RESET_FRAMES
        ))
        .map_err(err)?;
        let found: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        if found > MIGRATIONS.len() {
            // Migrations only go forward; an older binary must not write a schema it cannot read.
            return Err(Error::SchemaTooNew { path: path.to_path_buf(), found, known: MIGRATIONS.len() });
        }
        if found < MIGRATIONS.len() {
            // Only then: the migration takes the write lock, which would make every process's
            // open contend with whoever is writing (a monitor starting while its client writes).
            migrate(&mut conn).map_err(err)?;
        }
        Ok(Self { path: path.to_path_buf(), conn: Mutex::new(conn) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Frees the connection's page cache and other memory it can give back (a long-lived,
    /// mostly idle process — a monitor — calls this once set up).
    pub fn shrink_memory(&self) {
        let _ = self.lock().execute_batch("PRAGMA shrink_memory;");
    }

    /// Copies what the WAL holds into the database file and, once it holds
    /// [`WAL_RESET_FRAMES`], empties it, without waiting for anyone or blocking anyone (a
    /// busy database just skips the step). Every gantry command is a new process, and the
    /// first to open the database rebuilds the WAL's index by reading all of it: about 1 ms
    /// per megabyte measured here, so with SQLite's own checkpoints alone (at 1000 pages, 4
    /// MB) `ps` and `run` paid up to 4 ms, and the commit that triggered one paid two fsyncs
    /// on somebody's path. Monitors call this when idle, once their client is told; SQLite's
    /// automatic checkpoint, at twice the size, stays as the safety net.
    pub fn checkpoint(&self) {
        let conn = self.lock();
        let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
        // A rebuilt index no longer knows what was copied, so only emptying the file (or a
        // commit right after a checkpoint) keeps the next opener from reading it all again.
        if frames.is_ok_and(|n| n >= WAL_RESET_FRAMES) {
            // With no busy handler, a TRUNCATE that would wait for a reader or the writer
            // stops where the passive checkpoint did.
            let _ = conn.busy_timeout(Duration::ZERO);
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                tracing::debug!(error = %e, "the WAL was not emptied");
            }
            let _ = conn.busy_timeout(BUSY_TIMEOUT);
        }
    }

    /// Runs `f` on the connection for reads.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.lock();
        f(&conn).map_err(|source| Error::Database { path: self.path.clone(), source })
    }

    /// Runs `f` in an immediate (write-locking) transaction, committed when `f` returns Ok.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| Error::Database { path: self.path.clone(), source })?;
        let out = f(&tx)?;
        tx.commit().map_err(|source| Error::Database { path: self.path.clone(), source })?;
        Ok(out)
    }

    /// Runs `f` (inserts) in a write transaction; `Ok(false)`, with nothing written, when it
    /// hit a uniqueness constraint (a name or key someone else holds).
    pub fn write_unique(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<()>) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| Error::Database { path: self.path.clone(), source })?;
        match f(&tx) {
            Ok(()) => {
                tx.commit().map_err(|source| Error::Database { path: self.path.clone(), source })?;
                Ok(true)
            }
            // Dropping the transaction rolls it back.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(false)
            }
            Err(source) => Err(Error::Database { path: self.path.clone(), source }),
        }
    }

    /// Maps a rusqlite error from inside a `write` closure.
    pub fn err(&self, source: rusqlite::Error) -> Error {
        Error::Database { path: self.path.clone(), source }
    }
}

/// Puts the database in WAL mode (a no-op once it is). Turning a new database to WAL writes
/// its header, and when several processes open a new root at once (three concurrent pulls, say)
/// SQLite may answer one of them SQLITE_BUSY at once, without waiting in its busy handler: it
/// would otherwise deadlock with another connection doing the same. That answer is retried
/// here, for as long as the busy timeout.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other.map(drop),
        }
    }
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opening_a_new_database_at_once_all_get_it() {
        // As several processes opening a new root at once: SQLite may refuse one of them the
        // switch to WAL without waiting (see set_wal).
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("gantry.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(6));
            let openers: Vec<_> = (0..6)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Db::open(&path).map(drop)
                    })
                })
                .collect();
            for o in openers {
                if let Err(e) = o.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
        }
    }

    #[test]
    fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.db");
        let db = Db::open(&p).unwrap();
        let v: usize = db.read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0))).unwrap();
        assert_eq!(v, MIGRATIONS.len());
        drop(db);
        let db = Db::open(&p).unwrap();
        let mode: String = db.read(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0))).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn an_idle_checkpoint_empties_the_wal_but_never_waits_for_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.db");
        let db = Db::open(&p).unwrap();
        let wal_frames = || {
            let len = std::fs::metadata(dir.path().join("g.db-wal")).map(|m| m.len()).unwrap_or(0);
            len.saturating_sub(32) as i64 / (4096 + 24)
        };
        let insert = |rows: i64, size: usize| {
            db.write(|tx| {
                for i in 0..rows {
                    tx.execute(
                        "INSERT INTO events (time_nanos, kind, action, actor, attributes) VALUES (?1, 't', 'a', 'x', ?2)",
                        rusqlite::params![i, "x".repeat(size)],
                    )
                    .map_err(|e| db.err(e))?;
                }
                Ok(())
            })
            .unwrap();
        };
        insert(5, 10);
        db.checkpoint();
        assert!(wal_frames() > 0, "a short WAL is left as it is");
        // One commit that leaves the WAL past the emptying size, short of SQLite's own.
        insert(300, 1000);
        let frames = wal_frames();
        assert!((WAL_RESET_FRAMES..2 * WAL_RESET_FRAMES).contains(&frames), "{frames} frames");
        // Another process in the middle of a read: the checkpoint must not wait for it.
        let reader = Connection::open(&p).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let seen: i64 = reader.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        let started = std::time::Instant::now();
        db.checkpoint();
        assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
        assert_eq!(wal_frames(), frames, "a reader's snapshot is kept");
        reader.execute_batch("COMMIT").unwrap();
        db.checkpoint();
        assert_eq!(wal_frames(), 0, "emptied once nobody reads it");
        let count: i64 = db.read(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))).unwrap();
        assert_eq!((seen, count), (305, 305));
    }

    #[test]
    fn refuses_a_schema_from_a_newer_gantry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.db");
        let db = Db::open(&p).unwrap();
        db.write(|tx| tx.pragma_update(None, "user_version", MIGRATIONS.len() + 1).map_err(|e| db.err(e)))
            .unwrap();
        drop(db);
        let err = Db::open(&p).err().expect("a newer schema must be refused").to_string();
        assert!(err.contains("newer than the") && err.contains("written by a newer gantry"), "{err}");
    }

    #[test]
    fn unique_writes_report_conflicts_and_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.db")).unwrap();
        let add = |tx: &Transaction<'_>| tx.execute("INSERT INTO registries VALUES ('a', 1)", []).map(drop);
        assert!(db.write_unique(add).unwrap());
        let twice = db.write_unique(|tx| {
            tx.execute("INSERT INTO registries VALUES ('b', 1)", [])?;
            add(tx)
        });
        assert!(!twice.unwrap(), "the duplicate is a conflict");
        let n: i64 = db.read(|c| c.query_row("SELECT count(*) FROM registries", [], |r| r.get(0))).unwrap();
        assert_eq!(n, 1, "and the whole transaction rolled back");
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("g.db")).unwrap();
        let r: Result<()> = db.write(|tx| {
            tx.execute("INSERT INTO registries VALUES ('a', 1)", []).map_err(|e| db.err(e))?;
            Err(Error::InvalidArgument("boom".into()))
        });
        assert!(r.is_err());
        let n: i64 = db.read(|c| c.query_row("SELECT count(*) FROM registries", [], |r| r.get(0))).unwrap();
        assert_eq!(n, 0);
    }
}
