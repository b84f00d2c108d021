//! Event records (events.md): grid events and emergency call-outs, and the
//! eight monthly elements derived from them per base region. Pure: the
//! reader (`pingan_input::events`) turns rows into `Event`s and keeps the
//! latest version of each; this module says what an event counts for.

use crate::survey::response::parse_time;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Grid,
    Fire,
    Medical,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "grid" => Some(Kind::Grid),
            "fire" => Some(Kind::Fire),
            "medical" => Some(Kind::Medical),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Kind::Grid => "grid",
            Kind::Fire => "fire",
            Kind::Medical => "medical",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Kind::Grid => "网格事件",
            Kind::Fire => "火警出警",
            Kind::Medical => "急救出车",
        }
    }
}

/// A grid event's urgency and its deadline (events.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Urgency {
    /// 一般: 24 h.
    Normal,
    /// 紧急: 2 h.
    Urgent,
    /// 特急: 30 min.
    Critical,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Normal, Urgency::Urgent, Urgency::Critical];
    pub fn parse(s: &str) -> Option<Urgency> {
        match s {
            "一般" => Some(Urgency::Normal),
            "紧急" => Some(Urgency::Urgent),
            "特急" => Some(Urgency::Critical),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Urgency::Normal => "一般",
            Urgency::Urgent => "紧急",
            Urgency::Critical => "特急",
        }
    }
    /// The deadline in seconds.
    pub fn deadline(self) -> f64 {
        match self {
            Urgency::Normal => 24.0 * 3600.0,
            Urgency::Urgent => 2.0 * 3600.0,
            Urgency::Critical => 30.0 * 60.0,
        }
    }
}

/// One event as its latest version says (times in seconds since 1970).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: Kind,
    /// A base region's index in the tree it was read with.
    pub region: usize,
    /// Grid events only.
    pub urgency: Option<Urgency>,
    /// Grid events only: departments that handled it.
    pub departments: u32,
    pub reported: f64,
    pub handled: Option<f64>,
    pub dispatched: Option<f64>,
    pub arrived: Option<f64>,
    pub updated: f64,
}

/// The derived elements, in the order of events.md §3.
pub const ELEMENTS: [&str; 8] = [
    "grid_events",
    "grid_events_timely",
    "joint_events",
    "joint_events_timely",
    "fire_incidents",
    "fire_response_minutes",
    "medical_incidents",
    "medical_response_minutes",
];

/// Upper edges (minutes) of the handling-time classes the page shows;
/// the last is open.
pub const HANDLING_EDGES: [i64; 8] = [30, 120, 360, 1440, 2880, 4320, 10080, i64::MAX];

/// A month as (year, month) in China time.
pub type Month = (i32, u8);

/// `YYYY-MM` (years 0–9999), made without `format!` (once per event).
pub fn month_text(m: Month) -> String {
    let mut out = String::with_capacity(7);
    push_month(&mut out, m);
    out
}

/// `month_text` written onto the end of `out`.
pub fn push_month(out: &mut String, (y, m): Month) {
    let y = y.clamp(0, 9999) as u32;
    let d = |v: u32| char::from(b'0' + v as u8);
    for c in [
        d(y / 1000),
        d(y / 100 % 10),
        d(y / 10 % 10),
        d(y % 10),
        '-',
        d(u32::from(m) / 10),
        d(u32::from(m) % 10),
    ] {
        out.push(c);
    }
}

/// The month of `YYYY-MM`.
pub fn parse_month(s: &str) -> Option<Month> {
    let (y, m) = s.split_once('-')?;
    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?);
    ((0..=9999).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
}

/// The first second of month `m` in UTC+08:00: the events of months
/// `a..=b` are those reported in `month_start(a)..month_start(b + 1)`.
pub fn month_start((y, m): Month) -> f64 {
    let days = crate::period::Date {
        year: y,
        month: m,
        day: 1,
    }
    .days();
    (days * 86400 - 8 * 3600) as f64
}

/// The month after `m`.
pub fn next_month((y, m): Month) -> Month {
    if m >= 12 { (y + 1, 1) } else { (y, m + 1) }
}

