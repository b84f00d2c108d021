//! The `callback_draws` and `callbacks` tables: a seeded draw of a
//! region's successful cases per year, and each drawn case's callback.

use crate::cases::{CASE_COLUMNS, Case};
use crate::db::{Store, on_pool};
use crate::ledger::NewEntry;
use crate::tx::on_tx;
use crate::{Actor, Result, StoreError};
use pingan_core::labels::{CallbackResult, LedgerAction};
use serde::Serialize;
use serde_json::json;

/// One drawn case and its callback so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DrawnCase {
    /// Position in the draw (0 first).
    pub ord: i64,
    pub case: Case,
    /// None until called.
    pub result: Option<CallbackResult>,
    pub note: String,
    pub called_by: Option<String>,
    pub called_at: Option<String>,
}

/// A draw for one region and year.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Draw {
    pub id: i64,
    pub region: String,
    pub year: i32,
    pub rate: f64,
    pub seed: i64,
    /// Successful cases in the region's subtree that year, when drawn.
    pub eligible: i64,
    pub drawn_at: String,
    pub drawn_by: String,
    #[sqlx(skip)]
    pub items: Vec<DrawnCase>,
}

const DRAW_COLUMNS: &str = "id, region, year, rate, seed, eligible, drawn_at, drawn_by";

#[derive(sqlx::FromRow)]
struct DrawnRow {
    ord: i64,
    result: Option<String>,
    cb_note: String,
    called_by: Option<String>,
    called_at: Option<String>,
    #[sqlx(flatten)]
    case: Case,
}

/// A draw to store.
pub struct NewDraw<'a> {
    pub region: &'a str,
    pub year: i32,
    pub rate: f64,
    pub seed: i64,
    pub eligible: i64,
    /// The drawn case ids, in draw order.
    pub cases: &'a [String],
}

/// One callback of a year's draws, with the draw's region.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CallbackRow {
    pub draw_id: i64,
    pub region: String,
    pub case_id: String,
    pub result: Option<String>,
    pub called_at: Option<String>,
}

impl Store {
    /// Store a draw and its cases in one transaction with one ledger entry
    /// (`detail` gets the draw id). A concurrent draw of the same region
    /// and year finds the unique key taken: conflict, and nothing of this
    /// one is kept.
    pub async fn insert_draw(
        &self,
        d: &NewDraw<'_>,
        mut detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<i64> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        let won: Option<(i64,)> = on_tx!(tx, c => sqlx::query_as(
            "INSERT INTO callback_draws (region, year, rate, seed, eligible, drawn_at, drawn_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region, year) DO NOTHING RETURNING id"
        )
        .bind(d.region).bind(d.year).bind(d.rate).bind(d.seed).bind(d.eligible).bind(&at).bind(&actor.user)
        .fetch_optional(&mut **c).await)?;
        let Some((id,)) = won else {
            return Err(StoreError::Conflict(
                "该地区本年度刚刚已完成抽取，请刷新后查看".into(),
            ));
        };
        for (ord, case_id) in d.cases.iter().enumerate() {
            on_tx!(tx, c => sqlx::query("INSERT INTO callbacks (draw_id, case_id, ord) VALUES ($1, $2, $3)")
                .bind(id).bind(case_id).bind(ord as i64).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        detail["draw"] = json!(id);
        tx.append(
            actor,
            &NewEntry::new(
                LedgerAction::CallbackDraw,
                &format!("callbacks:{}@{}", d.region, d.year),
                detail,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The draw of a region and year, if one was made.
    pub async fn draw_for(&self, region: &str, year: i32) -> Result<Option<Draw>> {
        let id: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM callback_draws WHERE region = $1 AND year = $2"
        ).bind(region).bind(year).fetch_optional(p).await)?;
        match id {
            Some((id,)) => self.draw(id).await,
            None => Ok(None),
        }
    }

    /// A draw with its cases in drawn order.
    pub async fn draw(&self, id: i64) -> Result<Option<Draw>> {
        let sql = format!("SELECT {DRAW_COLUMNS} FROM callback_draws WHERE id = $1");
        let head: Option<Draw> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?;
        let Some(mut d) = head else { return Ok(None) };
        let sql = format!(
            "SELECT cb.ord AS ord, cb.result AS result, cb.note AS cb_note, cb.called_by AS called_by, \
             cb.called_at AS called_at, {} \
             FROM callbacks cb JOIN cases c ON c.case_id = cb.case_id WHERE cb.draw_id = $1 ORDER BY cb.ord",
            CASE_COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<DrawnRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_all(p).await)?;
        d.items = rows
            .into_iter()
            .map(|r| DrawnCase {
                ord: r.ord,
                case: r.case,
                result: r.result.as_deref().and_then(CallbackResult::parse),
                note: r.cb_note,
                called_by: r.called_by,
                called_at: r.called_at,
            })
            .collect();
        Ok(Some(d))
    }

    /// Every draw (without its cases), newest first; `year` filters.
    pub async fn draws(&self, year: Option<i32>) -> Result<Vec<Draw>> {
        let sql = format!(
            "SELECT {DRAW_COLUMNS} FROM callback_draws WHERE ($1 IS NULL OR year = $1) ORDER BY id DESC"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(year).fetch_all(p).await)?,
        )
    }

    /// A drawn case's callback so far: (result, note), if it was drawn.
    pub async fn callback(
        &self,
        draw_id: i64,
        case_id: &str,
    ) -> Result<Option<(Option<String>, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT result, note FROM callbacks WHERE draw_id = $1 AND case_id = $2"
        ).bind(draw_id).bind(case_id).fetch_optional(p).await)?)
    }

    /// Record (or correct) a callback's answer, with one ledger entry whose
    /// reason is the note.
    pub async fn record_callback(
        &self,
        draw_id: i64,
        case_id: &str,
        result: CallbackResult,
        note: &str,
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<()> {
        let at = crate::now();
        let mut tx = self.begin().await?;
        on_tx!(tx, c => sqlx::query(
            "UPDATE callbacks SET result = $1, note = $2, called_by = $3, called_at = $4 \
             WHERE draw_id = $5 AND case_id = $6"
        )
        .bind(result.code()).bind(note).bind(&actor.user).bind(&at).bind(draw_id).bind(case_id)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let mut entry = NewEntry::new(
            LedgerAction::CallbackRecord,
            &format!("callback:{draw_id}/{case_id}"),
            detail,
        );
        entry.reason = note.to_string();
        tx.append(actor, &entry).await?;
        tx.commit().await
    }

    /// Every callback of `year`'s draws, by draw.
    pub async fn callbacks_of_year(&self, year: i32) -> Result<Vec<CallbackRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT d.id AS draw_id, d.region AS region, cb.case_id AS case_id, cb.result AS result, \
             cb.called_at AS called_at \
             FROM callback_draws d JOIN callbacks cb ON cb.draw_id = d.id WHERE d.year = $1 ORDER BY d.id"
        ).bind(year).fetch_all(p).await)?)
    }
}
