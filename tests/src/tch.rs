//! Clusters whose model services run the tch backend on the CPU.

use std::path::PathBuf;

use devcluster::{ClusterOptions, Service};

/// Options for a cluster named `name` whose `services` run `CRITICLOOP_BACKEND__KIND=tch` on the CPU, each
/// with its own work dir (`ROOT/<service>`), and `keys` (backend keys without the `CRITICLOOP_BACKEND__`
/// prefix) set for all of them; and ROOT.
pub fn options(name: &str, services: &[Service], keys: &[(&str, &str)]) -> (ClusterOptions, PathBuf) {
    let mut options = ClusterOptions::new(name);
    let root = options.log_dir.join(&options.name).join("tch");
    for &service in services {
        let work_dir = root.join(service.name()).display().to_string();
        let common = [("KIND", "tch"), ("DEVICE", "cpu"), ("WORK_DIR", work_dir.as_str())];
        for (key, value) in common.iter().chain(keys) {
            options = options.service_env(service, &format!("CRITICLOOP_BACKEND__{key}"), value);
        }
    }
    (options, root)
}
