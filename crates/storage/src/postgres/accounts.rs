//! SQL for users, documents and access rules (PostgreSQL), the same queries
//! as `sqlite::accounts` in PostgreSQL's dialect. Listings are keyset range
//! scans over `users_username_lower_key` and `access_by_user`.

use super::errors::{constraint_of, map_err};
use super::rows::{self, DOCUMENT_COLUMNS, USER_COLUMNS};
use super::sql::{execute, query, query_opt};
use crate::codec::{prefix_upper_bound, role_from_db, username_key};
use crate::{
    DocumentCursor, DocumentRecord, NewDocument, NewUser, Role, StoreError, StoreResult, UserRecord,
};
use deadpool_postgres::GenericClient;
use quire_engine::{DocumentId, UserId};

pub(crate) async fn create_user<C: GenericClient>(c: &C, new: NewUser) -> StoreResult<UserRecord> {
    let key = username_key(&new.username);
    execute(
        c,
        "INSERT INTO users (id, username, username_lower, password_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
        &[&new.id.0, &new.username, &key, &new.password_hash, &new.created_at_ms],
    )
    .await
    .map_err(|e| match constraint_of(&e) {
        Some("users_username_lower_key") => StoreError::Conflict(format!("username {:?} is taken", new.username)),
        Some("users_pkey") => StoreError::Conflict(format!("user id {} exists", new.id)),
        _ => map_err(e),
    })?;
    Ok(UserRecord {
        id: new.id,
        username: new.username,
        password_hash: new.password_hash,
        created_at_ms: new.created_at_ms,
    })
}

pub(crate) async fn user_by_id<C: GenericClient>(
    c: &C,
    id: UserId,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    query_opt(c, &sql, &[&id.0])
        .await?
        .map(|r| rows::user(&r, 0))
        .transpose()
}

pub(crate) async fn user_by_name<C: GenericClient>(
    c: &C,
    username: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username_lower = $1");
    query_opt(c, &sql, &[&username_key(username)])
        .await?
        .map(|r| rows::user(&r, 0))
        .transpose()
}

pub(crate) async fn search_users<C: GenericClient>(
    c: &C,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<UserRecord>> {
    let (lower_op, lower) = match after {
        Some(a) if a >= prefix => (">", a),
        _ => (">=", prefix),
    };
    let upper = prefix_upper_bound(prefix);
    let upper_clause = if upper.is_some() {
        "AND u.username_lower < $3"
    } else {
        "AND $3::text IS NULL"
    };
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u
         WHERE u.username_lower {lower_op} $1 {upper_clause}
         ORDER BY u.username_lower LIMIT $2"
    );
    let rows = query(c, &sql, &[&lower, &i64::from(limit), &upper]).await?;
    rows.iter().map(|r| rows::user(r, 0)).collect()
}

pub(crate) async fn create_document<C: GenericClient>(
    c: &C,
    new: NewDocument,
) -> StoreResult<DocumentRecord> {
    execute(
        c,
        "INSERT INTO documents (id, title, owner, created_at_ms, updated_at_ms, pruned_through)
         VALUES ($1, $2, $3, $4, $4, 0)",
        &[&new.id.0, &new.title, &new.owner.0, &new.created_at_ms],
    )
    .await
    .map_err(|e| match constraint_of(&e) {
        Some("documents_pkey") => StoreError::Conflict(format!("document {} exists", new.id)),
        _ => map_err(e),
    })?;
    execute(
        c,
        "INSERT INTO access (document, user_id, role, doc_created_at_ms) VALUES ($1, $2, 'owner', $3)",
        &[&new.id.0, &new.owner.0, &new.created_at_ms],
    )
    .await?;
    Ok(DocumentRecord {
        id: new.id,
        title: new.title,
        owner: new.owner,
        created_at_ms: new.created_at_ms,
        updated_at_ms: new.created_at_ms,
    })
}

pub(crate) async fn document<C: GenericClient>(
    c: &C,
    id: DocumentId,
) -> StoreResult<Option<DocumentRecord>> {
    let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1");
    query_opt(c, &sql, &[&id.0])
        .await?
        .map(|r| rows::document(&r, 0))
        .transpose()
}

