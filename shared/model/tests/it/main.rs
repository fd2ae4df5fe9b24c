//! Parity and behaviour tests of the model runtime against transformers on tiny random checkpoints.
//! Each test builds on `support::fixtures()`, which runs the fixture script once and caches its output.

mod checkpoints;
mod cli;
mod generation;
mod llava;
mod llava_generation;
mod parity_qwen2;
mod support;
