//! Reported values and benchmarks, keyed for fast lookup.

use crate::grid::Grid;
use crate::period::Period;
use rustc_hash::FxHashMap;

#[derive(Clone, Debug)]
pub struct DataSet {
    direct: Grid,
    len: usize,
    benchmarks: FxHashMap<(usize, Period), f64>,
}

/// The key was already present (a duplicate row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duplicate {
    pub existing: f64,
}

impl DataSet {
    /// A data set for `regions` regions and `elements` elements (it grows if
    /// more arrive, but sizing it right avoids copying).
    pub fn new(regions: usize, elements: usize) -> Self {
        DataSet {
            direct: Grid::new(regions, elements),
            len: 0,
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
        match self.direct.set(region, period, element, value) {
            Some(existing) => {
                self.direct.set(region, period, element, existing);
                Err(Duplicate { existing })
            }
            None => {
                self.len += 1;
                Ok(())
            }
        }
    }

    pub fn get(&self, region: usize, period: Period, element: usize) -> Option<f64> {
        self.direct.get(region, period, element)
    }

    /// Take a value out (a kept data set re-reading what changed).
    pub fn remove(&mut self, region: usize, period: Period, element: usize) -> Option<f64> {
        self.direct.get(region, period, element)?;
        let old = self
            .direct
            .set(region, period, element, f64::from_bits(crate::grid::EMPTY));
        self.len -= 1;
        old
    }

    /// Take every value of `other` (read from another part of the same
    /// file); `Err` when a key is in both, and `self` should be dropped.
    /// Benchmarks are not taken.
    pub fn absorb(&mut self, other: DataSet) -> Result<(), Duplicate> {
        self.len += other.len;
        self.direct
            .absorb(other.direct)
            .map_err(|existing| Duplicate { existing })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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

    /// The benchmarks of `other` in place of this set's (values kept
    /// between runs take the benchmarks read for this one).
    pub fn set_benchmarks_from(&mut self, other: &DataSet) {
        self.benchmarks = other.benchmarks.clone();
    }

    pub fn benchmark(&self, benchmark: usize, period: Period) -> Option<f64> {
        self.benchmarks.get(&(benchmark, period)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused() {
        let mut d = DataSet::new(1, 1);
        d.insert(0, Period::Year(2024), 0, 1.0).unwrap();
        assert_eq!(
            d.insert(0, Period::Year(2024), 0, 2.0),
            Err(Duplicate { existing: 1.0 })
        );
        assert_eq!(d.get(0, Period::Year(2024), 0), Some(1.0));
    }

    #[test]
    fn removed_values_are_gone_and_counted() {
        let mut d = DataSet::new(2, 2);
        d.insert(1, Period::Month(2024, 3), 1, 5.0).unwrap();
        // A typo'd year far from the series lands in the overflow map.
        d.insert(1, Period::Year(1024), 1, 7.0).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d.remove(1, Period::Month(2024, 3), 1), Some(5.0));
        assert_eq!(d.remove(1, Period::Year(1024), 1), Some(7.0));
        assert_eq!(d.remove(1, Period::Year(1024), 1), None);
        assert_eq!(d.remove(0, Period::Year(2024), 0), None);
        assert_eq!(d.get(1, Period::Month(2024, 3), 1), None);
        assert_eq!(d.get(1, Period::Year(1024), 1), None);
        assert_eq!(d.len(), 0);
        d.insert(1, Period::Month(2024, 3), 1, 6.0).unwrap();
        assert_eq!(d.get(1, Period::Month(2024, 3), 1), Some(6.0));
    }
}