/// The calendar month in UTC+08:00 of `t` (seconds since 1970).
pub fn china_month(t: f64) -> Month {
    let days = ((t + 8.0 * 3600.0) / 86400.0).floor() as i64;
    let (y, m, _) = crate::period::civil_from_days(days);
    (y, m)
}

impl Event {
    /// The month an event counts in: `month_time`'s.
    pub fn month(&self) -> Month {
        china_month(self.month_time())
    }

    /// The time whose month the event counts in: reported for grid
    /// events, dispatched for call-outs (the store's `EVENT_TIME`).
    pub fn month_time(&self) -> f64 {
        match self.kind {
            Kind::Grid => self.reported,
            _ => self.dispatched.unwrap_or(self.reported),
        }
    }

    /// Handled within its deadline (exactly at it counts).
    pub fn timely(&self) -> bool {
        match (self.urgency, self.handled) {
            (Some(u), Some(h)) => h - self.reported <= u.deadline(),
            _ => false,
        }
    }

    /// An open grid event past its deadline at `now` (24 h when its
    /// urgency is unknown).
    pub fn overdue_at(&self, now: f64) -> bool {
        let deadline = self.urgency.map_or(86_400.0, Urgency::deadline);
        self.kind == Kind::Grid && self.handled.is_none() && now - self.reported > deadline
    }

    /// The handling-time class of a handled event: the index of the first
    /// of `HANDLING_EDGES` (minutes) it is within.
    pub fn handling_class(&self) -> Option<usize> {
        // In seconds, as the store's SQL compares.
        let seconds = self.handled? - self.reported;
        HANDLING_EDGES
            .iter()
            .position(|&e| seconds <= e as f64 * 60.0)
            .or(Some(HANDLING_EDGES.len() - 1))
    }

    /// Seconds from dispatch to arrival (call-outs).
    pub fn response_seconds(&self) -> Option<f64> {
        Some(self.arrived? - self.dispatched?)
    }

    /// What this event adds to its month's eight elements; response times
    /// in seconds (minutes are made at the end, from the exact sum).
    pub fn add_to(&self, v: &mut [f64; 8]) {
        match self.kind {
            Kind::Grid => {
                let timely = f64::from(u8::from(self.timely()));
                v[0] += 1.0;
                v[1] += timely;
                if self.departments >= 2 {
                    v[2] += 1.0;
                    v[3] += timely;
                }
            }
            Kind::Fire => {
                v[4] += 1.0;
                v[5] += self.response_seconds().unwrap_or(0.0);
            }
            Kind::Medical => {
                v[6] += 1.0;
                v[7] += self.response_seconds().unwrap_or(0.0);
            }
        }
    }
}

/// A time of a record, or None when it does not parse.
pub fn time(s: &str) -> Option<f64> {
    parse_time(s)
}

/// The derived values per (region, month), response times in minutes:
/// every event in its month (only months of `year` when given), and for
/// each year the months from January to its last event's month filled
/// with zeros for each region that had an event that year (events.md §2).
/// Ordered by region index (the regions file's order), then month.
pub fn aggregate<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    year: Option<i32>,
) -> std::collections::BTreeMap<(usize, Month), [f64; 8]> {
    let mut a = Aggregator::new(year);
    for e in events {
        a.add(e);
    }
    a.finish()
}

/// `aggregate` fed a part at a time (the events of several files, each
/// read and dropped in turn); the same result as all at once.
pub struct Aggregator {
    year: Option<i32>,
    // Millions of events into thousands of cells: hashed, then ordered.
    cells: rustc_hash::FxHashMap<(usize, Month), [f64; 8]>,
    last: std::collections::BTreeMap<i32, u8>,
    active: std::collections::BTreeSet<(i32, usize)>,
}

impl Aggregator {
    pub fn new(year: Option<i32>) -> Aggregator {
        Aggregator {
            year,
            cells: Default::default(),
            last: Default::default(),
            active: Default::default(),
        }
    }

    pub fn add(&mut self, e: &Event) {
        let m = e.month();
        if self.year.is_some_and(|y| y != m.0) {
            return;
        }
        e.add_to(self.cells.entry((e.region, m)).or_insert([0.0; 8]));
        let l = self.last.entry(m.0).or_insert(m.1);
        *l = (*l).max(m.1);
        self.active.insert((m.0, e.region));
    }

