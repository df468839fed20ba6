//! Files on the store's side (docs/protocol.md "Files"), one text for both
//! backends: what an upload is (`files`), its bytes in chunks
//! (`file_chunks`, unless the server keeps them in a directory), and, in
//! the writer's transaction, attaching uploads to the post that carries
//! them ([`screen`], [`attach`]).
//!
//! A chunk is written in a transaction of its own before the file's row,
//! so a row names only complete bytes, and SQLite's one write lock is
//! held for one chunk at a time, never for a whole file, while the
//! message writer waits. Deleting a file (its message's deletion, its
//! room's, the unattached sweep) deletes its row only, a few bytes in the
//! writer's transaction; [`Files::sweep_chunks`] removes the chunks no row
//! names afterwards.

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type,
};

use super::connections::Connections;
use super::{Change, Item, StoreError, StoreResult};
use crate::domain::FileView;

/// Bytes per stored chunk: one short write each (a 10 MiB file is ten).
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// Which bytes of a file a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    File = 0,
    Thumbnail = 1,
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FileRecord {
    pub id: String,
    pub room: String,
    /// The user id of who uploaded it.
    pub uploader: String,
    pub name: String,
    /// The stored content type.
    #[sqlx(rename = "type")]
    pub kind: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The thumbnail's content type and size; `None`: no thumbnail.
    pub thumb_type: Option<String>,
    pub thumb_size: Option<i64>,
    /// The message that carries it; `None` until a post attaches it.
    pub message: Option<i64>,
    pub created_at: i64,
}

impl FileRecord {
    /// The file as payloads show it.
    pub fn view(&self) -> FileView {
        let px = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        FileView {
            url: FileView::url_of(&self.id, &self.name),
            id: self.id.clone(),
            name: self.name.clone(),
            size: self.size,
            kind: self.kind.clone(),
            width: px(self.width),
            height: px(self.height),
            thumbnail: self
                .thumb_type
                .as_ref()
                .map(|_| FileView::thumbnail_of(&self.id)),
        }
    }
}

/// `SELECT` of a file's columns, followed by the rest of the statement.
macro_rules! select_file {
    ($rest:literal) => {
        concat!(
            "SELECT id, room, uploader, name, type, size, width, height, thumb_type, \
             thumb_size, message, created_at FROM files ",
            $rest
        )
    };
}

/// Uploads, their bytes, and their sweeping.
#[async_trait]
pub trait Files: Send + Sync {
    /// Stores chunk `n` of a part of file `id`, committed on its own.
    async fn put_chunk(
        &self,
        id: &str,
        part: Part,
        n: i64,
        data: &[u8],
        ts: i64,
    ) -> StoreResult<()>;
    /// Records an upload whose bytes are stored, unless its uploader's
    /// files would then pass `quota` bytes: `false` then, and nothing is
    /// recorded. The sum is taken under the uploader's lock
    /// (`C::LOCK_UPLOADER`; on SQLite the statement's own hold of the
    /// database), so two uploads at the same instant cannot both pass.
    async fn record_file(&self, file: &FileRecord, quota: i64) -> StoreResult<bool>;
    /// Removes the chunks of an upload that was not recorded.
    async fn discard_chunks(&self, id: &str) -> StoreResult<()>;
    async fn file(&self, id: &str) -> StoreResult<Option<FileRecord>>;
    /// Chunk `n` of a part of file `id`; `None` past its last.
    async fn file_chunk(&self, id: &str, part: Part, n: i64) -> StoreResult<Option<Vec<u8>>>;
    /// The bytes of every file `user_id` has stored (their quota's use).
    async fn files_used(&self, user_id: &str) -> StoreResult<i64>;
    /// Removes the uploads never attached that were made before `before`
    /// (unix ms); returns how many. Safe on any number of nodes at once.
    async fn sweep_unattached(&self, before: i64) -> StoreResult<u64>;
    /// Removes the chunks no file names written before `before`.
    async fn sweep_chunks(&self, before: i64) -> StoreResult<u64>;
    /// Those of `ids` that name a file (the files directory's sweep).
    async fn existing_files(&self, ids: &[String]) -> StoreResult<Vec<String>>;
    /// How many files are stored, and their bytes (thumbnails included).
    async fn file_totals(&self) -> StoreResult<(i64, i64)>;
}

