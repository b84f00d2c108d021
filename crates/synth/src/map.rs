//! Generated outlines for the synthetic province (issue 22): a GeoJSON
//! FeatureCollection with every region, so the demo's 平安热力图 is drawn on
//! something that looks like a map.
//!
//! The province is an irregular blob on a fine grid. Each level splits its
//! parent's cells among the children by growing them from seeds at once
//! (a geodesic Voronoi over a noisy cost field, so borders wander as real
//! ones do), at speeds that give each child roughly its share of the area.
//! Because children only ever divide their parent's cells, a parent is
//! exactly the union of its children. Outlines are traced from the cells
//! (corners on the grid, straight runs merged).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write;

use crate::outline::{OUTSIDE, Ring, junctions, polygons, smooth, trace};
use crate::regions::{PROVINCE_CODE, PROVINCE_NAME, TownKind, Tree};
use crate::rng::{Stream, tag};
use crate::{Error, Options, validate};

/// Grid cells per township on average: about 15 × 15, so a township's
/// border has enough corners to look drawn, and the whole file stays near
/// a megabyte for a thousand townships.
const CELLS_PER_TOWN: usize = 220;
const MIN_CELLS: usize = 20_000;
const MAX_CELLS: usize = 2_000_000;
/// Where the fictional province lies (longitude, latitude of the grid's
/// south-west corner) and how wide it is in degrees.
const LON0: f64 = 110.0;
const LAT0: f64 = 25.0;
const WIDTH_DEG: f64 = 6.0;
const ASPECT: f64 = 1.25;

/// The outlines of every region `generate(opts)` writes, as GeoJSON text
/// with `code` and `name` properties. Same options, same bytes.
pub fn generate_boundaries(opts: &Options) -> Result<String, Error> {
    validate(opts)?;
    let tree = crate::regions::build(opts.seed, opts.cities, opts.counties, opts.townships);
    let cells = (tree.towns.len() * CELLS_PER_TOWN).clamp(MIN_CELLS, MAX_CELLS);
    let h = ((cells as f64 / ASPECT).sqrt().ceil() as usize).max(8);
    let w = ((h as f64 * ASPECT).ceil() as usize).max(8);
    let mut grid = Grid::new(opts.seed, w, h);

    let province: Vec<u32> = (0..(w * h) as u32).filter(|&c| grid.inside(c)).collect();
    let city_w: Vec<f64> = tree
        .cities
        .iter()
        .map(|c| {
            tree.counties[c.counties.clone()]
                .iter()
                .map(|k| k.towns.len())
                .sum::<usize>() as f64
        })
        .collect();
    let mut city_of = vec![OUTSIDE; w * h];
    grid.split(&province, &city_w, 0, &mut city_of);

    let mut county_of = vec![OUTSIDE; w * h];
    let mut town_of = vec![OUTSIDE; w * h];
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); tree.cities.len()];
    for &c in &province {
        members[city_of[c as usize] as usize].push(c);
    }
    for (ci, city) in tree.cities.iter().enumerate() {
        let weights: Vec<f64> = tree.counties[city.counties.clone()]
            .iter()
            .map(|k| k.towns.len() as f64)
            .collect();
        grid.split(
            &members[ci],
            &weights,
            city.counties.start as u32,
            &mut county_of,
        );
    }
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); tree.counties.len()];
    for &c in &province {
        members[county_of[c as usize] as usize].push(c);
    }
    for (ki, county) in tree.counties.iter().enumerate() {
        let weights: Vec<f64> = tree.towns[county.towns.clone()]
            .iter()
            .map(|t| match t.kind {
                TownKind::Subdistrict => 0.35,
                TownKind::Town => 1.0,
                TownKind::Rural => 1.4,
            })
            .collect();
        grid.split(
            &members[ki],
            &weights,
            county.towns.start as u32,
            &mut town_of,
        );
    }
    let whole: Vec<u32> = (0..w * h)
        .map(|c| if grid.inside(c as u32) { 0 } else { OUTSIDE })
        .collect();
    Ok(write(
        &tree,
        &grid,
        [&whole, &city_of, &county_of, &town_of],
    ))
}

