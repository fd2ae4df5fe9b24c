//! The transactional outbox: messages are inserted in the transaction of the state change that causes
//! them and relayed to RabbitMQ afterwards. One row holds up to `CHUNK` messages of one fan-out.

use protocol::Envelope;
use sqlx::PgConnection;

const CHUNK: usize = 512;
pub const CHANNEL: &str = "criticloop_outbox";

/// Messages that share a trace context.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub messages: Vec<Envelope>,
    pub traceparent: Option<String>,
}

/// Writes messages (in rows of at most `CHUNK`) in one statement. Relays find them by polling within
/// milliseconds; call [`notify`] to wake them at once. (NOTIFY serializes the commits of every
/// transaction that uses it, so the hot worker paths do not.)
pub async fn enqueue(conn: &mut PgConnection, messages: &[Envelope], traceparent: Option<&str>) -> sqlx::Result<()> {
    let item = Outgoing { messages: messages.to_vec(), traceparent: traceparent.map(str::to_string) };
    enqueue_all(conn, std::slice::from_ref(&item)).await
}

pub async fn enqueue_all(conn: &mut PgConnection, items: &[Outgoing]) -> sqlx::Result<()> {
    let mut rows: Vec<sqlx::types::Json<&[Envelope]>> = Vec::new();
    let mut traces: Vec<Option<&str>> = Vec::new();
    for item in items {
        for chunk in item.messages.chunks(CHUNK) {
            rows.push(sqlx::types::Json(chunk));
            traces.push(item.traceparent.as_deref());
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query("insert into outbox (messages, traceparent) select * from unnest($1::jsonb[], $2::text[])")
        .bind(&rows)
        .bind(&traces)
        .execute(conn)
        .await?;
    Ok(())
}

/// Wakes the relays when this transaction commits.
pub async fn notify(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("select pg_notify($1, '')").bind(CHANNEL).execute(conn).await?;
    Ok(())
}

pub struct OutboxRow {
    pub id: i64,
    pub messages: Vec<Envelope>,
    pub traceparent: Option<String>,
}

/// Locks up to `limit` rows, oldest first, skipping rows another relay holds.
pub async fn claim(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<OutboxRow>> {
    let rows: Vec<(i64, sqlx::types::Json<Vec<Envelope>>, Option<String>)> =
        sqlx::query_as("select id, messages, traceparent from outbox order by id limit $1 for update skip locked")
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|(id, m, traceparent)| OutboxRow { id, messages: m.0, traceparent }).collect())
}

pub async fn delete(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("delete from outbox where id = any($1)").bind(ids).execute(&mut *conn).await?;
    Ok(())
}
