//! Reported values and benchmarks, keyed for fast lookup.

use crate::period::Period;
use rustc_hash::FxHashMap;

/// Regions, elements and benchmarks are addressed by index; the key packs
/// (region, period, element) into one integer because scoring a province
/// looks values up millions of times.
pub(crate) fn pack(region: usize, period: Period, element: usize) -> u64 {
    let p = match period {
        Period::Year(y) => (y as u64) << 5,
        Period::Month(y, m) => ((y as u64) << 5) | m as u64,
        Period::Quarter(y, q) => ((y as u64) << 5) | (16 + q as u64),
    };
    ((region as u64) << 35) | ((element as u64) << 19) | p
}

/// Limits that keep `pack` collision-free.
pub const MAX_REGIONS: usize = 1 << 28;
pub const MAX_ELEMENTS: usize = 1 << 16;

#[derive(Clone, Debug, Default)]
pub struct DataSet {
    direct: FxHashMap<u64, f64>,
    benchmarks: FxHashMap<(usize, Period), f64>,
}

/// The key was already present (a duplicate row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duplicate {
    pub existing: f64,
}

impl DataSet {
    pub fn with_capacity(values: usize) -> Self {
        let mut direct = FxHashMap::default();
        direct.reserve(values);
        DataSet {
            direct,
            benchmarks: FxHashMap::default(),
        }
    }

    /// Store a directly reported value; a second value for the same key is
    /// refused (scoring reads one value per region, period and element).
    pub fn insert(
        &mut self,
        region: usize,
        period: Period,
        element: usize,
        value: f64,
    ) -> Result<(), Duplicate> {
        debug_assert!(region < MAX_REGIONS && element < MAX_ELEMENTS);
        match self.direct.entry(pack(region, period, element)) {
            std::collections::hash_map::Entry::Occupied(o) => Err(Duplicate { existing: *o.get() }),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(value);
                Ok(())
            }
        }
    }

    pub fn get(&self, region: usize, period: Period, element: usize) -> Option<f64> {
        self.direct.get(&pack(region, period, element)).copied()
    }

    pub fn len(&self) -> usize {
        self.direct.len()
    }

    pub fn is_empty(&self) -> bool {
        self.direct.is_empty()
    }

    pub fn insert_benchmark(
        &mut self,
        benchmark: usize,
        period: Period,
        value: f64,
    ) -> Result<(), Duplicate> {
        match self.benchmarks.entry((benchmark, period)) {
            std::collections::hash_map::Entry::Occupied(o) => Err(Duplicate { existing: *o.get() }),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(value);
                Ok(())
            }
        }
    }

    pub fn benchmark(&self, benchmark: usize, period: Period) -> Option<f64> {
        self.benchmarks.get(&(benchmark, period)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_not_collide_across_granularities() {
        let keys = [
            pack(1, Period::Year(2024), 2),
            pack(1, Period::Month(2024, 1), 2),
            pack(1, Period::Quarter(2024, 1), 2),
            pack(2, Period::Year(2024), 1),
            pack(1, Period::Year(2023), 2),
            pack(1, Period::Month(2024, 12), 2),
            pack(1, Period::Quarter(2024, 4), 2),
        ];
        let mut sorted = keys.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len());
        assert_ne!(
            pack(MAX_REGIONS - 1, Period::Year(9999), MAX_ELEMENTS - 1),
            pack(0, Period::Year(9999), MAX_ELEMENTS - 1)
        );
    }

    #[test]
    fn duplicates_are_refused() {
        let mut d = DataSet::default();
        d.insert(0, Period::Year(2024), 0, 1.0).unwrap();
        assert_eq!(
            d.insert(0, Period::Year(2024), 0, 2.0),
            Err(Duplicate { existing: 1.0 })
        );
        assert_eq!(d.get(0, Period::Year(2024), 0), Some(1.0));
    }
}