/// Chunks deleted per statement: each one a short hold of the write lock.
const CHUNKS_PER_DELETE: i64 = 8;

#[derive(FromRow)]
struct Totals {
    files: i64,
    bytes: i64,
}

#[async_trait]
impl<C> Files for C
where
    C: Connections,
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'q, 't> &'t [u8]: Encode<'q, C::Db> + Type<C::Db>,
    C::Db: sqlx::database::HasStatementCache,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Vec<u8>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<&'r str>: Encode<'r, C::Db>,
{
    async fn put_chunk(
        &self,
        id: &str,
        part: Part,
        n: i64,
        data: &[u8],
        ts: i64,
    ) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO file_chunks (file, part, n, data, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(part as i64)
        .bind(n)
        .bind(data)
        .bind(ts)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn record_file(&self, f: &FileRecord, quota: i64) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        if !C::LOCK_UPLOADER.is_empty() {
            sqlx::query(C::LOCK_UPLOADER)
                .bind(f.uploader.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query(
            "INSERT INTO files (id, room, uploader, name, type, size, width, height, \
               thumb_type, thumb_size, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
             WHERE COALESCE((SELECT SUM(size) FROM files WHERE uploader = $3), 0) + $6 <= $12",
        )
        .bind(f.id.as_str())
        .bind(f.room.as_str())
        .bind(f.uploader.as_str())
        .bind(f.name.as_str())
        .bind(f.kind.as_str())
        .bind(f.size)
        .bind(f.width)
        .bind(f.height)
        .bind(f.thumb_type.as_deref())
        .bind(f.thumb_size)
        .bind(f.created_at)
        .bind(quota)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(C::affected(&done) == 1)
    }

    async fn discard_chunks(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM file_chunks WHERE file = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn file(&self, id: &str) -> StoreResult<Option<FileRecord>> {
        Ok(sqlx::query_as(select_file!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    async fn file_chunk(&self, id: &str, part: Part, n: i64) -> StoreResult<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT data FROM file_chunks WHERE file = $1 AND part = $2 AND n = $3",
        )
        .bind(id)
        .bind(part as i64)
        .bind(n)
        .fetch_optional(self.pool())
        .await?)
    }

    async fn files_used(&self, user_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE uploader = $1",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?)
    }

    async fn sweep_unattached(&self, before: i64) -> StoreResult<u64> {
        // A post attaching one of these in the same instant holds its row
        // (PostgreSQL: FOR UPDATE; SQLite: the one writer), and this
        // statement then finds it attached.
        let done = sqlx::query("DELETE FROM files WHERE message IS NULL AND created_at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(C::affected(&done))
    }

    async fn sweep_chunks(&self, before: i64) -> StoreResult<u64> {
        let mut removed = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM file_chunks WHERE (file, part, n) IN (\
                   SELECT c.file, c.part, c.n FROM file_chunks c \
                   WHERE c.created_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id = c.file) \
                   LIMIT +$2)",
            )
            .bind(before)
            .bind(CHUNKS_PER_DELETE)
            .execute(self.pool())
            .await?;
            let n = C::affected(&done);
            removed += n;
            if n < CHUNKS_PER_DELETE as u64 {
                return Ok(removed);
            }
        }
    }

    async fn existing_files(&self, ids: &[String]) -> StoreResult<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<C::Db>::new("SELECT id FROM files WHERE id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.as_str());
        }
        q.push(")");
        Ok(q.build_query_scalar().fetch_all(self.pool()).await?)
    }

    async fn file_totals(&self) -> StoreResult<(i64, i64)> {
        let t: Totals = sqlx::query_as(
            "SELECT COUNT(*) AS files, \
               CAST(COALESCE(SUM(size + COALESCE(thumb_size, 0)), 0) AS BIGINT) AS bytes \
             FROM files",
        )
        .fetch_one(self.pool())
        .await?;
        Ok((t.files, t.bytes))
    }
}

