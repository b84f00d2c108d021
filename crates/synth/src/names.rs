//! Invented Chinese place names from two syllable lists.
//!
//! Names only have to look plausible and be unique within their parent; any
//! resemblance to a real place is a coincidence the demo can live with.

use std::collections::HashSet;

use crate::rng::Stream;

const FIRST: &[&str] = &[
    "青", "云", "临", "安", "泰", "兴", "宁", "平", "嘉", "南", "江", "永", "长", "明", "金", "丰",
    "阳", "宜", "清", "汉", "华", "瑞", "德", "新", "龙", "凤", "石", "白", "玉", "桂", "梅", "松",
    "柳", "湘", "梧", "桃", "枫", "银", "碧", "翠", "富", "庆", "吉", "昌", "盛", "和", "顺", "康",
    "宝", "乐", "福", "东", "西", "北", "中", "大", "沙", "望", "鹤", "崇",
];

const SECOND: &[&str] = &[
    "川", "州", "山", "江", "河", "阳", "平", "宁", "安", "源", "泉", "湖", "林", "岭", "城", "原",
    "水", "峰", "溪", "陵", "浦", "桥", "沙", "田", "塘", "口", "坪", "湾", "洲", "谷", "岗", "坝",
    "渡", "关", "门", "台", "滨", "丘",
];

/// Draws names unique within one parent (the caller keeps one `Namer` per parent).
pub(crate) struct Namer {
    used: HashSet<String>,
}

impl Namer {
    pub(crate) fn new() -> Self {
        Namer {
            used: HashSet::new(),
        }
    }

    /// Reserve a fixed name (e.g. 城关镇) if it is still free.
    pub(crate) fn take_fixed(&mut self, name: &str) -> Option<String> {
        self.used.insert(name.to_owned()).then(|| name.to_owned())
    }

    pub(crate) fn draw(&mut self, s: &mut Stream, suffix: &str) -> String {
        // Random tries first; a deterministic scan guarantees termination even
        // when a parent has hundreds of children.
        for _ in 0..32 {
            let (a, b) = (FIRST[s.below(FIRST.len())], SECOND[s.below(SECOND.len())]);
            if let Some(n) = self.accept(a, b, suffix) {
                return n;
            }
        }
        let start = s.below(FIRST.len() * SECOND.len());
        for i in 0..FIRST.len() * SECOND.len() {
            let k = (start + i) % (FIRST.len() * SECOND.len());
            if let Some(n) = self.accept(FIRST[k / SECOND.len()], SECOND[k % SECOND.len()], suffix)
            {
                return n;
            }
        }
        // More children than two-syllable names: fall back to three syllables.
        let mut n = 0usize;
        loop {
            let a = FIRST[n % FIRST.len()];
            let b = FIRST[(n / FIRST.len()) % FIRST.len()];
            let c = SECOND[(n / (FIRST.len() * FIRST.len())) % SECOND.len()];
            let name = format!("{a}{b}{c}{suffix}");
            if self.used.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }

    fn accept(&mut self, a: &str, b: &str, suffix: &str) -> Option<String> {
        if a == b {
            return None; // 江江, 平平: not a place name
        }
        let name = format!("{a}{b}{suffix}");
        self.used.insert(name.clone()).then_some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_unique_past_the_two_syllable_space() {
        let mut s = Stream::new(&[7]);
        let mut namer = Namer::new();
        let n = FIRST.len() * SECOND.len() + 50;
        let names: HashSet<String> = (0..n).map(|_| namer.draw(&mut s, "镇")).collect();
        assert_eq!(names.len(), n);
        assert!(names.iter().all(|x| x.ends_with('镇')));
    }
}
