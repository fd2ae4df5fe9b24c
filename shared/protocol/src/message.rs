//! The envelope: a message's type name (with its version) travels in the AMQP `type` property, its
//! body is JSON. A consumer that meets a type it does not know rejects the message to the dead letters.

use serde::{Serialize, de::DeserializeOwned};

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("malformed `{kind}` message body: {source}")]
    Malformed { kind: String, source: serde_json::Error },
}

/// A message type with a stable, versioned name such as `judge.v1`.
pub trait MessageType: Serialize + DeserializeOwned {
    const TYPE: &'static str;
}

/// A message ready for the wire: type name, routing and JSON body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub kind: String,
    pub route: crate::Route,
    pub body: serde_json::Value,
}

impl Envelope {
    pub fn new<M: MessageType>(route: crate::Route, message: &M) -> Self {
        Self {
            kind: M::TYPE.to_string(),
            route,
            // Serializing plain data structs to a Value cannot fail.
            body: serde_json::to_value(message).unwrap_or(serde_json::Value::Null),
        }
    }
}

pub fn decode<M: MessageType>(kind: &str, body: &[u8]) -> Result<M, ProtocolError> {
    if kind != M::TYPE {
        return Err(ProtocolError::UnknownType(kind.to_string()));
    }
    serde_json::from_slice(body).map_err(|source| ProtocolError::Malformed { kind: kind.to_string(), source })
}
