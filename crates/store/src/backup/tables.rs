//! The backup format's tables: every table and column in restore order,
//! which were added later (optional in older backups), which have id
//! sequences, and which are left out and why.

use super::Kind::*;
use super::Table;

/// The tables of the first releases (migrations 1–21).
pub(super) const FIRST: &[Table] = &[
    ("meta", &[("key", Text), ("value", Text)]),
    (
        "regions",
        &[
            ("code", Text),
            ("name", Text),
            ("parent", OptText),
            ("level", Text),
            ("valid_from", OptText),
            ("valid_to", OptText),
            ("ord", Int),
        ],
    ),
    ("departments", &[("name", Text)]),
    (
        "frameworks",
        &[
            ("id", Int),
            ("code", Text),
            ("name", Text),
            ("year_from", Int32),
            ("source", Text),
            ("sha256", Text),
            ("imported_at", Text),
            ("imported_by", Text),
        ],
    ),
    (
        "elements",
        &[
            ("framework_id", Int),
            ("code", Text),
            ("name", Text),
            ("unit", Text),
            ("department", Text),
        ],
    ),
    (
        "imports",
        &[
            ("id", Int),
            ("kind", Text),
            ("file", Text),
            ("sha256", Text),
            ("rows", Int),
            ("imported", Int),
            ("updated", Int),
            ("ignored", Int),
            ("user_name", Text),
            ("client", Text),
            ("at", Text),
        ],
    ),
    (
        "data_values",
        &[
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("element", Text),
            ("source", Text),
            ("value", Float),
            ("note", Text),
            ("submitted_by", Text),
            ("submitted_at", Text),
            ("import_id", OptInt),
            ("review", Text),
        ],
    ),
    (
        "benchmarks",
        &[
            ("code", Text),
            ("period", Text),
            ("year", Int32),
            ("value", Float),
            ("import_id", OptInt),
        ],
    ),
    (
        "score_runs",
        &[
            ("id", Int),
            ("framework_id", Int),
            ("period", Text),
            ("computed_at", Text),
        ],
    ),
    (
        "score_results",
        &[
            ("run_id", Int),
            ("ord", Int),
            ("region", Text),
            ("level", Text),
            ("result", Text),
        ],
    ),
    (
        "audit",
        &[
            ("id", Int),
            ("at", Text),
            ("user_name", Text),
            ("action", Text),
            ("object", Text),
            ("detail", Text),
            ("reason", Text),
            ("client", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
    ),
    ("audit_head", &[("id", Int32), ("seq", Int), ("hash", Text)]),
    (
        "users",
        &[
            ("id", Int),
            ("username", Text),
            ("password_hash", Text),
            ("roles", Text),
            ("region", OptText),
            ("department", OptText),
            ("must_change", Bool),
            ("failed_logins", Int),
            ("locked_until", OptText),
            ("totp_secret", OptText),
            ("disabled", Bool),
            ("created_at", Text),
            ("password_changed_at", Text),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Int),
            ("name", Text),
            ("token_hash", Text),
            ("department", Text),
            ("region", OptText),
            ("created_by", Text),
            ("created_at", Text),
            ("expires_at", Text),
            ("revoked_at", OptText),
        ],
    ),
    (
        "login_history",
        &[
            ("id", Int),
            ("username", Text),
            ("at", Text),
            ("client", Text),
            ("success", Bool),
            ("reason", Text),
        ],
    ),
    (
        "quality_flags",
        &[
            ("id", Int),
            ("region", Text),
            ("element", Text),
            ("period", Text),
            ("year", Int32),
            ("kind", Text),
            ("rule", Text),
            ("score", Float),
            ("message", Text),
            ("detail", Text),
            ("status", Text),
            ("found_at", Text),
            ("found_by", Text),
            ("resolved_at", OptText),
            ("resolved_by", OptText),
            ("resolution", Text),
            ("corrected_value", OptFloat),
        ],
    ),
    (
        "data_sets",
        &[
            ("department", Text),
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("state", Text),
            ("reason", Text),
            ("submitted_by", Text),
            ("submitted_at", Text),
            ("level1_by", OptText),
            ("level2_by", OptText),
            ("level3_by", OptText),
            ("updated_by", Text),
            ("updated_at", Text),
        ],
    ),
    (
        "data_set_events",
        &[
            ("id", Int),
            ("department", Text),
            ("region", Text),
            ("period", Text),
            ("action", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("reason", Text),
            ("user_name", Text),
            ("at", Text),
        ],
    ),
    (
        "verify_tasks",
        &[
            ("id", Int),
            ("region", Text),
            ("period", Text),
            ("year", Int32),
            ("elements", Text),
            ("checklist", Text),
            ("origin", Text),
            ("flag_id", OptInt),
            ("parent_id", OptInt),
            ("note", Text),
            ("status", Text),
            ("created_by", Text),
            ("created_at", Text),
        ],
    ),
    (
        "verify_records",
        &[
            ("id", Int),
            ("task_id", Int),
            ("team", Text),
            ("verifier_a", Text),
            ("verifier_b", Text),
            ("checklist", Text),
            ("observed", Text),
            ("notes", Text),
            ("latitude", Float),
            ("longitude", Float),
            ("recorded_by", Text),
            ("recorded_at", Text),
            ("confirmed_by", OptText),
            ("confirmed_at", OptText),
        ],
    ),
    (
        "verify_photos",
        &[
            ("id", Int),
            ("record_id", Int),
            ("file_name", Text),
            ("mime", Text),
            ("size", Int),
            ("sha256", Text),
            ("data", Text),
            ("uploaded_by", Text),
            ("uploaded_at", Text),
        ],
    ),
    (
        "cases",
        &[
            ("case_id", Text),
            ("region", Text),
            ("date", Text),
            ("year", Int32),
            ("kind", Text),
            ("outcome", Text),
            ("agreement", Bool),
            ("fulfilled", Bool),
            ("note", Text),
            ("import_id", OptInt),
            ("imported_by", Text),
            ("imported_at", Text),
        ],
    ),
    (
        "callback_draws",
        &[
            ("id", Int),
            ("region", Text),
            ("year", Int32),
            ("rate", Float),
            ("seed", Int),
            ("eligible", Int),
            ("drawn_at", Text),
            ("drawn_by", Text),
        ],
    ),
    (
        "callbacks",
        &[
            ("draw_id", Int),
            ("case_id", Text),
            ("ord", Int),
            ("result", OptText),
            ("note", Text),
            ("called_by", OptText),
            ("called_at", OptText),
        ],
    ),
    (
        "survey_forms",
        &[
            ("id", Int),
            ("year", Int32),
            ("form_id", Text),
            ("version", Text),
            ("title", Text),
            ("sheets", Text),
            ("sha256", Text),
            ("imported_by", Text),
            ("imported_at", Text),
        ],
    ),
    (
        "survey_frame",
        &[
            ("year", Int32),
            ("region", Text),
            ("population", Int),
            ("ord", Int),
        ],
    ),
    (
        "survey_margins",
        &[
            ("year", Int32),
            ("region", Text),
            ("variable", Text),
            ("category", Text),
            ("population", Float),
            ("ord", Int),
        ],
    ),
    (
        "survey_responses",
        &[
            ("form", Int),
            ("instance_id", Text),
            ("region", Text),
            ("channel", Text),
            ("started", Text),
            ("submitted", Text),
            ("seconds", Float),
            ("answers", Text),
            ("digest", Text),
            ("verdict", OptText),
            ("straightlining", Bool),
            ("import_id", OptInt),
            ("ord", Int),
            ("interviewer", OptText),
            ("assisted", OptBool),
        ],
    ),
    (
        "survey_plans",
        &[
            ("year", Int32),
            ("size", Int),
            ("allocation", Text),
            ("min_per", Int),
            ("response_rate", Text),
            ("made_by", Text),
            ("made_at", Text),
        ],
    ),
    ("survey_keys", &[("year", Int32), ("secret", Text)]),
    (
        "survey_respondents",
        &[("year", Int32), ("digest", Text), ("instance_id", Text)],
    ),
    (
        "survey_invitations_used",
        &[
            ("year", Int32),
            ("region", Text),
            ("serial", Int),
            ("instance_id", Text),
            ("used_at", Text),
        ],
    ),
    (
        "events",
        &[
            ("event_id", Text),
            ("kind", Text),
            ("region", Text),
            ("category", Text),
            ("urgency", OptText),
            ("departments", Int32),
            ("reported_at", Float),
            ("handled_at", OptFloat),
            ("dispatched_at", OptFloat),
            ("arrived_at", OptFloat),
            ("updated_at", Float),
            ("month", Text),
            ("digest", Text),
            ("import_id", Int),
        ],
    ),
    (
        "opinions",
        &[
            ("id", Int),
            ("year", Int32),
            ("region", Text),
            ("text", Text),
            ("at", Text),
        ],
    ),
    (
        "problems",
        &[
            ("id", Int),
            ("year", Int32),
            ("region", Text),
            ("origin", Text),
            ("title", Text),
            ("evidence", Text),
            ("status", Text),
            ("made_by", Text),
            ("made_at", Text),
        ],
    ),
];

/// Tables a backup leaves out, and why: sessions and the login guard are
/// the running server's, value changes only tell the kept caches what to
/// read again, and the event counts are rebuilt from the events. (The
/// guard test reads it: a new table must be kept or listed here.)
#[cfg(test)]
pub(super) const NOT_KEPT: &[&str] = &[
    "sessions",
    "login_guard",
    "value_changes",
    "event_counts",
    "event_classes",
    "exports",
    "export_parts",
];

/// Tables added after the backup format was first released.
pub(super) const OPTIONAL: &[&str] = &[
    "quality_flags",
    "data_sets",
    "data_set_events",
    "verify_tasks",
    "verify_records",
    "verify_photos",
    "cases",
    "callback_draws",
    "callbacks",
    "survey_forms",
    "survey_frame",
    "survey_margins",
    "survey_responses",
    "survey_plans",
    "survey_keys",
    "survey_invitations_used",
    "survey_respondents",
    "opinions",
    "problems",
    "events",
    "notices",
    "report_edits",
    "rectify_items",
    "rectify_steps",
    "rectify_files",
    "publications",
    "objections",
    "result_uses",
    "interviews",
    "deductions",
    "boundaries",
    "forecasts",
    "risk_runs",
    "risk_warnings",
];

/// Tables whose id column is generated (sequences to advance on PostgreSQL).
pub(super) const SERIAL: &[&str] = &[
    "frameworks",
    "opinions",
    "problems",
    "imports",
    "score_runs",
    "users",
    "api_tokens",
    "login_history",
    "quality_flags",
    "data_set_events",
    "verify_tasks",
    "verify_records",
    "verify_photos",
    "callback_draws",
    "survey_forms",
    "rectify_items",
    "rectify_steps",
    "rectify_files",
    "objections",
    "result_uses",
    "interviews",
    "deductions",
];

#[cfg(test)]
mod tests {
    use super::super::TABLES;
    use super::{NOT_KEPT, OPTIONAL};

    /// A table a migration adds must be in the backup or said not to be:
    /// a restore that silently drops a table loses that data.
    #[tokio::test]
    async fn every_table_is_kept_or_said_not_to_be() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = crate::Store::open(&url).await.unwrap();
        let crate::db::Pool::Sqlite(pool) = &store.pool else {
            unreachable!("a SQLite URL")
        };
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let kept: Vec<&str> = TABLES.iter().map(|t| t.0).collect();
        let missing: Vec<&str> = names
            .iter()
            .map(|n| n.0.as_str())
            .filter(|n| !kept.contains(n) && !NOT_KEPT.contains(n))
            .collect();
        assert!(missing.is_empty(), "tables not in the backup: {missing:?}");
        for t in &kept {
            assert!(
                names.iter().any(|n| n.0 == *t),
                "the backup lists {t}, which no migration makes"
            );
        }
        for t in OPTIONAL {
            assert!(kept.contains(t), "{t} is optional but not kept");
        }
        store.close().await;
    }
}
