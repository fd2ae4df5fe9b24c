use crate::deadline::{BrokerError, call};
use lapin::{Connection, ConnectionProperties};
use std::time::Duration;

/// Exponential backoff with a ceiling, for reconnecting instead of exiting.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: Duration::from_millis(100), max: Duration::from_secs(5) }
    }
}

impl Backoff {
    pub fn reset(&mut self) {
        *self = Self::default();
    }
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

/// Opens a connection; a handshake that stalls (a socket reset mid-handshake) fails after the deadline.
pub async fn connect(url: &str, name: &str) -> Result<Connection, BrokerError> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    call("connecting", Connection::connect(url, props)).await
}

/// Opens a channel on `conn`, within the deadline.
pub async fn channel(conn: &Connection) -> Result<lapin::Channel, BrokerError> {
    call("opening a channel", conn.create_channel()).await
}

/// Connects, retrying with backoff until the broker answers.
pub async fn connect_with_backoff(url: &str, name: &str) -> Connection {
    let mut backoff = Backoff::default();
    loop {
        match connect(url, name).await {
            Ok(conn) => return conn,
            Err(e) => {
                tracing::warn!(error = %e, "broker unreachable; retrying");
                backoff.wait().await;
            }
        }
    }
}
