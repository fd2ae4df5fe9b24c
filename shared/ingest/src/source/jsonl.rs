//! JSONL: one record per line, read line by line. Blank lines are skipped; a line that is not valid JSON
//! (a truncated last line, say) is a file-level error, found by the validation pass.

use super::{Emit, ReadError, ReadSettings, json_record};
use crate::{Format, ImportError};
use serde::de::IgnoredAny;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

pub(crate) fn validate(path: &Path) -> Result<(), ImportError> {
    let outcome = each_line(path, &mut |line_number, line| {
        serde_json::from_slice::<IgnoredAny>(line).map(|_| ()).map_err(|e| syntax(path, line_number, &e).into())
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(ReadError::File(error)) => Err(error),
        Err(ReadError::Stopped) => {
            Err(ImportError::Internal { path: path.to_path_buf(), message: "validation stopped".into() })
        }
    }
}

pub(crate) fn read(path: &Path, settings: &ReadSettings, emit: &mut Emit<'_>) -> Result<(), ReadError> {
    each_line(path, &mut |line_number, line| {
        let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| syntax(path, line_number, &e))?;
        emit(json_record::to_item(line_number, value, settings)).map_err(ReadError::from)
    })
}

fn syntax(path: &Path, line_number: u64, error: &serde_json::Error) -> ImportError {
    ImportError::Syntax {
        path: path.to_path_buf(),
        format: Format::Jsonl,
        line: line_number,
        column: error.column() as u64,
        message: error.to_string(),
    }
}

/// Calls `each` with every non-blank line (without its newline), numbered from 1.
type EachLine<'a> = dyn FnMut(u64, &[u8]) -> Result<(), ReadError> + 'a;

fn each_line(path: &Path, each: &mut EachLine<'_>) -> Result<(), ReadError> {
    let file =
        File::open(path).map_err(|source| ImportError::Io { path: path.to_path_buf(), action: "opening", source })?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            action: "reading",
            source,
        })?;
        if n == 0 {
            return Ok(());
        }
        line_number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        each(line_number, &line)?;
        if line.capacity() > 4 << 20 {
            line = Vec::new();
        }
    }
}
