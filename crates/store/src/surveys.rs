//! The survey tables (migration 13): questionnaires per year, the year's
//! frame and county margins, and the distinct responses with their verdict.
//! Every write appends its ledger entry in the same transaction.

use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::{BATCH, on_tx, placeholders};
use crate::{Actor, Result, StoreError};
use pingan_core::labels::LedgerAction;
use serde_json::json;
use std::collections::HashMap;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredForm {
    pub id: i64,
    pub year: i32,
    pub form_id: String,
    pub version: String,
    pub title: String,
    /// The three XLSForm sheets as JSON: `[{"name": …, "rows": [[…]]}]`.
    pub sheets: String,
    pub sha256: String,
    pub imported_by: String,
    pub imported_at: String,
}

pub struct NewForm<'a> {
    pub year: i32,
    pub form_id: &'a str,
    pub version: &'a str,
    pub title: &'a str,
    pub sheets: &'a str,
    pub sha256: &'a str,
    pub file: &'a str,
}

/// One distinct response to store.
pub struct NewResponse {
    pub instance_id: String,
    pub region: String,
    pub channel: String,
    pub started: String,
    pub submitted: String,
    pub seconds: f64,
    /// JSON array of the answers, one per question of the form.
    pub answers: String,
    pub digest: String,
    pub verdict: Option<String>,
    pub straightlining: bool,
    /// Paradata of an interviewer's answer (None when self-completed).
    pub interviewer: Option<String>,
    pub assisted: Option<bool>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredResponse {
    pub instance_id: String,
    pub region: String,
    pub channel: String,
    pub started: String,
    pub submitted: String,
    pub seconds: f64,
    pub answers: String,
    pub verdict: Option<String>,
    pub straightlining: bool,
    pub interviewer: Option<String>,
    pub assisted: Option<bool>,
}

/// What a responses import writes: the file's record and counts.
pub struct ResponsesWrite<'a> {
    pub form: i64,
    /// The form's year (the ledger object names it).
    pub year: i32,
    pub file: &'a str,
    pub sha256: &'a str,
    /// Data rows in the file.
    pub rows: usize,
    /// Identical repeats (in the file or already stored).
    pub duplicates: usize,
    pub responses: &'a [NewResponse],
    pub detail: serde_json::Value,
}

/// A year's sampling plan parameters (survey.md §2).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SurveyPlan {
    pub year: i32,
    pub size: i64,
    /// `proportional` or `equal`.
    pub allocation: String,
    pub min_per: i64,
    /// As typed (`0.893`), so the invitations are computed exactly.
    pub response_rate: String,
    pub made_by: String,
    pub made_at: String,
}

/// Stored responses of one region with one verdict.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ResponseTally {
    pub region: String,
    pub verdict: Option<String>,
    pub responses: i64,
    pub straightlining: i64,
}

/// What claiming an invitation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Unused until now: it is this answer's.
    Fresh,
    /// Already this answer's (a retry).
    Same,
    /// Used by another answer.
    Taken,
}

impl Store {
    /// The year's invitation key, made on first use (random, 256 bits).
    pub async fn survey_key(&self, year: i32) -> Result<String> {
        let fresh = crate::random_token();
        on_pool!(self, p => sqlx::query(
            "INSERT INTO survey_keys (year, secret) VALUES ($1, $2) ON CONFLICT (year) DO NOTHING"
        ).bind(year).bind(&fresh).execute(p).await.map(|r| r.rows_affected()))?;
        let (key,): (String,) = on_pool!(self, p => sqlx::query_as(
            "SELECT secret FROM survey_keys WHERE year = $1"
        ).bind(year).fetch_one(p).await)?;
        Ok(key)
    }

