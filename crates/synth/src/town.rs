//! A township's attributes that persist from year to year: its size, its
//! stock of villages, grid workers, organisations…, and its own quality.

use crate::quality::{Profile, World};
use crate::regions::{TownKind, Tree};
use crate::rng::{Stream, tag};

/// Index of 矛盾纠纷化解 among the dimensions.
const D3: usize = 2;

/// Attributes of a township that do not change from year to year.
pub(crate) struct Town {
    pub index: usize,
    pub city: usize,
    pub county: usize,
    pub kind: TownKind,
    pub profile: Profile,
    pub pop_ref: f64,
    pub growth: f64,
    pub area_per_person: f64,
    pub transit_per_1000: f64,
    pub lighting_total: u64,
    pub training_share: f64,
    pub supplies_items: u64,
    pub vaccination_share: f64,
    pub villages: u64,
    pub grid_workers: u64,
    pub industries: u64,
    pub communities: u64,
    pub social_orgs: u64,
    pub patrol_required: u64,
    pub repeat_share: f64,
    pub repeat_drop: f64,
}

/// Pick by township kind: (街道, 镇, 乡).
pub(crate) fn by_kind(kind: TownKind, v: (f64, f64, f64)) -> f64 {
    match kind {
        TownKind::Subdistrict => v.0,
        TownKind::Town => v.1,
        TownKind::Rural => v.2,
    }
}

fn count(x: f64, min: u64) -> u64 {
    (x.round().max(0.0) as u64).max(min)
}

impl Town {
    pub(crate) fn new(world: &World, tree: &Tree, index: usize) -> Self {
        let t = &tree.towns[index];
        let mut s = Stream::new(&[world.seed, tag::TOWN, index as u64]);
        let mut idio = Stream::new(&[world.seed, tag::IDIO, 3, index as u64]);
        let profile = Profile::draw(&mut s, &mut idio, 0.2, 0.15, 0.3);
        let kind = t.kind;
        let pop_ref = s.lognormal(40_000.0, 0.5) * by_kind(kind, (1.6, 1.0, 0.6));
        let growth = match kind {
            TownKind::Subdistrict => s.gauss(0.010, 0.006),
            TownKind::Town => s.gauss(0.003, 0.005),
            TownKind::Rural => s.gauss(-0.004, 0.005),
        };
        let villages = match kind {
            TownKind::Subdistrict => count(pop_ref / 8000.0 * s.range(0.8, 1.2), 3),
            _ => count(pop_ref / 2000.0 * s.range(0.8, 1.2), 3),
        };
        let communities = match kind {
            TownKind::Subdistrict => villages,
            TownKind::Town => count(villages as f64 * s.range(0.1, 0.3), 1),
            TownKind::Rural => 1,
        };
        // Static part of the D3 latent: weak dispute work also means repeat
        // petitions fall more slowly.
        let z3 = world.cities[t.city].overall
            + world.cities[t.city].dims[D3]
            + world.counties[t.county].overall
            + world.counties[t.county].dims[D3]
            + profile.overall
            + profile.dims[D3];
        Town {
            index,
            city: t.city,
            county: t.county,
            kind,
            pop_ref,
            growth,
            area_per_person: s.range(3.0, 6.0) * by_kind(kind, (1.3, 1.0, 0.8)),
            transit_per_1000: s.range(2.0, 6.0) * by_kind(kind, (1.5, 1.0, 0.6)),
            lighting_total: count(pop_ref / 1200.0 * s.range(0.7, 1.3), 3),
            training_share: s.range(0.02, 0.04),
            supplies_items: 36 + s.below(13) as u64,
            vaccination_share: s.range(0.04, 0.06),
            villages,
            grid_workers: count(pop_ref / s.range(300.0, 500.0), 3),
            industries: 3 + count(pop_ref / 25_000.0 * s.range(0.5, 1.5), 0),
            communities,
            social_orgs: count(
                pop_ref / 1000.0 * s.range(0.6, 1.4) * by_kind(kind, (1.4, 1.0, 0.7)),
                3,
            ),
            patrol_required: count(pop_ref / 5000.0 * s.range(0.8, 1.2), 2),
            repeat_share: s.range(0.15, 0.30),
            repeat_drop: (0.065 + 0.02 * z3 + s.gauss(0.0, 0.012)).clamp(-0.05, 0.15),
            profile,
        }
    }
}
