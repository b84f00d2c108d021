//! The value models: a latent quality per region, dimension and element,
//! turned into monthly counts, year-to-date coverage, ratings and survey means.
//!
//! Calibration idea: an element's latent `z` is 0 for an average region in
//! `REF_YEAR`, and each rate's centre (`p0`) sits near its indicator's scoring
//! threshold, so county and city aggregates straddle the thresholds. Rates are
//! logistic in `z`, so good regions approach but never pass 100 %, and counts
//! are Poisson/binomial, so numerators never exceed denominators.

use std::array;

use crate::elements::{El, N_ANNUAL, N_MONTHLY};
use crate::quality::World;
use crate::rng::{Stream, tag, year_key};
use crate::series::{Seasons, durations, flow, progress, rate, thin};
use crate::town::{Town, by_kind};

/// The year in which an average region has z = 0.
const REF_YEAR: i32 = 2023;
/// Latent improvement per year: most rates get a little better every year.
const TREND: f64 = 0.15;
const MAX_TREND_YEARS: i32 = 30;

/// One township-year of values, in the units of each element's `Format`.
#[derive(Clone)]
pub(crate) struct Block {
    pub monthly: [[u64; 12]; N_MONTHLY],
    pub annual: [u64; N_ANNUAL],
}

impl Block {
    pub(crate) fn new() -> Self {
        Block {
            monthly: [[0; 12]; N_MONTHLY],
            annual: [0; N_ANNUAL],
        }
    }
    fn set(&mut self, e: El, v: [u64; 12]) {
        self.monthly[e as usize] = v;
    }
    fn get(&self, e: El) -> [u64; 12] {
        self.monthly[e as usize]
    }
}

/// Per-township-year generator context.
pub(crate) struct Gen {
    seasons: Seasons,
}

impl Gen {
    pub(crate) fn new() -> Self {
        Gen {
            seasons: Seasons::new(),
        }
    }

