//! The `frameworks`, `elements` and `departments` tables: framework
//! versions, each applying from its first year until a later one replaces
//! it. A version's row is only ever inserted, never changed, so an id
//! always means the same framework and is parsed once per store.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result};
use pingan_core::framework::check;
use pingan_core::labels::LedgerAction;
use pingan_core::{Framework, default_framework};
use serde_json::json;
use std::sync::Arc;

/// A framework version as stored.
pub(crate) struct Version {
    pub id: i64,
    pub framework: Arc<Framework>,
}

/// A stored framework version, without its text.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct FrameworkRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The first year it applies to; a later version replaces it.
    pub year_from: i32,
    pub sha256: String,
    pub imported_at: String,
    pub imported_by: String,
}

/// A framework version to store.
pub struct NewFramework<'a> {
    pub framework: &'a Framework,
    pub year_from: i32,
    /// The TOML text, kept as it came.
    pub source: &'a str,
    pub sha256: &'a str,
}

impl Store {
    /// The version in force for `year`: the latest imported one whose first
    /// year is not after it.
    pub(crate) async fn version_for(&self, year: i32) -> Result<Option<Version>> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM frameworks WHERE year_from <= $1 ORDER BY year_from DESC, id DESC LIMIT 1"
        ).bind(year).fetch_optional(p).await)?;
        let Some((id,)) = row else { return Ok(None) };
        Ok(self
            .parsed_framework(id)
            .await?
            .map(|framework| Version { id, framework }))
    }

    /// Framework version `id`, parsed once per store.
    async fn parsed_framework(&self, id: i64) -> Result<Option<Arc<Framework>>> {
        if let Some(f) = self
            .parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(Some(f.clone()));
        }
        let row: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT source FROM frameworks WHERE id = $1"
        ).bind(id).fetch_optional(p).await)?;
        let Some(framework) = row.and_then(|(src,)| check(&src).framework) else {
            return Ok(None);
        };
        let framework = Arc::new(framework);
        self.parsed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, framework.clone());
        Ok(Some(framework))
    }

    /// The framework in force for `year`, if any version is stored.
    pub async fn framework_for_year(&self, year: i32) -> Result<Option<Framework>> {
        Ok(self
            .version_for(year)
            .await?
            .map(|v| v.framework.as_ref().clone()))
    }

    /// Every element and benchmark any stored version knows: what an import
    /// may name (the built-in framework when none is stored yet).
    pub async fn known_codes(&self) -> Result<Framework> {
        let ids: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM frameworks ORDER BY id DESC"
        ).fetch_all(p).await)?;
        let mut versions = Vec::with_capacity(ids.len());
        for (id,) in ids {
            versions.extend(self.parsed_framework(id).await?);
        }
        let mut all: Option<Framework> = None;
        for fw in versions {
            let fw = fw.as_ref().clone();
            match &mut all {
                None => all = Some(fw),
                Some(a) => {
                    for e in fw.elements {
                        if a.element_index(&e.code).is_none() {
                            a.elements.push(e);
                        }
                    }
                    for b in fw.benchmarks {
                        if a.benchmark_index(&b.code).is_none() {
                            a.benchmarks.push(b);
                        }
                    }
                }
            }
        }
        Ok(all.unwrap_or_else(default_framework))
    }

    /// Every stored version, newest first.
    pub async fn framework_records(&self) -> Result<Vec<FrameworkRecord>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, code, name, year_from, sha256, imported_at, imported_by FROM frameworks ORDER BY id DESC"
        ).fetch_all(p).await)?)
    }

    /// The newest version starting in `year_from`: its id and SHA-256.
    pub async fn latest_framework(&self, year_from: i32) -> Result<Option<(i64, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, sha256 FROM frameworks WHERE year_from = $1 ORDER BY id DESC LIMIT 1"
        ).bind(year_from).fetch_optional(p).await)?)
    }

    /// Store a version with its elements and departments; every stored
    /// score from its first year on goes (they are scored with it now).
    /// The ledger entry's `detail` gets the new id as `import_id`.
    pub async fn insert_framework(
        &self,
        f: &NewFramework<'_>,
        mut detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<i64> {
        let fw = f.framework;
        let at = crate::now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO frameworks (code, name, year_from, source, sha256, imported_at, imported_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&fw.code).bind(&fw.name).bind(f.year_from).bind(f.source).bind(f.sha256)
        .bind(&at).bind(&actor.user)
        .fetch_one(&mut **c).await)?;
        for e in &fw.elements {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO elements (framework_id, code, name, unit, department) VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(id).bind(&e.code).bind(&e.name).bind(&e.unit).bind(&e.department)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            if !e.department.is_empty() {
                on_tx!(tx, c => sqlx::query(
                    "INSERT INTO departments (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"
                )
                .bind(&e.department).execute(&mut **c).await.map(|r| r.rows_affected()))?;
            }
        }
        on_tx!(tx, c => sqlx::query("DELETE FROM score_runs WHERE period >= $1")
            .bind(f.year_from.to_string()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        detail["import_id"] = json!(id);
        let object = format!("framework:{}@{}", fw.code, f.year_from);
        tx.append(
            actor,
            &NewEntry::new(LedgerAction::ImportFramework, &object, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
