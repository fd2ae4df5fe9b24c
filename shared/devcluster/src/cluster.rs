use crate::watchdog::Watchdog;
use crate::{SERVICES, Service};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Where the service binaries are: `CRITICLOOP_BIN_DIR`, or the cargo profile directory of the
/// running executable (tests live in `target/<profile>/deps`).
pub fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CRITICLOOP_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Names the database (`criticloop_<name>`) and the broker prefix (`t_<name>`); `new` makes it
    /// `<given>_p<process id>_<8 hex>`.
    pub name: String,
    pub postgres_url: String,
    pub broker_url: String,
    /// Services reach Postgres / RabbitMQ through these ports instead (a test's `Proxy`).
    pub database_port: Option<u16>,
    pub broker_port: Option<u16>,
    pub delivery_limit: u32,
    /// Extra environment for every service (backend settings, lease timings, OTLP).
    pub env: Vec<(String, String)>,
    /// Environment for one service, over `env` (e.g. the tch backend for training only).
    pub service_env: Vec<(Service, String, String)>,
    pub log_dir: PathBuf,
    pub bin_dir: PathBuf,
    /// Services not to start (a test may run its own).
    pub skip: Vec<Service>,
    /// A cluster still running after this long means a hung test: the watchdog prints the tails of
    /// the service logs, kills the services and ends the process (`CRITICLOOP_TEST_DEADLINE_S`,
    /// default 20 minutes), so CI fails with a reason instead of waiting out its own limit.
    pub deadline: Duration,
}

