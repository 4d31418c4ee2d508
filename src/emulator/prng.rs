//! A tiny deterministic random number generator (SplitMix64).
//!
//! Written out instead of taken from `rand` so that a seed gives the same data with every
//! version of every dependency: tests and benchmarks compare against generated data.

#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A generator for one independent stream of the data (events, contacts, ...), so adding
    /// records of one kind does not change the others.
    pub fn fork(&self, stream: u64) -> Prng {
        let mut base = Prng(self.0 ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        Prng(base.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut p = Prng::new(42);
                move |_| p.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut p = Prng::new(42);
                move |_| p.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(
            Prng::new(42).fork(1).next_u64(),
            Prng::new(42).fork(2).next_u64()
        );
    }

    #[test]
    fn below_stays_in_range() {
        let mut p = Prng::new(7);
        for n in 1..100 {
            assert!(p.below(n) < n);
        }
    }
}
