//! A TCP proxy a test controls: everything through it can be cut at once (connections reset), and
//! new connections refused for a while, to simulate a broker or database going away.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinSet;

pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<u64>,
    refuse_until: Arc<Mutex<Option<Instant>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (cut, _) = watch::channel(0u64);
        let refuse_until = Arc::new(Mutex::new(None::<Instant>));
        let (cut_tx, refuse) = (cut.clone(), refuse_until.clone());
        let target = target.to_string();
        let accept = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((inbound, _)) = listener.accept().await else { continue };
                let refusing = refuse.lock().await.is_some_and(|t| Instant::now() < t);
                if refusing {
                    drop(inbound);
                    continue;
                }
                let mut cut_rx = cut_tx.subscribe();
                let target = target.clone();
                conns.spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&target).await else { return };
                    let (mut a, mut b) = (inbound, outbound);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                        _ = cut_rx.changed() => {
                            #[allow(deprecated)] // zero linger resets the connection, which is the point
                            let _ = a.set_linger(Some(Duration::ZERO));
                            #[allow(deprecated)]
                            let _ = b.set_linger(Some(Duration::ZERO));
                        }
                    }
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Ok(Self { port, cut, refuse_until, accept })
    }

    /// Resets every connection open through the proxy and refuses new ones for `outage`.
    pub async fn cut(&self, outage: Duration) {
        *self.refuse_until.lock().await = Some(Instant::now() + outage);
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
