//! The model crate's tiny random checkpoints (`model::fixtures`: `qwen2_fixture.py`, and
//! `llava_generate_fixture.py` for LLaVA-OneVision), built on first use and cached where the model and
//! train tests cache them, so all share one copy.

use std::path::PathBuf;

/// The folder of the fixture checkpoints (`qwen2`, `qwen2-tied`, ...), built if absent.
pub fn qwen2_fixtures() -> anyhow::Result<PathBuf> {
    model::fixtures::build("qwen2_fixture.py", &[], "qwen2").map_err(anyhow::Error::msg)
}

/// The folder of the complete tiny LLaVA-OneVision checkpoint (`llava-ov`, with tokenizer, chat template
/// and processor) and its images (`image-N.png`), built if absent.
pub fn llava_fixtures() -> anyhow::Result<PathBuf> {
    model::fixtures::build("llava_generate_fixture.py", &["qwen2_fixture.py"], "llava-generate")
        .map_err(anyhow::Error::msg)
}
