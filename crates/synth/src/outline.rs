//! Outlines from a grid of labelled cells: each label's rings traced
//! along the cell edges, grouped into polygons with their holes, and
//! smoothed without pulling neighbours apart.

use std::collections::HashMap;

/// The label of a cell outside every region.
pub(crate) const OUTSIDE: u32 = u32::MAX;

/// The label of cell (x, y) of a `w` × `h` grid, OUTSIDE off the grid.
fn labels_at(w: usize, h: usize, label: &[u32]) -> impl Fn(i64, i64) -> u32 + '_ {
    let (w, h) = (w as i64, h as i64);
    move |x, y| {
        if x < 0 || y < 0 || x >= w || y >= h {
            OUTSIDE
        } else {
            label[(y * w + x) as usize]
        }
    }
}

pub(crate) type Ring = Vec<(i64, i64)>;
/// Directed edges by their start corner.
type Edges = HashMap<(i64, i64), Vec<(i64, i64)>>;

/// Closed rings around each label's cells, counter-clockwise outside and
/// clockwise holes (y grows northwards). Cells that touch only at a corner
/// make separate rings.
pub(crate) fn trace(w: usize, h: usize, label: &[u32]) -> HashMap<u32, Vec<Ring>> {
    let at = labels_at(w, h, label);
    let (w, h) = (w as i64, h as i64);
    // Directed edges with the label on their left, by start corner.
    let mut edges: HashMap<u32, Edges> = HashMap::new();
    for y in 0..h {
        for x in 0..w {
            let l = at(x, y);
            if l == OUTSIDE {
                continue;
            }
            let e = edges.entry(l).or_default();
            let mut add = |a: (i64, i64), b: (i64, i64)| e.entry(a).or_default().push(b);
            if at(x, y - 1) != l {
                add((x, y), (x + 1, y));
            }
            if at(x + 1, y) != l {
                add((x + 1, y), (x + 1, y + 1));
            }
            if at(x, y + 1) != l {
                add((x + 1, y + 1), (x, y + 1));
            }
            if at(x - 1, y) != l {
                add((x, y + 1), (x, y));
            }
        }
    }
    let mut out = HashMap::new();
    for (l, mut from) in edges {
        let mut rings = Vec::new();
        let mut starts: Vec<(i64, i64)> = from.keys().copied().collect();
        starts.sort_unstable();
        for s in starts {
            while let Some(next) = from.get_mut(&s).and_then(|v| v.pop()) {
                let mut ring = vec![s];
                let mut prev = s;
                let mut cur = next;
                while cur != s {
                    ring.push(cur);
                    let d = (cur.0 - prev.0, cur.1 - prev.1);
                    let outs = from.get_mut(&cur).expect("every corner has a way out");
                    // Two ways out: the cells touch at this corner; turn
                    // left to stay with the cell just walked along.
                    let pick = if outs.len() > 1 {
                        let left = (cur.0 - d.1, cur.1 + d.0);
                        outs.iter().position(|&o| o == left).unwrap_or(0)
                    } else {
                        0
                    };
                    let n = outs.swap_remove(pick);
                    prev = cur;
                    cur = n;
                }
                rings.push(ring);
            }
        }
        out.insert(l, rings);
    }
    out
}

/// Corners that stay where they are when outlines are smoothed: where
/// three or more townships (or the outside) meet, or two meet only at the
/// corner. Every outline of every level bends the same way between them,
/// so neighbours still share their border and a parent is still the union
/// of its children.
pub(crate) fn junctions(w: usize, h: usize, towns: &[u32]) -> Vec<bool> {
    let at = labels_at(w, h, towns);
    let (w, h) = (w as i64, h as i64);
    let mut fixed = vec![false; ((w + 1) * (h + 1)) as usize];
    for y in 0..=h {
        for x in 0..=w {
            let (a, b, c, d) = (at(x - 1, y - 1), at(x, y - 1), at(x - 1, y), at(x, y));
            let mut l = [a, b, c, d];
            l.sort_unstable();
            let distinct = 1 + l.windows(2).filter(|p| p[0] != p[1]).count();
            fixed[(y * (w + 1) + x) as usize] = distinct >= 3 || (a == d && b == c && a != b);
        }
    }
    fixed
}