    pub(crate) fn town_year(&self, w: &World, t: &Town, year: i32, b: &mut Block) {
        let yk = year_key(year);
        let seed = w.seed;
        let stream = |e: El| Stream::new(&[seed, tag::VALUE, t.index as u64, yk, e as u64]);
        let yn = |tg: u64, i: usize, sd: f64| Stream::new(&[seed, tg, i as u64, yk]).gauss(0.0, sd);
        // Years since REF_YEAR drive trends and growth; capped so that a far
        // year (the options allow 1000–9999) stays finite and plausible.
        let dy = f64::from((year - REF_YEAR).clamp(-MAX_TREND_YEARS, MAX_TREND_YEARS));
        // Year-to-year wobble shared by all elements of a region.
        let shared = yn(tag::CITY_YEAR, t.city, 0.12)
            + yn(tag::COUNTY_YEAR, t.county, 0.12)
            + yn(tag::TOWN_YEAR, t.index, 0.15)
            + TREND * dy;
        let (city, county) = (&w.cities[t.city], &w.counties[t.county]);
        let z = |e: El| {
            let e = e as usize;
            city.z(e) + county.z(e) + t.profile.z(e) + shared
        };
        let kind = |v: (f64, f64, f64)| by_kind(t.kind, v);
        let se = &self.seasons;

        // Population: slowly changing, the anchor of every per-capita rate.
        let pop: [u64; 12] = array::from_fn(|m| {
            let years = dy + (m as f64 - 5.5) / 12.0;
            (t.pop_ref * (t.growth * years).exp()).round() as u64
        });
        b.set(El::Population, pop);
        let p = pop[11] as f64;

        // Builders: each element draws from its own stream, so changing one
        // model never shifts another element's numbers.
        let r = |e: El, p0: f64, k: f64| rate(p0, k, z(e));
        let flow_into = |b: &mut Block, e: El, per_year: f64, season: &[f64; 12], od: f64| {
            b.set(e, flow(&mut stream(e), per_year, season, od));
        };
        let share_into = |b: &mut Block, num: El, den: El, p: f64, wobble: f64| {
            let d = b.get(den);
            b.set(num, thin(&mut stream(num), &d, p, wobble));
        };
        let durations_into = |b: &mut Block, e: El, n: El, mean: f64, sigma: f64, unit: f64| {
            let (mut s, n) = (stream(e), b.get(n));
            b.set(
                e,
                array::from_fn(|m| (durations(&mut s, n[m], mean, sigma) / unit).round() as u64),
            );
        };
        let coverage_into = |b: &mut Block, e: El, den: u64, p_end: f64, lag: f64, shape: f64| {
            b.set(e, progress(&mut stream(e), den, p_end, p_end - lag, shape));
        };

        // D1 crime and public order. 337 sits a little under the national
        // rate of REF_YEAR, so about half the counties beat the benchmark.
        let crime = 337e-5 * p * kind((1.1, 0.97, 0.85)) * (-0.1 * z(El::CriminalCases)).exp();
        flow_into(b, El::CriminalCases, crime, &se.summer, 0.08);
        let po = 600e-5 * p * kind((1.15, 1.0, 0.8)) * (-0.1 * z(El::PublicOrderCases)).exp();
        flow_into(b, El::PublicOrderCases, po, &se.summer, 0.1);
        let solved = r(El::PublicOrderSolved, 0.92, 0.45);
        share_into(b, El::PublicOrderSolved, El::PublicOrderCases, solved, 0.15);
        let mut major = [0; 12];
        for &(_, _, m) in w
            .major
            .iter()
            .filter(|&&(i, y, _)| i == t.index && y == year)
        {
            major[m] += 1;
        }
        b.set(El::MajorCases, major);
        let fraud = 180e-5 * p * kind((1.2, 1.0, 0.8)) * (-0.05 * z(El::FraudCases)).exp();
        flow_into(b, El::FraudCases, fraud, &se.flat, 0.15);
        let fraud_solved = r(El::FraudSolved, 0.66, 0.5);
        share_into(b, El::FraudSolved, El::FraudCases, fraud_solved, 0.2);

        // D2 work safety.
        let deaths = 1.2e-5 * p * kind((0.8, 1.1, 1.0)) * (-0.35 * z(El::WorkAccidentDeaths)).exp();
        flow_into(b, El::WorkAccidentDeaths, deaths, &se.accidents, 0.0);
        flow_into(
            b,
            El::HazardsFound,
            0.024 * p * kind((0.9, 1.1, 1.0)),
            &se.hazards,
            0.15,
        );
        let fixed = r(El::HazardsFixed, 0.955, 0.45);
        share_into(b, El::HazardsFixed, El::HazardsFound, fixed, 0.15);

        // D2 emergency response: response times are sums over incidents,
        // their means around the thresholds (10 min, 15 min, 2 h).
        let fires = 1.0e-3 * p * kind((1.1, 1.0, 0.9)) * (-0.05 * z(El::FireIncidents)).exp();
        flow_into(b, El::FireIncidents, fires, &se.winter, 0.1);
        let fire_mean = 10.2 * kind((0.9, 1.0, 1.15)) * (-0.1 * z(El::FireResponseMinutes)).exp();
        durations_into(
            b,
            El::FireResponseMinutes,
            El::FireIncidents,
            fire_mean,
            0.35,
            1.0,
        );
        flow_into(b, El::FoodSamples, 4.5e-3 * p, &se.food, 0.1);
        let passed = r(El::FoodSamplesPassed, 0.982, 0.35);
        share_into(b, El::FoodSamplesPassed, El::FoodSamples, passed, 0.1);
        flow_into(b, El::OutbreakEvents, 1.2e-5 * p, &se.outbreaks, 0.0);
        let outbreak_mean = 2.1 * (-0.25 * z(El::OutbreakResponseHours)).exp();
        durations_into(
            b,
            El::OutbreakResponseHours,
            El::OutbreakEvents,
            outbreak_mean,
            0.5,
            0.1,
        );
        flow_into(b, El::MedicalIncidents, 0.02 * p, &se.medical, 0.05);
        let med_mean = 15.3 * kind((0.9, 1.0, 1.2)) * (-0.08 * z(El::MedicalResponseMinutes)).exp();
        durations_into(
            b,
            El::MedicalResponseMinutes,
            El::MedicalIncidents,
            med_mean,
            0.4,
            1.0,
        );

        // D2 cyber security.
        flow_into(
            b,
            El::PiComplaints,
            3.6e-3 * p * kind((1.3, 1.0, 0.7)),
            &se.flat,
            0.15,
        );
        let pi_ok = r(El::PiComplaintsTimely, 0.935, 0.45);
        share_into(b, El::PiComplaintsTimely, El::PiComplaints, pi_ok, 0.15);
        flow_into(b, El::Rumours, 1.2e-3 * p, &se.flat, 0.2);
        let rumours_ok = r(El::RumoursHandledTimely, 0.935, 0.45);
        share_into(b, El::RumoursHandledTimely, El::Rumours, rumours_ok, 0.15);

        // D3 screening: a fixed monthly quota, partly met.
        b.set(El::KeyAreaScreeningsRequired, [t.villages.div_ceil(2); 12]);
        let screened = r(El::KeyAreaScreenings, 0.92, 0.5);
        share_into(
            b,
            El::KeyAreaScreenings,
            El::KeyAreaScreeningsRequired,
            screened,
            0.2,
        );
        let disputes = 0.012 * p * (-0.1 * z(El::Disputes)).exp();
        flow_into(b, El::Disputes, disputes, &se.new_year, 0.1);
        let resolved = r(El::DisputesResolved, 0.9, 0.45);
        share_into(b, El::DisputesResolved, El::Disputes, resolved, 0.15);

        // D4 grid management; joint events are a share of all grid events.
        flow_into(
            b,
            El::GridEvents,
            0.048 * p * kind((1.2, 1.0, 0.8)),
            &se.grid,
            0.1,
        );
        let timely = r(El::GridEventsTimely, 0.935, 0.5);
        share_into(b, El::GridEventsTimely, El::GridEvents, timely, 0.15);
        share_into(b, El::JointEvents, El::GridEvents, 0.08, 0.1);
        let joint = r(El::JointEventsTimely, 0.925, 0.5);
        share_into(b, El::JointEventsTimely, El::JointEvents, joint, 0.15);

        // D3 mediation: agreements come out of successful mediations.
        flow_into(b, El::CivilMediations, 7e-3 * p, &se.new_year, 0.1);
        let success = r(El::CivilMediationSuccess, 0.895, 0.45);
        share_into(
            b,
            El::CivilMediationSuccess,
            El::CivilMediations,
            success,
            0.15,
        );
        share_into(b, El::Agreements, El::CivilMediationSuccess, 0.88, 0.1);
        let fulfilled = r(El::AgreementsFulfilled, 0.94, 0.45);
        share_into(b, El::AgreementsFulfilled, El::Agreements, fulfilled, 0.15);

        // D3 petitions: the repeat share falls a few percent a year (the
        // indicator is the relative drop), more slowly where D3 is weak.
        let petitions = 7e-3 * p * (-0.1 * z(El::Petitions)).exp();
        flow_into(b, El::Petitions, petitions, &se.petitions, 0.1);
        let wobble =
            Stream::new(&[seed, tag::REPEAT_SHARE, t.index as u64, yk]).lognormal(1.0, 0.02);
        let share = (t.repeat_share * (-t.repeat_drop * dy).exp() * wobble).min(0.9);
        share_into(b, El::RepeatPetitions, El::Petitions, share, 0.0);
        flow_into(b, El::PetitionsDue, petitions * 0.93, &se.petitions, 0.1);
        let on_time = r(El::PetitionsClosedOnTime, 0.935, 0.45);
        share_into(
            b,
            El::PetitionsClosedOnTime,
            El::PetitionsDue,
            on_time,
            0.15,
        );

        // Snapshots: denominators stable within a year; coverage counts rise
        // through it (lag 1.0 = year-to-date from zero; shape < 1 = front-loaded).
        let grow = |x: f64, r: f64| (x * (1.0 + r).powf(dy)).round().max(1.0) as u64;
        let area = grow(t.pop_ref * t.area_per_person, 0.02);
        b.set(El::RequiredMonitoredArea, [area; 12]);
        coverage_into(
            b,
            El::MonitoredArea,
            area,
            r(El::MonitoredArea, 0.955, 0.5),
            0.02,
            1.0,
        );
        b.set(El::PatrolTeamsRequired, [t.patrol_required; 12]);
        let patrol = r(El::PatrolTeams, 0.92, 0.5);
        coverage_into(b, El::PatrolTeams, t.patrol_required, patrol, 0.06, 1.0);
        {
            let share = 0.016 * (0.25 * z(El::SafetyVolunteers)).exp();
            let v = progress(
                &mut stream(El::SafetyVolunteers),
                pop[11],
                share,
                share * 0.9,
                1.0,
            );
            b.set(El::SafetyVolunteers, array::from_fn(|m| v[m].min(pop[m])));
        }
        let transit = grow(t.pop_ref * t.transit_per_1000 / 1000.0, 0.01).max(5);
        b.set(El::TransitTotal, [transit; 12]);
        coverage_into(
            b,
            El::TransitChecked,
            transit,
            r(El::TransitChecked, 0.94, 0.5),
            1.0,
            0.8,
        );
        {
            // Lights fail and get fixed: a monthly state, not a running total.
            let total = t.lighting_total;
            let p_end = r(El::LightingOk, 0.935, 0.5);
            let mut s = stream(El::LightingOk);
            let v: [u64; 12] =
                array::from_fn(|m| s.binomial(total, p_end - 0.02 * (11 - m) as f64 / 11.0));
            b.set(El::LightingOk, v);
            b.set(El::LightingTotal, [total; 12]);
        }
        let trainees = grow(t.pop_ref * t.training_share, 0.01);
        b.set(El::SafetyTrainingRequired, [trainees; 12]);
        coverage_into(
            b,
            El::SafetyTrained,
            trainees,
            r(El::SafetyTrained, 0.93, 0.5),
            1.0,
            0.9,
        );
        b.set(El::SuppliesRequiredItems, [t.supplies_items; 12]);
        let supplies = r(El::SuppliesOkItems, 0.96, 0.5);
        coverage_into(
            b,
            El::SuppliesOkItems,
            t.supplies_items,
            supplies,
            0.05,
            1.0,
        );
        let vacc = grow(t.pop_ref * t.vaccination_share, 0.0);
        b.set(El::VaccinationTarget, [vacc; 12]);
        coverage_into(
            b,
            El::Vaccinated,
            vacc,
            r(El::Vaccinated, 0.925, 0.45),
            1.0,
            0.9,
        );
        b.set(El::Villages, [t.villages; 12]);
        let screened = r(El::VillagesScreened, 0.96, 0.5);
        coverage_into(b, El::VillagesScreened, t.villages, screened, 1.0, 0.5);
        b.set(El::GridWorkers, [t.grid_workers; 12]);
        let trained = r(El::GridWorkersTrained, 0.93, 0.5);
        coverage_into(b, El::GridWorkersTrained, t.grid_workers, trained, 1.0, 0.8);
        b.set(El::IndustriesRequired, [t.industries; 12]);
        let mediation = r(El::IndustriesWithMediation, 0.87, 0.5);
        coverage_into(
            b,
            El::IndustriesWithMediation,
            t.industries,
            mediation,
            0.1,
            1.0,
        );
        let advisers = r(El::VillagesWithLegalAdviser, 0.96, 0.5);
        coverage_into(
            b,
            El::VillagesWithLegalAdviser,
            t.villages,
            advisers,
            0.03,
            1.0,
        );
        {
            // People reached this year, against the current population.
            let p_end = r(El::LawEducated, 0.905, 0.4);
            let v = progress(&mut stream(El::LawEducated), pop[11], p_end, 0.0, 0.9);
            b.set(El::LawEducated, array::from_fn(|m| v[m].min(pop[m])));
        }
        b.set(El::Communities, [t.communities; 12]);
        let facilities = r(El::CommunitiesWithFacilities, 0.93, 0.5);
        coverage_into(
            b,
            El::CommunitiesWithFacilities,
            t.communities,
            facilities,
            0.05,
            1.0,
        );
        b.set(El::SocialOrgs, [t.social_orgs; 12]);
        let orgs = r(El::SocialOrgsParticipating, 0.68, 0.5);
        coverage_into(
            b,
            El::SocialOrgsParticipating,
            t.social_orgs,
            orgs,
            0.08,
            1.0,
        );
        {
            // The backlog is fixed at the start of the year and worked off.
            let backlog = stream(El::BacklogCases)
                .poisson(t.pop_ref / 4000.0 * (-0.2 * z(El::BacklogCases)).exp());
            b.set(El::BacklogCases, [backlog; 12]);
            coverage_into(
                b,
                El::BacklogResolved,
                backlog,
                r(El::BacklogResolved, 0.8, 0.5),
                1.0,
                1.0,
            );
        }

        // Annual ratings (0–100, tenths) and survey means (1–5, hundredths).
        let annual = |e: El| e as usize - N_MONTHLY;
        for (e, centre) in [
            (El::CampusOrderRating, 89.0),
            (El::RewardMechanismRating, 88.0),
            (El::CiiProtectionRating, 88.0),
            (El::EnforcementRating, 88.0),
        ] {
            let v = stream(e).gauss(centre + 6.0 * z(e), 3.0).clamp(30.0, 99.5);
            b.annual[annual(e)] = (v * 10.0).round() as u64;
        }
        for (e, centre) in [
            (El::ElderlyChildSatisfaction, 4.02),
            (El::SafetyIndex, 4.08),
            (El::NightSafetySatisfaction, 4.02),
            (El::PoliceSatisfaction, 4.0),
            (El::FoodConfidence, 4.03),
            (El::TrafficConfidence, 3.98),
            (El::EnvironmentConfidence, 4.05),
            (El::ServiceConvenience, 4.06),
            (El::DisputeChannelConvenience, 4.0),
        ] {
            let v = stream(e).gauss(centre + 0.2 * z(e), 0.06).clamp(1.5, 4.95);
            b.annual[annual(e)] = (v * 100.0).round() as u64;
        }
    }
}
