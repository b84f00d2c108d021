//! The elements of the default framework, in the order of its elements table
//! (which is also the column order of values.csv within a township-year).
//!
//! The enum and the table come from one macro so an index can never point at
//! the wrong code.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Counted per month.
    Flow,
    /// State at month end, monthly.
    Snapshot,
    /// Annual expert rating, 0–100, one decimal.
    Rating,
    /// Annual citizen-survey mean, 1–5, two decimals.
    Survey,
}

/// How a stored value is scaled: values are kept as integers in the unit of
/// their last printed digit, so the CSV text is exact and comparisons are too.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Format {
    Int,
    Tenths,
    Hundredths,
}

pub(crate) struct Element {
    pub code: &'static str,
    pub kind: Kind,
    pub format: Format,
    /// Dimension index 0..5 (D1..D5) whose quality drives this element.
    pub dim: usize,
}

macro_rules! elements {
    ($($var:ident = $code:literal, $kind:ident, $fmt:ident, $dim:literal;)*) => {
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(usize)]
        pub(crate) enum El { $($var),* }

        pub(crate) const ELEMENTS: &[Element] = &[
            $(Element { code: $code, kind: Kind::$kind, format: Format::$fmt, dim: $dim }),*
        ];
    };
}

elements! {
    CriminalCases = "criminal_cases", Flow, Int, 0;
    PublicOrderCases = "public_order_cases", Flow, Int, 0;
    PublicOrderSolved = "public_order_solved", Flow, Int, 0;
    MajorCases = "major_cases", Flow, Int, 0;
    FraudCases = "fraud_cases", Flow, Int, 1;
    FraudSolved = "fraud_solved", Flow, Int, 1;
    WorkAccidentDeaths = "work_accident_deaths", Flow, Int, 1;
    HazardsFound = "hazards_found", Flow, Int, 1;
    HazardsFixed = "hazards_fixed", Flow, Int, 1;
    FireIncidents = "fire_incidents", Flow, Int, 1;
    FireResponseMinutes = "fire_response_minutes", Flow, Int, 1;
    FoodSamples = "food_samples", Flow, Int, 1;
    FoodSamplesPassed = "food_samples_passed", Flow, Int, 1;
    OutbreakEvents = "outbreak_events", Flow, Int, 1;
    OutbreakResponseHours = "outbreak_response_hours", Flow, Tenths, 1;
    MedicalIncidents = "medical_incidents", Flow, Int, 1;
    MedicalResponseMinutes = "medical_response_minutes", Flow, Int, 1;
    PiComplaints = "pi_complaints", Flow, Int, 1;
    PiComplaintsTimely = "pi_complaints_timely", Flow, Int, 1;
    Rumours = "rumours", Flow, Int, 1;
    RumoursHandledTimely = "rumours_handled_timely", Flow, Int, 1;
    KeyAreaScreenings = "key_area_screenings", Flow, Int, 2;
    KeyAreaScreeningsRequired = "key_area_screenings_required", Flow, Int, 2;
    Disputes = "disputes", Flow, Int, 2;
    DisputesResolved = "disputes_resolved", Flow, Int, 2;
    GridEvents = "grid_events", Flow, Int, 3;
    GridEventsTimely = "grid_events_timely", Flow, Int, 3;
    JointEvents = "joint_events", Flow, Int, 3;
    JointEventsTimely = "joint_events_timely", Flow, Int, 3;
    CivilMediations = "civil_mediations", Flow, Int, 2;
    CivilMediationSuccess = "civil_mediation_success", Flow, Int, 2;
    Agreements = "agreements", Flow, Int, 2;
    AgreementsFulfilled = "agreements_fulfilled", Flow, Int, 2;
    Petitions = "petitions", Flow, Int, 2;
    RepeatPetitions = "repeat_petitions", Flow, Int, 2;
    PetitionsDue = "petitions_due", Flow, Int, 2;
    PetitionsClosedOnTime = "petitions_closed_on_time", Flow, Int, 2;
    Population = "population", Snapshot, Int, 0;
    MonitoredArea = "monitored_area", Snapshot, Int, 0;
    RequiredMonitoredArea = "required_monitored_area", Snapshot, Int, 0;
    PatrolTeams = "patrol_teams", Snapshot, Int, 0;
    PatrolTeamsRequired = "patrol_teams_required", Snapshot, Int, 0;
    SafetyVolunteers = "safety_volunteers", Snapshot, Int, 0;
    TransitChecked = "transit_checked", Snapshot, Int, 0;
    TransitTotal = "transit_total", Snapshot, Int, 0;
    LightingOk = "lighting_ok", Snapshot, Int, 0;
    LightingTotal = "lighting_total", Snapshot, Int, 0;
    SafetyTrained = "safety_trained", Snapshot, Int, 1;
    SafetyTrainingRequired = "safety_training_required", Snapshot, Int, 1;
    SuppliesOkItems = "supplies_ok_items", Snapshot, Int, 1;
    SuppliesRequiredItems = "supplies_required_items", Snapshot, Int, 1;
    Vaccinated = "vaccinated", Snapshot, Int, 1;
    VaccinationTarget = "vaccination_target", Snapshot, Int, 1;
    Villages = "villages", Snapshot, Int, 2;
    VillagesScreened = "villages_screened", Snapshot, Int, 2;
    GridWorkers = "grid_workers", Snapshot, Int, 3;
    GridWorkersTrained = "grid_workers_trained", Snapshot, Int, 3;
    IndustriesRequired = "industries_required", Snapshot, Int, 2;
    IndustriesWithMediation = "industries_with_mediation", Snapshot, Int, 2;
    VillagesWithLegalAdviser = "villages_with_legal_adviser", Snapshot, Int, 3;
    LawEducated = "law_educated", Snapshot, Int, 3;
    Communities = "communities", Snapshot, Int, 3;
    CommunitiesWithFacilities = "communities_with_facilities", Snapshot, Int, 3;
    SocialOrgs = "social_orgs", Snapshot, Int, 3;
    SocialOrgsParticipating = "social_orgs_participating", Snapshot, Int, 3;
    BacklogCases = "backlog_cases", Snapshot, Int, 2;
    BacklogResolved = "backlog_resolved", Snapshot, Int, 2;
    CampusOrderRating = "campus_order_rating", Rating, Tenths, 0;
    RewardMechanismRating = "reward_mechanism_rating", Rating, Tenths, 0;
    CiiProtectionRating = "cii_protection_rating", Rating, Tenths, 1;
    EnforcementRating = "enforcement_rating", Rating, Tenths, 3;
    ElderlyChildSatisfaction = "elderly_child_satisfaction", Survey, Hundredths, 3;
    SafetyIndex = "safety_index", Survey, Hundredths, 4;
    NightSafetySatisfaction = "night_safety_satisfaction", Survey, Hundredths, 4;
    PoliceSatisfaction = "police_satisfaction", Survey, Hundredths, 4;
    FoodConfidence = "food_confidence", Survey, Hundredths, 4;
    TrafficConfidence = "traffic_confidence", Survey, Hundredths, 4;
    EnvironmentConfidence = "environment_confidence", Survey, Hundredths, 4;
    ServiceConvenience = "service_convenience", Survey, Hundredths, 4;
    DisputeChannelConvenience = "dispute_channel_convenience", Survey, Hundredths, 4;
}

