//! Images of prompts and judge items: a `sha256:` reference (or bare 64-hex digest) is read from the
//! artifact store (kind `image`, verified against its digest), anything else is a local file (`file://`
//! optional); then it is decoded as the model crate does it (size limits, no panics). A missing or bad
//! image is a permanent error that names it; a store that fails to answer is a transient one.

use std::path::Path;

use artifacts::{ArtifactError, ArtifactStore, Digest, Kind};
use backend::BackendError;
use model::llava::preprocess::decode_image;
use model::tch::Tensor;

use crate::io::Io;

#[derive(Clone)]
pub struct Images {
    store: ArtifactStore,
    io: Io,
}

impl Images {
    pub fn new(store: ArtifactStore, io: Io) -> Self {
        Images { store, io }
    }

    /// The decoded image `[3, height, width]` (uint8) of `reference`.
    pub fn fetch(&self, reference: &str) -> Result<Tensor, BackendError> {
        let bytes = self.bytes(reference)?;
        decode_image(&bytes).map_err(|e| BackendError::Permanent(format!("image `{reference}`: {e}")))
    }

    /// The encoded bytes of `reference`.
    pub fn bytes(&self, reference: &str) -> Result<Vec<u8>, BackendError> {
        let span = tracing::info_span!("image.fetch", image = %reference);
        let _entered = span.enter();
        Ok(match Digest::parse(reference) {
            Ok(digest) => self
                .io
                .block_on(self.store.get(Kind::Image, &digest))
                .map_err(|e| match e {
                    ArtifactError::NotFound { .. } | ArtifactError::Corrupt { .. } => {
                        BackendError::Permanent(format!("image `{reference}`: {e}"))
                    }
                    other => BackendError::Transient(format!("image `{reference}`: {other}")),
                })?
                .to_vec(),
            Err(_) => {
                let path = Path::new(reference.strip_prefix("file://").unwrap_or(reference));
                std::fs::read(path).map_err(|e| {
                    BackendError::Permanent(format!("image `{reference}`: reading {}: {e}", path.display()))
                })?
            }
        })
    }
}
