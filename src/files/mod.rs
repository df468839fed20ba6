//! Files and images (docs/protocol.md "Files"): an upload taken in (its
//! bytes received up to the limit, its type sniffed, an image checked,
//! turned upright, stripped of metadata and thumbnailed), its bytes kept
//! (in the database, or in `--files-dir`), read back for serving, and the
//! sweeper that removes what no one can reach any more.
//!
//! What a file is and who may see it are the store's (`store::Files`)
//! and `rooms`'; this module owns the bytes and the work on them.

mod dir;
mod image;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::Stream;
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Settings;
use crate::domain::{FileView, new_file_id, now_ms};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::store::{CHUNK_BYTES, FileRecord, Part, Store};
use image::{Raster, Refused};

pub use image::{MAX_PIXELS, MAX_SIDE, THUMB_SIDE};

/// Images decoded at once (each may take up to 256 MiB and a core).
const DECODES: usize = 2;
/// Upload bytes held in memory at once, all uploads together, in MiB: one
/// more upload past it is answered 503 rather than queued.
const MEMORY_MIB: usize = 256;
const MIB: usize = 1024 * 1024;
/// A chunk of a file served from the directory.
const READ_BYTES: usize = 64 * 1024;

/// Where the bytes are.
enum Keep {
    Database,
    Dir(dir::Dir),
}

/// The server's files: limits, where their bytes are, and the work on them.
pub struct Files {
    store: Arc<dyn Store>,
    keep: Keep,
    max_size: u64,
    quota: u64,
    ttl: Duration,
    /// Chunks and files no row names are removed once this old: an upload
    /// still arriving is younger (its deadline is shorter).
    orphan_age: Duration,
    decodes: Semaphore,
    memory: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// An upload's bytes as received, and the memory they hold.
pub struct Received {
    bytes: Vec<u8>,
    memory: Vec<OwnedSemaphorePermit>,
}

/// Who uploads what, where.
pub struct Upload<'a> {
    pub room: &'a str,
    pub uploader: &'a str,
    /// Already made safe (`domain::file_name`).
    pub name: String,
    /// The content type the request claimed, if any.
    pub claimed: Option<String>,
}

/// A stored part ready to serve.
pub struct Served {
    pub kind: String,
    pub size: u64,
    pub body: axum::body::Body,
}

impl Files {
    /// Opens the files directory (removing what an earlier process left
    /// half-written), or, on a database only one server writes (SQLite:
    /// `store::lock_for_server`), removes the chunks no file names.
    pub async fn new(
        settings: &Settings,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let keep = match &settings.files_dir {
            Some(root) => Keep::Dir(dir::Dir::open(root)?),
            None => Keep::Database,
        };
        let files = Self {
            store,
            keep,
            max_size: settings.max_file_size,
            quota: settings.files_quota,
            ttl: settings.files_unattached_ttl,
            orphan_age: settings.timeouts.http_upload + Duration::from_secs(60),
            decodes: Semaphore::new(DECODES),
            memory: Arc::new(Semaphore::new(MEMORY_MIB)),
            metrics,
        };
        let alone = settings.files_dir.is_some() || settings.database.starts_with("sqlite:");
        if alone {
            files.sweep_orphans(Duration::ZERO).await?;
        }
        Ok(files)
    }

    /// `--max-file-size`.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Refuses at once an upload whose announced length is over the limit
    /// or would take `user_id` past the quota.
    pub async fn precheck(&self, user_id: &str, length: Option<u64>) -> Result<(), AppError> {
        let length = length.unwrap_or(0);
        if length > self.max_size {
            return Err(self.too_large());
        }
        let used = u64::try_from(self.store.files_used(user_id).await?).unwrap_or(0);
        if used.saturating_add(length.max(1)) > self.quota {
            return Err(over_quota());
        }
        Ok(())
    }

