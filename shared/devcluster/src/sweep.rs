//! Removes what earlier clusters left behind when their test failed before its teardown: databases
//! named `criticloop_<name>_<8 hex>` and broker queues and exchanges under a `t_` prefix. Run by
//! `scripts/test` before the tests, while no other cluster runs; left alone, such leftovers pile up
//! run after run (every quorum queue keeps a Raft log and a process in the broker).

use std::time::Duration;

/// What was removed.
#[derive(Debug, Default)]
pub struct Swept {
    pub databases: Vec<String>,
    pub queues: usize,
    pub exchanges: usize,
}

/// Drops leftover test databases on `postgres_url` and deletes the `t_*` queues and exchanges that
/// `rabbitmqctl` lists (skipped where rabbitmqctl is not installed: a remote broker).
pub async fn sweep(postgres_url: &str, broker_url: &str) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let admin = sqlx::PgPool::connect(&format!("{postgres_url}/postgres")).await?;
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname ~ '^criticloop_.+_[0-9a-f]{8}$'")
            .fetch_all(&admin)
            .await?;
    for name in names {
        sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists \"{name}\" with (force)")))
            .execute(&admin)
            .await?;
        swept.databases.push(name);
    }
    admin.close().await;

    let (Some(queues), Some(exchanges)) = (rabbitmqctl_names("list_queues"), rabbitmqctl_names("list_exchanges"))
    else {
        return Ok(swept);
    };
    let conn = lapin::Connection::connect(broker_url, lapin::ConnectionProperties::default()).await?;
    let channel = conn.create_channel().await?;
    for name in queues.into_iter().filter(|n| n.starts_with("t_")) {
        tokio::time::timeout(Duration::from_secs(30), channel.queue_delete(name.as_str().into(), Default::default()))
            .await
            .map_err(|_| anyhow::anyhow!("deleting queue {name} took over 30 s"))??;
        swept.queues += 1;
    }
    for name in exchanges.into_iter().filter(|n| n.starts_with("t_")) {
        channel.exchange_delete(name.as_str().into(), Default::default()).await?;
        swept.exchanges += 1;
    }
    let _ = conn.close(200, "sweep".into()).await;
    Ok(swept)
}

fn rabbitmqctl_names(what: &str) -> Option<Vec<String>> {
    let out =
        std::process::Command::new("rabbitmqctl").args([what, "-q", "--no-table-headers", "name"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect())
}