/// A batch's posts with files, screened inside the writer's transaction:
/// the changes that go on, the refused posts by index (`NoSuchFile`), and
/// for each change that goes on the files it attaches, in the order the
/// post named them.
pub(super) struct Screened {
    pub kept: Vec<Change>,
    pub refused: Vec<(usize, StoreError)>,
    pub files: Vec<Vec<FileView>>,
}

/// Screens the batch's posts that carry files: each must name uploads of
/// its author to its room that no message carries yet, none named twice in
/// the batch. The rows are read `FOR UPDATE` where the backend has it
/// (`C::LOCK_ROWS`), so a post on another node or the unattached sweep
/// waits for this transaction, then finds them attached.
pub(super) async fn screen<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    batch: Vec<Change>,
) -> StoreResult<Screened>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> &'r str: ColumnIndex<<C::Db as Database>::Row>,
    usize: ColumnIndex<<C::Db as Database>::Row>,
    for<'r> i64: Encode<'r, C::Db> + Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<i64>: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> String: Decode<'r, C::Db> + Type<C::Db>,
    for<'r> Option<String>: Decode<'r, C::Db> + Type<C::Db>,
{
    let mut kept = Vec::with_capacity(batch.len());
    let mut refused = Vec::new();
    let mut files = Vec::with_capacity(batch.len());
    let mut claimed: HashSet<String> = HashSet::new();
    for (k, change) in batch.into_iter().enumerate() {
        let wanted = match &change {
            Change::Post(m) if !m.files.is_empty() => &m.files,
            _ => {
                kept.push(change);
                files.push(Vec::new());
                continue;
            }
        };
        let Change::Post(m) = &change else {
            continue;
        };
        let mut q = QueryBuilder::<C::Db>::new(select_file!("WHERE id IN ("));
        let mut list = q.separated(", ");
        for id in wanted {
            list.push_bind(id.as_str());
        }
        q.push(") AND room = ")
            .push_bind(m.room.as_str())
            .push(" AND uploader = ")
            .push_bind(m.user.id.as_str())
            .push(" AND message IS NULL")
            .push(C::LOCK_ROWS);
        let rows: Vec<FileRecord> = q.build_query_as().fetch_all(&mut *conn).await?;
        let views: Option<Vec<FileView>> = wanted
            .iter()
            .map(|id| {
                rows.iter()
                    .find(|r| &r.id == id)
                    .filter(|_| !claimed.contains(id))
                    .map(FileRecord::view)
            })
            .collect();
        match views {
            Some(views) => {
                claimed.extend(wanted.iter().cloned());
                kept.push(change);
                files.push(views);
            }
            None => refused.push((k, StoreError::NoSuchFile)),
        }
    }
    Ok(Screened {
        kept,
        refused,
        files,
    })
}

/// Attaches the files of the batch's posts (inserted already) to them:
/// the rows point at their message, the message lists them.
pub(super) async fn attach<C: Connections>(
    conn: &mut <C::Db as Database>::Connection,
    items: &[Item],
) -> StoreResult<()>
where
    for<'c> &'c mut <C::Db as Database>::Connection: Executor<'c, Database = C::Db>,
    <C::Db as Database>::Arguments: IntoArguments<C::Db>,
    for<'q, 't> &'t str: Encode<'q, C::Db> + Type<C::Db>,
    for<'r> i64: Encode<'r, C::Db> + Type<C::Db>,
{
    for item in items {
        let Item::Posted(m) = item else {
            continue;
        };
        if m.files.is_empty() {
            continue;
        }
        let mut q = QueryBuilder::<C::Db>::new("UPDATE files SET message = ");
        q.push_bind(m.id).push(" WHERE id IN (");
        let mut list = q.separated(", ");
        for f in &m.files {
            list.push_bind(f.id.as_str());
        }
        q.push(")");
        q.build().execute(&mut *conn).await?;
        let json =
            serde_json::to_string(&m.files).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        sqlx::query("UPDATE messages SET files = $1 WHERE id = $2")
            .bind(json.as_str())
            .bind(m.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
