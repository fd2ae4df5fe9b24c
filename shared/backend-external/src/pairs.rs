//! The round's pairs as the command reads them: JSONL in TRL's format, the rows of the pair export
//! (`GET /v1/campaigns/{id}/rounds/{n}/pairs?format=trl`: `{"prompt", "chosen", "rejected", "images"}`)
//! plus the pair's `id`, with plain-text prompt and responses (the launcher applies the checkpoint's chat
//! template). Images the worker holds as `sha256:` artifacts are fetched into the run folder and named by
//! absolute path, since the command cannot read the artifact store; other references pass unchanged.

use std::io::Write;
use std::path::{Path, PathBuf};

use artifacts::{ArtifactError, ArtifactStore, Digest, Kind};
use backend::{BackendError, TrainPair};
use backend_tch::io::Io;
use serde_json::json;

pub struct PairWriter {
    pub store: ArtifactStore,
    pub io: Io,
}

impl PairWriter {
    /// Writes `pairs` to `path`, fetching their images into `images`; returns the images fetched.
    pub fn write(&self, pairs: &[TrainPair], path: &Path, images: &Path) -> Result<usize, BackendError> {
        let span = tracing::info_span!("external.pairs", pairs = pairs.len(), path = %path.display());
        let _entered = span.enter();
        let io_error = |what: &str, e: std::io::Error| BackendError::Transient(format!("{what}: {e}"));
        let file = std::fs::File::create(path).map_err(|e| io_error(&format!("creating {}", path.display()), e))?;
        let mut out = std::io::BufWriter::new(file);
        let mut fetched = 0;
        for pair in pairs {
            let image = match &pair.image {
                Some(reference) => {
                    let (local, new) = self.image(reference, images)?;
                    fetched += usize::from(new);
                    vec![local]
                }
                None => Vec::new(),
            };
            let row = json!({
                "id": pair.id, "prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected, "images": image,
            });
            writeln!(out, "{row}").map_err(|e| io_error(&format!("writing {}", path.display()), e))?;
        }
        out.flush().map_err(|e| io_error(&format!("writing {}", path.display()), e))?;
        tracing::info!(images = fetched, "pairs written");
        Ok(fetched)
    }

    /// The local name of an image reference, and whether it was fetched now.
    fn image(&self, reference: &str, images: &Path) -> Result<(String, bool), BackendError> {
        if !reference.starts_with("sha256:") {
            return Ok((reference.to_string(), false));
        }
        let digest =
            Digest::parse(reference).map_err(|e| BackendError::Permanent(format!("image `{reference}`: {e}")))?;
        let path: PathBuf = images.join(digest.to_hex());
        if path.is_file() {
            return Ok((path.display().to_string(), false));
        }
        let bytes = self.io.block_on(self.store.get(Kind::Image, &digest)).map_err(|e| artifact_error(reference, e))?;
        std::fs::create_dir_all(images)
            .and_then(|()| std::fs::write(&path, &bytes))
            .map_err(|e| BackendError::Transient(format!("writing image {}: {e}", path.display())))?;
        Ok((path.display().to_string(), true))
    }
}

fn artifact_error(reference: &str, e: ArtifactError) -> BackendError {
    if e.is_retryable() {
        BackendError::Transient(format!("image `{reference}`: {e}"))
    } else {
        BackendError::Permanent(format!("image `{reference}`: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use artifacts::StoreConfig;

    #[test]
    fn pairs_are_trl_rows_with_stored_images_fetched_to_local_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ArtifactStore::open(&StoreConfig::local(dir.path().join("store"))).expect("store");
        let io = Io::current_or_new().expect("runtime");
        let stored = io.block_on(store.put_bytes(Kind::Image, b"not really a png".to_vec())).expect("put");
        let pair = |id: &str, image: Option<String>| TrainPair {
            id: id.into(),
            prompt: format!("question {id}"),
            image,
            chosen: "good".into(),
            rejected: "bad".into(),
        };
        let pairs = [
            pair("a", Some(format!("sha256:{}", stored.digest))),
            pair("b", None),
            pair("c", Some("/data/images/c.png".into())),
            pair("d", Some(format!("sha256:{}", stored.digest))),
        ];
        let writer = PairWriter { store, io };
        let (path, images) = (dir.path().join("pairs.jsonl"), dir.path().join("images"));
        assert_eq!(writer.write(&pairs, &path, &images).expect("written"), 1, "fetched once");
        let text = std::fs::read_to_string(&path).expect("read");
        let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        let local = images.join(stored.digest.to_hex());
        assert_eq!(std::fs::read(&local).expect("image fetched"), b"not really a png");
        assert_eq!(
            rows[0],
            json!({"id": "a", "prompt": "question a", "chosen": "good", "rejected": "bad",
                   "images": [local.display().to_string()]})
        );
        assert_eq!(rows[1]["images"], json!([]));
        assert_eq!(rows[2]["images"], json!(["/data/images/c.png"]));
        assert_eq!(rows[3]["images"], rows[0]["images"]);
        let missing = [pair("e", Some(format!("sha256:{}", "0".repeat(64))))];
        let err = writer.write(&missing, &path, &images).expect_err("not stored");
        assert!(matches!(err, BackendError::Permanent(ref m) if m.contains("not found")), "{err:?}");
    }
}
