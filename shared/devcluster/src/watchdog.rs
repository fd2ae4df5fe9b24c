//! Ends a test process whose cluster runs past its deadline. A hung end-to-end test (a broker that
//! stopped answering, a wait without a limit) would otherwise hold CI until CI's own limit and say
//! nothing; the watchdog prints what the services last logged, kills them and exits non-zero.

use crate::{ClusterOptions, Service};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    disarmed: bool,
    /// The process id of every running service, for the kill.
    pids: BTreeMap<Service, u32>,
}

pub(crate) struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl Watchdog {
    pub(crate) fn arm(options: &ClusterOptions) -> Self {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let name = options.name.clone();
        let logs = options.log_dir.join(&options.name);
        let deadline = options.deadline;
        let watched = shared.clone();
        std::thread::Builder::new()
            .name(format!("watchdog-{name}"))
            .spawn(move || watch(&watched, &name, &logs, deadline))
            .expect("spawning the cluster watchdog thread");
        Self { shared }
    }

    pub(crate) fn track(&self, service: Service, pid: Option<u32>) {
        let mut state = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        match pid {
            Some(pid) => state.pids.insert(service, pid),
            None => state.pids.remove(&service),
        };
    }

    pub(crate) fn disarm(&self) {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).disarmed = true;
        self.shared.1.notify_all();
    }
}

fn watch(shared: &(Mutex<State>, Condvar), name: &str, logs: &Path, deadline: Duration) {
    let end = Instant::now() + deadline;
    let mut state = shared.0.lock().unwrap_or_else(|e| e.into_inner());
    while !state.disarmed {
        let now = Instant::now();
        if now >= end {
            // straight to the process's stderr: libtest captures `eprintln!` of the test's threads and
            // would drop it with the process
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "\n[watchdog] cluster {name} still running after {deadline:?}: the test hung");
            for service in crate::SERVICES {
                let log = logs.join(format!("{}.log", service.name()));
                if let Ok(text) = std::fs::read_to_string(&log) {
                    let lines: Vec<&str> = text.lines().collect();
                    let _ = writeln!(err, "[watchdog] --- {} (last 30 of {} lines)", log.display(), lines.len());
                    for line in &lines[lines.len().saturating_sub(30)..] {
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
            let _ = err.flush();
            for pid in state.pids.values() {
                let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            std::process::exit(124);
        }
        state = shared.1.wait_timeout(state, end - now).unwrap_or_else(|e| e.into_inner()).0;
    }
}
