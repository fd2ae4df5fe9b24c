//! Clusters whose model services run the tch backend on the CPU.

use std::path::PathBuf;

use devcluster::{ClusterOptions, Service};

/// Options for a cluster named `name` whose `services` run `CRITICLOOP_BACKEND__KIND=tch` on the CPU
/// ([`ClusterOptions::tch`]), and the root of their work dirs.
pub fn options(name: &str, services: &[Service], keys: &[(&str, &str)]) -> (ClusterOptions, PathBuf) {
    let options = ClusterOptions::new(name).tch(services, keys);
    let root = options.tch_root();
    (options, root)
}
