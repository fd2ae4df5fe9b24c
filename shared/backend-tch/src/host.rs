//! The model thread. `tch::Tensor` is `Send` but not `Sync`, so the loaded policy and critic
//! checkpoints live on one thread of their own ([`ModelHost`]) and callers (the worker's blocking
//! threads) send it jobs and wait for the answer. One thread also means one forward pass at a time and
//! one copy of each checkpoint, whichever service part asks for it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use backend::BackendError;

use crate::loaded::ModelCache;

type Job = Box<dyn FnOnce(&mut ModelCache) + Send>;

pub struct ModelHost {
    jobs: mpsc::Sender<Job>,
}

impl ModelHost {
    /// Starts the thread; it owns `cache` and stops when the host is dropped.
    pub fn start(mut cache: ModelCache) -> Result<Self, String> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("tch-models".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    // A panicking job answers nobody (its caller sees the reply channel close); the
                    // models it touched may be half-updated, so they are dropped.
                    if catch_unwind(AssertUnwindSafe(|| job(&mut cache))).is_err() {
                        tracing::error!("a model job panicked; unloading every cached model");
                        cache.clear();
                    }
                }
            })
            .map_err(|e| format!("starting the model thread: {e}"))?;
        Ok(ModelHost { jobs })
    }

    /// Runs `f` on the model thread (inside the caller's tracing span) and returns its answer.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ModelCache) -> R + Send + 'static,
    ) -> Result<R, BackendError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let span = tracing::Span::current();
        let job: Job = Box::new(move |cache| {
            let _entered = span.enter();
            let _ = reply.send(f(cache));
        });
        self.jobs.send(job).map_err(|_| BackendError::Transient("the tch model thread has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| BackendError::Transient("the tch model thread failed during the call (it panicked)".into()))
    }
}
