//! One response and whether it counts (survey.md §3): too fast, a required
//! question left blank, a broken constraint — in that order — make it
//! invalid (kept and counted, never estimated); straightlining is only
//! reported.

use super::expr::Answers;
use super::form::{Form, Kind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Online,
    Interview,
    Paper,
    Hotline,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Online,
        Channel::Interview,
        Channel::Paper,
        Channel::Hotline,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Interview => "interview",
            Channel::Paper => "paper",
            Channel::Hotline => "hotline",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Channel::Online => "网络",
            Channel::Interview => "入户访问",
            Channel::Paper => "纸质问卷",
            Channel::Hotline => "电话",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// Why a response does not count, in the order they are tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invalid {
    TooFast,
    Incomplete,
    Constraint,
}

impl Invalid {
    pub const ALL: [Invalid; 3] = [Invalid::TooFast, Invalid::Incomplete, Invalid::Constraint];
    pub fn code(self) -> &'static str {
        match self {
            Invalid::TooFast => "too_fast",
            Invalid::Incomplete => "incomplete",
            Invalid::Constraint => "constraint",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Invalid::TooFast => "答题过快",
            Invalid::Incomplete => "必答题未答",
            Invalid::Constraint => "答案不符合约束",
        }
    }
    pub fn parse(s: &str) -> Option<Invalid> {
        Invalid::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// A response's answers, one per question of the form ("" = none).
pub trait AnswerList {
    fn answer_at(&self, q: usize) -> &str;
}

impl AnswerList for [String] {
    fn answer_at(&self, q: usize) -> &str {
        self.get(q).map_or("", |s| s.as_str())
    }
}

impl AnswerList for Vec<String> {
    fn answer_at(&self, q: usize) -> &str {
        self.as_slice().answer_at(q)
    }
}

/// Answers in one buffer with their ends: two allocations a response
/// instead of one per answer (half a million responses spent most of
/// their time and memory in the allocator).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerSet {
    text: String,
    ends: Vec<u32>,
}

impl AnswerSet {
    pub fn new<S: AsRef<str>>(answers: &[S]) -> AnswerSet {
        let mut text = String::with_capacity(answers.iter().map(|a| a.as_ref().len()).sum());
        let mut ends = Vec::with_capacity(answers.len());
        for a in answers {
            text.push_str(a.as_ref());
            ends.push(text.len() as u32);
        }
        AnswerSet { text, ends }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map(|q| self.answer_at(q))
    }
}

impl AnswerList for AnswerSet {
    fn answer_at(&self, q: usize) -> &str {
        let Some(&end) = self.ends.get(q) else {
            return "";
        };
        let start = if q == 0 { 0 } else { self.ends[q - 1] };
        self.text.get(start as usize..end as usize).unwrap_or("")
    }
}

impl serde::Serialize for AnswerSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The answers a question's expressions read.
pub struct Sheet<'a> {
    pub form: &'a Form,
    pub answers: &'a dyn AnswerList,
}

impl Answers for Sheet<'_> {
    fn answer(&self, name: &str) -> &str {
        self.form
            .question(name)
            .map_or("", |i| self.answers.answer_at(i))
    }
}

impl Form {
    /// Whether question `q` is relevant: its own `relevant` and every
    /// enclosing group's hold, on the answers as given.
    pub fn relevant<A: AnswerList>(&self, q: usize, answers: &A) -> bool {
        self.relevant_in(q, answers)
    }

    fn relevant_in(&self, q: usize, answers: &dyn AnswerList) -> bool {
        let sheet = Sheet {
            form: self,
            answers,
        };
        let question = &self.questions[q];
        question.groups.iter().chain(std::iter::once(&q)).all(|&g| {
            self.questions[g]
                .relevant
                .as_ref()
                .is_none_or(|e| e.holds(&sheet, answers.answer_at(g)))
        })
    }

    /// Why the response does not count, if it does not. `seconds` is
    /// submitted − started.
    pub fn invalid<A: AnswerList>(&self, seconds: f64, answers: &A) -> Option<Invalid> {
        self.invalid_in(seconds, answers)
    }

