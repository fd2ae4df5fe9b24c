//! The trained tokenizer: round trips, special tokens, and the saved folder.

use proptest::prelude::*;
use tokenizers::Tokenizer;
use world::tokenizer::{SPECIAL_TOKENS, TokenizerSettings, build_tokenizer, save_tokenizer, world_corpus};
use world::{World, WorldConfig};

const CRITIC_PROMPT: &str = "Given an image and a corresponding question, please serve as an unbiased and fair judge \
                             to evaluate the quality of the answers.\nThe better response: [1].";

fn corpus() -> Vec<String> {
    let items = World::items(3, 60, &WorldConfig::default()).expect("the default world generates");
    let mut corpus = world_corpus(&items);
    corpus.push(CRITIC_PROMPT.to_string());
    corpus
}

fn trained() -> (Vec<String>, Tokenizer) {
    let corpus = corpus();
    let tokenizer = build_tokenizer(&corpus, &TokenizerSettings::default()).expect("training succeeds");
    (corpus, tokenizer)
}

fn round_trip(tokenizer: &Tokenizer, text: &str) -> String {
    let ids = tokenizer.encode(text, false).expect("encodes").get_ids().to_vec();
    tokenizer.decode(&ids, false).expect("decodes")
}

#[test]
fn learns_merges_within_the_vocabulary_size() {
    let (_, tokenizer) = trained();
    let size = tokenizer.get_vocab_size(true);
    assert!(size > 256 + SPECIAL_TOKENS.len() + 50, "only {size} tokens: no merges learned");
    assert!(size <= 512, "{size} tokens");
    // world words are single tokens or nearly so
    let ids = tokenizer.encode("There is a large red circle.", false).expect("encodes");
    assert!(ids.get_ids().len() <= 8, "{:?}", ids.get_tokens());
}

#[test]
fn corpus_and_unseen_text_round_trip() {
    let (corpus, tokenizer) = trained();
    for text in &corpus {
        assert_eq!(&round_trip(&tokenizer, text), text);
    }
    for text in [
        "",
        "  leading and trailing spaces  ",
        "line one\nline two\r\n\ttabbed\n\n",
        "Ünïcödé: café, naïve, 東京, Москва, emoji 🙂",
        "<|im_start|>user\n<image>\nDescribe everything in the image.<|im_end|>\n<|im_start|>assistant\n",
        "zzz qqq XYZZY 12345 it's they'll",
    ] {
        assert_eq!(round_trip(&tokenizer, text), text);
    }
}

#[test]
fn each_special_token_is_one_id() {
    let (_, tokenizer) = trained();
    for (expected, token) in SPECIAL_TOKENS.iter().enumerate() {
        let ids = tokenizer.encode(*token, false).expect("encodes").get_ids().to_vec();
        assert_eq!(ids, vec![expected as u32], "{token}");
        let inline = tokenizer.encode(format!("a{token}b"), false).expect("encodes").get_ids().to_vec();
        assert!(inline.contains(&(expected as u32)), "{token} inside text: {inline:?}");
        assert_eq!(tokenizer.decode(&ids, true).expect("decodes"), "", "{token} is skipped as special");
    }
}

#[test]
fn training_is_deterministic() {
    let corpus = corpus();
    let a = build_tokenizer(&corpus, &TokenizerSettings::default()).expect("trains");
    let b = build_tokenizer(&corpus, &TokenizerSettings::default()).expect("trains");
    assert_eq!(a.to_string(false).expect("serialises"), b.to_string(false).expect("serialises"));
}

#[test]
fn the_saved_folder_loads_and_encodes_the_same() {
    let (corpus, tokenizer) = trained();
    let dir = tempfile::tempdir().expect("a temporary folder");
    save_tokenizer(&tokenizer, dir.path(), &TokenizerSettings::default()).expect("saves");
    let loaded = Tokenizer::from_file(dir.path().join("tokenizer.json")).expect("tokenizer.json loads");
    for text in corpus.iter().map(String::as_str).chain(["<|im_start|>user\n<image>hi 🙂<|im_end|>"]) {
        let ours = tokenizer.encode(text, false).expect("encodes");
        let theirs = loaded.encode(text, false).expect("encodes");
        assert_eq!(ours.get_ids(), theirs.get_ids(), "{text:?}");
    }
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tokenizer_config.json")).expect("tokenizer_config.json exists"),
    )
    .expect("is JSON");
    assert_eq!(config["eos_token"], "<|im_end|>");
    assert_eq!(config["pad_token"], "<|endoftext|>");
    assert!(config["bos_token"].is_null());
    assert_eq!(config["model_max_length"], 32768);
    let template = config["chat_template"].as_str().expect("a chat template string");
    assert!(template.contains("<|im_start|>assistant\\n"));
    for (id, token) in SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(config["added_tokens_decoder"][id.to_string()]["content"], *token);
        assert_eq!(config["added_tokens_decoder"][id.to_string()]["special"], true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_round_trips(text in "[a-zA-Z0-9 \n\t.,;:!?'\"()\\[\\]<>|_éüßñ東京🙂-]{0,80}") {
        let (_, tokenizer) = TRAINED.with(|t| t.clone());
        prop_assert_eq!(round_trip(&tokenizer, &text), text);
    }
}

thread_local! {
    static TRAINED: (Vec<String>, Tokenizer) = trained();
}

/// A tokenizer trained on the world's corpus of enough items (1,000; `criticloop world tokenizer` takes
/// 5,000 by default in the scripts) for the merges of every colour word.
#[test]
fn a_capitalised_answer_is_one_token_as_the_bare_one() {
    let items = World::items(3, 1000, &WorldConfig::default()).expect("the default world generates");
    let tokenizer = build_tokenizer(&world_corpus(&items), &TokenizerSettings::default()).expect("trains");
    let tokens = |text: &str| tokenizer.encode(text, false).expect("encodes").get_tokens().to_vec();
    for colour in world::Colour::ALL {
        let [bare, sentence, hedged] = world::short_phrasings(colour.word());
        assert_eq!(tokens(&bare).len(), 1, "{:?}", tokens(&bare));
        for response in [sentence, hedged] {
            // "Red, I think." is ["Red", ",", "ĠI", "Ġthink", "."], not ["R", "e", "d", ...]
            let first = tokens(&response)[0].clone();
            assert!(first.eq_ignore_ascii_case(&bare), "{:?}", tokens(&response));
        }
    }
}
