//! Removes what earlier clusters left behind when their test failed before its teardown: databases
//! `criticloop_<name>_p<pid>_<8 hex>` and broker queues and exchanges `t_<name>_p<pid>_<8 hex>.*` whose
//! creating process `<pid>` is gone. Clusters of processes still running are left alone. Run by
//! `scripts/test` before the tests; left alone, leftovers pile up run after run (every quorum queue
//! keeps a Raft log and a process in the broker).

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
    let names: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname like 'criticloop\\_%'")
        .fetch_all(&admin)
        .await?;
    for name in names.into_iter().filter(|n| orphaned(n.trim_start_matches("criticloop_"))) {
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
    let ours = |n: &String| n.strip_prefix("t_").and_then(|n| n.split('.').next()).is_some_and(orphaned);
    for name in queues.into_iter().filter(ours) {
        tokio::time::timeout(Duration::from_secs(30), channel.queue_delete(name.as_str().into(), Default::default()))
            .await
            .map_err(|_| anyhow::anyhow!("deleting queue {name} took over 30 s"))??;
        swept.queues += 1;
    }
    for name in exchanges.into_iter().filter(ours) {
        channel.exchange_delete(name.as_str().into(), Default::default()).await?;
        swept.exchanges += 1;
    }
    let _ = conn.close(200, "sweep".into()).await;
    Ok(swept)
}

/// Whether `cluster` (`<name>_p<pid>_<8 hex>`) was made by a process that no longer runs.
fn orphaned(cluster: &str) -> bool {
    let mut parts = cluster.rsplitn(3, '_');
    let (Some(suffix), Some(pid), Some(_)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Some(pid) = pid.strip_prefix('p').and_then(|p| p.parse::<u32>().ok()) else { return false };
    suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_hexdigit())
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn rabbitmqctl_names(what: &str) -> Option<Vec<String>> {
    let out =
        std::process::Command::new("rabbitmqctl").args([what, "-q", "--no-table-headers", "name"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_clusters_of_dead_processes_are_orphaned() {
        let me = std::process::id();
        assert!(!super::orphaned(&format!("api_bad_p{me}_0123abcd")), "this process runs");
        assert!(super::orphaned("api_bad_p4294967295_0123abcd"), "no such process");
        assert!(!super::orphaned("api_bad_0123abcd"), "no process id: not ours to remove");
        assert!(!super::orphaned("demo_p1_zzzzzzzz"), "not a cluster suffix");
    }
}