pub(crate) async fn documents_for_user<C: GenericClient>(
    c: &C,
    user: UserId,
    after: Option<DocumentCursor>,
    limit: u32,
) -> StoreResult<Vec<(DocumentRecord, Role)>> {
    let cursor_clause = if after.is_some() {
        "AND (a.doc_created_at_ms, a.document) < ($3, $4)"
    } else {
        "AND $3::bigint IS NULL AND $4::uuid IS NULL"
    };
    let sql = format!(
        "SELECT {DOCUMENT_COLUMNS}, a.role FROM access a JOIN documents d ON d.id = a.document
         WHERE a.user_id = $1 {cursor_clause}
         ORDER BY a.doc_created_at_ms DESC, a.document DESC LIMIT $2"
    );
    let (at, id) = (after.map(|a| a.created_at_ms), after.map(|a| a.id.0));
    let rows = query(c, &sql, &[&user.0, &i64::from(limit), &at, &id]).await?;
    rows.iter()
        .map(|r| {
            Ok((
                rows::document(r, 0)?,
                role_from_db(&rows::get::<String>(r, 5)?)?,
            ))
        })
        .collect()
}

pub(crate) async fn rename_document<C: GenericClient>(
    c: &C,
    id: DocumentId,
    title: &str,
    now_ms: i64,
) -> StoreResult<()> {
    let changed = execute(
        c,
        "UPDATE documents SET title = $2, updated_at_ms = $3 WHERE id = $1",
        &[&id.0, &title, &now_ms],
    )
    .await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Access rules, ops, registry entries and snapshots go with it (ON DELETE CASCADE).
pub(crate) async fn delete_document<C: GenericClient>(c: &C, id: DocumentId) -> StoreResult<()> {
    let changed = execute(c, "DELETE FROM documents WHERE id = $1", &[&id.0]).await?;
    if changed == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(crate) async fn role<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    user: UserId,
) -> StoreResult<Option<Role>> {
    let row = query_opt(
        c,
        "SELECT role FROM access WHERE document = $1 AND user_id = $2",
        &[&doc.0, &user.0],
    )
    .await?;
    row.map(|r| role_from_db(&rows::get::<String>(&r, 0)?))
        .transpose()
}

pub(crate) async fn set_role<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    user: UserId,
    role: Role,
) -> StoreResult<()> {
    if role == Role::Owner {
        return Err(StoreError::Conflict(
            "the owner role is only given by create_document".into(),
        ));
    }
    let changed = execute(
        c,
        "INSERT INTO access (document, user_id, role, doc_created_at_ms)
         SELECT id, $2, $3, created_at_ms FROM documents WHERE id = $1
         ON CONFLICT (document, user_id) DO UPDATE SET role = excluded.role WHERE access.role <> 'owner'",
        &[&doc.0, &user.0, &role.as_str()],
    )
    .await?;
    if changed > 0 {
        return Ok(());
    }
    explain_untouched_rule(c, doc, user).await
}

pub(crate) async fn revoke<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    user: UserId,
) -> StoreResult<()> {
    let changed = execute(
        c,
        "DELETE FROM access WHERE document = $1 AND user_id = $2 AND role <> 'owner'",
        &[&doc.0, &user.0],
    )
    .await?;
    if changed > 0 {
        return Ok(());
    }
    explain_untouched_rule(c, doc, user).await
}

/// Why `set_role`/`revoke` changed nothing: the rule is the owner's (which
/// only `delete_document` removes), or there is no such document / rule.
async fn explain_untouched_rule<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    user: UserId,
) -> StoreResult<()> {
    match role(c, doc, user).await? {
        Some(Role::Owner) => Err(StoreError::Conflict(
            "the owner's access rule cannot be changed".into(),
        )),
        _ => Err(StoreError::NotFound),
    }
}

pub(crate) async fn collaborators<C: GenericClient>(
    c: &C,
    doc: DocumentId,
) -> StoreResult<Vec<(UserRecord, Role)>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, a.role FROM access a JOIN users u ON u.id = a.user_id
         WHERE a.document = $1 ORDER BY u.username_lower, u.id"
    );
    let rows = query(c, &sql, &[&doc.0]).await?;
    rows.iter()
        .map(|r| {
            Ok((
                rows::user(r, 0)?,
                role_from_db(&rows::get::<String>(r, 4)?)?,
            ))
        })
        .collect()
}
