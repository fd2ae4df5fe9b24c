//! Items: a question about a generated scene, with its ground truth.

use serde::{Deserialize, Serialize};

use super::Family;
use super::question::ask;
use crate::config::WorldConfig;
use crate::error::{Result, WorldError};
use crate::rng::{SplitMix64, derive};
use crate::scene::{Object, Scene};

/// Scenes tried before a family is declared impossible for a seed.
const ATTEMPTS: u64 = 64;
/// Stream tags, so the family draw and the question draw do not reuse the scene's stream.
const FAMILY_STREAM: u64 = 0xfa;
const QUESTION_STREAM: u64 = 0x9e;

/// What an item's responses are judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub family: Family,
    /// The one-word answer of short families (lower case); `None` for descriptions.
    pub answer: Option<String>,
    /// The scene the question is about (its objects are the description's ground truth).
    pub scene: Scene,
    /// The scene's seed: `Scene::generate(seed, config)` gives `scene` again.
    pub seed: u64,
}

/// One prompt of the world: an id, the question, and the truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub question: String,
    pub truth: Truth,
}

/// Namespace for generating lists of items.
pub struct World;

impl Item {
    /// The item of `seed`: a question of `family` (or, for `None`, of a family drawn uniformly from
    /// `config.families`) about a scene. When the first scene does not allow the family, further scenes
    /// (seeds derived from `seed`) are tried. The id is `w{seed}`.
    pub fn generate(seed: u64, family: Option<Family>, config: &WorldConfig) -> Result<Item> {
        config.validate()?;
        let family = match family {
            Some(f) => f,
            None => {
                let mut rng = SplitMix64::new(derive(seed, FAMILY_STREAM));
                *rng.choose(&config.families).ok_or_else(|| WorldError::InvalidConfig("families is empty".into()))?
            }
        };
        for attempt in 0..ATTEMPTS {
            let scene_seed = derive(seed, attempt);
            let scene = Scene::generate(scene_seed, config)?;
            let mut rng = SplitMix64::new(derive(scene_seed, QUESTION_STREAM));
            if let Some((question, answer)) = ask(family, &scene, &mut rng, config) {
                let truth = Truth { family, answer, scene, seed: scene_seed };
                return Ok(Item { id: format!("w{seed}"), question, truth });
            }
        }
        Err(WorldError::Impossible { seed, family: family.name() })
    }

    pub fn family(&self) -> Family {
        self.truth.family
    }

    pub fn answer(&self) -> Option<&str> {
        self.truth.answer.as_deref()
    }

    pub fn objects(&self) -> &[Object] {
        &self.truth.scene.objects
    }

    pub fn scene(&self) -> &Scene {
        &self.truth.scene
    }
}

impl World {
    /// `n` items drawn from `config.families`, reproducible from `seed`; item `i` has id `w{seed}-{i}`.
    pub fn items(seed: u64, n: usize, config: &WorldConfig) -> Result<Vec<Item>> {
        (0..n)
            .map(|i| {
                let mut item = Item::generate(derive(seed, i as u64), None, config)?;
                item.id = format!("w{seed}-{i}");
                Ok(item)
            })
            .collect()
    }
}
