//! LLaVA JSON: one top-level array of records, streamed element by element (a serde visitor over the
//! array), so memory holds one record at a time, never the file.

use super::{Emit, ReadError, ReadSettings, json_record};
use crate::{Format, ImportError};
use serde::de::{DeserializeSeed, Deserializer as _, IgnoredAny, SeqAccess, Visitor};
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

pub(crate) fn validate(path: &Path) -> Result<(), ImportError> {
    walk(path, &mut |_, _: IgnoredAny| Ok(())).map_err(|e| match e {
        ReadError::File(error) => error,
        ReadError::Stopped => ImportError::Internal { path: path.to_path_buf(), message: "validation stopped".into() },
    })
}

pub(crate) fn read(path: &Path, settings: &ReadSettings, emit: &mut Emit<'_>) -> Result<(), ReadError> {
    walk(path, &mut |row_number, value: serde_json::Value| {
        emit(json_record::to_item(row_number, value, settings)).map_err(ReadError::from)
    })
}

/// Calls `each` with every element of the top-level array, numbered from 1.
fn walk<T: serde::de::DeserializeOwned>(
    path: &Path,
    each: &mut dyn FnMut(u64, T) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let file =
        File::open(path).map_err(|source| ImportError::Io { path: path.to_path_buf(), action: "opening", source })?;
    let mut deserializer = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    let mut stopped = None;
    let visitor = ArrayVisitor { each, stopped: &mut stopped, marker: std::marker::PhantomData };
    let outcome = deserializer.deserialize_seq(visitor).and_then(|()| deserializer.end());
    if let Some(reason) = stopped {
        return Err(reason);
    }
    outcome.map_err(|error| file_error(path, error).into())
}

fn file_error(path: &Path, error: serde_json::Error) -> ImportError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Io => ImportError::Io {
            path: path.to_path_buf(),
            action: "reading",
            source: std::io::Error::other(error.to_string()),
        },
        Category::Syntax | Category::Eof => ImportError::Syntax {
            path: path.to_path_buf(),
            format: Format::LlavaJson,
            line: error.line() as u64,
            column: error.column() as u64,
            message: error.to_string(),
        },
        Category::Data => ImportError::Shape {
            path: path.to_path_buf(),
            format: Format::LlavaJson,
            message: format!("{error} (expected a JSON array of records)"),
        },
    }
}

struct ArrayVisitor<'a, T> {
    each: &'a mut dyn FnMut(u64, T) -> Result<(), ReadError>,
    stopped: &'a mut Option<ReadError>,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: serde::de::DeserializeOwned> Visitor<'de> for ArrayVisitor<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut row_number = 0u64;
        while let Some(element) = seq.next_element_seed(Element::<T>(std::marker::PhantomData))? {
            row_number += 1;
            if let Err(reason) = (self.each)(row_number, element) {
                *self.stopped = Some(reason);
                return Err(serde::de::Error::custom("import stopped"));
            }
        }
        Ok(())
    }
}

struct Element<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::de::DeserializeOwned> DeserializeSeed<'de> for Element<T> {
    type Value = T;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}
