//! SQL for users, documents and access rules (SQLite). Plain synchronous
//! functions on a connection: writes run inside the writer's savepoints,
//! reads on a read-only pooled connection.
//!
//! Listings are keyset-paginated range scans: `search_users` walks the unique
//! index on `username_lower` between the prefix and its upper bound;
//! `documents_for_user` walks `access_by_user (user_id, doc_created_at_ms,
//! document)` backwards from the cursor.

use super::rows::{self, DOCUMENT_COLUMNS, USER_COLUMNS};
use crate::codec::{prefix_upper_bound, role_from_db, username_key};
use crate::{
    DocumentCursor, DocumentRecord, NewDocument, NewUser, Role, StoreError, StoreResult, UserRecord,
};
use quire_engine::{DocumentId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn create_user(conn: &Connection, new: NewUser) -> StoreResult<UserRecord> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (id, username, username_lower, password_hash, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            new.id.0,
            new.username,
            username_key(&new.username),
            new.password_hash,
            new.created_at_ms
        ]);
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(UserRecord {
            id: new.id,
            username: new.username,
            password_hash: new.password_hash,
            created_at_ms: new.created_at_ms,
        }),
        Err(StoreError::Conflict(msg)) if msg.contains("username_lower") => Err(
            StoreError::Conflict(format!("username {:?} is taken", new.username)),
        ),
        Err(StoreError::Conflict(_)) => {
            Err(StoreError::Conflict(format!("user id {} exists", new.id)))
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn user_by_id(conn: &Connection, id: UserId) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id.0])?;
    rows.next()?.map(|r| rows::user(r, 0)).transpose()
}

pub(crate) fn user_by_name(conn: &Connection, username: &str) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username_lower = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([username_key(username)])?;
    rows.next()?.map(|r| rows::user(r, 0)).transpose()
}

pub(crate) fn search_users(
    conn: &Connection,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<UserRecord>> {
    // Lower bound: strictly after the cursor if it is past the prefix start.
    let (after_cursor, lower) = match after {
        Some(a) if a >= prefix => (true, a.to_owned()),
        _ => (false, prefix.to_owned()),
    };
    let upper = prefix_upper_bound(prefix);
    let mut stmt = conn.prepare_cached(&search_users_sql(after_cursor, upper.is_some()))?;
    let rows = stmt.query(params![lower, i64::from(limit), upper])?;
    rows::collect(rows, |r| rows::user(r, 0))
}

/// `?1` lower bound (exclusive after a cursor), `?2` limit, `?3` upper bound.
fn search_users_sql(after_cursor: bool, bounded: bool) -> String {
    let lower_op = if after_cursor { ">" } else { ">=" };
    let upper_clause = if bounded {
        "AND u.username_lower < ?3"
    } else {
        "AND ?3 IS NULL"
    };
    format!(
        "SELECT {USER_COLUMNS} FROM users u
         WHERE u.username_lower {lower_op} ?1 {upper_clause}
         ORDER BY u.username_lower LIMIT ?2"
    )
}

pub(crate) fn create_document(conn: &Connection, new: NewDocument) -> StoreResult<DocumentRecord> {
    conn.prepare_cached(
        "INSERT INTO documents (id, title, owner, created_at_ms, updated_at_ms, pruned_through)
         VALUES (?1, ?2, ?3, ?4, ?4, 0)",
    )?
    .execute(params![new.id.0, new.title, new.owner.0, new.created_at_ms])
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("document {} exists", new.id)),
        other => other,
    })?;
    conn.prepare_cached(
        "INSERT INTO access (document, user_id, role, doc_created_at_ms) VALUES (?1, ?2, 'owner', ?3)",
    )?
    .execute(params![new.id.0, new.owner.0, new.created_at_ms])?;
    Ok(DocumentRecord {
        id: new.id,
        title: new.title,
        owner: new.owner,
        created_at_ms: new.created_at_ms,
        updated_at_ms: new.created_at_ms,
    })
}

pub(crate) fn document(conn: &Connection, id: DocumentId) -> StoreResult<Option<DocumentRecord>> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id.0])?;
    rows.next()?.map(|r| rows::document(r, 0)).transpose()
}

pub(crate) fn documents_for_user(
    conn: &Connection,
    user: UserId,
    after: Option<DocumentCursor>,
    limit: u32,
) -> StoreResult<Vec<(DocumentRecord, Role)>> {
    let mut stmt = conn.prepare_cached(&documents_for_user_sql(after.is_some()))?;
    let rows = stmt.query(params![
        user.0,
        i64::from(limit),
        after.map(|c| c.created_at_ms),
        after.map(|c| c.id.0)
    ])?;
    rows::collect(rows, |r| {
        Ok((
            rows::document(r, 0)?,
            role_from_db(&r.get::<_, String>(5)?)?,
        ))
    })
}

