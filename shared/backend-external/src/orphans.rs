//! Training commands whose worker died. A worker killed mid-run (SIGKILL, a crash) cannot stop the
//! command it started, and the next holder of the task's lease would start a second run beside it. So
//! each running command is registered in `work_dir/runs/running/<pgid>.json` with its owner (the worker's
//! pid) and both processes' start times; before it runs a command, a worker stops the process group of
//! every registered command whose owner is gone, and forgets it. Start times (from `/proc/<pid>/stat`)
//! guard against reused pids: a group is signalled only if its leader is the very process that was
//! registered.
//!
//! On one host this covers every case; a command left on another host (its worker's node died) dies
//! with it in a container, and is not reachable from here otherwise.

use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    pgid: u32,
    leader_start: u64,
    owner: u32,
    owner_start: u64,
}

/// The registry folder of a work dir.
pub struct Registry {
    dir: PathBuf,
}

/// A registered command: forgotten when dropped (the command ended, or this worker stopped it).
pub struct Registered {
    path: PathBuf,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Registry {
    pub fn new(runs: &Path) -> Self {
        Registry { dir: runs.join("running") }
    }

    /// Records the command whose process group is `pgid` (its leader's pid) as this process's.
    pub fn register(&self, pgid: u32) -> std::io::Result<Registered> {
        let me = std::process::id();
        let entry = Entry {
            pgid,
            leader_start: start_time(pgid).ok_or_else(|| std::io::Error::other("the command has already exited"))?,
            owner: me,
            owner_start: start_time(me).unwrap_or(0),
        };
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{pgid}.json"));
        std::fs::write(&path, serde_json::to_vec(&entry).map_err(std::io::Error::other)?)?;
        Ok(Registered { path })
    }

    /// Stops (SIGKILL to the group) every registered command whose owner is gone and whose leader is
    /// still the registered process; forgets every entry whose owner is gone. Returns the groups stopped.
    pub fn stop_orphans(&self) -> Vec<u32> {
        let mut stopped = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return stopped };
        for item in entries.flatten() {
            let path = item.path();
            let Some(entry) = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Entry>(&b).ok()) else {
                let _ = std::fs::remove_file(&path);
                continue;
            };
            if start_time(entry.owner) == Some(entry.owner_start) {
                continue; // its worker is alive and owns it
            }
            if start_time(entry.pgid) == Some(entry.leader_start)
                && let Ok(pgid) = i32::try_from(entry.pgid)
            {
                tracing::warn!(pgid = entry.pgid, owner = entry.owner, "stopping a training command whose worker died");
                if killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok() {
                    stopped.push(entry.pgid);
                }
            }
            let _ = std::fs::remove_file(&path);
        }
        stopped
    }
}

/// The start time (clock ticks after boot) of process `pid`, `None` if there is no such process (or it
/// is a zombie).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) is in parentheses and may hold spaces: fields after the last ')'
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok() // field 22 overall: starttime
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn sleeper() -> std::process::Child {
        Command::new("sleep").arg("600").process_group(0).spawn().expect("sleep starts")
    }

    fn wait_gone(child: &mut std::process::Child) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn orphaned_commands_are_stopped_and_owned_ones_are_left_alone() {
        let dir = std::env::temp_dir().join(format!("criticloop-orphans-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let registry = Registry::new(&dir);

        // a command of this (live) process: left alone
        let mut owned = sleeper();
        let registered = registry.register(owned.id()).expect("register");
        assert!(registry.stop_orphans().is_empty());
        assert!(owned.try_wait().expect("try_wait").is_none(), "a live owner's command was stopped");

        // a command whose owner is gone: a finished process's pid stands for the dead worker
        let mut orphan = sleeper();
        let mut dead = Command::new("true").spawn().expect("true starts");
        let dead_pid = dead.id();
        dead.wait().expect("true exits");
        let entry = Entry {
            pgid: orphan.id(),
            leader_start: start_time(orphan.id()).expect("start time"),
            owner: dead_pid,
            owner_start: 1,
        };
        std::fs::write(
            dir.join("running").join(format!("{}.json", orphan.id())),
            serde_json::to_vec(&entry).expect("serialise"),
        )
        .expect("write entry");
        // and an entry whose leader is no longer the registered process (a reused pid): not signalled
        let mut bystander = sleeper();
        let stale = Entry { pgid: bystander.id(), leader_start: 1, owner: dead_pid, owner_start: 1 };
        std::fs::write(
            dir.join("running").join(format!("{}.json", bystander.id())),
            serde_json::to_vec(&stale).expect("serialise"),
        )
        .expect("write entry");

        assert_eq!(registry.stop_orphans(), vec![orphan.id()]);
        assert!(wait_gone(&mut orphan), "the orphaned command is still running");
        assert!(bystander.try_wait().expect("try_wait").is_none(), "a process with a reused pid was signalled");
        let left: Vec<_> = std::fs::read_dir(dir.join("running")).expect("registry").flatten().collect();
        assert_eq!(left.len(), 1, "only the live owner's entry remains: {left:?}");

        drop(registered);
        assert_eq!(std::fs::read_dir(dir.join("running")).expect("registry").count(), 0);
        for mut c in [owned, bystander] {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
