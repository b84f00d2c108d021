use super::*;
use pingan_core::RegionTree;

fn fw() -> pingan_core::Framework {
    pingan_core::default_framework()
}

#[test]
fn the_default_questionnaire_round_trips_through_xlsx() {
    let fw = fw();
    let known = |e: &str| fw.element_index(e).is_some();
    let bytes = write_form(&pingan_core::survey::default::sheets()).unwrap();
    let f = read_form("f.xlsx", &bytes, &known).unwrap();
    let d = pingan_core::survey::default::form(&known).unwrap();
    assert_eq!(f.elements(), d.elements());
    assert_eq!(f.questions.len(), d.questions.len());
    assert_eq!(f.lists.len(), d.lists.len());
    let e = read_form("f.xlsx", b"not a workbook", &known).unwrap_err();
    assert!(e[0].starts_with("f.xlsx: 不是 Excel"), "{e:?}");
}

fn tree() -> RegionTree {
    crate::read_regions(
        "r.csv",
        "code,name,parent,level\n99,省,,province\n9901,县,99,county\n990101,镇,9901,township\n"
            .as_bytes(),
    )
    .unwrap()
}

fn form() -> Form {
    let fw = fw();
    pingan_core::survey::default::form(&|e| fw.element_index(e).is_some()).unwrap()
}

#[test]
fn responses_read_with_their_errors_named() {
    let (t, f) = (tree(), form());
    let head = "instance_id,form_version,region,channel,started,submitted,sex,age_group,q_safety\n";
    let ok = "a,1,990101,online,2024-10-01 10:00:00,2024-10-01T02:05:00Z,m,16_29,1\n";
    let r = read_responses(
        "r.csv",
        format!("{head}{ok}{ok}").as_bytes(),
        &f,
        &t,
        &|_| true,
    )
    .unwrap();
    assert_eq!((r.rows.len(), r.duplicates), (1, 1));
    assert_eq!(r.rows[0].seconds, 300.0);
    let bad = format!(
        "{head}a,1,990101,online,2024-10-01 10:00:00,2024-10-01 10:05:00,m,16_29,1\n\
         a,1,990101,online,2024-10-01 10:00:00,2024-10-01 10:05:00,f,16_29,1\n\
         b,2,990101,web,2024-10-01,x,m,old,7\n\
         c,1,9901,online,2024-10-01 10:00:00,2024-10-01 10:05:00,m,16_29,1\n"
    );
    let e = read_responses("r.csv", bad.as_bytes(), &f, &t, &|r| r == 2)
        .unwrap_err()
        .to_string();
    for want in [
        "r.csv:3: instance_id“a”与第 2 行重复但内容不同",
        "r.csv:4: 问卷版本“2”",
        "r.csv:4: 未知的渠道“web”",
        "r.csv:4: started“2024-10-01”不是时间",
        "r.csv:4: 题目 age_group 的选项“old”不在选项列表",
        "r.csv:4: 题目 q_safety 的选项“7”",
        "r.csv:5: 地区“9901”不在抽样框中",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
    let e = read_responses("r.csv", b"instance_id,nope\n", &f, &t, &|_| true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("缺少必需的列“form_version”") && e.contains("未知的列“nope”"),
        "{e}"
    );
}

#[test]
fn items_are_checked_as_rows_are() {
    let (t, f) = (tree(), form());
    let head = |id: &'static str, version: &'static str, channel: &'static str| Head {
        instance_id: id,
        form_version: version,
        region: "990101",
        channel,
        started: "2024-10-01 10:00:00",
        submitted: "2024-10-01 10:05:00",
    };
    let item = |id, sex| Item {
        head: head(id, "1", "online"),
        answers: vec![("sex", sex), ("q_safety", "1")],
    };
    let ok = check_items(&[item("a", "m"), item("a", "m")], &f, &t, &|_| true).unwrap();
    assert_eq!((ok.rows.len(), ok.duplicates, ok.rows[0].line), (1, 1, 0));
    let bad = vec![
        item("a", "m"),
        item("a", "f"),
        Item {
            head: head("b", "2", "web"),
            answers: vec![("nope", "1"), ("sex", "x")],
        },
    ];
    let e = check_items(&bad, &f, &t, &|_| true).unwrap_err();
    let has = |i: usize, want: &str| e.iter().any(|(k, m)| *k == i && m.contains(want));
    assert!(has(1, "instance_id“a”与第 0 条重复但内容不同"), "{e:?}");
    assert!(has(2, "问卷版本“2”") && has(2, "未知的渠道“web”"), "{e:?}");
    assert!(
        has(2, "未知的题目“nope”") && has(2, "题目 sex 的选项“x”"),
        "{e:?}"
    );
}

#[test]
fn frames_and_margins_name_their_lines() {
    let (t, f) = (tree(), form());
    assert_eq!(
        read_frame("f.csv", b"region,population\n990101,5000\n", &t).unwrap(),
        vec![(2, 5000)]
    );
    let e = read_frame("f.csv", b"region,population\n9901,5\n990101,0\nzz,1\n", &t)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("f.csv:2: 地区“9901”不是基层地区")
            && e.contains("f.csv:3: 人口“0”")
            && e.contains("f.csv:4: 未知的地区代码"),
        "{e}"
    );
    let m = read_margins(
        "m.csv",
        b"region,variable,category,population\n9901,sex,m,10\n",
        &t,
        &f,
    )
    .unwrap();
    assert_eq!(m[0].population, 10.0);
    let e = read_margins(
        "m.csv",
        b"region,variable,category,population\n9901,sex,x,10\n9901,q_nope,m,1\n990101,sex,m,1\n",
        &t,
        &f,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("m.csv:2: 类别“x”")
            && e.contains("m.csv:3: 变量“q_nope”")
            && e.contains("m.csv:4: 地区“990101”是基层地区"),
        "{e}"
    );
}

proptest::proptest! {
    /// Arbitrary bytes never panic any survey reader.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let (t, f) = (tree(), form());
        let _ = read_form("f.xlsx", &bytes, &|_| true);
        let _ = read_frame("f.csv", &bytes, &t);
        let _ = read_margins("m.csv", &bytes, &t, &f);
        let _ = read_responses("r.csv", &bytes, &f, &t, &|_| true);
    }

    /// Response-like text: errors, never a panic.
    #[test]
    fn response_like_text_never_panics(s in "(instance_id,form_version,region,channel,started,submitted,sex,q_safety\n)?([0-9a-z:T+ ,\"\n-]|990101|online|2024-10-01 10:00:00|uuid){0,200}") {
        let (t, f) = (tree(), form());
        let _ = read_responses("r.csv", s.as_bytes(), &f, &t, &|_| true);
    }
}
