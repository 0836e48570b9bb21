//! The SQLite file of the embedded Tansu (`BrokerKind::TansuSqlite`) and the one index Tansu
//! 0.6.0 does not create.
//!
//! Tansu's SQLite engine keeps record headers in table `header` (its `ddl/040-header.sql`)
//! with no index, and its Fetch reads each record's headers with one query per record
//! (`sql/header_fetch.sql`, `... where r.offset_id = $4`). SQLite's plan for that query ends
//! in `SCAN h`: every record fetched reads every header of every topic in the file. A read
//! costs (records fetched) x (headers stored): 5,000 records with 3 headers each came back in
//! 3.6 s, 20,000 not within 60 s (the broker serves its storage one request at a time, so
//! meanwhile even ListOffsets timed out), which is why a reader of a gateway topic (every
//! record carries headers) got nothing. With an index on `(topition, offset_id)` the plan is
//! `SEARCH h USING INDEX` and 100,000 records read back in 5.9 s.
//!
//! Tansu creates its tables with `create table if not exists` at every start and never
//! touches other objects, so the index, added once, stays. SQLite (WAL mode, as Tansu opens
//! it) lets a second process write the file; the index is added right after the broker
//! answers, before any client of ours writes, and a busy file is waited for.
//!
//! A second gap of the same engine: DescribeGroups fails for every group that exists (its
//! `describe_groups` turns the stored JSON text into a JSON string, `serde_json::Value::from`,
//! instead of parsing it, and the connection is closed with "invalid type: string, expected
//! struct GroupDetail"), so librdkafka's group listing (ListGroups, then DescribeGroups) fails
//! there. Consumers never send DescribeGroups; tests read the names from the file instead
//! ([`group_names`]).

use std::path::Path;
use std::time::Duration;

/// The file Tansu is told to use (`sqlite://tansu.db`, relative to its working directory:
/// Tansu 0.6.0 resolves every `sqlite://` path against it).
pub const DB_FILE: &str = "tansu.db";

/// The statement adding the missing index (idempotent).
const HEADER_INDEX: &str = "create index if not exists opsline_header_topition_offset on header (topition, offset_id)";

/// How long a write lock held by the broker is waited for.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds the header index to the Tansu SQLite file at `file` (blocking; nothing to do when it
/// is there already). Fails when the file has no `header` table (not a Tansu 0.6 file).
pub fn add_header_index(file: &Path) -> Result<(), rusqlite::Error> {
    let connection = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.execute(HEADER_INDEX, [])?;
    Ok(())
}

/// Whether the header index is in the file at `file`.
pub fn has_header_index(file: &Path) -> Result<bool, rusqlite::Error> {
    let connection = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let count: i64 = connection.query_row(
        "select count(*) from sqlite_master where type = 'index' and name = 'opsline_header_topition_offset'",
        [],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

/// The consumer groups in the Tansu SQLite file at `file`: what Tansu answers to ListGroups
/// (its `consumer_group_select.sql`), readable while librdkafka's group listing fails on it.
pub fn group_names(file: &Path) -> Result<Vec<String>, rusqlite::Error> {
    let connection = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let mut statement = connection.prepare("select name from consumer_group order by name")?;
    let names = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Tansu 0.6.0's `ddl/040-record.sql` and `ddl/040-header.sql`, and its `sql/header_fetch.sql`
    /// reduced to the two tables.
    const RECORD: &str = "create table record (topition integer, offset_id integer not null, \
        k blob, v blob, primary key (topition, offset_id))";
    const HEADER: &str = "create table header (topition integer, offset_id integer, k blob, v blob, \
        foreign key (topition, offset_id) references record (topition, offset_id) on delete cascade)";
    const HEADER_FETCH: &str = "select h.k, h.v from header h \
        join record r on h.topition = r.topition and h.offset_id = r.offset_id \
        where r.topition = 1 and r.offset_id = 5";

    fn plan(file: &Path) -> String {
        let connection = rusqlite::Connection::open(file).unwrap();
        let mut statement = connection
            .prepare(&format!("explain query plan {HEADER_FETCH}"))
            .unwrap();
        let rows = statement
            .query_map([], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.join("\n")
    }

    #[test]
    fn the_header_lookup_uses_the_index_once_added() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(DB_FILE);
        let connection = rusqlite::Connection::open(&file).unwrap();
        connection.execute(RECORD, []).unwrap();
        connection.execute(HEADER, []).unwrap();
        drop(connection);
        assert!(
            plan(&file).contains("SCAN h"),
            "Tansu's own schema scans: {}",
            plan(&file)
        );
        assert!(!has_header_index(&file).unwrap());

        add_header_index(&file).unwrap();
        add_header_index(&file).unwrap(); // idempotent
        assert!(has_header_index(&file).unwrap());
        let plan = plan(&file);
        assert!(
            plan.contains("SEARCH h USING INDEX opsline_header_topition_offset"),
            "{plan}"
        );
    }

    #[test]
    fn a_file_without_tansu_tables_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(DB_FILE);
        rusqlite::Connection::open(&file).unwrap();
        assert!(add_header_index(&file).is_err());
        assert!(add_header_index(&dir.path().join("missing.db")).is_err());
    }
}
