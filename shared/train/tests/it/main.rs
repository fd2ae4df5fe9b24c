//! Tests of DPO training against TRL on tiny random checkpoints. Each builds on `support`, which makes the
//! checkpoints and the TRL runs once and caches them.

mod badpairs;
mod cli;
mod parity;
mod resume;
mod support;
