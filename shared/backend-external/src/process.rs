//! Runs the training command: its own process group (so a timeout stops everything it launched, such as
//! torchrun's workers), stdin closed, stdout and stderr read line by line into tracing events inside the
//! caller's span (the task's, so they reach the round's trace), the last stderr lines kept for the error.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::orphans::Registry;

/// Lines of stderr kept for the error message.
pub const TAIL_LINES: usize = 30;
/// Longest line logged (longer ones are cut, with a note).
const MAX_LINE: usize = 4096;
/// Between SIGTERM and SIGKILL on a timeout.
const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub seconds: f64,
    pub timed_out: bool,
    /// The last [`TAIL_LINES`] lines of stderr.
    pub stderr_tail: Vec<String>,
}

impl Finished {
    /// `exit code 3`, `signal 9 (SIGKILL)`.
    pub fn describe(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => match Signal::try_from(sig) {
                Ok(s) => format!("signal {sig} ({s})"),
                Err(_) => format!("signal {sig}"),
            },
            (None, None) => format!("{}", self.status),
        }
    }
}

/// Runs `argv` (in the service's working directory, so relative paths in the template work) with `env`
/// added, the service's own configuration (`CRITICLOOP_*__*`, which holds its secrets) removed, at most
/// `timeout` of wall time, registered in `registry` while it runs. Fails only if the command cannot start.
pub fn run(
    argv: &[String],
    env: &[(String, String)],
    timeout: Option<Duration>,
    registry: &Registry,
) -> std::io::Result<Finished> {
    let (program, args) = argv.split_first().ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("CRITICLOOP_") && k.contains("__")) {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
    tracing::info!(pid = child.id(), "training command started");
    // if this worker dies, the next one to run a command stops this one (see `orphans`)
    let _registered =
        registry.register(child.id()).inspect_err(|e| tracing::warn!(error = %e, "registering the command"));

    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, "stdout", None, done_tx.clone());
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, "stderr", Some(tail.clone()), done_tx.clone());
        readers += 1;
    }
    drop(done_tx);

    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if !timed_out && timeout.is_some_and(|t| started.elapsed() >= t) {
            timed_out = true;
            tracing::warn!(after_secs = started.elapsed().as_secs_f64(), "training command timed out; stopping it");
            // the leader is not reaped yet, so its process group id still names this run's processes
            let _ = killpg(pgid, Signal::SIGTERM);
            let deadline = Instant::now() + GRACE;
            while Instant::now() < deadline && child.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = killpg(pgid, Signal::SIGKILL);
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The pipes close when every process holding them exits; a daemon the command left behind may keep
    // them open, so the output is waited for only briefly.
    for _ in 0..readers {
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            tracing::warn!("the command's output is still open after it exited (a process it started?); not waiting");
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stderr_tail = tail.lock().map(|t| t.iter().cloned().collect()).unwrap_or_default();
    Ok(Finished { status, seconds, timed_out, stderr_tail })
}

/// Logs each line of `stream` as an event in the current span (entered on the reader thread).
fn spawn_reader(
    stream: impl Read + Send + 'static,
    name: &'static str,
    tail: Option<Arc<Mutex<VecDeque<String>>>>,
    done: mpsc::Sender<()>,
) {
    let span = tracing::Span::current();
    std::thread::spawn(move || {
        let _entered = span.enter();
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            // progress bars redraw with `\r`: keep what the terminal would show
            let raw = String::from_utf8_lossy(&buf);
            let line = raw.trim_end_matches(['\n', '\r']).rsplit('\r').next().unwrap_or_default().trim_end();
            if line.is_empty() {
                continue;
            }
            let line = cut(line);
            tracing::info!(stream = name, "{line}");
            if let Some(tail) = &tail
                && let Ok(mut t) = tail.lock()
            {
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
        let _ = done.send(());
    });
}

fn cut(line: &str) -> String {
    if line.len() <= MAX_LINE {
        return line.to_string();
    }
    let mut end = MAX_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [... {} more bytes]", &line[..end], line.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::new(&std::env::temp_dir().join(format!("criticloop-process-{}", std::process::id())))
    }

    fn sh(script: &str, timeout: Option<Duration>) -> Finished {
        let argv = ["sh".to_string(), "-c".to_string(), script.to_string()];
        run(&argv, &[("GREETING".into(), "hello".into())], timeout, &registry()).expect("sh runs")
    }

    #[test]
    fn process_keeps_the_stderr_tail_and_the_exit_code() {
        let f = sh("echo \"$GREETING\"; for i in $(seq 1 40); do echo \"err $i\" >&2; done; exit 3", None);
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(f.describe(), "exit code 3");
        assert!(!f.timed_out);
        assert_eq!(f.stderr_tail.len(), TAIL_LINES);
        assert_eq!(f.stderr_tail.last().map(String::as_str), Some("err 40"));
        assert_eq!(f.stderr_tail[0], "err 11");
    }

    #[test]
    fn process_times_out_and_stops_its_whole_group() {
        let started = Instant::now();
        // the background sleep is in the same process group and holds the pipes: it must die too
        let f = sh("sleep 30 & echo started >&2; wait", Some(Duration::from_millis(300)));
        assert!(f.timed_out);
        assert_eq!(f.describe(), "signal 15 (SIGTERM)");
        assert_eq!(f.stderr_tail, ["started"]);
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    #[test]
    fn process_passes_its_environment_and_reports_a_missing_program() {
        let argv = ["sh".to_string(), "-c".to_string(), "env | grep ^CRITICLOOP_ >&2".to_string()];
        let f = run(&argv, &[("CRITICLOOP_TRAIN_PAIRS".into(), "p".into())], None, &registry()).expect("runs");
        assert!(f.stderr_tail.iter().any(|l| l == "CRITICLOOP_TRAIN_PAIRS=p"), "{:?}", f.stderr_tail);
        let missing = run(&["/nonexistent/trainer".to_string()], &[], None, &registry()).expect_err("no program");
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn process_cuts_long_lines_on_a_char_boundary() {
        let line = "é".repeat(MAX_LINE);
        let cut = cut(&line);
        assert!(cut.ends_with("more bytes]") && cut.len() < line.len(), "{}", cut.len());
    }
}
