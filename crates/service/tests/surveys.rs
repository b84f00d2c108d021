//! Surveys in the store, on SQLite and PostgreSQL: the questionnaire,
//! frame and margins of a year; responses imported all or nothing and
//! idempotent on instance_id; estimates from the store equal those from
//! the files; applying them stores the nine elements under 群众调查.

use pingan_service::testing::Db;
use pingan_service::{Caller, ServiceError, both, cap, surveys};

struct Files {
    form: Vec<u8>,
    frame: String,
    margins: String,
    responses: String,
    regions: String,
}

async fn load(db: &Db) -> Files {
    let opts = pingan_synth::Options {
        seed: 8,
        cities: 2,
        counties: 3,
        townships: 12,
        first_year: 2024,
        last_year: 2024,
        anomalies: 0,
    };
    let p = pingan_synth::generate(&opts).unwrap();
    db.load(&p.regions, &p.benchmarks, &p.values).await.unwrap();
    let s = pingan_synth::generate_survey(
        &opts,
        &pingan_synth::SurveyOptions {
            year: 2024,
            respondents: 1500,
        },
    )
    .unwrap();
    Files {
        form: pingan_input::survey::write_form(&pingan_core::survey::default::sheets()).unwrap(),
        frame: s.frame,
        margins: s.margins,
        responses: s.responses,
        regions: p.regions,
    }
}

both!(a_survey_from_files_to_scores, |db: &Db| {
    let db = db.clone();
    async move { survey(&db).await }
});

async fn survey(db: &Db) {
    let f = load(db).await;
    let op = Caller::operator("tester");
    let who = op.authorize::<cap::SurveyManage>().unwrap();
    let answers = op.authorize::<cap::SurveyAnswers>().unwrap();
    let ctx = &db.ctx;
    // Responses need a form and a frame first.
    let e = surveys::import_responses(ctx, &answers, 2024, "r.csv", f.responses.as_bytes(), false)
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("还没有调查问卷"), "{e}");
    let (form, new) = surveys::import_form(ctx, &who, 2024, "form.xlsx", &f.form)
        .await
        .unwrap();
    assert!(new);
    assert_eq!(form.form.elements().len(), 9);
    let (_, new) = surveys::import_form(ctx, &who, 2024, "form.xlsx", &f.form)
        .await
        .unwrap();
    assert!(!new, "the same questionnaire again changes nothing");
    surveys::import_frame(ctx, &who, 2024, "frame.csv", f.frame.as_bytes())
        .await
        .unwrap();
    surveys::import_margins(ctx, &who, 2024, "margins.csv", f.margins.as_bytes())
        .await
        .unwrap();

    // A dry run writes nothing; the import stores every distinct response.
    let before = db
        .audit_entries(&Default::default(), None)
        .await
        .unwrap()
        .len();
    let dry = surveys::import_responses(ctx, &answers, 2024, "r.csv", f.responses.as_bytes(), true)
        .await
        .unwrap();
    assert_eq!(
        db.audit_entries(&Default::default(), None)
            .await
            .unwrap()
            .len(),
        before
    );
    let s = surveys::import_responses(ctx, &answers, 2024, "r.csv", f.responses.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!((s.imported, s.valid), (dry.imported, dry.valid));
    assert!(
        s.imported > 1000 && s.duplicates > 0 && s.too_fast > 0,
        "{s:?}"
    );
    let again =
        surveys::import_responses(ctx, &answers, 2024, "r.csv", f.responses.as_bytes(), false)
            .await
            .unwrap();
    assert_eq!(again.imported, 0);
    assert_eq!(again.import_id, None, "nothing new: nothing written");

    // The same instance with other content: refused whole, naming it.
    let header = f.responses.lines().next().unwrap();
    let first = f.responses.lines().nth(1).unwrap();
    let mut fields: Vec<&str> = first.split(',').collect();
    fields[3] = if fields[3] == "hotline" {
        "online"
    } else {
        "hotline"
    };
    let changed = fields.join(",");
    assert_ne!(changed, first);
    let bad = format!("{header}\n{changed}\n");
    match surveys::import_responses(ctx, &answers, 2024, "bad.csv", bad.as_bytes(), false).await {
        Err(ServiceError::Conflict(m)) => {
            let id = first.split(',').next().unwrap();
            assert!(m.contains(id) && m.contains("bad.csv:2"), "{m}");
        }
        other => panic!("expected a conflict: {other:?}"),
    }

    // Estimates from the store equal those from the files.
    let est = surveys::estimates(ctx, 2024, 30).await.unwrap();
    let fw = pingan_core::default_framework();
    let tree = pingan_input::read_regions("r", f.regions.as_bytes()).unwrap();
    let known = |e: &str| fw.element_index(e).is_some();
    let form = pingan_input::survey::read_form("f", &f.form, &known).unwrap();
    let frame = pingan_input::survey::read_frame("f", f.frame.as_bytes(), &tree).unwrap();
    let in_frame: std::collections::HashSet<usize> = frame.iter().map(|x| x.0).collect();
    let read =
        pingan_input::survey::read_responses("r", f.responses.as_bytes(), &form, &tree, &|r| {
            in_frame.contains(&r)
        })
        .unwrap();
    let margins =
        pingan_input::survey::read_margins("m", f.margins.as_bytes(), &tree, &form).unwrap();
    let from_files = pingan_core::survey::run::run(
        &form,
        &tree,
        &frame,
        &read.rows,
        read.duplicates,
        &margins,
        30,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&est).unwrap(),
        serde_json::to_string(&from_files).unwrap()
    );

    // Kept estimates are versioned by their own year's survey writes only.
    let v2024 = db.survey_version(2024).await.unwrap();
    assert!(v2024 > 0);
    assert_eq!(db.survey_version(2023).await.unwrap(), 0);
    let kept = surveys::kept_estimates(ctx, 2024, 30).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &kept,
        &surveys::kept_estimates(ctx, 2024, 30).await.unwrap()
    ));
    assert_eq!(*kept, est);

    // Applied: the nine elements of the year come from the survey.
    let summary = surveys::apply(ctx, &who, 2024, 30, false).await.unwrap();
    assert!(summary.imported > 0 && summary.rescored.contains(&"2024".to_string()));
    let province = &est.regions[0];
    let safety = province
        .elements
        .iter()
        .find(|e| e.element == "safety_index")
        .unwrap();
    let stored = db
        .values(Some(&province.region), Some("2024"), Some("safety_index"))
        .await
        .unwrap();
    let v = stored.iter().find(|v| v.source == surveys::SOURCE).unwrap();
    assert_eq!(Some(v.value), safety.estimate);
    let ledger = db.audit_entries(&Default::default(), None).await.unwrap();
    for action in [
        "survey_form",
        "survey_frame",
        "survey_margins",
        "survey_responses",
        "import_values",
    ] {
        assert!(
            ledger.iter().any(|e| e.action == action),
            "{action} in the ledger"
        );
    }
}