pub(crate) type Line = Vec<(f64, f64)>;

/// A traced ring smoothed between its fixed corners: straight runs
/// merged, the grid's steps replaced by their midpoints, then one round of
/// corner cutting (Chaikin) — the same for a border whichever side of it
/// is drawn.
pub(crate) fn smooth(ring: &Ring, fixed: &[bool], w: usize) -> Line {
    let is_fixed = |p: (i64, i64)| fixed[p.1 as usize * (w + 1) + p.0 as usize];
    let n = ring.len();
    let kept: Ring = (0..n)
        .filter(|&i| {
            let (a, b, c) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
            is_fixed(b) || (b.0 - a.0) * (c.1 - b.1) != (b.1 - a.1) * (c.0 - b.0)
        })
        .map(|i| ring[i])
        .collect();
    let f = |p: (i64, i64)| (p.0 as f64, p.1 as f64);
    let mid = |a: (f64, f64), b: (f64, f64)| ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let cut = |a: (f64, f64), b: (f64, f64), t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let Some(start) = kept.iter().position(|&p| is_fixed(p)) else {
        // A loop with no fixed corner (an island): smoothed all round.
        let m = kept.len();
        let mids: Line = (0..m)
            .map(|i| mid(f(kept[i]), f(kept[(i + 1) % m])))
            .collect();
        return (0..m)
            .flat_map(|i| {
                let (a, b) = (mids[i], mids[(i + 1) % m]);
                [cut(a, b, 0.25), cut(a, b, 0.75)]
            })
            .collect();
    };
    let m = kept.len();
    let mut out = Line::with_capacity(m * 2);
    let mut chain: Vec<(f64, f64)> = vec![f(kept[start])];
    for k in 1..=m {
        let p = kept[(start + k) % m];
        chain.push(f(p));
        if !is_fixed(p) {
            continue;
        }
        // One chain between fixed corners: its ends stay.
        let last = chain.len() - 1;
        let mut pts = vec![chain[0]];
        pts.extend((0..last).map(|i| mid(chain[i], chain[i + 1])));
        pts.push(chain[last]);
        out.push(pts[0]);
        let s = pts.len() - 1;
        for i in 0..s {
            if i > 0 {
                out.push(cut(pts[i], pts[i + 1], 0.25));
            }
            if i + 1 < s {
                out.push(cut(pts[i], pts[i + 1], 0.75));
            }
        }
        chain = vec![f(p)];
    }
    out
}

fn area2(r: &Ring) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| r[i].0 * r[(i + 1) % n].1 - r[(i + 1) % n].0 * r[i].1)
        .sum()
}

fn contains(r: &Ring, p: (f64, f64)) -> bool {
    let n = r.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
        if (ay > p.1) != (by > p.1) && p.0 < ax + (p.1 - ay) / (by - ay) * (bx - ax) {
            inside = !inside;
        }
    }
    inside
}

/// Outer rings each with the holes inside them: a MultiPolygon's polygons.
pub(crate) fn polygons(rings: Vec<Ring>) -> Vec<Vec<Ring>> {
    let (outer, holes): (Vec<Ring>, Vec<Ring>) = rings.into_iter().partition(|r| area2(r) > 0);
    let mut polys: Vec<Vec<Ring>> = outer.into_iter().map(|r| vec![r]).collect();
    for hole in holes {
        // A point just inside the hole, off its first edge.
        let (a, b) = (hole[0], hole[1]);
        let (dx, dy) = ((b.0 - a.0).signum() as f64, (b.1 - a.1).signum() as f64);
        let p = (
            (a.0 + b.0) as f64 / 2.0 + dy * 0.25,
            (a.1 + b.1) as f64 / 2.0 - dx * 0.25,
        );
        if let Some(poly) = polys.iter_mut().find(|poly| contains(&poly[0], p)) {
            poly.push(hole);
        }
    }
    polys
}
