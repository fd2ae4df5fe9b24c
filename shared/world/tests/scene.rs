//! Scenes and their images: determinism, placement, and what the pixels show.

use std::collections::{HashMap, HashSet};

use world::render::{BACKGROUND, covers};
use world::{Scene, Size, WorldConfig, png_bytes, render};

fn scenes(config: &WorldConfig, n: u64) -> impl Iterator<Item = (u64, Scene)> + '_ {
    (0..n).map(move |seed| (seed, Scene::generate(seed, config).expect("the configuration is valid")))
}

#[test]
fn the_same_seed_gives_the_same_png_and_different_seeds_differ() {
    let config = WorldConfig::default();
    let png = |seed| png_bytes(&render(&Scene::generate(seed, &config).expect("valid"))).expect("encodes");
    assert_eq!(png(42), png(42));
    let distinct: HashSet<Vec<u8>> = (0..20).map(png).collect();
    assert!(distinct.len() >= 19, "only {} distinct images of 20 seeds", distinct.len());
}

#[test]
fn objects_are_in_bounds_apart_and_of_distinct_kinds() {
    let free = WorldConfig { grid: false, ..WorldConfig::default() };
    for config in [
        free.clone(),
        WorldConfig { max_objects: 6, ..free.clone() },
        WorldConfig { image_size: 64, min_objects: 3, max_objects: 9, ..free },
    ] {
        let mut counts = HashSet::new();
        for (seed, scene) in scenes(&config, 300) {
            let n = scene.objects.len();
            counts.insert(n);
            assert!((config.min_objects..=config.max_objects).contains(&n), "seed {seed}: {n} objects");
            let kinds: HashSet<_> = scene.objects.iter().map(|o| (o.colour, o.shape)).collect();
            assert_eq!(kinds.len(), n, "seed {seed}: a (colour, shape) repeats");
            for (i, a) in scene.objects.iter().enumerate() {
                let (l, t, r, b) = a.bounds(config.image_size);
                assert!(l >= config.margin && t >= config.margin, "seed {seed}: {a:?} too close to the edge");
                assert!(
                    r + config.margin < config.image_size && b + config.margin < config.image_size,
                    "seed {seed}: {a:?}"
                );
                for o in &scene.objects[i + 1..] {
                    let (l2, t2, r2, b2) = o.bounds(config.image_size);
                    let apart = r + config.margin < l2
                        || r2 + config.margin < l
                        || b + config.margin < t2
                        || b2 + config.margin < t;
                    assert!(apart, "seed {seed}: {a:?} and {o:?} overlap");
                }
            }
        }
        assert!(counts.len() > 1, "scene sizes never vary: {counts:?}");
    }
}

#[test]
fn on_the_grid_every_object_lies_in_cells_of_its_own() {
    for config in [
        WorldConfig::default(),
        WorldConfig { image_size: 64, min_objects: 3, max_objects: 9, ..WorldConfig::default() },
    ] {
        let side = world::cell_side(config.image_size);
        let mut sizes = HashSet::new();
        for (seed, scene) in scenes(&config, 300) {
            assert!((config.min_objects..=config.max_objects).contains(&scene.objects.len()), "seed {seed}");
            let keys: Vec<_> = scene.objects.iter().map(|o| o.reading_key(config.image_size)).collect();
            assert!(keys.is_sorted(), "seed {seed}: not in reading order: {keys:?}");
            let mut owner = HashMap::new();
            for (i, o) in scene.objects.iter().enumerate() {
                sizes.insert(o.size);
                let (l, t, r, b) = o.bounds(config.image_size);
                let grid = world::CELLS_ACROSS * side;
                assert!(r < grid && b < grid, "seed {seed}: {o:?} leaves the grid");
                let span = if o.size == Size::Small { 1 } else { 2 };
                assert_eq!((r / side - l / side + 1, b / side - t / side + 1), (span, span), "seed {seed}: {o:?}");
                for cell in (t / side..=b / side).flat_map(|y| (l / side..=r / side).map(move |x| (x, y))) {
                    if let Some(j) = owner.insert(cell, i) {
                        panic!("seed {seed}: objects {j} and {i} share cell {cell:?}");
                    }
                }
            }
        }
        assert_eq!(sizes.len(), 2, "{config:?}: only {sizes:?}");
    }
}

#[test]
fn pixels_show_the_objects_on_the_background() {
    let config = WorldConfig::default();
    for (seed, scene) in scenes(&config, 200) {
        let img = render(&scene);
        assert_eq!(img.dimensions(), (config.image_size, config.image_size));
        for o in &scene.objects {
            assert_eq!(img.get_pixel(o.x, o.y).0, o.colour.rgb(), "seed {seed}: centre of {o:?}");
        }
        for (x, y, p) in img.enumerate_pixels() {
            let owner = scene.objects.iter().find(|o| covers(o, config.image_size, x, y));
            let expected = owner.map_or(BACKGROUND, |o| o.colour.rgb());
            assert_eq!(p.0, expected, "seed {seed}: pixel ({x}, {y})");
        }
    }
}

#[test]
fn shapes_differ_in_their_pixels() {
    // at 48 px the five shapes of the same size cover different pixel sets (they stay recognisable)
    use world::{Colour, Object, Shape, Size};
    for size in Size::ALL {
        let masks: HashSet<Vec<bool>> = Shape::ALL
            .iter()
            .map(|&shape| {
                let o = Object { shape, colour: Colour::Red, size, x: 24, y: 24 };
                (0..48).flat_map(|y| (0..48).map(move |x| (x, y))).map(|(x, y)| covers(&o, 48, x, y)).collect()
            })
            .collect();
        assert_eq!(masks.len(), Shape::ALL.len(), "{size:?}");
    }
}

#[test]
fn invalid_configurations_are_refused() {
    for config in [
        WorldConfig { min_objects: 0, ..WorldConfig::default() },
        WorldConfig { min_objects: 5, max_objects: 4, ..WorldConfig::default() },
        WorldConfig { max_objects: 10, ..WorldConfig::default() },
        WorldConfig { image_size: 8, ..WorldConfig::default() },
        WorldConfig { margin: 30, grid: false, ..WorldConfig::default() },
        WorldConfig { image_size: 20, ..WorldConfig::default() },
        WorldConfig { families: vec![], ..WorldConfig::default() },
    ] {
        assert!(Scene::generate(1, &config).is_err(), "{config:?}");
        assert!(config.validate().is_err(), "{config:?}");
    }
}
