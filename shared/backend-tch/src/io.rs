//! Artifact I/O from the backend's synchronous calls. The model traits run on a blocking thread of the
//! worker's runtime; artifact transfers are async, so they are driven on that runtime (captured when the
//! backend is built), or on a runtime of the backend's own when it is built outside one.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};

#[derive(Clone)]
pub enum Io {
    /// The runtime the backend was built in; calls come from its blocking threads.
    Shared(Handle),
    Owned(Arc<Runtime>),
}

impl Io {
    /// The current runtime if there is one, else a new one.
    pub fn current_or_new() -> std::io::Result<Self> {
        match Handle::try_current() {
            Ok(handle) => Ok(Io::Shared(handle)),
            Err(_) => Ok(Io::Owned(Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build()?))),
        }
    }

    /// Runs `f` to completion. Must not be called from an async task (the model calls are not).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        match self {
            Io::Shared(handle) => handle.block_on(f),
            Io::Owned(rt) => rt.block_on(f),
        }
    }
}