struct Grid {
    w: usize,
    h: usize,
    mask: Vec<bool>,
    /// Cost of crossing each cell: smooth noise, so borders follow "terrain".
    cost: Vec<f64>,
    rng: Stream,
}

impl Grid {
    fn new(seed: u64, w: usize, h: usize) -> Grid {
        let mut rng = Stream::new(&[seed, tag::MAP]);
        // The outline: a radius that wanders with the angle.
        let harmonics: Vec<(f64, f64)> = (2..7)
            .map(|k| {
                (
                    rng.gauss(0.0, 0.09) / (k as f64 - 1.0).sqrt(),
                    rng.range(0.0, std::f64::consts::TAU),
                )
            })
            .collect();
        let noise = ValueNoise::new(&mut rng, w, h, 9);
        let mut mask = vec![false; w * h];
        let mut cost = vec![1.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let nx = (x as f64 + 0.5) / w as f64 * 2.0 - 1.0;
                let ny = (y as f64 + 0.5) / h as f64 * 2.0 - 1.0;
                let theta = ny.atan2(nx);
                let r: f64 = 0.9
                    * (1.0
                        + harmonics
                            .iter()
                            .enumerate()
                            .map(|(i, (a, phase))| a * ((i as f64 + 2.0) * theta + phase).sin())
                            .sum::<f64>());
                let i = y * w + x;
                mask[i] = nx * nx + ny * ny <= r * r;
                cost[i] = 0.5 + 1.5 * noise.at(x, y);
            }
        }
        // A tiny province still gets its centre cell.
        mask[(h / 2) * w + w / 2] = true;
        Grid {
            w,
            h,
            mask,
            cost,
            rng,
        }
    }

    fn inside(&self, c: u32) -> bool {
        self.mask[c as usize]
    }

    fn xy(&self, c: u32) -> (usize, usize) {
        (c as usize % self.w, c as usize / self.w)
    }

    /// Divide `cells` among `weights.len()` children labelled `first…`,
    /// writing each cell's label into `label`. Every child gets at least
    /// one cell when there are enough; each child's cells are connected.
    fn split(&mut self, cells: &[u32], weights: &[f64], first: u32, label: &mut [u32]) {
        let k = weights.len();
        if k == 0 || cells.is_empty() {
            return;
        }
        if cells.len() <= k {
            for (i, &c) in cells.iter().enumerate() {
                label[c as usize] = first + i as u32;
            }
            return;
        }
        let total: f64 = weights.iter().sum();
        let speed: Vec<f64> = weights.iter().map(|w| (w / total).sqrt()).collect();
        // Distinct random seed cells, then two rounds of moving each seed to
        // the middle of what it grew: compact, evenly spread shapes.
        let mut seeds: Vec<u32> = Vec::with_capacity(k);
        while seeds.len() < k {
            let c = cells[self.rng.below(cells.len())];
            if !seeds.contains(&c) {
                seeds.push(c);
            }
        }
        for _ in 0..2 {
            self.grow(cells, &seeds, &speed, first, label);
            let mut sum = vec![(0.0, 0.0, 0usize); k];
            for &c in cells {
                let (x, y) = self.xy(c);
                let s = &mut sum[(label[c as usize] - first) as usize];
                s.0 += x as f64;
                s.1 += y as f64;
                s.2 += 1;
            }
            let mut best = vec![(f64::MAX, OUTSIDE); k];
            for &c in cells {
                let j = (label[c as usize] - first) as usize;
                let (x, y) = self.xy(c);
                let (mx, my) = (sum[j].0 / sum[j].2 as f64, sum[j].1 / sum[j].2 as f64);
                let d = (x as f64 - mx).powi(2) + (y as f64 - my).powi(2);
                if d < best[j].0 {
                    best[j] = (d, c);
                }
            }
            for (j, b) in best.iter().enumerate() {
                if b.1 != OUTSIDE {
                    seeds[j] = b.1;
                }
            }
        }
        self.grow(cells, &seeds, &speed, first, label);
    }

    /// Grow every seed at once over `cells`; a cell goes to the child that
    /// reaches it first (path cost ÷ the child's speed).
    fn grow(&self, cells: &[u32], seeds: &[u32], speed: &[f64], first: u32, label: &mut [u32]) {
        const UNSET: u32 = OUTSIDE - 1;
        for &c in cells {
            label[c as usize] = UNSET;
        }
        let mut heap: BinaryHeap<Reverse<(u64, u32, u32)>> = BinaryHeap::new();
        for (j, &s) in seeds.iter().enumerate() {
            heap.push(Reverse((0, s, j as u32)));
        }
        // Keys as integers (micro-units) so the heap orders totally.
        let key = |d: f64| (d * 1e6) as u64;
        while let Some(Reverse((d, c, j))) = heap.pop() {
            if label[c as usize] != UNSET {
                continue;
            }
            label[c as usize] = first + j;
            let d = d as f64 / 1e6;
            let (x, y) = self.xy(c);
            for (dx, dy, step) in STEPS {
                let nx = x as i64 + dx;
                let ny = y as i64 + dy;
                if nx < 0 || ny < 0 || nx >= self.w as i64 || ny >= self.h as i64 {
                    continue;
                }
                let n = (ny as usize * self.w + nx as usize) as u32;
                if label[n as usize] != UNSET {
                    continue;
                }
                let nd = d + step * self.cost[n as usize] / speed[j as usize];
                heap.push(Reverse((key(nd), n, j)));
            }
        }
    }
}

