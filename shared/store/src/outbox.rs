//! The transactional outbox: messages are inserted in the transaction of the state change that causes
//! them and relayed to RabbitMQ afterwards. One row holds up to `CHUNK` messages of one fan-out.

use protocol::Envelope;
use sqlx::PgConnection;

const CHUNK: usize = 512;
pub const CHANNEL: &str = "criticloop_outbox";

pub async fn enqueue(conn: &mut PgConnection, messages: &[Envelope], traceparent: Option<&str>) -> sqlx::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    for chunk in messages.chunks(CHUNK) {
        sqlx::query("insert into outbox (messages, traceparent) values ($1, $2)")
            .bind(sqlx::types::Json(chunk))
            .bind(traceparent)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("select pg_notify($1, '')").bind(CHANNEL).execute(&mut *conn).await?;
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

pub async fn pending(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from outbox").fetch_one(conn).await
}