    /// Reads an upload's body up to `--max-file-size`, stopping at the
    /// first byte past it (nothing is kept); the memory it takes counts
    /// against the uploads' shared budget.
    pub async fn receive<E: std::fmt::Display>(
        &self,
        mut body: impl Stream<Item = Result<Bytes, E>> + Unpin,
    ) -> Result<Received, AppError> {
        use futures_util::StreamExt;
        let mut received = Received {
            bytes: Vec::new(),
            memory: Vec::new(),
        };
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| cut_off(&e))?;
            self.take(&mut received, &chunk)?;
        }
        Ok(received)
    }

    /// Adds `chunk` to what was received (multipart fields arrive this way).
    pub fn take(&self, received: &mut Received, chunk: &[u8]) -> Result<(), AppError> {
        let len = received.bytes.len() + chunk.len();
        if len as u64 > self.max_size {
            return Err(self.too_large());
        }
        while received.memory.len() * MIB < len {
            let permit = self.memory.clone().try_acquire_owned().map_err(|_| {
                AppError::Unavailable("too many uploads at once; try again shortly".into())
            })?;
            received.memory.push(permit);
        }
        received.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// An empty buffer for [`Files::take`].
    pub fn buffer(&self) -> Received {
        Received {
            bytes: Vec::new(),
            memory: Vec::new(),
        }
    }

    /// Checks, prepares and stores an upload; its view once its row is
    /// committed. Whatever fails keeps nothing.
    pub async fn store(&self, up: Upload<'_>, received: Received) -> Result<FileView, AppError> {
        let Received {
            bytes,
            memory: _held,
        } = received;
        if bytes.is_empty() {
            return Err(AppError::payload("the file is empty"));
        }
        let claimed = up.claimed.as_deref().and_then(content_type);
        let sniffed = Raster::sniff(&bytes);
        if let Some(claim) = claimed.as_deref().and_then(Raster::of_type)
            && sniffed != Some(claim)
        {
            return Err(AppError::payload(format!(
                "the file is not the {} it claims to be",
                claim.mime()
            )));
        }
        let id = new_file_id();
        let size = bytes.len();
        let (record, file, thumb) = match sniffed {
            Some(raster) => {
                let p = self.prepare(bytes, raster).await?;
                let record = FileRecord {
                    kind: p.kind.into(),
                    size: p.bytes.len() as i64,
                    width: Some(i64::from(p.width)),
                    height: Some(i64::from(p.height)),
                    thumb_type: Some(p.thumb_kind.into()),
                    thumb_size: Some(p.thumb.len() as i64),
                    ..record(&id, &up, String::new(), 0)
                };
                (record, p.bytes, Some(p.thumb))
            }
            None => {
                let kind = claimed.unwrap_or_else(|| "application/octet-stream".into());
                (record(&id, &up, kind, size as i64), bytes, None)
            }
        };
        self.keep_bytes(&id, file, thumb).await?;
        let quota = i64::try_from(self.quota).unwrap_or(i64::MAX);
        match self.store.record_file(&record, quota).await {
            Ok(true) => {
                self.metrics.file_uploaded(size as u64);
                Ok(record.view())
            }
            Ok(false) => {
                self.discard(&id).await;
                Err(over_quota())
            }
            Err(e) => {
                self.discard(&id).await;
                Err(e.into())
            }
        }
    }

    /// Decodes on a blocking thread, at most [`DECODES`] at once.
    async fn prepare(&self, bytes: Vec<u8>, raster: Raster) -> Result<image::Prepared, AppError> {
        let _decoding = self
            .decodes
            .acquire()
            .await
            .map_err(|_| AppError::Internal)?;
        let done = tokio::task::spawn_blocking(move || image::prepare(bytes, raster))
            .await
            .map_err(|_| AppError::Internal)?;
        done.map_err(|e| match e {
            Refused::TooLarge(..) => AppError::TooLarge(e.to_string()),
            Refused::Undecodable => AppError::payload(e.to_string()),
        })
    }

    /// Writes the bytes where they are kept, before the row exists.
    async fn keep_bytes(
        &self,
        id: &str,
        file: Vec<u8>,
        thumb: Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let kept = match &self.keep {
            Keep::Dir(dir) => async {
                dir.write(id, Part::File, file).await?;
                if let Some(t) = thumb {
                    dir.write(id, Part::Thumbnail, t).await?;
                }
                Ok::<(), std::io::Error>(())
            }
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not write an upload to the files directory");
                AppError::Internal
            }),
            Keep::Database => {
                let ts = now_ms();
                let mut parts = vec![(Part::File, file)];
                parts.extend(thumb.map(|t| (Part::Thumbnail, t)));
                let mut result = Ok(());
                'parts: for (part, bytes) in &parts {
                    for (n, chunk) in bytes.chunks(CHUNK_BYTES).enumerate() {
                        if let Err(e) = self.store.put_chunk(id, *part, n as i64, chunk, ts).await {
                            result = Err(AppError::from(e));
                            break 'parts;
                        }
                    }
                }
                result
            }
        };
        if kept.is_err() {
            self.discard(id).await;
        }
        kept
    }

    /// Removes the bytes of an upload that was not recorded.
    async fn discard(&self, id: &str) {
        match &self.keep {
            Keep::Dir(dir) => dir.remove(id).await,
            Keep::Database => {
                if let Err(e) = self.store.discard_chunks(id).await {
                    // The sweep removes them later.
                    tracing::warn!(error = %e, "could not remove a refused upload's chunks");
                }
            }
        }
    }

    /// A part of a stored file, streamed; `None` when its bytes are not
    /// there (a row whose bytes went missing is served as no file at all).
    pub async fn open(&self, f: &FileRecord, part: Part) -> Result<Option<Served>, AppError> {
        let (kind, size) = match part {
            Part::File => (f.kind.clone(), f.size),
            Part::Thumbnail => match (&f.thumb_type, f.thumb_size) {
                (Some(t), Some(s)) => (t.clone(), s),
                _ => return Ok(None),
            },
        };
        let size = u64::try_from(size).unwrap_or(0);
        let body = match &self.keep {
            Keep::Dir(dir) => {
                let Some(file) = dir.open_part(&f.id, part).await.map_err(|e| {
                    tracing::error!(error = %e, "could not open a stored file");
                    AppError::Internal
                })?
                else {
                    return Ok(None);
                };
                let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
                if len != size {
                    return Ok(None);
                }
                axum::body::Body::from_stream(read_file(file))
            }
            Keep::Database => {
                let Some(first) = self.store.file_chunk(&f.id, part, 0).await? else {
                    return Ok(None);
                };
                axum::body::Body::from_stream(read_chunks(
                    self.store.clone(),
                    f.id.clone(),
                    part,
                    first,
                ))
            }
        };
        self.metrics.files_served.inc();
        Ok(Some(Served { kind, size, body }))
    }

    /// Runs the sweep every quarter of the unattached uploads' lifetime
    /// (at most a minute apart), on every node: each statement is safe to
    /// run on several at once.
    pub fn spawn_sweeper(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        let period = (self.ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sweep().await {
                    tracing::warn!(error = %e, "file sweep failed; retrying");
                }
            }
        })
    }

    /// Removes uploads never attached within their lifetime, then the
    /// bytes no file names any more.
    async fn sweep(&self) -> anyhow::Result<()> {
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let removed = self.store.sweep_unattached(now_ms() - ttl).await?;
        if removed > 0 {
            tracing::debug!(removed, "unattached uploads removed");
        }
        self.sweep_orphans(self.orphan_age).await
    }

    /// Removes bytes stored longer than `age` ago that no row names.
    async fn sweep_orphans(&self, age: Duration) -> anyhow::Result<()> {
        match &self.keep {
            Keep::Database => {
                let age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
                self.store
                    .sweep_chunks(now_ms().saturating_sub(age) + 1)
                    .await?;
            }
            Keep::Dir(dir) => {
                let ids = dir.ids_older_than(age).await?;
                for chunk in ids.chunks(500) {
                    let existing = self.store.existing_files(chunk).await?;
                    for id in chunk.iter().filter(|id| !existing.contains(id)) {
                        dir.remove(id).await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Files stored and their bytes, for `/metrics`.
    pub async fn totals(&self) -> Result<(i64, i64), AppError> {
        Ok(self.store.file_totals().await?)
    }

    fn too_large(&self) -> AppError {
        AppError::TooLarge(format!("the file is larger than {} bytes", self.max_size))
    }
}

/// Whether files of this stored type are shown inline: the four raster
/// types, whose bytes were checked at upload; anything else is downloaded.
pub fn shown_inline(kind: &str) -> bool {
    matches!(
        kind,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

fn over_quota() -> AppError {
    AppError::TooLarge("your files would pass your storage quota".into())
}

fn cut_off(e: &impl std::fmt::Display) -> AppError {
    let text = e.to_string();
    if text.contains("in time") {
        AppError::Timeout("request body not received in time".into())
    } else {
        AppError::payload("the upload was cut off")
    }
}

/// The record of a new upload of `kind` and `size` (no image parts).
fn record(id: &str, up: &Upload<'_>, kind: String, size: i64) -> FileRecord {
    FileRecord {
        id: id.to_owned(),
        room: up.room.to_owned(),
        uploader: up.uploader.to_owned(),
        name: up.name.clone(),
        kind,
        size,
        width: None,
        height: None,
        thumb_type: None,
        thumb_size: None,
        message: None,
        created_at: now_ms(),
    }
}

/// A claimed content type as stored: its essence (`type/subtype`, no
/// parameters), lower case; `None` for anything that is not one.
fn content_type(claimed: &str) -> Option<String> {
    let essence = claimed.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (token(kind) && token(sub)).then_some(essence)
}

/// The chunks of a part in order, the first already read.
fn read_chunks(
    store: Arc<dyn Store>,
    id: String,
    part: Part,
    first: Vec<u8>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some((0i64, Some(first))), move |state| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            let (n, read) = state?;
            let chunk = match read {
                Some(c) => Ok(Some(c)),
                None => store.file_chunk(&id, part, n).await,
            };
            match chunk {
                Ok(Some(c)) => Some((Ok(Bytes::from(c)), Some((n + 1, None)))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    })
}

/// A file from the directory, [`READ_BYTES`] at a time.
fn read_file(file: tokio::fs::File) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0; READ_BYTES];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_types_are_kept_as_their_essence() {
        assert_eq!(
            content_type("Text/HTML; charset=utf-8").as_deref(),
            Some("text/html")
        );
        assert_eq!(
            content_type("image/svg+xml").as_deref(),
            Some("image/svg+xml")
        );
        assert_eq!(content_type("nonsense"), None);
        assert_eq!(content_type("a/b c"), None);
        assert_eq!(content_type("\"/x"), None);
    }
}
