//! The runtime every service shares: settings, start-up (database, migrations, broker topology),
//! the batched consumer loop with its ack/retry/dead-letter rules, the outbox relay, leases for long
//! tasks, health probes and shutdown. Services supply only their handlers.

mod consume;
mod emit;
mod health;
mod lease;
mod leased;
mod relay;
mod runtime;
mod settings;

pub use consume::{Batching, Decoded, Disposition, Handler, Incoming, consume, consume_named, settled};
pub use emit::{Emitter, blocking, emit};
pub use health::serve_health;
pub use lease::{LeaseGuard, LeaseOutcome, run_leased};
pub use leased::{LeasedHandler, LongTask, transient};
pub use relay::relay;
pub use runtime::{Runtime, run_until_stopped, shutdown_signal};
pub use settings::Settings;
