use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("config file {path} is not valid TOML or JSON: {message}")]
    Syntax { path: String, message: String },
    #[error("invalid configuration: {0} (set it with CRITICLOOP_SECTION__KEY, e.g. CRITICLOOP_DATABASE__URL)")]
    Invalid(String),
}

/// Loads `T` from defaults (given as JSON), the file in `CRITICLOOP_CONFIG`, and the process environment.
pub fn load<T: DeserializeOwned>(defaults: Value) -> Result<T, ConfigError> {
    let file = std::env::var("CRITICLOOP_CONFIG").ok();
    load_from(defaults, file.as_deref(), std::env::vars())
}

/// The same, with the file and environment given explicitly (for tests).
pub fn load_from<T: DeserializeOwned>(
    defaults: Value,
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut merged = defaults;
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::File { path: path.to_string(), source })?;
        let value: Value = if path.ends_with(".json") {
            serde_json::from_str(&text)
                .map_err(|e| ConfigError::Syntax { path: path.to_string(), message: e.to_string() })?
        } else {
            let table: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError::Syntax { path: path.to_string(), message: e.to_string() })?;
            serde_json::to_value(table).map_err(|e| ConfigError::Invalid(e.to_string()))?
        };
        merge(&mut merged, value);
    }
    merge(&mut merged, from_env(env));
    serde_json::from_value(merged).map_err(|e| ConfigError::Invalid(e.to_string()))
}

fn from_env(env: impl IntoIterator<Item = (String, String)>) -> Value {
    let mut root = Map::new();
    for (key, value) in env {
        let Some(path) = key.strip_prefix("CRITICLOOP_") else { continue };
        if path == "CONFIG" || !path.contains("__") {
            continue;
        }
        let parts: Vec<String> = path.split("__").map(|p| p.to_lowercase()).collect();
        insert(&mut root, &parts, scalar(&value));
    }
    Value::Object(root)
}

fn scalar(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
        _ => Value::String(raw.to_string()),
    }
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let entry = map.entry(head.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Conf {
        database: Db,
        broker: Broker,
    }
    #[derive(Deserialize, Debug)]
    struct Db {
        url: crate::Secret,
    }
    #[derive(Deserialize, Debug)]
    struct Broker {
        prefetch: u16,
        prefix: String,
    }

    #[test]
    fn config_env_overrides_defaults_and_numbers_parse() {
        let defaults = serde_json::json!({"broker": {"prefetch": 10, "prefix": "a"}});
        let env = vec![
            ("CRITICLOOP_DATABASE__URL".to_string(), "postgres://x".to_string()),
            ("CRITICLOOP_BROKER__PREFETCH".to_string(), "64".to_string()),
            ("OTHER".to_string(), "1".to_string()),
        ];
        let c: Conf = load_from(defaults, None, env).expect("loads");
        assert_eq!(c.database.url.expose(), "postgres://x");
        assert_eq!(c.broker.prefetch, 64);
        assert_eq!(c.broker.prefix, "a");
        assert_eq!(format!("{:?}", c.database.url), "Secret(***)");
    }

    #[test]
    fn config_missing_field_names_it() {
        let err = load_from::<Conf>(serde_json::json!({}), None, Vec::new()).expect_err("must fail");
        assert!(err.to_string().contains("database"), "{err}");
    }
}
