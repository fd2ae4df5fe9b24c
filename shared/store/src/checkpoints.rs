use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Checkpoint {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub round_id: Option<Uuid>,
    pub uri: String,
    pub metrics: serde_json::Value,
    pub collectable: bool,
}

pub async fn insert_base(conn: &mut PgConnection, id: Uuid, campaign: Uuid, uri: &str) -> sqlx::Result<()> {
    sqlx::query("insert into checkpoints (id, campaign_id, uri) values ($1, $2, $3)")
        .bind(id)
        .bind(campaign)
        .bind(uri)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the checkpoint a round's training produced; a second write for the same round returns the
/// first one's id and `false`.
pub async fn insert_trained(
    conn: &mut PgConnection,
    round: Uuid,
    parent: Uuid,
    uri: &str,
    metrics: &serde_json::Value,
) -> sqlx::Result<(Uuid, bool)> {
    let id = Uuid::now_v7();
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "insert into checkpoints (id, campaign_id, parent_id, round_id, uri, metrics)
         select $1, campaign_id, $3, $2, $4, $5 from rounds where id = $2
         on conflict (round_id) do nothing returning id",
    )
    .bind(id)
    .bind(round)
    .bind(parent)
    .bind(uri)
    .bind(crate::model_text::json(metrics))
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok((id, true)),
        None => {
            let id = sqlx::query_scalar("select id from checkpoints where round_id = $1")
                .bind(round)
                .fetch_one(conn)
                .await?;
            Ok((id, false))
        }
    }
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Checkpoint>> {
    sqlx::query_as(
        "select id, campaign_id, parent_id, round_id, uri, metrics, collectable from checkpoints where id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Compensation: a failed round's outputs are no longer referenced and may be collected.
pub async fn mark_collectable(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<()> {
    sqlx::query("update checkpoints set collectable = true where round_id = $1").bind(round).execute(conn).await?;
    Ok(())
}
