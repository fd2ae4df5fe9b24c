//! Deadlines on broker operations. lapin does not always settle a pending operation when its
//! connection dies under it: a waiting consumer's stream, a publisher confirm or an ack can wait for
//! good on a reset socket (seen in `chaos_broker`, where a cut left part of a round's messages stuck
//! for minutes). Every broker call that the services await goes through [`call`], so a dead
//! connection surfaces as an error and the caller's reconnect loop takes over.

use std::future::Future;
use std::time::Duration;

/// How long a broker operation (connect, open a channel, one confirm, an ack) may take before the
/// connection is presumed dead. Generous: a healthy broker answers in milliseconds, and a false alarm
/// costs only a reconnect (unconfirmed messages are republished, unacked ones redelivered, both
/// absorbed by the idempotent consumers).
pub const BROKER_DEADLINE: Duration = Duration::from_secs(20);

/// A broker operation that did not finish within its deadline.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the broker did not finish {what} within {after:?}; presuming the connection dead")]
pub struct BrokerTimeout {
    pub what: &'static str,
    pub after: Duration,
}

/// A broker call that failed, or that did not finish within [`BROKER_DEADLINE`].
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("broker error: {0}")]
    Lapin(#[from] lapin::Error),
    #[error(transparent)]
    Timeout(#[from] BrokerTimeout),
}

/// Awaits the lapin operation `op` (named `what` in the error) for at most [`BROKER_DEADLINE`].
pub async fn call<T>(what: &'static str, op: impl Future<Output = Result<T, lapin::Error>>) -> Result<T, BrokerError> {
    within(what, BROKER_DEADLINE, op).await
}

async fn within<T>(
    what: &'static str,
    after: Duration,
    op: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, BrokerError> {
    match tokio::time::timeout(after, op).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(BrokerTimeout { what, after }.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_operation_that_never_finishes_times_out_and_a_quick_one_does_not() {
        let never = std::future::pending::<Result<(), lapin::Error>>();
        let err = within("a confirm", Duration::from_millis(20), never).await.expect_err("must time out");
        assert!(err.to_string().contains("a confirm within 20ms"), "{err}");
        let quick = within("an ack", Duration::from_secs(5), async { Ok(7) }).await.expect("quick");
        assert_eq!(quick, 7);
    }
}
