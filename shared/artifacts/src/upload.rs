//! Streaming puts (files, readers) and verified downloads.
//!
//! A file is hashed first, then uploaded while being hashed again; the upload is published only if both
//! hashes agree, so a file that changes underneath never yields an object whose key is not its content.
//! Large objects go up as multipart uploads, which the backend publishes atomically on completion (the
//! local backend writes a staging file and renames it), so no reader ever sees a partial object, and two
//! writers of the same content publish the same bytes.

use crate::store::PART_SIZE;
use crate::{ArtifactError, ArtifactStore, Digest, DigestHasher, Kind, Stored};
use bytes::Bytes;
use futures::StreamExt;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How many parts of one upload may be in flight at once.
const MAX_PARTS_IN_FLIGHT: usize = 4;

impl ArtifactStore {
    /// Stores a file's content. The file is read twice (hash, then upload) and never held in memory whole.
    pub async fn put_file(&self, kind: Kind, path: &Path) -> Result<Stored, ArtifactError> {
        let (digest, size) = hash_file(path).await?;
        if !self.needs_write(kind, &digest).await? {
            return Ok(Stored { kind, digest, size, newly_stored: false });
        }
        self.upload_file(kind, path, digest, size).await?;
        tracing::debug!(%kind, %digest, size, path = %path.display(), "artifact stored from file");
        Ok(Stored { kind, digest, size, newly_stored: true })
    }

    /// Stores what `reader` yields, whose digest is not known in advance: the content is spooled to a
    /// temporary file in `spool_dir` while hashed, then stored as by [`ArtifactStore::put_file`].
    pub async fn put_reader<R: AsyncRead + Unpin>(
        &self,
        kind: Kind,
        mut reader: R,
        spool_dir: &Path,
    ) -> Result<Stored, ArtifactError> {
        let spool = tempfile::Builder::new()
            .prefix(".artifact-spool-")
            .tempfile_in(spool_dir)
            .map_err(|e| ArtifactError::io("creating a spool file in", spool_dir, e))?;
        let spool_path = spool.path().to_path_buf();
        let mut file = tokio::fs::File::from_std(
            spool.reopen().map_err(|e| ArtifactError::io("opening the spool file", &spool_path, e))?,
        );
        let mut hasher = DigestHasher::new();
        let mut size = 0u64;
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = reader
                .read(&mut buffer)
                .await
                .map_err(|e| ArtifactError::io("reading the input of", &spool_path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            size += n as u64;
            file.write_all(&buffer[..n]).await.map_err(|e| ArtifactError::io("writing", &spool_path, e))?;
        }
        file.flush().await.map_err(|e| ArtifactError::io("writing", &spool_path, e))?;
        drop(file);
        let digest = hasher.finish();
        if !self.needs_write(kind, &digest).await? {
            return Ok(Stored { kind, digest, size, newly_stored: false });
        }
        self.upload_file(kind, &spool_path, digest, size).await?;
        Ok(Stored { kind, digest, size, newly_stored: true })
    }

    /// Uploads a file whose digest was computed before, re-hashing it on the way; publishes only on a match.
    async fn upload_file(&self, kind: Kind, path: &Path, expected: Digest, size: u64) -> Result<(), ArtifactError> {
        let key = self.key(kind, &expected);
        let mut file = tokio::fs::File::open(path).await.map_err(|e| ArtifactError::io("opening", path, e))?;
        if size <= PART_SIZE as u64 {
            let mut content = Vec::with_capacity(size as usize);
            file.read_to_end(&mut content).await.map_err(|e| ArtifactError::io("reading", path, e))?;
            check_unchanged(path, expected, Digest::of(&content))?;
            self.backend
                .put(&key, PutPayload::from(content))
                .await
                .map_err(|e| ArtifactError::backend("put", &key, e))?;
            return Ok(());
        }
        let upload = self.backend.put_multipart(&key).await.map_err(|e| ArtifactError::backend("put", &key, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = DigestHasher::new();
        let mut buffer = vec![0u8; 1024 * 1024];
        let outcome: Result<(), ArtifactError> = async {
            loop {
                let n = file.read(&mut buffer).await.map_err(|e| ArtifactError::io("reading", path, e))?;
                if n == 0 {
                    return Ok(());
                }
                hasher.update(&buffer[..n]);
                writer
                    .wait_for_capacity(MAX_PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| ArtifactError::backend("put part", &key, e))?;
                writer.write(&buffer[..n]);
            }
        }
        .await;
        let checked = outcome.and_then(|()| check_unchanged(path, expected, hasher.finish()));
        match checked {
            Ok(()) => {
                writer.finish().await.map_err(|e| ArtifactError::backend("complete upload", &key, e))?;
                Ok(())
            }
            Err(error) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%key, %abort, "aborting a multipart upload failed; the backend will expire it");
                }
                Err(error)
            }
        }
    }

    /// Downloads an artifact to `dest`, verifying its digest; `dest` appears only complete and verified
    /// (written to a temporary file beside it, then renamed). Returns the size.
    pub async fn download(&self, kind: Kind, digest: &Digest, dest: &Path) -> Result<u64, ArtifactError> {
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir).await.map_err(|e| ArtifactError::io("creating", dir, e))?;
        let partial = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(dir)
            .map_err(|e| ArtifactError::io("creating a temporary file in", dir, e))?;
        let partial_path: PathBuf = partial.path().to_path_buf();
        let mut file =
            tokio::fs::File::from_std(partial.reopen().map_err(|e| ArtifactError::io("opening", &partial_path, e))?);
        let mut stream = self.get_stream(kind, digest).await?;
        let mut hasher = DigestHasher::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk: Bytes = chunk?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| ArtifactError::io("writing", &partial_path, e))?;
        }
        file.sync_all().await.map_err(|e| ArtifactError::io("writing", &partial_path, e))?;
        drop(file);
        let actual = hasher.finish();
        if actual != *digest {
            return Err(ArtifactError::Corrupt { kind, digest: *digest, actual });
        }
        partial.persist(dest).map_err(|e| ArtifactError::io("renaming a download to", dest, e.error))?;
        Ok(size)
    }
}

fn check_unchanged(path: &Path, expected: Digest, actual: Digest) -> Result<(), ArtifactError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ArtifactError::ChangedWhileStoring { path: path.to_path_buf(), expected, actual })
    }
}

/// The digest and size of a file, read in chunks on a blocking thread.
pub(crate) async fn hash_file(path: &Path) -> Result<(Digest, u64), ArtifactError> {
    let owned = path.to_path_buf();
    let joined = tokio::task::spawn_blocking(move || -> Result<(Digest, u64), ArtifactError> {
        use std::io::Read;
        let mut file = std::fs::File::open(&owned).map_err(|e| ArtifactError::io("opening", &owned, e))?;
        let mut hasher = DigestHasher::new();
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buffer).map_err(|e| ArtifactError::io("reading", &owned, e))?;
            if n == 0 {
                return Ok((hasher.finish(), size));
            }
            hasher.update(&buffer[..n]);
            size += n as u64;
        }
    })
    .await;
    joined.map_err(|e| ArtifactError::io("hashing", path, std::io::Error::other(e)))?
}
