use crate::deadline::{BROKER_DEADLINE, BrokerTimeout, within};
use lapin::{Connection, ConnectionProperties};
use std::time::Duration;

/// A broker call that failed, or that did not finish within [`BROKER_DEADLINE`].
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("broker error: {0}")]
    Lapin(#[from] lapin::Error),
    #[error(transparent)]
    Timeout(#[from] BrokerTimeout),
}

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
    within("connecting", BROKER_DEADLINE, async { Ok(Connection::connect(url, props).await?) }).await
}

/// Opens a channel on `conn`, within the deadline.
pub async fn channel(conn: &Connection) -> Result<lapin::Channel, BrokerError> {
    within("opening a channel", BROKER_DEADLINE, async { Ok(conn.create_channel().await?) }).await
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
