//! Every artifact digest the database still references: the keep set of the artifact store's garbage
//! collection. A digest missing here is collected once it is older than the grace period, so every place
//! that stores a `sha256:` reference must be listed below.
//!
//! - `prompts.image_ref`: bare 64-hex digests (inline prompts and imported rows of every kind);
//! - `judge_items.item->>'image'`: `sha256:<hex>` (inline images are rewritten to this at submission);
//! - `checkpoints.uri` when it is `sha256:<hex>`, except checkpoints the saga's compensation marked
//!   `collectable` (outputs of failed rounds);
//! - `sha256:<hex>` anywhere in a campaign's config (policy and critic checkpoints), a judge job's critic,
//!   a message waiting in the outbox or the task of an open lease.
//!
//! Digests are returned as 64 lowercase hex digits, deduplicated.

use sqlx::PgConnection;

/// The referenced digests (64 lowercase hex digits each).
pub async fn referenced(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        r"with refs(hex) as (
              select lower(image_ref) from prompts where image_ref is not null
              union
              select lower(substr(item->>'image', 8)) from judge_items where item->>'image' like 'sha256:%'
              union
              select lower(substr(uri, 8)) from checkpoints where uri like 'sha256:%' and not collectable
              union
              select lower(m.parts[1]) from campaigns, regexp_matches(config::text, 'sha256:([0-9a-fA-F]{64})', 'g') as m(parts)
              union
              select lower(substr(critic, 8)) from judge_jobs where critic like 'sha256:%'
              union
              select lower(m.parts[1]) from outbox, regexp_matches(messages::text, 'sha256:([0-9a-fA-F]{64})', 'g') as m(parts)
              union
              select lower(m.parts[1])
              from task_leases, regexp_matches(message::text, 'sha256:([0-9a-fA-F]{64})', 'g') as m(parts)
              where completed_at is null
          )
          select hex from refs where hex ~ '^[0-9a-f]{64}$'",
    )
    .fetch_all(conn)
    .await
}