    fn invalid_in(&self, seconds: f64, answers: &dyn AnswerList) -> Option<Invalid> {
        if seconds < self.min_seconds {
            return Some(Invalid::TooFast);
        }
        let answered = |q: usize| !answers.answer_at(q).is_empty();
        let relevant: Vec<bool> = (0..self.questions.len())
            .map(|q| self.questions[q].kind.answered() && self.relevant_in(q, answers))
            .collect();
        if (0..self.questions.len())
            .any(|q| self.questions[q].required && relevant[q] && !answered(q))
        {
            return Some(Invalid::Incomplete);
        }
        let sheet = Sheet {
            form: self,
            answers,
        };
        for (q, question) in self.questions.iter().enumerate() {
            if !question.kind.answered() || !answered(q) {
                continue;
            }
            if !relevant[q] {
                return Some(Invalid::Constraint);
            }
            if let Some(c) = &question.constraint
                && !c.holds(&sheet, answers.answer_at(q))
            {
                return Some(Invalid::Constraint);
            }
        }
        None
    }

    /// The same choice on at least 8 scored select_one items that feed an
    /// element (only answers whose choice has a score count).
    pub fn straightlining<A: AnswerList + ?Sized>(&self, answers: &A) -> bool {
        let mut first: Option<&str> = None;
        let mut n = 0;
        for (q, question) in self.questions.iter().enumerate() {
            let Kind::SelectOne(l) = question.kind else {
                continue;
            };
            if question.element.is_none() {
                continue;
            }
            let a = answers.answer_at(q);
            if self.lists[l].get(a).is_none_or(|c| c.score.is_none()) {
                continue;
            }
            match first {
                None => first = Some(a),
                Some(f) if f != a => return false,
                Some(_) => {}
            }
            n += 1;
        }
        n >= 8
    }

    /// A respondent's value per element of `elements`: the mean score of
    /// their scored answers to the items feeding it.
    pub fn values<A: AnswerList + ?Sized>(
        &self,
        elements: &[String],
        answers: &A,
    ) -> Vec<Option<f64>> {
        let mut sum = vec![0.0; elements.len()];
        let mut n = vec![0usize; elements.len()];
        for (q, question) in self.questions.iter().enumerate() {
            let (Kind::SelectOne(l), Some(e)) = (&question.kind, &question.element) else {
                continue;
            };
            let Some(ei) = elements.iter().position(|x| x == e) else {
                continue;
            };
            let a = answers.answer_at(q);
            if let Some(score) = self.lists[*l].get(a).and_then(|c| c.score) {
                sum[ei] += score;
                n[ei] += 1;
            }
        }
        sum.iter()
            .zip(&n)
            .map(|(s, &k)| (k > 0).then(|| s / k as f64))
            .collect()
    }
}