    /// Add what another part of the same events counted (each event in
    /// one part only).
    pub fn merge(&mut self, other: Aggregator) {
        for (k, v) in other.cells {
            let c = self.cells.entry(k).or_insert([0.0; 8]);
            for (a, b) in c.iter_mut().zip(v) {
                *a += b;
            }
        }
        for (y, m) in other.last {
            let l = self.last.entry(y).or_insert(m);
            *l = (*l).max(m);
        }
        self.active.extend(other.active);
    }

    pub fn finish(mut self) -> std::collections::BTreeMap<(usize, Month), [f64; 8]> {
        for (y, region) in self.active {
            for mo in 1..=self.last[&y] {
                self.cells.entry((region, (y, mo))).or_insert([0.0; 8]);
            }
        }
        self.cells
            .into_iter()
            .map(|(k, mut v)| {
                v[5] /= 60.0;
                v[7] /= 60.0;
                (k, v)
            })
            .collect()
    }
}

/// A derived value as written: integers without a decimal point, others
/// with every digit needed to read the same number back.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> f64 {
        time(s).unwrap()
    }

    #[test]
    fn a_month_is_the_range_of_its_report_times() {
        for m in [(2024, 1), (2024, 2), (2024, 12), (2023, 12)] {
            let (a, b) = (month_start(m), month_start(next_month(m)));
            assert_eq!(china_month(a), m);
            assert_eq!(china_month(b - 0.001), m);
            assert_ne!(china_month(a - 0.001), m);
            assert_eq!(parse_month(&month_text(m)), Some(m));
        }
        assert_eq!(month_start((2024, 3)), t("2024-03-01 00:00:00"));
        assert_eq!(parse_month("2024-13"), None);
        assert_eq!(parse_month("x-01"), None);
    }

    fn grid(
        region: usize,
        urgency: Urgency,
        departments: u32,
        reported: &str,
        handled: Option<&str>,
    ) -> Event {
        Event {
            kind: Kind::Grid,
            region,
            urgency: Some(urgency),
            departments,
            reported: t(reported),
            handled: handled.map(t),
            dispatched: None,
            arrived: None,
            updated: t(reported),
        }
    }

    #[test]
    fn month_text_pads() {
        assert_eq!(month_text((2024, 3)), "2024-03");
        assert_eq!(month_text((987, 12)), "0987-12");
    }

    #[test]
    fn months_deadlines_and_zeros() {
        let fire = Event {
            kind: Kind::Fire,
            region: 1,
            urgency: None,
            departments: 0,
            reported: t("2024-03-01 00:10:00"),
            handled: None,
            // 23:50 UTC on Feb 29 is March 1 in China.
            dispatched: Some(t("2024-02-29T16:05:00Z")),
            arrived: Some(t("2024-02-29T16:17:30Z")),
            updated: t("2024-03-01 01:00:00"),
        };
        let events = vec![
            // Exactly at the deadline: timely.
            grid(
                0,
                Urgency::Urgent,
                2,
                "2024-01-31 23:00:00",
                Some("2024-02-01 01:00:00"),
            ),
            // One second late.
            grid(
                0,
                Urgency::Critical,
                1,
                "2024-01-05 08:00:00",
                Some("2024-01-05 08:30:01"),
            ),
            // Not handled.
            grid(0, Urgency::Normal, 3, "2024-01-06 08:00:00", None),
            fire,
        ];
        let v = aggregate(&events, None);
        // Region 0: January and, as the year runs to March, February and
        // March as zeros; region 1: January to March too.
        assert_eq!(v.len(), 6);
        assert_eq!(v[&(0, (2024, 1))], [3.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(v[&(0, (2024, 3))], [0.0; 8]);
        assert_eq!(v[&(1, (2024, 1))], [0.0; 8]);
        assert_eq!(
            v[&(1, (2024, 3))],
            [0.0, 0.0, 0.0, 0.0, 1.0, 12.5, 0.0, 0.0]
        );
        assert_eq!(aggregate(&events, Some(2023)).len(), 0);
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(1.0 / 3.0), "0.3333333333333333");
    }
}