const STEPS: [(i64, i64, f64); 8] = [
    (1, 0, 1.0),
    (-1, 0, 1.0),
    (0, 1, 1.0),
    (0, -1, 1.0),
    (1, 1, std::f64::consts::SQRT_2),
    (1, -1, std::f64::consts::SQRT_2),
    (-1, 1, std::f64::consts::SQRT_2),
    (-1, -1, std::f64::consts::SQRT_2),
];

/// Random values on a coarse lattice, smoothly interpolated: in [0, 1].
struct ValueNoise {
    step: usize,
    cols: usize,
    v: Vec<f64>,
}

impl ValueNoise {
    fn new(rng: &mut Stream, w: usize, h: usize, step: usize) -> ValueNoise {
        let cols = w / step + 2;
        let rows = h / step + 2;
        let v = (0..cols * rows).map(|_| rng.uniform()).collect();
        ValueNoise { step, cols, v }
    }

    fn at(&self, x: usize, y: usize) -> f64 {
        let (gx, gy) = (x / self.step, y / self.step);
        let fx = (x % self.step) as f64 / self.step as f64;
        let fy = (y % self.step) as f64 / self.step as f64;
        let s = |t: f64| t * t * (3.0 - 2.0 * t);
        let (sx, sy) = (s(fx), s(fy));
        let g = |i: usize, j: usize| self.v[j * self.cols + i];
        let top = g(gx, gy) * (1.0 - sx) + g(gx + 1, gy) * sx;
        let bottom = g(gx, gy + 1) * (1.0 - sx) + g(gx + 1, gy + 1) * sx;
        top * (1.0 - sy) + bottom * sy
    }
}

