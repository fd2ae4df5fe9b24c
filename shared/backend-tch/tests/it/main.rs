//! The tch policy and critic against the model crate run directly on the same tiny checkpoints.

mod critic;
mod policy;
mod support;
