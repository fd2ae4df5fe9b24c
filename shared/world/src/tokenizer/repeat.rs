//! Repeat rows: a random token sequence written twice. The prompt is a lead of 0-40 random tokens and a
//! sequence of 8-40 more, the completion the sequence again, each decoded to text with the model's own
//! tokenizer. A critic's first stage trains on them (`criticloop world repeat-data`): on the small world's
//! cheaper critic shape the pairwise comparison stalled without that stage (README, session 28).

use tokenizers::Tokenizer;

use super::SPECIAL_TOKENS;
use crate::error::{Result, WorldError};
use crate::rng::SplitMix64;

/// One repeat row: its id, the prompt (lead and sequence) and the completion (the sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatRow {
    pub id: String,
    pub prompt: String,
    pub completion: String,
}

/// `count` repeat rows drawn from `seed`, random tokens taken from `tokenizer`'s vocabulary without its
/// special tokens.
pub fn repeat_rows(tokenizer: &Tokenizer, seed: u64, count: usize) -> Result<Vec<RepeatRow>> {
    let special: Vec<u32> = SPECIAL_TOKENS.iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
    let vocab: Vec<u32> = (0..u32::try_from(tokenizer.get_vocab_size(true)).unwrap_or(u32::MAX))
        .filter(|id| !special.contains(id))
        .collect();
    if vocab.is_empty() {
        return Err(WorldError::Tokenizer("the vocabulary has no token besides the special ones".into()));
    }
    let mut rng = SplitMix64::new(seed ^ 0x4e9e);
    let mut draw = |lo: u32, hi: u32| -> Result<String> {
        let ids: Vec<u32> = (0..rng.range(lo, hi)).map(|_| vocab[rng.below(vocab.len())]).collect();
        tokenizer.decode(&ids, false).map_err(|e| WorldError::Tokenizer(e.to_string()))
    };
    (0..count)
        .map(|i| {
            let lead = draw(0, 40)?;
            let sequence = draw(8, 40)?;
            Ok(RepeatRow { id: format!("repeat-{i}"), prompt: lead + &sequence, completion: sequence })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{TokenizerSettings, build_tokenizer};

    fn tokenizer() -> Result<Tokenizer> {
        let corpus = ["a red square left of a blue circle", "the better response: [1]", "score: 70 out of 100"];
        build_tokenizer(&corpus, &TokenizerSettings { vocab_size: 300, ..TokenizerSettings::default() })
    }

    #[test]
    fn the_prompt_ends_in_the_completion_and_no_special_token_is_drawn() -> Result<()> {
        let rows = repeat_rows(&tokenizer()?, 7, 200)?;
        assert_eq!(rows.len(), 200);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.id, format!("repeat-{i}"));
            assert!(row.prompt.ends_with(&row.completion), "{row:?}");
            assert!(!row.completion.is_empty(), "{row:?}");
            assert!(SPECIAL_TOKENS.iter().all(|t| !row.prompt.contains(t)), "{row:?}");
        }
        // the lead varies from none to 40 tokens: some prompts are the sequence alone, most are longer
        assert!(rows.iter().any(|r| r.prompt == r.completion));
        assert!(rows.iter().filter(|r| r.prompt.len() > r.completion.len()).count() > 150);
        Ok(())
    }

    #[test]
    fn rows_are_a_function_of_the_seed() -> Result<()> {
        let t = tokenizer()?;
        assert_eq!(repeat_rows(&t, 3, 20)?, repeat_rows(&t, 3, 20)?);
        assert_ne!(repeat_rows(&t, 3, 20)?, repeat_rows(&t, 4, 20)?);
        Ok(())
    }
}
