use protocol::CampaignSpec;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub dataset_id: Uuid,
    #[sqlx(json)]
    pub config: CampaignSpec,
    pub state: String,
    pub rounds_total: i32,
    pub current_checkpoint_id: Option<Uuid>,
    pub failure_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

const COLUMNS: &str = "id, name, dataset_id, config, state, rounds_total, current_checkpoint_id, failure_reason, \
                       created_at, updated_at";

/// Inserts the campaign with its base checkpoint (the policy it starts from). Returns (campaign, checkpoint).
pub async fn insert(conn: &mut PgConnection, spec: &CampaignSpec) -> sqlx::Result<(Uuid, Uuid)> {
    let id = Uuid::now_v7();
    let checkpoint = Uuid::now_v7();
    sqlx::query(
        "insert into campaigns (id, name, dataset_id, config, rounds_total, current_checkpoint_id)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&spec.name)
    .bind(spec.dataset_id)
    .bind(sqlx::types::Json(spec))
    .bind(spec.rounds as i32)
    .bind(checkpoint)
    .execute(&mut *conn)
    .await?;
    crate::checkpoints::insert_base(conn, checkpoint, id, &spec.policy.checkpoint).await?;
    Ok((id, checkpoint))
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Campaign>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from campaigns where id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the campaign row (after its round's row: see `rounds::lock`).
pub async fn get_for_update(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Campaign>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from campaigns where id = $1 for no key update")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn list(conn: &mut PgConnection, limit: i64, offset: i64) -> sqlx::Result<Vec<Campaign>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from campaigns order by created_at desc limit $1 offset $2"
    )))
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await
}

pub async fn set_state(conn: &mut PgConnection, id: Uuid, state: &str, reason: Option<&str>) -> sqlx::Result<()> {
    sqlx::query(
        "update campaigns set state = $2, failure_reason = coalesce($3, failure_reason), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn advance_checkpoint(conn: &mut PgConnection, id: Uuid, checkpoint: Uuid) -> sqlx::Result<()> {
    sqlx::query("update campaigns set current_checkpoint_id = $2, updated_at = now() where id = $1")
        .bind(id)
        .bind(checkpoint)
        .execute(conn)
        .await?;
    Ok(())
}
