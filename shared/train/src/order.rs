//! The order in which pairs are visited: file order, or a seeded shuffle per epoch that depends only on
//! `(seed, epoch)`, so a resumed run recomputes the permutation instead of storing it.

/// The pair indices of `epoch` (0-based).
pub fn epoch_order(n: usize, seed: u64, epoch: u64, shuffle: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        let mut state = seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Fisher-Yates with splitmix64: stable across Rust and crate versions
        for i in (1..n).rev() {
            let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
    order
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::epoch_order;

    #[test]
    fn shuffles_are_permutations_that_depend_on_seed_and_epoch() {
        let a = epoch_order(50, 7, 0, true);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(a, epoch_order(50, 7, 0, true));
        assert_ne!(a, epoch_order(50, 7, 1, true));
        assert_ne!(a, epoch_order(50, 8, 0, true));
        assert_eq!(epoch_order(5, 7, 3, false), vec![0, 1, 2, 3, 4]);
    }
}
