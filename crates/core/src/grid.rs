//! A dense store of one number per (region, element, period). Scoring a
//! province reads millions of values; indexing by position instead of
//! hashing keeps that cheap. Each (region, element) pair owns a series of
//! 17 slots per year: the year, four quarters, twelve months.

use crate::period::Period;
use rustc_hash::FxHashMap;

const PER_YEAR: usize = 17;

/// A series spans at most this many years; cells further out (a typo like
/// 1024 for 2024) go to a hash map so one odd row cannot make every series
/// thousands of years long.
const MAX_SPAN: i32 = 64;

fn slot(p: Period) -> usize {
    match p {
        Period::Year(_) => 0,
        Period::Quarter(_, q) => q as usize,
        Period::Month(_, m) => 4 + m as usize,
    }
}

#[derive(Clone, Debug)]
struct Series {
    first_year: i32,
    vals: Vec<f64>,
}

/// Cells hold `EMPTY` until set; values may be anything else (callers use
/// other NaN payloads as markers).
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    elements: usize,
    /// (region × elements + element) → index into `series`, or u32::MAX.
    index: Vec<u32>,
    series: Vec<Series>,
    overflow: FxHashMap<(usize, Period, usize), f64>,
}

pub(crate) const EMPTY: u64 = 0x7ff8_dead_0000_0000;

impl Grid {
    pub fn new(regions: usize, elements: usize) -> Self {
        Grid {
            elements,
            index: vec![u32::MAX; regions * elements],
            series: Vec::new(),
            overflow: FxHashMap::default(),
        }
    }

    pub fn get(&self, region: usize, period: Period, element: usize) -> Option<f64> {
        let i = *self.index.get(region * self.elements + element)?;
        let s = self.series.get(i as usize)?;
        let y = period.year() - s.first_year;
        if !(0..MAX_SPAN).contains(&y) {
            return self.overflow_get(region, period, element);
        }
        match s.vals.get(y as usize * PER_YEAR + slot(period)) {
            Some(v) if v.to_bits() != EMPTY => Some(*v),
            Some(_) => None,
            None => self.overflow_get(region, period, element),
        }
    }

    fn overflow_get(&self, region: usize, period: Period, element: usize) -> Option<f64> {
        if self.overflow.is_empty() {
            return None;
        }
        self.overflow
            .get(&(region, period, element))
            .copied()
            .filter(|v| v.to_bits() != EMPTY)
    }

    /// Set a cell, returning what was there.
    pub fn set(
        &mut self,
        region: usize,
        period: Period,
        element: usize,
        value: f64,
    ) -> Option<f64> {
        let k = region * self.elements + element;
        if k >= self.index.len() {
            // Regions or elements beyond the declared size: grow rather than fail.
            self.index.resize(k + 1, u32::MAX);
        }
        let year = period.year();
        if self.index[k] == u32::MAX {
            self.index[k] = self.series.len() as u32;
            self.series.push(Series {
                first_year: year,
                vals: vec![f64::from_bits(EMPTY); PER_YEAR],
            });
        }
        let s = &mut self.series[self.index[k] as usize];
        let last_year = s.first_year + (s.vals.len() / PER_YEAR) as i32 - 1;
        if year.max(last_year) - year.min(s.first_year) >= MAX_SPAN {
            return self
                .overflow
                .insert((region, period, element), value)
                .filter(|v| v.to_bits() != EMPTY);
        }
        if year < s.first_year {
            let shift = (s.first_year - year) as usize * PER_YEAR;
            s.vals
                .splice(0..0, std::iter::repeat_n(f64::from_bits(EMPTY), shift));
            s.first_year = year;
        }
        let at = (year - s.first_year) as usize * PER_YEAR + slot(period);
        if at >= s.vals.len() {
            let len = (at / PER_YEAR + 1) * PER_YEAR;
            s.vals.resize(len, f64::from_bits(EMPTY));
        }
        let old = std::mem::replace(&mut s.vals[at], value);
        (old.to_bits() != EMPTY).then_some(old)
    }
}

