//! Latent quality: a persistent profile per city, county and township
//! (overall, per dimension, per element), the few clearly weak regions, and
//! where the year's major cases fall.

use std::array;

use crate::elements::{ELEMENTS, N_ELEMENTS};
use crate::regions::Tree;
use crate::rng::{Stream, tag, year_key};

/// Shift of a clearly weak region in its weak dimension.
const WEAK_CITY: f64 = 1.3;
const WEAK_COUNTY: f64 = 1.5;

/// Spread of the overall city quality (the main driver of the total's spread).
const CITY_SD: f64 = 0.42;

/// Persistent quality of one region: overall, per dimension, per element.
pub(crate) struct Profile {
    pub overall: f64,
    pub dims: [f64; 5],
    idio: [f64; N_ELEMENTS],
}

impl Profile {
    pub(crate) fn draw(
        s: &mut Stream,
        idio: &mut Stream,
        overall: f64,
        dim: f64,
        elem: f64,
    ) -> Self {
        Profile {
            overall: s.gauss(0.0, overall),
            dims: array::from_fn(|_| s.gauss(0.0, dim)),
            idio: array::from_fn(|_| idio.gauss(0.0, elem)),
        }
    }

    pub(crate) fn z(&self, e: usize) -> f64 {
        self.overall + self.dims[ELEMENTS[e].dim] + self.idio[e]
    }
}

/// Province-wide state shared by all townships.
pub(crate) struct World {
    pub seed: u64,
    pub cities: Vec<Profile>,
    pub counties: Vec<Profile>,
    /// (township, year, month) of each major case.
    pub major: Vec<(usize, i32, usize)>,
    #[cfg_attr(not(test), allow(dead_code))]
    weak_cities: Vec<(usize, usize)>,
    #[cfg_attr(not(test), allow(dead_code))]
    weak_counties: Vec<(usize, usize)>,
}

fn shuffled(s: &mut Stream, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, s.below(i + 1));
    }
    v
}

impl World {
    pub(crate) fn new(seed: u64, tree: &Tree, first_year: i32, last_year: i32) -> Self {
        let mut cities: Vec<Profile> = (0..tree.cities.len())
            .map(|i| {
                let mut s = Stream::new(&[seed, tag::CITY, i as u64]);
                let mut idio = Stream::new(&[seed, tag::IDIO, 1, i as u64]);
                // `overall` is replaced by the evenly spread ranks below.
                Profile::draw(&mut s, &mut idio, 0.0, 0.2, 0.3)
            })
            .collect();
        let mut counties: Vec<Profile> = (0..tree.counties.len())
            .map(|i| {
                let mut s = Stream::new(&[seed, tag::COUNTY, i as u64]);
                let mut idio = Stream::new(&[seed, tag::IDIO, 2, i as u64]);
                Profile::draw(&mut s, &mut idio, 0.22, 0.18, 0.25)
            })
            .collect();

        // City quality evenly spread (shuffled ranks) rather than drawn, so
        // every seed gives a ranking with a clear top and bottom but no outlier
        // that compresses everyone else.
        let n = cities.len();
        let mut s = Stream::new(&[seed, tag::CITY, u64::MAX]);
        for (rank, c) in shuffled(&mut s, n).into_iter().enumerate() {
            let u = (rank as f64 + 0.5) / n as f64 * 2.0 - 1.0;
            cities[c].overall = CITY_SD * 3f64.sqrt() * u + s.gauss(0.0, 0.05);
        }

        // A few clearly weak cities and counties, each in one dimension, so
        // the region × dimension heat map has something to show.
        let mut s = Stream::new(&[seed, tag::WEAK]);
        let n_weak = (2 + s.below(3)).min((tree.cities.len() / 3).max(1));
        let dims = shuffled(&mut s, 5);
        let weak_cities: Vec<(usize, usize)> = shuffled(&mut s, tree.cities.len())
            .into_iter()
            .take(n_weak)
            .enumerate()
            .map(|(i, c)| (c, dims[i % 5]))
            .collect();
        let candidates: Vec<usize> = shuffled(&mut s, tree.counties.len())
            .into_iter()
            .filter(|&k| !weak_cities.iter().any(|&(c, _)| c == tree.counties[k].city))
            .collect();
        let n_weak = (tree.counties.len() / 15).max(1).min(candidates.len());
        let dims = shuffled(&mut s, 5);
        let weak_counties: Vec<(usize, usize)> = candidates[..n_weak]
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, dims[i % 5]))
            .collect();
        for &(c, d) in &weak_cities {
            cities[c].dims[d] -= WEAK_CITY;
        }
        for &(k, d) in &weak_counties {
            counties[k].dims[d] -= WEAK_COUNTY;
        }

        // Major cases (veto): one or two townships in the whole province per
        // year, so the veto shows without wiping out the rankings.
        let n_towns = tree.towns.len();
        let mut major = Vec::new();
        for y in first_year..=last_year {
            let mut s = Stream::new(&[seed, tag::MAJOR, year_key(y)]);
            let k = if s.uniform() < 0.55 { 1 } else { 2 };
            let mut picked: Vec<usize> = Vec::new();
            while picked.len() < k.min(n_towns) {
                let t = s.below(n_towns);
                if !picked.contains(&t) {
                    picked.push(t);
                }
            }
            for t in picked {
                major.push((t, y, s.below(12)));
            }
        }

        World {
            seed,
            cities,
            counties,
            major,
            weak_cities,
            weak_counties,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions;

    #[test]
    fn weak_regions_are_weak_in_one_dimension() {
        let tree = regions::build(1, 13, 100, 1000);
        let w = World::new(1, &tree, 2022, 2024);
        assert!((2..=4).contains(&w.weak_cities.len()));
        assert!(w.weak_counties.len() >= 3);
        for (profiles, weak) in [(&w.cities, &w.weak_cities), (&w.counties, &w.weak_counties)] {
            for &(r, d) in weak {
                let dims = profiles[r].dims;
                assert!(
                    dims.iter().enumerate().all(|(i, &x)| i == d || x > dims[d]),
                    "{r} {d} {dims:?}"
                );
            }
        }
        // Weak counties lie outside weak cities, so the two do not stack.
        for &(k, _) in &w.weak_counties {
            assert!(
                w.weak_cities
                    .iter()
                    .all(|&(c, _)| c != tree.counties[k].city)
            );
        }
    }

    #[test]
    fn major_cases_are_rare() {
        let tree = regions::build(5, 13, 100, 1000);
        let w = World::new(5, &tree, 2020, 2030);
        for y in 2020..=2030 {
            let n = w.major.iter().filter(|m| m.1 == y).count();
            assert!((1..=2).contains(&n), "{y}: {n}");
        }
    }
}