impl ClusterOptions {
    pub fn new(name: &str) -> Self {
        let name: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
        Self {
            // the creating process's id lets `sweep` tell a failed run's leftovers from a live cluster
            name: format!("{name}_p{}_{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
            postgres_url: std::env::var("CRITICLOOP_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()),
            broker_url: std::env::var("CRITICLOOP_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            database_port: None,
            broker_port: None,
            delivery_limit: 10,
            env: vec![("CRITICLOOP_BACKEND__KIND".into(), "fake".into())],
            service_env: Vec::new(),
            log_dir: std::env::temp_dir().join("criticloop-logs"),
            bin_dir: bin_dir(),
            skip: Vec::new(),
            deadline: Duration::from_secs(
                std::env::var("CRITICLOOP_TEST_DEADLINE_S").ok().and_then(|s| s.parse().ok()).unwrap_or(20 * 60),
            ),
        }
    }

    pub fn env(mut self, key: &str, value: impl ToString) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs `services` on the tch backend on the CPU (`CRITICLOOP_BACKEND__KIND=tch`), each with its own
    /// work dir under [`ClusterOptions::tch_root`], with `keys` (backend keys without the
    /// `CRITICLOOP_BACKEND__` prefix) set for all of them.
    pub fn tch(mut self, services: &[Service], keys: &[(&str, &str)]) -> Self {
        let root = self.tch_root();
        for &service in services {
            let work_dir = root.join(service.name()).display().to_string();
            let common = [("KIND", "tch"), ("DEVICE", "cpu"), ("WORK_DIR", work_dir.as_str())];
            for (key, value) in common.iter().chain(keys) {
                self = self.service_env(service, &format!("CRITICLOOP_BACKEND__{key}"), value);
            }
        }
        self
    }

    /// Where the tch services' work dirs are: `<log_dir>/<name>/tch`.
    pub fn tch_root(&self) -> std::path::PathBuf {
        self.log_dir.join(&self.name).join("tch")
    }

    /// Sets `key` for `service` only, over what [`ClusterOptions::env`] sets for every service.
    pub fn service_env(mut self, service: Service, key: &str, value: impl ToString) -> Self {
        self.service_env.retain(|(s, k, _)| !(*s == service && k == key));
        self.service_env.push((service, key.to_string(), value.to_string()));
        self
    }
}

pub struct Cluster {
    pub options: ClusterOptions,
    pub database: String,
    pub prefix: String,
    pub token: String,
    pub api_url: String,
    pub http: reqwest::Client,
    children: BTreeMap<Service, Child>,
    ports: BTreeMap<Service, u16>,
    starts: BTreeMap<Service, u32>,
    watchdog: Watchdog,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn with_port(url: &str, port: u16) -> String {
    // scheme://user[:pw]@host:PORT/rest -> replace the port
    let (head, tail) = url.split_once('@').unwrap_or(("", url));
    let (hostport, rest) = tail.split_once('/').map(|(a, b)| (a, format!("/{b}"))).unwrap_or((tail, String::new()));
    let host = hostport.rsplit_once(':').map(|(h, _)| h).unwrap_or(hostport);
    if head.is_empty() { format!("{host}:{port}{rest}") } else { format!("{head}@{host}:{port}{rest}") }
}

impl Cluster {
    /// Creates the database and starts every service; returns once all are ready.
    pub async fn start(options: ClusterOptions) -> anyhow::Result<Self> {
        let watchdog = Watchdog::arm(&options);
        let database = format!("criticloop_{}", options.name);
        let admin = sqlx::PgPool::connect(&format!("{}/postgres", options.postgres_url)).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{database}\""))).execute(&admin).await?;
        admin.close().await;
        std::fs::create_dir_all(options.log_dir.join(&options.name))?;
        let api_port = free_port()?;
        let mut cluster = Self {
            prefix: format!("t_{}", options.name),
            token: format!("token-{}", uuid::Uuid::new_v4().simple()),
            api_url: format!("http://127.0.0.1:{api_port}"),
            http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
            database,
            options,
            children: BTreeMap::new(),
            ports: BTreeMap::new(),
            starts: BTreeMap::new(),
            watchdog,
        };
        cluster.ports.insert(Service::Api, api_port);
        for s in SERVICES {
            if s != Service::Api {
                cluster.ports.insert(s, free_port()?);
            }
        }
        for s in SERVICES {
            if !cluster.options.skip.contains(&s) {
                cluster.spawn(s)?;
            }
        }
        for s in SERVICES {
            if !cluster.options.skip.contains(&s) {
                cluster.wait_ready(s, Duration::from_secs(120)).await?;
            }
        }
        Ok(cluster)
    }

    /// The database URL for direct (test) access, bypassing any proxy.
    pub fn database_url(&self) -> String {
        format!("{}/{}", self.options.postgres_url, self.database)
    }

    /// The local artifact store every service of this cluster shares (beside the logs).
    pub fn artifacts_root(&self) -> PathBuf {
        self.options.log_dir.join(&self.options.name).join("artifacts")
    }

    /// The environment a service of this cluster runs with.
    pub fn service_env(&self, service: Service) -> Vec<(String, String)> {
        let db = match self.options.database_port {
            Some(p) => with_port(&self.database_url(), p),
            None => self.database_url(),
        };
        let broker = match self.options.broker_port {
            Some(p) => with_port(&self.options.broker_url, p),
            None => self.options.broker_url.clone(),
        };
        let port = self.ports[&service];
        let mut env = vec![
            ("CRITICLOOP_DATABASE__URL".to_string(), db),
            ("CRITICLOOP_BROKER__URL".to_string(), broker),
            ("CRITICLOOP_BROKER__PREFIX".to_string(), self.prefix.clone()),
            ("CRITICLOOP_BROKER__DELIVERY_LIMIT".to_string(), self.options.delivery_limit.to_string()),
            ("CRITICLOOP_HEALTH__LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("CRITICLOOP_API__LISTEN".to_string(), format!("127.0.0.1:{port}")),
            ("CRITICLOOP_API__TOKENS".to_string(), self.token.clone()),
            ("OTEL_SERVICE_NAME".to_string(), service.binary()),
            ("CRITICLOOP_ARTIFACTS__ROOT".to_string(), self.artifacts_root().display().to_string()),
            ("CRITICLOOP_ARTIFACTS__FSYNC".to_string(), "false".to_string()),
        ];
        env.extend(self.options.env.iter().cloned());
        if !service.uses_backend() {
            env.retain(|(k, _)| !k.starts_with("CRITICLOOP_BACKEND__"));
        }
        for (s, key, value) in &self.options.service_env {
            if *s == service {
                env.retain(|(k, _)| k != key);
                env.push((key.clone(), value.clone()));
            }
        }
        env
    }

    fn spawn(&mut self, service: Service) -> anyhow::Result<()> {
        let bin = self.options.bin_dir.join(service.binary());
        anyhow::ensure!(bin.exists(), "{} is not built (run `cargo build --workspace --bins`)", bin.display());
        let log = self.options.log_dir.join(&self.options.name).join(format!("{}.log", service.name()));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(bin);
        cmd.envs(self.service_env(service))
            .env("RUST_LOG", std::env::var("CRITICLOOP_SERVICE_LOG").unwrap_or_else(|_| "info".into()))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let child = cmd.spawn()?;
        self.watchdog.track(service, child.id());
        self.children.insert(service, child);
        *self.starts.entry(service).or_default() += 1;
        Ok(())
    }

    pub async fn wait_ready(&self, service: Service, within: Duration) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{}/readyz", self.ports[&service]);
        let deadline = Instant::now() + within;
        loop {
            if let Ok(r) = self.http.get(&url).timeout(Duration::from_secs(2)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "{} did not become ready in {within:?}", service.name());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`.
    pub async fn kill(&mut self, service: Service) {
        if let Some(mut child) = self.children.remove(&service) {
            self.watchdog.track(service, None);
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub async fn restart(&mut self, service: Service) -> anyhow::Result<()> {
        self.kill(service).await;
        self.spawn(service)
    }

    /// Starts a service that is not running (after `kill`), without waiting for it.
    pub fn start_service(&mut self, service: Service) -> anyhow::Result<()> {
        if self.children.contains_key(&service) {
            return Ok(());
        }
        self.spawn(service)
    }

    pub fn starts(&self, service: Service) -> u32 {
        self.starts.get(&service).copied().unwrap_or(0)
    }

    pub fn log_path(&self, service: Service) -> PathBuf {
        self.options.log_dir.join(&self.options.name).join(format!("{}.log", service.name()))
    }

    pub async fn pool(&self) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&self.database_url()).await?)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_url)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(self.url(path)).bearer_auth(&self.token).send().await?)
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.post(self.url(path)).bearer_auth(&self.token).json(body).send().await?)
    }

    /// Stops every service gracefully (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop_services(&mut self) {
        for child in self.children.values() {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            }
        }
        for (_, mut child) in std::mem::take(&mut self.children) {
            if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }

    /// Stops the services, then drops the database and the broker objects of this cluster. Each
    /// step has a time limit: a broker or database that stopped answering fails the test, not CI.
    pub async fn teardown(mut self) -> anyhow::Result<()> {
        self.stop_services().await;
        let topology = queue::Topology::new(self.prefix.clone(), self.options.delivery_limit);
        let broker = async {
            let conn =
                lapin::Connection::connect(&self.options.broker_url, lapin::ConnectionProperties::default()).await?;
            let deleted = topology.delete(&conn.create_channel().await?).await;
            let _ = conn.close(200, "teardown".into()).await;
            anyhow::Ok(deleted?)
        };
        tokio::time::timeout(Duration::from_secs(60), broker)
            .await
            .map_err(|_| anyhow::anyhow!("deleting the broker objects of {} took over 60 s", self.prefix))??;
        let database = async {
            let admin = sqlx::PgPool::connect(&format!("{}/postgres", self.options.postgres_url)).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists \"{}\" with (force)", self.database)))
                .execute(&admin)
                .await?;
            admin.close().await;
            anyhow::Ok(())
        };
        tokio::time::timeout(Duration::from_secs(60), database)
            .await
            .map_err(|_| anyhow::anyhow!("dropping database {} took over 60 s", self.database))??;
        self.watchdog.disarm();
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A test that failed before its teardown: the children die with it (kill_on_drop), and the
        // watchdog must not fire for a cluster that no longer runs.
        self.watchdog.disarm();
    }
}
