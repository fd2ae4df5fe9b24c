//! What tokenising pairs for a checkpoint needs, read without loading its weights: the tokenizer, the chat
//! template (optional), the context length and, for a LLaVA-OneVision, its configuration (an image's token
//! count depends on it).

use std::path::Path;

use model::{ChatTemplate, LlavaOnevisionConfig, Qwen2Config, TextTokenizer};

use crate::error::Result;
use crate::pairs::PairTokenizer;
use crate::policy::is_llava;
use crate::vision_pairs::{ImageLoader, VisionPairs};

pub struct CheckpointText {
    pub tokenizer: TextTokenizer,
    pub chat_template: Option<ChatTemplate>,
    pub llava: Option<LlavaOnevisionConfig>,
    /// `max_position_embeddings` of the language model.
    pub context: usize,
}

impl CheckpointText {
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let config = dir.join("config.json");
        let (llava, text) = if is_llava(dir)? {
            let llava = LlavaOnevisionConfig::from_file(&config)?;
            let text = llava.text.clone();
            (Some(llava), text)
        } else {
            (None, Qwen2Config::from_file(&config)?)
        };
        Ok(CheckpointText {
            tokenizer: TextTokenizer::from_dir(dir)?,
            chat_template: ChatTemplate::from_dir_optional(dir)?,
            llava,
            context: usize::try_from(text.max_position_embeddings).unwrap_or(usize::MAX),
        })
    }

    /// A pair tokenizer for pairs up to `max_length` tokens (at most the context); pairs' images are read
    /// with `load_image` (used only by a LLaVA-OneVision checkpoint).
    pub fn pair_tokenizer<'a>(&'a self, max_length: usize, load_image: ImageLoader<'a>) -> PairTokenizer<'a> {
        PairTokenizer {
            tokenizer: &self.tokenizer,
            chat_template: self.chat_template.as_ref(),
            max_length: max_length.min(self.context),
            vision: self.llava.as_ref().map(|config| VisionPairs { config, load_image }),
        }
    }
}
