//! Where and in which precision a model runs.

use std::str::FromStr;

use tch::{Device, Kind};

use crate::error::ModelError;

/// Floating-point precision of the weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    #[default]
    F32,
    BF16,
    F16,
}

impl Dtype {
    pub fn kind(self) -> Kind {
        match self {
            Dtype::F32 => Kind::Float,
            Dtype::BF16 => Kind::BFloat16,
            Dtype::F16 => Kind::Half,
        }
    }

    /// The name transformers writes in `config.json` (`dtype`).
    pub fn hf_name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::BF16 => "bfloat16",
            Dtype::F16 => "float16",
        }
    }
}

impl FromStr for Dtype {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" | "float" => Ok(Dtype::F32),
            "bf16" | "bfloat16" => Ok(Dtype::BF16),
            "f16" | "float16" | "half" => Ok(Dtype::F16),
            other => Err(ModelError::Option(format!("unknown dtype `{other}` (f32, bf16, f16)"))),
        }
    }
}

/// Parses `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available, else CPU).
pub fn parse_device(s: &str) -> Result<Device, ModelError> {
    match s {
        "cpu" => Ok(Device::Cpu),
        "auto" => Ok(Device::cuda_if_available()),
        "cuda" => cuda(0),
        other => match other.strip_prefix("cuda:").map(usize::from_str) {
            Some(Ok(i)) => cuda(i),
            _ => Err(ModelError::Option(format!("unknown device `{other}` (cpu, cuda, cuda:N, auto)"))),
        },
    }
}

fn cuda(i: usize) -> Result<Device, ModelError> {
    if tch::Cuda::is_available() && i < tch::Cuda::device_count() as usize {
        Ok(Device::Cuda(i))
    } else {
        Err(ModelError::Option(format!("CUDA device {i} is not available")))
    }
}

/// How to load a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub dtype: Dtype,
    pub device: Device,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { dtype: Dtype::F32, device: Device::Cpu }
    }
}