impl Grid {
    /// Take every cell of `other` (made with the same number of elements):
    /// a series this grid lacks is moved in whole, not copied. `Err` when a
    /// cell is set in both; the grid is then partly merged and should be
    /// dropped.
    pub fn absorb(&mut self, other: Grid) -> Result<(), f64> {
        if other.elements != self.elements {
            return Err(f64::NAN);
        }
        let Grid {
            index,
            series,
            overflow,
            ..
        } = other;
        let mut series: Vec<Option<Series>> = series.into_iter().map(Some).collect();
        for (k, &i) in index.iter().enumerate() {
            let Some(s) = series.get_mut(i as usize).and_then(Option::take) else {
                continue;
            };
            if k >= self.index.len() {
                self.index.resize(k + 1, u32::MAX);
            }
            if self.index[k] == u32::MAX {
                self.index[k] = self.series.len() as u32;
                self.series.push(s);
                continue;
            }
            let (region, element) = (k / self.elements, k % self.elements);
            for (j, v) in s.vals.iter().enumerate() {
                if v.to_bits() == EMPTY {
                    continue;
                }
                let year = s.first_year + (j / PER_YEAR) as i32;
                let period = match j % PER_YEAR {
                    0 => Period::Year(year),
                    q @ 1..=4 => Period::Quarter(year, q as u8),
                    m => Period::Month(year, (m - 4) as u8),
                };
                if let Some(existing) = self.set(region, period, element, *v) {
                    return Err(existing);
                }
            }
        }
        for ((r, p, e), v) in overflow {
            if v.to_bits() != EMPTY
                && let Some(existing) = self.set(r, p, e, v)
            {
                return Err(existing);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorbing_moves_series_and_finds_shared_cells() {
        let mut a = Grid::new(3, 2);
        let mut b = Grid::new(3, 2);
        a.set(0, Period::Month(2024, 3), 1, 1.0);
        a.set(1, Period::Year(2023), 0, 2.0);
        b.set(2, Period::Quarter(2024, 2), 1, 3.0);
        b.set(1, Period::Month(2024, 12), 0, 4.0);
        b.set(1, Period::Year(1024), 0, 5.0);
        a.absorb(b).unwrap();
        assert_eq!(a.get(0, Period::Month(2024, 3), 1), Some(1.0));
        assert_eq!(a.get(1, Period::Year(2023), 0), Some(2.0));
        assert_eq!(a.get(2, Period::Quarter(2024, 2), 1), Some(3.0));
        assert_eq!(a.get(1, Period::Month(2024, 12), 0), Some(4.0));
        assert_eq!(a.get(1, Period::Year(1024), 0), Some(5.0));
        let mut c = Grid::new(3, 2);
        c.set(0, Period::Month(2024, 3), 1, 9.0);
        assert!(a.absorb(c).is_err());
    }

    #[test]
    fn cells_are_independent() {
        let mut g = Grid::new(3, 2);
        assert_eq!(g.set(1, Period::Month(2024, 3), 1, 5.0), None);
        assert_eq!(
            g.set(1, Period::Year(2022), 1, 7.0),
            None,
            "earlier year shifts the series"
        );
        assert_eq!(
            g.set(1, Period::Quarter(2026, 4), 1, 9.0),
            None,
            "later year grows it"
        );
        assert_eq!(g.get(1, Period::Month(2024, 3), 1), Some(5.0));
        assert_eq!(g.get(1, Period::Year(2022), 1), Some(7.0));
        assert_eq!(g.get(1, Period::Quarter(2026, 4), 1), Some(9.0));
        assert_eq!(g.get(1, Period::Month(2024, 4), 1), None);
        assert_eq!(g.get(1, Period::Year(2024), 1), None);
        assert_eq!(g.get(0, Period::Month(2024, 3), 1), None);
        assert_eq!(g.get(1, Period::Month(2024, 3), 0), None);
        assert_eq!(g.get(1, Period::Year(2010), 1), None);
        assert_eq!(g.get(1, Period::Year(2030), 1), None);
        assert_eq!(g.set(1, Period::Month(2024, 3), 1, 6.0), Some(5.0));
        assert_eq!(
            g.set(5, Period::Year(2024), 0, 1.0),
            None,
            "grows past the declared size"
        );
        assert_eq!(g.get(5, Period::Year(2024), 0), Some(1.0));
    }

    #[test]
    fn far_years_do_not_stretch_series() {
        let mut g = Grid::new(1, 1);
        g.set(0, Period::Year(2024), 0, 1.0);
        assert_eq!(g.set(0, Period::Year(1024), 0, 2.0), None);
        assert_eq!(g.set(0, Period::Month(9999, 1), 0, 3.0), None);
        assert_eq!(g.set(0, Period::Month(9999, 1), 0, 4.0), Some(3.0));
        assert_eq!(g.series[0].vals.len(), PER_YEAR);
        assert_eq!(g.get(0, Period::Year(2024), 0), Some(1.0));
        assert_eq!(g.get(0, Period::Year(1024), 0), Some(2.0));
        assert_eq!(g.get(0, Period::Month(9999, 1), 0), Some(4.0));
        assert_eq!(g.get(0, Period::Month(9999, 2), 0), None);
    }
}