    /// The answer an invitation brought, if it was used.
    pub async fn invitation_use(
        &self,
        year: i32,
        region: &str,
        serial: i64,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT instance_id FROM survey_invitations_used WHERE year = $1 AND region = $2 AND serial = $3"
        ).bind(year).bind(region).bind(serial).fetch_optional(p).await)?;
        Ok(row.map(|r| r.0))
    }

    /// Take an invitation for answer `instance`: at most one answer ever
    /// holds it, whatever arrives at once.
    pub async fn claim_invitation(
        &self,
        year: i32,
        region: &str,
        serial: i64,
        instance: &str,
    ) -> Result<Claim> {
        let n = on_pool!(self, p => sqlx::query(
            "INSERT INTO survey_invitations_used (year, region, serial, instance_id, used_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year, region, serial) DO NOTHING"
        ).bind(year).bind(region).bind(serial).bind(instance).bind(crate::now())
        .execute(p).await.map(|r| r.rows_affected()))?;
        if n == 1 {
            return Ok(Claim::Fresh);
        }
        Ok(match self.invitation_use(year, region, serial).await? {
            Some(i) if i == instance => Claim::Same,
            _ => Claim::Taken,
        })
    }

    /// Take a respondent (by the HMAC of their channel id) for answer
    /// `instance`: one answer per person and year.
    pub async fn claim_respondent(&self, year: i32, digest: &str, instance: &str) -> Result<Claim> {
        let n = on_pool!(self, p => sqlx::query(
            "INSERT INTO survey_respondents (year, digest, instance_id) VALUES ($1, $2, $3) \
             ON CONFLICT (year, digest) DO NOTHING"
        ).bind(year).bind(digest).bind(instance).execute(p).await.map(|r| r.rows_affected()))?;
        if n == 1 {
            return Ok(Claim::Fresh);
        }
        let row: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT instance_id FROM survey_respondents WHERE year = $1 AND digest = $2"
        ).bind(year).bind(digest).fetch_optional(p).await)?;
        Ok(match row {
            Some((i,)) if i == instance => Claim::Same,
            _ => Claim::Taken,
        })
    }

    pub async fn release_respondent(&self, year: i32, digest: &str, instance: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "DELETE FROM survey_respondents WHERE year = $1 AND digest = $2 AND instance_id = $3"
        ).bind(year).bind(digest).bind(instance).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Give an invitation back when the answer it was claimed for was not
    /// stored.
    pub async fn release_invitation(
        &self,
        year: i32,
        region: &str,
        serial: i64,
        instance: &str,
    ) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "DELETE FROM survey_invitations_used WHERE year = $1 AND region = $2 AND serial = $3 AND instance_id = $4"
        ).bind(year).bind(region).bind(serial).bind(instance).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Set a year's sampling plan (replacing the one before).
    pub async fn save_survey_plan(&self, p: &SurveyPlan, actor: &Actor) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("DELETE FROM survey_plans WHERE year = $1")
            .bind(p.year).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO survey_plans (year, size, allocation, min_per, response_rate, made_by, made_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ).bind(p.year).bind(p.size).bind(&p.allocation).bind(p.min_per).bind(&p.response_rate)
        .bind(&actor.user).bind(crate::now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SurveyPlan,
                &format!("survey_plan:{}", p.year),
                json!({"year": p.year, "size": p.size, "allocation": p.allocation,
                       "min": p.min_per, "response_rate": p.response_rate}),
            ),
        )
        .await?;
        tx.commit().await
    }

    pub async fn survey_plan(&self, year: i32) -> Result<Option<SurveyPlan>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT year, size, allocation, min_per, response_rate, made_by, made_at FROM survey_plans WHERE year = $1"
        ).bind(year).fetch_optional(p).await)?)
    }

    /// A form's stored responses counted by region and verdict.
    pub async fn response_tallies(&self, form: i64) -> Result<Vec<ResponseTally>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, verdict, CAST(COUNT(*) AS BIGINT) AS responses, \
             CAST(SUM(CASE WHEN straightlining THEN 1 ELSE 0 END) AS BIGINT) AS straightlining \
             FROM survey_responses WHERE form = $1 GROUP BY region, verdict"
        ).bind(form).fetch_all(p).await)?)
    }

    /// The ledger id of the newest survey write of `year` (0 for none):
    /// what the survey pages' kept estimates of that year are versioned by,
    /// so answers to this year's survey leave last year's estimates kept.
    pub async fn survey_version(&self, year: i32) -> Result<i64> {
        let (v,): (Option<i64>,) = on_pool!(self, p => sqlx::query_as(
            "SELECT MAX(id) FROM audit WHERE action IN \
             ('survey_form', 'survey_frame', 'survey_margins', 'survey_responses', 'survey_plan') \
             AND (object IN ($1, $2, $3) OR object LIKE $4 OR object LIKE $5)"
        ).bind(format!("survey_frame:{year}")).bind(format!("survey_margins:{year}"))
        .bind(format!("survey_plan:{year}")).bind(format!("survey_form:{year}:%"))
        .bind(format!("survey_responses:{year}:%")).fetch_one(p).await)?;
        Ok(v.unwrap_or(0))
    }

    /// Keep a questionnaire for its year; the same file again changes
    /// nothing. Another file under a version already stored is refused: a
    /// version's questions are fixed once answers may refer to them.
    pub async fn save_survey_form(&self, f: &NewForm<'_>, actor: &Actor) -> Result<(i64, bool)> {
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let found: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, sha256 FROM survey_forms WHERE year = $1 AND form_id = $2 AND version = $3"
        ).bind(f.year).bind(f.form_id).bind(f.version).fetch_optional(&mut **c).await)?;
        if let Some((id, sha)) = found {
            if sha == f.sha256 {
                return Ok((id, false));
            }
            return Err(StoreError::Conflict(format!(
                "{} 年的问卷 {} 版本 {} 已导入且内容不同：修改问卷时请在 settings 工作表中提高 version",
                f.year, f.form_id, f.version
            )));
        }
        let at = crate::now();
        let (id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO survey_forms (year, form_id, version, title, sheets, sha256, imported_by, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
        ).bind(f.year).bind(f.form_id).bind(f.version).bind(f.title).bind(f.sheets)
        .bind(f.sha256).bind(&actor.user).bind(&at).fetch_one(&mut **c).await)?;
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SurveyForm,
                &format!("survey_form:{}:{id}", f.year),
                json!({"year": f.year, "form": f.form_id, "version": f.version, "file": f.file, "sha256": f.sha256}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((id, true))
    }

    /// The questionnaires, newest first (of one year when given).
    pub async fn survey_forms(&self, year: Option<i32>) -> Result<Vec<StoredForm>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, year, form_id, version, title, sheets, sha256, imported_by, imported_at FROM survey_forms \
             WHERE ($1 IS NULL OR year = $1) ORDER BY year DESC, id DESC"
        ).bind(year).fetch_all(p).await)?)
    }

    /// Replace a year's frame (`region, population` in file order).
    pub async fn save_survey_frame(
        &self,
        year: i32,
        rows: &[(String, u64)],
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("DELETE FROM survey_frame WHERE year = $1")
            .bind(year).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let numbered = tx.numbered();
        for (k, chunk) in rows.chunks(BATCH).enumerate() {
            let sql = format!(
                "INSERT INTO survey_frame (year, region, population, ord) VALUES {}",
                placeholders(chunk.len(), 4, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, (region, pop)) in chunk.iter().enumerate() {
                    q = q.bind(year).bind(region).bind(*pop as i64).bind((k * BATCH + i) as i64);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SurveyFrame,
                &format!("survey_frame:{year}"),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }

    /// A year's frame in file order.
    pub async fn survey_frame(&self, year: i32) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT region, population FROM survey_frame WHERE year = $1 ORDER BY ord"
        ).bind(year).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(r, p)| (r, p.max(0) as u64))
            .collect())
    }

    /// Replace a year's margins: (county, variable, category, population).
    pub async fn save_survey_margins(
        &self,
        year: i32,
        rows: &[(String, String, String, f64)],
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query("DELETE FROM survey_margins WHERE year = $1")
            .bind(year).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let numbered = tx.numbered();
        for (k, chunk) in rows.chunks(BATCH).enumerate() {
            let sql = format!(
                "INSERT INTO survey_margins (year, region, variable, category, population, ord) VALUES {}",
                placeholders(chunk.len(), 6, numbered)
            );
            on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, (region, var, cat, pop)) in chunk.iter().enumerate() {
                    q = q.bind(year).bind(region).bind(var).bind(cat).bind(*pop).bind((k * BATCH + i) as i64);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SurveyMargins,
                &format!("survey_margins:{year}"),
                detail,
            ),
        )
        .await?;
        tx.commit().await
    }

    /// A year's margins in file order.
    pub async fn survey_margins(&self, year: i32) -> Result<Vec<(String, String, String, f64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT region, variable, category, population FROM survey_margins WHERE year = $1 ORDER BY ord"
        ).bind(year).fetch_all(p).await)?)
    }

    /// instance_id → content digest of a form's stored responses.
    pub async fn response_digests(&self, form: i64) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT instance_id, digest FROM survey_responses WHERE form = $1"
        ).bind(form).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    /// instance_id → content digest of those of `ids` a form has stored
    /// (an API batch checks its own ids, not the whole form's).
    pub async fn response_digests_of(
        &self,
        form: i64,
        ids: &[&str],
    ) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            // `$n` reads the same on both backends.
            let marks = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT instance_id, digest FROM survey_responses WHERE form = $1 AND instance_id IN ({marks})"
            );
            let rows: Vec<(String, String)> = on_pool!(self, p => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(form);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Store new responses in one transaction with the import's record
    /// (kind `responses:{form}`, duplicates as `ignored`) and one ledger
    /// entry; returns the import id.
    pub async fn write_responses(&self, w: &ResponsesWrite<'_>, actor: &Actor) -> Result<i64> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        tx.hold().await?;
        let (import_id,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO imports (kind, file, sha256, rows, imported, updated, ignored, user_name, client, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(format!("responses:{}", w.form)).bind(w.file).bind(w.sha256).bind(w.rows as i64).bind(w.responses.len() as i64)
        .bind(0i64).bind(w.duplicates as i64).bind(&actor.user).bind(&actor.client).bind(&at)
        .fetch_one(&mut **c).await)?;
        let (start,): (i64,) = on_tx!(tx, c => sqlx::query_as(
            // The next arrival number, by the (form, ord) index: a count
            // would read every answer of the year on every answer.
            "SELECT CAST(COALESCE(MAX(ord) + 1, 0) AS BIGINT) FROM survey_responses WHERE form = $1"
        ).bind(w.form).fetch_one(&mut **c).await)?;
        let numbered = tx.numbered();
        for (k, chunk) in w.responses.chunks(BATCH / 2).enumerate() {
            let sql = format!(
                "INSERT INTO survey_responses (form, instance_id, region, channel, started, submitted, seconds, \
                 answers, digest, verdict, straightlining, import_id, ord, interviewer, assisted) VALUES {} \
                 ON CONFLICT (form, instance_id) DO NOTHING",
                placeholders(chunk.len(), 15, numbered)
            );
            let written = on_tx!(tx, c => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (i, r) in chunk.iter().enumerate() {
                    q = q.bind(w.form).bind(&r.instance_id).bind(&r.region).bind(&r.channel)
                        .bind(&r.started).bind(&r.submitted).bind(r.seconds).bind(&r.answers)
                        .bind(&r.digest).bind(&r.verdict).bind(r.straightlining).bind(import_id)
                        .bind(start + (k * BATCH / 2 + i) as i64)
                        .bind(&r.interviewer).bind(r.assisted);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
            // Checked before the write, stored meanwhile: another batch
            // with the same instance arrived first. Nothing is kept.
            if written != chunk.len() as u64 {
                return Err(StoreError::Conflict(
                    "部分答卷已由同时进行的另一次提交保存：请重新提交，重复的答卷将计为重复".into(),
                ));
            }
        }
        let mut detail = w.detail.clone();
        detail["import_id"] = json!(import_id);
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::SurveyResponses,
                &format!("survey_responses:{}:{}", w.year, w.file),
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(import_id)
    }

    /// Up to `limit` of a form's responses after arrival number `after`,
    /// with their numbers: an export pages through half a million answers
    /// without holding them.
    pub async fn survey_responses_after(
        &self,
        form: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, StoredResponse)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            ord: i64,
            #[sqlx(flatten)]
            r: StoredResponse,
        }
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT ord, instance_id, region, channel, started, submitted, seconds, answers, verdict, straightlining, \
             interviewer, assisted FROM survey_responses WHERE form = $1 AND ord > $2 ORDER BY ord LIMIT $3"
        ).bind(form).bind(after).bind(limit).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|x| (x.ord, x.r)).collect())
    }

    /// A form's responses in arrival order, each handed to `each` as it is
    /// read (half a million rows are never all held as rows), and the
    /// identical repeats its imports dropped.
    pub async fn each_survey_response(
        &self,
        form: i64,
        mut each: impl FnMut(StoredResponse),
    ) -> Result<usize> {
        use futures_util::TryStreamExt;
        on_pool!(self, p => {
            let mut rows = sqlx::query_as::<_, StoredResponse>(
                "SELECT instance_id, region, channel, started, submitted, seconds, answers, verdict, straightlining, \
                 interviewer, assisted FROM survey_responses WHERE form = $1 ORDER BY ord"
            ).bind(form).fetch(p);
            while let Some(r) = rows.try_next().await? {
                each(r);
            }
        });
        let (dups,): (Option<i64>,) = on_pool!(self, p => sqlx::query_as(
            "SELECT CAST(SUM(ignored) AS BIGINT) FROM imports WHERE kind = $1"
        ).bind(format!("responses:{form}")).fetch_one(p).await)?;
        Ok(dups.unwrap_or(0).max(0) as usize)
    }
}
