//! A local criticloop: a fresh database, a private broker prefix, and every service binary started
//! as a child process. The end-to-end tests, the benchmark and `criticloop demo` run on it; tests
//! kill and restart its processes and cut its connections through `Proxy`.

mod cluster;
mod proxy;
mod services;
mod sweep;
mod watchdog;

pub use cluster::{Cluster, ClusterOptions, bin_dir};
pub use proxy::Proxy;
pub use services::{SERVICES, Service};
pub use sweep::{Swept, sweep};
