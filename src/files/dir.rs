//! `--files-dir`: each file's bytes in a file of their own, `ID` and
//! `ID.thumb`. Written to `ID[.thumb].tmp`, flushed to disk, renamed, and
//! the directory flushed, all before the file's row is committed: a row
//! never names bytes that are not all there. One node only (the
//! directory is not shared), so temporary files found at start are an
//! earlier process's, cut off: they are removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::store::Part;

const TEMP: &str = ".tmp";
const THUMB: &str = ".thumb";

/// The directory files are kept in.
#[derive(Debug, Clone)]
pub(super) struct Dir {
    root: PathBuf,
}

impl Dir {
    /// Opens (creating) `root` and removes the temporary files left in it.
    pub(super) fn open(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("creating the files directory {}", root.display()))?;
        let dir = Self {
            root: root.to_owned(),
        };
        for (name, _) in dir.entries()? {
            if name.ends_with(TEMP) {
                let path = dir.root.join(&name);
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
        }
        Ok(dir)
    }

    fn path(&self, id: &str, part: Part) -> PathBuf {
        match part {
            Part::File => self.root.join(id),
            Part::Thumbnail => self.root.join(format!("{id}{THUMB}")),
        }
    }

    /// Writes a part of file `id` whole, durably, under its final name.
    pub(super) async fn write(&self, id: &str, part: Part, bytes: Vec<u8>) -> std::io::Result<()> {
        let path = self.path(id, part);
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut temp = path.clone().into_os_string();
            temp.push(TEMP);
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temp, &path)?;
            // The rename is durable once the directory is.
            std::fs::File::open(&root)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Removes both parts of file `id` (a missing one is no error).
    pub(super) async fn remove(&self, id: &str) {
        for part in [Part::File, Part::Thumbnail] {
            if let Err(e) = tokio::fs::remove_file(self.path(id, part)).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(error = %e, id, "could not remove a stored file");
            }
        }
    }

    /// A part of file `id` opened for reading; `None` when it is not there.
    pub(super) async fn open_part(
        &self,
        id: &str,
        part: Part,
    ) -> std::io::Result<Option<tokio::fs::File>> {
        match tokio::fs::File::open(self.path(id, part)).await {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The file ids of the bytes stored before `before` (temporary files
    /// included, by the id they are for).
    pub(super) async fn ids_older_than(&self, age: Duration) -> std::io::Result<Vec<String>> {
        let dir = self.clone();
        tokio::task::spawn_blocking(move || {
            let cutoff = SystemTime::now() - age;
            let mut ids: Vec<String> = dir
                .entries()
                .map_err(std::io::Error::other)?
                .into_iter()
                .filter(|(_, modified)| *modified < cutoff)
                .map(|(name, _)| {
                    let id = name.split('.').next().unwrap_or(&name);
                    id.to_owned()
                })
                .collect();
            ids.sort();
            ids.dedup();
            Ok(ids)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Every entry's name and when it was last written.
    fn entries(&self) -> anyhow::Result<Vec<(String, SystemTime)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.root)
            .with_context(|| format!("reading {}", self.root.display()))?
        {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let modified = entry.metadata()?.modified()?;
            out.push((name, modified));
        }
        Ok(out)
    }
}
