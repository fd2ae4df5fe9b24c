//! Running the `criticloop` binaries the way a user would, with no user config or environment leaking in.

use anyhow::Context;

/// What a run printed and how it exited.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary `bin` of the binaries under test, with no user config (a path that does not exist) and no
/// API address or token from the environment.
pub fn command(bin: &str) -> std::process::Command {
    let absent = std::env::temp_dir().join(format!("criticloop-absent-config-{}.toml", uuid::Uuid::new_v4()));
    let mut cmd = std::process::Command::new(devcluster::bin_dir().join(bin));
    cmd.env_remove("CRITICLOOP_API_URL").env_remove("CRITICLOOP_API_TOKEN").env("CRITICLOOP_CLI_CONFIG", absent);
    cmd
}

/// Runs `bin ARGS...` ([`command`]) to the end; its stdout, or an error with both outputs if it failed.
pub fn run(bin: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = command(bin).args(args).output().with_context(|| format!("running {bin}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(
        out.status.success(),
        "{bin} {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// Runs `criticloop --api-url URL --token TOKEN ARGS...` from the binaries under test.
pub async fn criticloop(url: &str, token: &str, args: &[&str]) -> anyhow::Result<Out> {
    let mut cmd = command("criticloop");
    cmd.args(["--api-url", url, "--token", token]).args(args);
    let out = tokio::process::Command::from(cmd).output().await?;
    Ok(Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