/// Seconds since 1970 of an RFC 3339 time (`2024-05-01T10:00:00+08:00`,
/// `…Z`, fractions allowed) or of `YYYY-MM-DD HH:MM:SS` in China time.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if b[4] != b'-'
        || b[7] != b'-'
        || b[13] != b':'
        || b[16] != b':'
        || !matches!(b[10], b'T' | b't' | b' ')
    {
        return None;
    }
    if !(1..=12).contains(&mo)
        || d < 1
        || d > crate::period::days_in_month(y as i32, mo as u8) as i64
        || h > 23
        || mi > 59
        || se > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits: String = r.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        frac = format!("0.{digits}").parse().ok()?;
        rest = &r[digits.len()..];
    }
    let offset_min: i64 = match rest {
        // A time without an offset is China time.
        "" => 8 * 60,
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let hh: i64 = o[1..3].parse().ok()?;
            let mm: i64 = o[4..6].parse().ok()?;
            if hh > 23 || mm > 59 {
                return None;
            }
            let v = hh * 60 + mm;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some(secs as f64 + frac)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::form::{Form, Sheet as Grid};

    fn grid(name: &str, rows: &[&[&str]]) -> Grid {
        Grid {
            name: name.into(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    fn form() -> Form {
        let survey = grid(
            "survey",
            &[
                &[
                    "type",
                    "name",
                    "label",
                    "required",
                    "relevant",
                    "constraint",
                    "element",
                ],
                &[
                    "integer",
                    "age",
                    "年龄",
                    "yes",
                    "",
                    ". >= 16 and . <= 100",
                    "",
                ],
                &["select_one yn", "kids", "有孩子吗", "yes", "", "", ""],
                &["begin_group", "k", "孩子", "", "${kids} = 'y'", "", ""],
                &[
                    "select_one safe",
                    "child_safe",
                    "孩子安全吗",
                    "yes",
                    "",
                    "",
                    "safety_index",
                ],
                &["end_group", "", "", "", "", "", ""],
                &[
                    "select_one safe",
                    "q1",
                    "安全吗",
                    "",
                    "",
                    "",
                    "safety_index",
                ],
                &[
                    "select_one safe",
                    "q2",
                    "满意吗",
                    "",
                    "",
                    "",
                    "police_satisfaction",
                ],
            ],
        );
        let choices = grid(
            "choices",
            &[
                &["list_name", "name", "label", "score"],
                &["yn", "y", "是", ""],
                &["yn", "n", "否", ""],
                &["safe", "5", "很安全", "100"],
                &["safe", "4", "安全", "80"],
                &["safe", "0", "说不清", ""],
            ],
        );
        let settings = grid(
            "settings",
            &[&["form_id", "version", "min_seconds"], &["f", "1", "30"]],
        );
        Form::from_sheets(Some(&survey), Some(&choices), Some(&settings), &|_| true).unwrap()
    }

    fn answers(a: &[&str]) -> Vec<String> {
        // age, kids, (group), child_safe, (end), q1, q2
        let mut v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        v.insert(2, String::new());
        v.insert(4, String::new());
        v
    }

    #[test]
    fn validity_in_order() {
        let f = form();
        let ok = answers(&["40", "y", "5", "4", "0"]);
        assert_eq!(f.invalid(100.0, &ok), None);
        assert_eq!(f.invalid(29.9, &ok), Some(Invalid::TooFast));
        // Required inside a relevant group, left blank.
        assert_eq!(
            f.invalid(100.0, &answers(&["40", "y", "", "4", ""])),
            Some(Invalid::Incomplete)
        );
        // Not relevant: not required, and must be blank.
        assert_eq!(f.invalid(100.0, &answers(&["40", "n", "", "4", ""])), None);
        assert_eq!(
            f.invalid(100.0, &answers(&["40", "n", "5", "4", ""])),
            Some(Invalid::Constraint)
        );
        assert_eq!(
            f.invalid(100.0, &answers(&["12", "n", "", "", ""])),
            Some(Invalid::Constraint)
        );
        let v = f.values(&f.elements(), &ok);
        assert_eq!(v, vec![Some(90.0), None], "说不清 has no score");
        // The same answers in one buffer read the same.
        let set = AnswerSet::new(&ok);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            ok.iter().map(|s| s.as_str()).collect::<Vec<_>>()
        );
        assert_eq!((set.answer_at(1), set.answer_at(99)), ("y", ""));
        assert_eq!(f.values(&f.elements(), &set), v);
        assert_eq!(f.invalid(100.0, &set), None);
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            serde_json::to_string(&ok).unwrap()
        );
    }

    #[test]
    fn times() {
        let a = parse_time("2024-05-01T10:00:00+08:00").unwrap();
        assert_eq!(parse_time("2024-05-01 10:00:00"), Some(a), "local = UTC+8");
        assert_eq!(parse_time("2024-05-01T02:00:00Z"), Some(a));
        assert_eq!(parse_time("2024-05-01T02:00:30.5Z"), Some(a + 30.5));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_time("2024-05-01T10:00:00"), Some(a));
        for bad in [
            "2024-13-01 10:00:00",
            "2024-02-30 10:00:00",
            "2024-05-01",
            "2024-05-01T10:00:00+8",
            "x",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
