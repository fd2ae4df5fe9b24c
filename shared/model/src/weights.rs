//! Reading Hugging Face safetensors checkpoints (one file or shards with `model.safetensors.index.json`)
//! strictly: every weight the model asks for must exist with the expected shape, and every weight the
//! files hold must be asked for.
//!
//! Tensors are read one at a time (seek + read of their byte range), so loading needs the model's memory
//! plus one tensor, not a second copy of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result, io_err, read_json};

pub const SINGLE_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";

/// Where one tensor lives.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub file: PathBuf,
    pub dtype: String,
    pub shape: Vec<i64>,
    /// Absolute byte range in `file`.
    pub start: u64,
    pub end: u64,
}

#[derive(Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<i64>,
    data_offsets: [u64; 2],
}

#[derive(Deserialize)]
struct Index {
    weight_map: BTreeMap<String, String>,
}

/// Parses a safetensors header and checks every byte range against the file's size.
pub fn read_header(path: &Path) -> Result<BTreeMap<String, TensorEntry>> {
    let bad = |message: String| ModelError::Safetensors { path: path.to_path_buf(), message };
    let mut f = File::open(path).map_err(io_err(path))?;
    let file_len = f.metadata().map_err(io_err(path))?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|_| bad("shorter than its 8-byte header length".into()))?;
    let n = u64::from_le_bytes(n);
    if n > 100_000_000 || 8 + n > file_len {
        return Err(bad(format!("header length {n} does not fit the file ({file_len} bytes)")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(io_err(path))?;
    let header: BTreeMap<String, Value> =
        serde_json::from_slice(&header).map_err(|e| bad(format!("header is not a JSON object: {e}")))?;
    let data_start = 8 + n;
    let mut out = BTreeMap::new();
    for (name, v) in header {
        if name == "__metadata__" {
            continue;
        }
        let e: HeaderEntry = serde_json::from_value(v).map_err(|e| bad(format!("entry `{name}`: {e}")))?;
        let [a, b] = e.data_offsets;
        let elt = dtype_size(&e.dtype);
        let numel: i64 = e.shape.iter().product();
        if e.shape.iter().any(|&d| d < 0) || b < a || data_start + b > file_len {
            return Err(bad(format!("entry `{name}`: byte range {a}..{b} outside the data")));
        }
        if let Some(elt) = elt
            && (numel as u64) * elt != b - a
        {
            return Err(bad(format!("entry `{name}`: {} bytes for shape {:?} of {}", b - a, e.shape, e.dtype)));
        }
        out.insert(
            name,
            TensorEntry {
                file: path.to_path_buf(),
                dtype: e.dtype,
                shape: e.shape,
                start: data_start + a,
                end: data_start + b,
            },
        );
    }
    Ok(out)
}

fn dtype_size(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F64" | "I64" => 8,
        "F32" | "I32" => 4,
        "F16" | "BF16" | "I16" => 2,
        "U8" | "I8" | "BOOL" => 1,
        _ => return None,
    })
}

fn dtype_kind(dtype: &str) -> Option<Kind> {
    Some(match dtype {
        "F64" => Kind::Double,
        "F32" => Kind::Float,
        "F16" => Kind::Half,
        "BF16" => Kind::BFloat16,
        _ => return None,
    })
}

/// All tensors of a checkpoint directory, keyed by weight name.
pub fn checkpoint_entries(dir: &Path) -> Result<BTreeMap<String, TensorEntry>> {
    let index_path = dir.join(INDEX_FILE);
    let single = dir.join(SINGLE_FILE);
    if index_path.is_file() {
        let index: Index = read_json(&index_path)?;
        let files: BTreeSet<&String> = index.weight_map.values().collect();
        let mut out: BTreeMap<String, TensorEntry> = BTreeMap::new();
        for file in files {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(ModelError::MissingFile { path, what: "a shard named in model.safetensors.index.json" });
            }
            for (name, entry) in read_header(&path)? {
                match index.weight_map.get(&name) {
                    Some(f) if f == file => {}
                    _ => return Err(ModelError::UnexpectedWeight { name, file: path }),
                }
                if let Some(prev) = out.get(&name) {
                    return Err(ModelError::DuplicateWeight { name, first: prev.file.clone(), second: path });
                }
                out.insert(name, entry);
            }
        }
        if let Some(name) = index.weight_map.keys().find(|n| !out.contains_key(*n)) {
            return Err(ModelError::MissingWeight { name: name.clone(), dir: dir.to_path_buf() });
        }
        Ok(out)
    } else if single.is_file() {
        read_header(&single)
    } else {
        Err(ModelError::MissingFile { path: single, what: "weights (model.safetensors or its index)" })
    }
}

/// A strict weight source: `take` each weight the model needs, then `finish` to reject leftovers.
pub struct WeightSource {
    dir: PathBuf,
    entries: BTreeMap<String, TensorEntry>,
    kind: Kind,
    device: Device,
}

impl WeightSource {
    pub fn open(dir: &Path, kind: Kind, device: Device) -> Result<Self> {
        Ok(WeightSource { dir: dir.to_path_buf(), entries: checkpoint_entries(dir)?, kind, device })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Reads weight `name`, checks its shape, converts it to the model's dtype and device.
    pub fn take(&mut self, name: &str, shape: &[i64]) -> Result<Tensor> {
        let entry = self
            .entries
            .remove(name)
            .ok_or_else(|| ModelError::MissingWeight { name: name.to_string(), dir: self.dir.clone() })?;
        if entry.shape != shape {
            return Err(ModelError::WeightShape {
                name: name.to_string(),
                file: entry.file,
                expected: shape.to_vec(),
                actual: entry.shape,
            });
        }
        let Some(kind) = dtype_kind(&entry.dtype) else {
            return Err(ModelError::WeightDtype { name: name.to_string(), file: entry.file, dtype: entry.dtype });
        };
        let mut f = File::open(&entry.file).map_err(io_err(&entry.file))?;
        f.seek(SeekFrom::Start(entry.start)).map_err(io_err(&entry.file))?;
        let mut bytes = vec![0u8; (entry.end - entry.start) as usize];
        f.read_exact(&mut bytes).map_err(io_err(&entry.file))?;
        let t = Tensor::f_from_data_size(&bytes, &entry.shape, kind)?;
        Ok(t.f_to_dtype(self.kind, false, false)?.f_to_device(self.device)?)
    }

    /// Fails on the first weight that was never taken.
    pub fn finish(self) -> Result<()> {
        match self.entries.into_iter().next() {
            Some((name, entry)) => Err(ModelError::UnexpectedWeight { name, file: entry.file }),
            None => Ok(()),
        }
    }
}
