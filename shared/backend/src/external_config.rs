//! Configuration of the `external` backend (built by `shared/backend-external`): a training command of the
//! team's own (TRL with accelerate or torchrun, OpenRLHF, ...) run for each round. Pure data, like
//! [`crate::TchConfig`], so every worker can read it.

use serde::Deserialize;
use std::path::PathBuf;

/// `CRITICLOOP_BACKEND__KIND=external`: the training service hands each round to a command. Each key is
/// `CRITICLOOP_BACKEND__<KEY>`. Only the trainer exists in this backend; the other services keep their
/// own backend kind (each service reads its own environment).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalConfig {
    /// The command template (required). Split into arguments like a POSIX shell would (quotes,
    /// backslashes), without running one; placeholders are replaced inside each argument: `{pairs}`,
    /// `{base}`, `{output}` (required), `{work}`, `{beta}`, `{learning_rate}`, `{epochs}`, `{seed}`;
    /// `{{` and `}}` are literal braces.
    pub command: String,
    /// Run the template with `sh -c` (placeholders shell-quoted), for pipes, `&&` or variables.
    pub shell: bool,
    /// Seconds before the command is stopped (SIGTERM to its process group, SIGKILL 10 s later); 0 = none.
    pub timeout_secs: u64,
    /// Base checkpoints fetched from the artifact store (by digest, `checkpoints/<hex>`), and one folder
    /// per run under `runs/` (the pairs, their images, the output).
    pub work_dir: PathBuf,
    /// Exit codes worth another attempt (comma-separated in the environment). Default: 75 (`EX_TEMPFAIL`).
    /// A command killed by a signal is always retried; any other non-zero exit fails the round.
    pub transient_exit_codes: ExitCodes,
    /// Load the output with criticloop's runtime before storing it (on the CPU, in float32: it needs the
    /// checkpoint's size in memory). Off: only `config.json` and the safetensors files are checked.
    pub verify_load: bool,
}

impl Default for ExternalConfig {
    fn default() -> Self {
        Self {
            command: String::new(),
            shell: false,
            timeout_secs: 0,
            work_dir: PathBuf::from(".criticloop/external"),
            transient_exit_codes: ExitCodes(vec![75]),
            verify_load: true,
        }
    }
}

/// A list of exit codes: `75`, `"75,137"` (the environment's form) or `[75, 137]` (a config file's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExitCodes(pub Vec<i32>);

impl<'de> Deserialize<'de> for ExitCodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(i32),
            Many(Vec<i32>),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::One(c) => Ok(ExitCodes(vec![c])),
            Raw::Many(v) => Ok(ExitCodes(v)),
            Raw::Text(s) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<i32>().map_err(|_| format!("`{p}` is not an exit code")))
                .collect::<Result<Vec<_>, _>>()
                .map(ExitCodes)
                .map_err(|e| serde::de::Error::custom(format!("transient_exit_codes: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::BackendConfig;
    use serde_json::json;

    #[test]
    fn external_config_reads_its_keys_and_exit_codes_in_every_form() {
        let cfg: BackendConfig = serde_json::from_value(json!({
            "kind": "external", "command": "python t.py {pairs} {base} {output}", "timeout_secs": 60,
            "transient_exit_codes": "75, 137"
        }))
        .expect("valid external section");
        let BackendConfig::External(c) = cfg else { panic!("not external: {cfg:?}") };
        assert_eq!((c.timeout_secs, c.shell, c.verify_load), (60, false, true));
        assert_eq!(c.transient_exit_codes.0, vec![75, 137]);
        for (raw, want) in [(json!(3), vec![3]), (json!([1, 2]), vec![1, 2]), (json!(""), vec![])] {
            let cfg: BackendConfig =
                serde_json::from_value(json!({"kind": "external", "transient_exit_codes": raw})).expect("codes");
            let BackendConfig::External(c) = cfg else { panic!("not external") };
            assert_eq!(c.transient_exit_codes.0, want);
        }
        let err = serde_json::from_value::<BackendConfig>(json!({"kind": "external", "transient_exit_codes": "7,x"}))
            .expect_err("bad code");
        assert!(err.to_string().contains("`x` is not an exit code"), "{err}");
        let err = serde_json::from_value::<BackendConfig>(json!({"kind": "external", "comand": "x"}))
            .expect_err("unknown key");
        assert!(err.to_string().contains("comand"), "{err}");
        let err = crate::build(&BackendConfig::External(super::ExternalConfig::default())).err().expect("not here");
        assert!(err.contains("only into criticloop-training"), "{err}");
    }
}
