//! Running the `criticloop` binary the way a user would, with no user config or environment leaking in.

/// What a run printed and how it exited.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `criticloop --api-url URL --token TOKEN ARGS...` from the binaries under test.
pub async fn criticloop(url: &str, token: &str, args: &[&str]) -> anyhow::Result<Out> {
    let absent = std::env::temp_dir().join(format!("criticloop-absent-config-{}.toml", uuid::Uuid::new_v4()));
    let out = tokio::process::Command::new(devcluster::bin_dir().join("criticloop"))
        .args(["--api-url", url, "--token", token])
        .args(args)
        .env_remove("CRITICLOOP_API_URL")
        .env_remove("CRITICLOOP_API_TOKEN")
        .env("CRITICLOOP_CLI_CONFIG", absent)
        .output()
        .await?;
    Ok(Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