pub(crate) const N_ELEMENTS: usize = ELEMENTS.len();
/// Flows and snapshots come first in the table and are reported monthly.
pub(crate) const N_MONTHLY: usize = El::CampusOrderRating as usize;
pub(crate) const N_ANNUAL: usize = N_ELEMENTS - N_MONTHLY;

/// (numerator, denominator) pairs that must satisfy num ≤ den in every month.
#[cfg(test)]
pub(crate) const RATIO_PAIRS: &[(El, El)] = &[
    (El::PublicOrderSolved, El::PublicOrderCases),
    (El::FraudSolved, El::FraudCases),
    (El::HazardsFixed, El::HazardsFound),
    (El::FoodSamplesPassed, El::FoodSamples),
    (El::PiComplaintsTimely, El::PiComplaints),
    (El::RumoursHandledTimely, El::Rumours),
    (El::KeyAreaScreenings, El::KeyAreaScreeningsRequired),
    (El::DisputesResolved, El::Disputes),
    (El::GridEventsTimely, El::GridEvents),
    (El::JointEventsTimely, El::JointEvents),
    (El::JointEvents, El::GridEvents),
    (El::CivilMediationSuccess, El::CivilMediations),
    (El::Agreements, El::CivilMediationSuccess),
    (El::AgreementsFulfilled, El::Agreements),
    (El::RepeatPetitions, El::Petitions),
    (El::PetitionsClosedOnTime, El::PetitionsDue),
    (El::MonitoredArea, El::RequiredMonitoredArea),
    (El::PatrolTeams, El::PatrolTeamsRequired),
    (El::SafetyVolunteers, El::Population),
    (El::TransitChecked, El::TransitTotal),
    (El::LightingOk, El::LightingTotal),
    (El::SafetyTrained, El::SafetyTrainingRequired),
    (El::SuppliesOkItems, El::SuppliesRequiredItems),
    (El::Vaccinated, El::VaccinationTarget),
    (El::VillagesScreened, El::Villages),
    (El::GridWorkersTrained, El::GridWorkers),
    (El::IndustriesWithMediation, El::IndustriesRequired),
    (El::VillagesWithLegalAdviser, El::Villages),
    (El::LawEducated, El::Population),
    (El::CommunitiesWithFacilities, El::Communities),
    (El::SocialOrgsParticipating, El::SocialOrgs),
    (El::BacklogResolved, El::BacklogCases),
];

/// Year-to-date coverage counts: they never fall within a year.
#[cfg(test)]
pub(crate) const YEAR_TO_DATE: &[El] = &[
    El::TransitChecked,
    El::SafetyTrained,
    El::Vaccinated,
    El::VillagesScreened,
    El::GridWorkersTrained,
    El::LawEducated,
    El::BacklogResolved,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shape() {
        assert_eq!(N_ELEMENTS, 80);
        assert_eq!(N_MONTHLY, 67);
        assert!(
            ELEMENTS[..N_MONTHLY]
                .iter()
                .all(|e| matches!(e.kind, Kind::Flow | Kind::Snapshot))
        );
        assert!(
            ELEMENTS[N_MONTHLY..]
                .iter()
                .all(|e| matches!(e.kind, Kind::Rating | Kind::Survey))
        );
        assert_eq!(ELEMENTS[El::Population as usize].code, "population");
        assert_eq!(
            ELEMENTS[El::DisputeChannelConvenience as usize].code,
            "dispute_channel_convenience"
        );
    }
}
