//! A moto S3 server on a free loopback port, shared by the tests of one binary. It exits when this
//! process does: the server's stdin is a pipe that a watcher thread reads until it closes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
}

fn start() -> Moto {
    let python = std::env::var("CRITICLOOP_PYTHON").unwrap_or_else(|_| {
        panic!("CRITICLOOP_PYTHON is not set: `source scripts/env` first (the S3 contract tests run a moto server)")
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
}