/// `?1` user, `?2` limit, `?3`/`?4` cursor (created_at_ms, id).
fn documents_for_user_sql(after_cursor: bool) -> String {
    let cursor_clause = if after_cursor {
        "AND (a.doc_created_at_ms, a.document) < (?3, ?4)"
    } else {
        "AND ?3 IS NULL AND ?4 IS NULL"
    };
    format!(
        "SELECT {DOCUMENT_COLUMNS}, a.role FROM access a JOIN documents d ON d.id = a.document
         WHERE a.user_id = ?1 {cursor_clause}
         ORDER BY a.doc_created_at_ms DESC, a.document DESC LIMIT ?2"
    )
}

/// SQLite's plan for every variant of the two listing queries, as
/// `(query, plan)` lines: they must be index range scans with no sort.
pub(crate) fn listing_query_plans(conn: &Connection) -> StoreResult<Vec<(String, String)>> {
    let mut variants = Vec::new();
    for cursor in [false, true] {
        variants.push((
            format!("documents_for_user(cursor: {cursor})"),
            documents_for_user_sql(cursor),
        ));
        for bounded in [false, true] {
            variants.push((
                format!("search_users(cursor: {cursor}, bounded: {bounded})"),
                search_users_sql(cursor, bounded),
            ));
        }
    }
    let mut plans = Vec::new();
    for (name, sql) in variants {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let zeros = vec![0i64; stmt.parameter_count()];
        let steps = rows::collect(stmt.query(rusqlite::params_from_iter(zeros))?, |r| {
            Ok(r.get::<_, String>(3)?)
        })?;
        plans.push((name, steps.join("; ")));
    }
    Ok(plans)
}

pub(crate) fn rename_document(
    conn: &Connection,
    id: DocumentId,
    title: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("UPDATE documents SET title = ?2, updated_at_ms = ?3 WHERE id = ?1")?
        .execute(params![id.0, title, now_ms])?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Access rules, ops, registry entries and snapshots go with it (ON DELETE CASCADE).
pub(crate) fn delete_document(conn: &Connection, id: DocumentId) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("DELETE FROM documents WHERE id = ?1")?
        .execute([id.0])?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(crate) fn role(conn: &Connection, doc: DocumentId, user: UserId) -> StoreResult<Option<Role>> {
    let role: Option<String> = conn
        .prepare_cached("SELECT role FROM access WHERE document = ?1 AND user_id = ?2")?
        .query_row([doc.0, user.0], |r| r.get(0))
        .optional()?;
    role.map(|r| role_from_db(&r)).transpose()
}

pub(crate) fn set_role(
    conn: &Connection,
    doc: DocumentId,
    user: UserId,
    role: Role,
) -> StoreResult<()> {
    if role == Role::Owner {
        return Err(StoreError::Conflict(
            "the owner role is only given by create_document".into(),
        ));
    }
    let changed = conn
        .prepare_cached(
            "INSERT INTO access (document, user_id, role, doc_created_at_ms)
             SELECT id, ?2, ?3, created_at_ms FROM documents WHERE id = ?1
             ON CONFLICT (document, user_id) DO UPDATE SET role = excluded.role WHERE access.role <> 'owner'",
        )?
        .execute(params![doc.0, user.0, role.as_str()])?;
    if changed > 0 {
        return Ok(());
    }
    explain_untouched_rule(conn, doc, user)
}

pub(crate) fn revoke(conn: &Connection, doc: DocumentId, user: UserId) -> StoreResult<()> {
    let changed = conn
        .prepare_cached(
            "DELETE FROM access WHERE document = ?1 AND user_id = ?2 AND role <> 'owner'",
        )?
        .execute([doc.0, user.0])?;
    if changed > 0 {
        return Ok(());
    }
    explain_untouched_rule(conn, doc, user)
}

/// Why `set_role`/`revoke` changed nothing: the rule is the owner's (which
/// only `delete_document` removes), or there is no such document / rule.
fn explain_untouched_rule(conn: &Connection, doc: DocumentId, user: UserId) -> StoreResult<()> {
    match role(conn, doc, user)? {
        Some(Role::Owner) => Err(StoreError::Conflict(
            "the owner's access rule cannot be changed".into(),
        )),
        _ => Err(StoreError::NotFound),
    }
}

pub(crate) fn collaborators(
    conn: &Connection,
    doc: DocumentId,
) -> StoreResult<Vec<(UserRecord, Role)>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, a.role FROM access a JOIN users u ON u.id = a.user_id
         WHERE a.document = ?1 ORDER BY u.username_lower, u.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query([doc.0])?;
    rows::collect(rows, |r| {
        Ok((rows::user(r, 0)?, role_from_db(&r.get::<_, String>(4)?)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_index_range_scans_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("plans.db")).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let plans = listing_query_plans(&conn).unwrap();
        assert_eq!(plans.len(), 6);
        for (name, plan) in plans {
            assert!(
                !plan.contains("TEMP B-TREE") && !plan.contains("SCAN"),
                "{name}: {plan}"
            );
            let index = if name.starts_with("documents") {
                "USING INDEX access_by_user (user_id=?"
            } else {
                "USING INDEX sqlite_autoindex_users_2 (username_lower>"
            };
            assert!(plan.contains(index), "{name}: {plan}");
        }
    }
}