fn write(tree: &Tree, grid: &Grid, labels: [&[u32]; 4]) -> String {
    let deg = WIDTH_DEG / grid.w as f64;
    let fixed = junctions(grid.w, grid.h, labels[3]);
    let mut out = String::with_capacity(tree.towns.len() * 3000 + 1024);
    out.push_str("{\"type\":\"FeatureCollection\",\"features\":[\n");
    let mut first = true;
    let mut feature = |code: &str, name: &str, rings: Vec<Ring>| {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        let _ = write!(
            out,
            "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"{code}\",\"name\":\"{name}\"}},\"geometry\":{{\"type\":\"MultiPolygon\",\"coordinates\":["
        );
        for (pi, poly) in polygons(rings).iter().enumerate() {
            out.push_str(if pi > 0 { ",[" } else { "[" });
            for (ri, ring) in poly.iter().enumerate() {
                out.push_str(if ri > 0 { ",[" } else { "[" });
                let line = smooth(ring, &fixed, grid.w);
                // Closed: the first corner again at the end.
                for (k, &(x, y)) in line.iter().chain(line.first()).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "[{:.4},{:.4}]", LON0 + x * deg, LAT0 + y * deg);
                }
                out.push(']');
            }
            out.push(']');
        }
        out.push_str("]}}");
    };
    let mut rings: Vec<HashMap<u32, Vec<Ring>>> =
        labels.iter().map(|l| trace(grid.w, grid.h, l)).collect();
    let mut take = |level: usize, i: usize| rings[level].remove(&(i as u32)).unwrap_or_default();
    feature(PROVINCE_CODE, PROVINCE_NAME, take(0, 0));
    for (ci, city) in tree.cities.iter().enumerate() {
        feature(&city.code, &city.name, take(1, ci));
        for ki in city.counties.clone() {
            let county = &tree.counties[ki];
            feature(&county.code, &county.name, take(2, ki));
            for ti in county.towns.clone() {
                let town = &tree.towns[ti];
                feature(&town.code, &town.name, take(3, ti));
            }
        }
    }
    out.push_str("\n]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn small() -> Options {
        Options {
            seed: 3,
            cities: 3,
            counties: 9,
            townships: 40,
            ..Options::default()
        }
    }

    /// Shoelace area of a MultiPolygon (holes count negative: they wind
    /// the other way).
    fn area(g: &Value) -> f64 {
        let mut a = 0.0;
        for poly in g["coordinates"].as_array().unwrap() {
            for ring in poly.as_array().unwrap() {
                let p: Vec<(f64, f64)> = ring
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| (x[0].as_f64().unwrap(), x[1].as_f64().unwrap()))
                    .collect();
                for w in p.windows(2) {
                    a += w[0].0 * w[1].1 - w[1].0 * w[0].1;
                }
            }
        }
        a / 2.0
    }

    #[test]
    fn every_region_has_an_outline_the_importer_accepts() {
        let o = small();
        let text = generate_boundaries(&o).unwrap();
        assert_eq!(
            text,
            generate_boundaries(&o).unwrap(),
            "same options, same bytes"
        );
        let regions = crate::generate(&o).unwrap().regions;
        let tree = pingan_input::read_regions("r.csv", regions.as_bytes()).unwrap();
        let read =
            pingan_input::boundaries::read_boundaries("b.geojson", text.as_bytes(), &tree, "code")
                .unwrap();
        assert_eq!(read.len(), tree.len());
    }

    #[test]
    fn parents_are_exactly_their_children() {
        let o = small();
        let doc: Value = serde_json::from_str(&generate_boundaries(&o).unwrap()).unwrap();
        let regions = crate::generate(&o).unwrap().regions;
        let tree = pingan_input::read_regions("r.csv", regions.as_bytes()).unwrap();
        let mut areas: HashMap<String, f64> = HashMap::new();
        for f in doc["features"].as_array().unwrap() {
            let a = area(&f["geometry"]);
            assert!(a > 0.0, "{} has no area", f["properties"]["code"]);
            areas.insert(f["properties"]["code"].as_str().unwrap().into(), a);
        }
        for (i, r) in tree.regions().iter().enumerate() {
            let kids = tree.children(i);
            if kids.is_empty() {
                continue;
            }
            let sum: f64 = kids.iter().map(|k| areas[&tree.get(*k).code]).sum();
            let own = areas[&r.code];
            assert!(
                (sum - own).abs() < 1e-6 * own.max(1.0),
                "{}: {own} ≠ {sum}",
                r.code
            );
        }
        // Townships differ in size, but none is a sliver.
        let towns: Vec<f64> = tree
            .regions()
            .iter()
            .filter(|r| tree.children(tree.find(&r.code).unwrap()).is_empty())
            .map(|r| areas[&r.code])
            .collect();
        let mean = towns.iter().sum::<f64>() / towns.len() as f64;
        assert!(towns.iter().all(|a| *a > mean / 20.0), "{towns:?}");
    }
}
