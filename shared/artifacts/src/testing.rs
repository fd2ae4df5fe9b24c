//! Test support (feature `testing`): a moto S3 server on a free loopback port, shared by the tests of one
//! process, and stores on it, each in a bucket of its own. The server exits with the test process: its
//! stdin is a pipe that a watcher thread reads until it closes. Needs `CRITICLOOP_PYTHON` (a Python with
//! `moto[server]`); without it, it panics with a message saying so.

use crate::{ArtifactStore, StoreConfig, StoreKind};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    pub endpoint: String,
    port: u16,
    _child: Mutex<Child>,
}

const LAUNCHER: &str = r#"
import os, runpy, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["moto.server", "-H", "127.0.0.1", "-p", sys.argv[1]]
runpy.run_module("moto.server", run_name="__main__")
"#;

/// The process's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
}

#[allow(clippy::expect_used)]
fn start() -> Moto {
    let python = std::env::var("CRITICLOOP_PYTHON").unwrap_or_else(|_| {
        panic!("CRITICLOOP_PYTHON is not set: `source scripts/env` first (S3 tests run a moto server)")
    });
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
    let child = Command::new(&python)
        .args(["-c", LAUNCHER, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting moto with {python}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto server did not listen on port {port} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { endpoint: format!("http://127.0.0.1:{port}"), port, _child: Mutex::new(child) }
}

impl Moto {
    /// Creates a bucket with a plain HTTP PUT (moto does not check signatures).
    #[allow(clippy::expect_used)]
    pub fn create_bucket(&self, name: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let request = format!(
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).expect("send CreateBucket");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read CreateBucket response");
        assert!(response.starts_with("HTTP/1.1 200"), "CreateBucket {name}: {response}");
    }

    /// The configuration of a store in a new, empty bucket.
    pub fn new_bucket_config(&self) -> StoreConfig {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let bucket = format!("test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        self.create_bucket(&bucket);
        StoreConfig {
            kind: StoreKind::S3,
            bucket: Some(bucket),
            prefix: Some("criticloop".into()),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(config::Secret::new("testing")),
            secret_access_key: Some(config::Secret::new("testing")),
            allow_http: true,
            ..StoreConfig::local("unused")
        }
    }

    /// A store in a new, empty bucket.
    #[allow(clippy::expect_used)]
    pub fn new_store(&self) -> ArtifactStore {
        ArtifactStore::open(&self.new_bucket_config()).expect("s3 store on moto")
    }
}
