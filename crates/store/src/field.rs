//! Field verification tasks, records by two verifiers, photos, and the
//! cross-team check (§5.3, §3.4): a record whose observed values differ by
//! more than 10 % from another team's opens a re-verification task.

use crate::audit::{NewEntry, append_in};
use crate::db::{Store, on_pool};
use crate::{Actor, Result, StoreError, sha256_hex};
use base64::Engine;
use pingan_core::Period;
use pingan_core::access::Role;
use pingan_core::field::{
    CROSS_TEAM_TOLERANCE, Conflict, Observation, check_position, cross_team_conflicts, image_type,
};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// A photo may not be larger than this (a phone photo is 2–5 MB).
pub const PHOTO_LIMIT: usize = 6 << 20;

#[derive(Clone, Debug, Serialize)]
pub struct Task {
    pub id: i64,
    pub region: String,
    pub period: String,
    pub elements: Vec<String>,
    pub checklist: Vec<String>,
    /// manual, flag, draw or cross_team.
    pub origin: String,
    pub flag_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub note: String,
    /// open, recorded or closed.
    pub status: String,
    pub created_by: String,
    pub created_at: String,
}

impl Task {
    pub fn origin_label(&self) -> &'static str {
        match self.origin.as_str() {
            "flag" => "异常数据",
            "draw" => "随机抽取",
            "cross_team" => "交叉核验复核",
            _ => "人工创建",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewTask {
    pub region: String,
    pub period: String,
    pub elements: Vec<String>,
    /// Empty: the default checklist.
    pub checklist: Vec<String>,
    pub origin: String,
    pub flag_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Photo {
    pub id: i64,
    pub record_id: i64,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub id: i64,
    pub task_id: i64,
    pub team: String,
    pub verifiers: [String; 2],
    pub checklist: BTreeMap<String, bool>,
    pub observed: BTreeMap<String, f64>,
    pub notes: String,
    pub latitude: f64,
    pub longitude: f64,
    pub recorded_by: String,
    pub recorded_at: String,
    /// The second verifier's confirmation that the record is what both saw.
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub photos: Vec<Photo>,
}

impl Record {
    /// The verifier who did not write the record: the one who confirms it.
    pub fn partner(&self) -> &str {
        if self.verifiers[0] == self.recorded_by {
            &self.verifiers[1]
        } else {
            &self.verifiers[0]
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewRecord {
    pub team: String,
    pub verifiers: [String; 2],
    pub checklist: BTreeMap<String, bool>,
    pub observed: BTreeMap<String, f64>,
    pub notes: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// What saving a record found.
#[derive(Clone, Debug, Serialize)]
pub struct RecordOutcome {
    pub record: Record,
    /// Elements where two teams differ by more than 10 %.
    pub conflicts: Vec<Conflict>,
    /// The re-verification task opened for them, if any.
    pub recheck_task: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub period: Option<String>,
    pub region: Option<String>,
    pub origin: Option<String>,
}

type TaskRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    String,
);
const TASK_COLS: &str = "id, region, period, elements, checklist, origin, flag_id, parent_id, note, status, created_by, created_at";

fn task_of(r: TaskRow) -> Task {
    Task {
        id: r.0,
        region: r.1,
        period: r.2,
        elements: serde_json::from_str(&r.3).unwrap_or_default(),
        checklist: serde_json::from_str(&r.4).unwrap_or_default(),
        origin: r.5,
        flag_id: r.6,
        parent_id: r.7,
        note: r.8,
        status: r.9,
        created_by: r.10,
        created_at: r.11,
    }
}

type RecordRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    f64,
    f64,
    String,
    String,
    Option<String>,
    Option<String>,
);
const RECORD_COLS: &str = "id, task_id, team, verifier_a, verifier_b, checklist, observed, notes, latitude, longitude, recorded_by, recorded_at, confirmed_by, confirmed_at";

fn record_of(r: RecordRow) -> Record {
    Record {
        id: r.0,
        task_id: r.1,
        team: r.2,
        verifiers: [r.3, r.4],
        checklist: serde_json::from_str(&r.5).unwrap_or_default(),
        observed: serde_json::from_str(&r.6).unwrap_or_default(),
        notes: r.7,
        latitude: r.8,
        longitude: r.9,
        recorded_by: r.10,
        recorded_at: r.11,
        confirmed_by: r.12,
        confirmed_at: r.13,
        photos: Vec::new(),
    }
}

/// The items of `wanted` that `given` has no answer for.
fn not_in<'a, V>(wanted: &'a [String], given: &BTreeMap<String, V>) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|w| !given.contains_key(*w))
        .map(String::as_str)
        .collect()
}

impl Store {
    /// Check a new task against the framework and the regions.
    async fn checked_task(&self, t: &NewTask) -> Result<(i32, Vec<String>)> {
        let period: Period = t
            .period
            .trim()
            .parse()
            .map_err(|e| StoreError::Invalid(format!("期间：{e}")))?;
        let tree = self.region_tree().await?;
        if tree.find(&t.region).is_none() {
            return Err(StoreError::Invalid(format!("未知的地区代码：{}", t.region)));
        }
        if t.elements.is_empty() {
            return Err(StoreError::Invalid("请至少选择一个要核查的数据项".into()));
        }
        let fw = self.known_codes().await?;
        let unknown: Vec<&str> = t
            .elements
            .iter()
            .filter(|e| fw.element_index(e).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(StoreError::Invalid(format!(
                "未知的数据项：{}",
                unknown.join("、")
            )));
        }
        let checklist: Vec<String> = if t.checklist.iter().all(|c| c.trim().is_empty()) {
            pingan_core::field::DEFAULT_CHECKLIST
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            t.checklist
                .iter()
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        };
        Ok((period.year(), checklist))
    }

    /// Create verification tasks, all or nothing, in one ledger entry.
    pub async fn create_tasks(&self, tasks: &[NewTask], actor: &Actor) -> Result<Vec<i64>> {
        let mut checked = Vec::with_capacity(tasks.len());
        for t in tasks {
            checked.push(self.checked_task(t).await?);
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let ids = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut ids = Vec::new();
            for (t, (year, checklist)) in tasks.iter().zip(&checked) {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO verify_tasks (region, period, year, elements, checklist, origin, flag_id, parent_id, note, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(&t.region).bind(t.period.trim()).bind(year)
                .bind(json!(t.elements).to_string()).bind(json!(checklist).to_string())
                .bind(&t.origin).bind(t.flag_id).bind(t.parent_id).bind(t.note.trim())
                .bind(&actor.user).bind(&at)
                .fetch_one(&mut *tx).await?;
                ids.push(id);
            }
            let detail = json!({"tasks": ids, "origin": tasks.first().map(|t| t.origin.clone()),
                                "regions": tasks.iter().map(|t| t.region.clone()).collect::<Vec<_>>()});
            let entry = NewEntry::new("verify_task", &format!("verify_tasks:{}", ids.len()), detail);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            ids
        });
        Ok(ids)
    }

    pub async fn task(&self, id: i64) -> Result<Option<Task>> {
        let sql = format!("SELECT {TASK_COLS} FROM verify_tasks WHERE id = $1");
        let row: Option<TaskRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        Ok(row.map(task_of))
    }

    /// Tasks matching every filter given, newest first.
    pub async fn tasks(&self, f: &TaskFilter) -> Result<Vec<Task>> {
        let mut conditions = vec!["1 = 1".to_string()];
        let mut binds = Vec::new();
        for (col, v) in [
            ("status", &f.status),
            ("period", &f.period),
            ("region", &f.region),
            ("origin", &f.origin),
        ] {
            if let Some(v) = v {
                binds.push(v.clone());
                conditions.push(format!("{col} = ${}", binds.len()));
            }
        }
        let sql = format!(
            "SELECT {TASK_COLS} FROM verify_tasks WHERE {} ORDER BY id DESC",
            conditions.join(" AND ")
        );
        let rows: Vec<TaskRow> = on_pool!(self, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(task_of).collect())
    }

    /// A task's records with their photos' metadata, oldest first.
    pub async fn records(&self, task_id: i64) -> Result<Vec<Record>> {
        let sql =
            format!("SELECT {RECORD_COLS} FROM verify_records WHERE task_id = $1 ORDER BY id");
        let rows: Vec<RecordRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(task_id).fetch_all(p).await)?;
        let mut out: Vec<Record> = rows.into_iter().map(record_of).collect();
        for r in &mut out {
            r.photos = self.photos(r.id).await?;
        }
        Ok(out)
    }

    async fn photos(&self, record_id: i64) -> Result<Vec<Photo>> {
        type Row = (i64, i64, String, String, i64, String, String, String);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, record_id, file_name, mime, size, sha256, uploaded_by, uploaded_at FROM verify_photos \
             WHERE record_id = $1 ORDER BY id"
        ).bind(record_id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| Photo {
                id: r.0,
                record_id: r.1,
                file_name: r.2,
                mime: r.3,
                size: r.4,
                sha256: r.5,
                uploaded_by: r.6,
                uploaded_at: r.7,
            })
            .collect())
    }

    /// Every observation of this region, period and these elements, by
    /// every task's records: what the cross-team check compares.
    async fn observations_of(
        &self,
        region: &str,
        period: &str,
    ) -> Result<Vec<(String, String, f64)>> {
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT r.team, r.observed FROM verify_records r JOIN verify_tasks t ON t.id = r.task_id \
             WHERE t.region = $1 AND t.period = $2 ORDER BY r.id"
        ).bind(region).bind(period).fetch_all(p).await)?;
        let mut out = Vec::new();
        for (team, observed) in rows {
            let m: BTreeMap<String, f64> = serde_json::from_str(&observed).unwrap_or_default();
            for (e, v) in m {
                out.push((team.clone(), e, v));
            }
        }
        Ok(out)
    }

    /// Save one team's visit. Two distinct verifiers, the recorder one of
    /// them; the checklist answered; a value for each element; a position.
    /// Compares with the other teams' records of the same region and period
    /// and opens one re-verification task for the elements over 10 %.
    pub async fn add_record(
        &self,
        task_id: i64,
        r: &NewRecord,
        actor: &Actor,
    ) -> Result<RecordOutcome> {
        let task = self
            .task(task_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("核查任务 {task_id} 不存在")))?;
        if task.status == "closed" {
            return Err(StoreError::Conflict(format!("核查任务 {task_id} 已关闭")));
        }
        let team = r.team.trim();
        if team.is_empty() {
            return Err(StoreError::Invalid("请填写核查组名称".into()));
        }
        let [a, b] = [r.verifiers[0].trim(), r.verifiers[1].trim()];
        if a.is_empty() || b.is_empty() || a == b {
            return Err(StoreError::Invalid(
                "实地核查须由两名不同的核查人员共同完成（双人核查）".into(),
            ));
        }
        if actor.user != a && actor.user != b {
            return Err(StoreError::Invalid(format!(
                "记录人 {} 须是两名核查人员之一",
                actor.user
            )));
        }
        for name in [a, b] {
            let ok = self
                .user(name)
                .await?
                .is_some_and(|u| !u.disabled && u.roles.contains(&Role::Verifier));
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "{name} 不是有效的实地核查组账户"
                )));
            }
        }
        let missing = not_in(&task.checklist, &r.checklist);
        if !missing.is_empty() {
            return Err(StoreError::Invalid(format!(
                "核查清单未填写：{}",
                missing.join("、")
            )));
        }
        if let Some(extra) = r.checklist.keys().find(|k| !task.checklist.contains(k)) {
            return Err(StoreError::Invalid(format!("核查清单中没有“{extra}”")));
        }
        let unobserved = not_in(&task.elements, &r.observed);
        if !unobserved.is_empty() {
            return Err(StoreError::Invalid(format!(
                "请填写实地核查值：{}",
                unobserved.join("、")
            )));
        }
        if let Some((e, _)) = r.observed.iter().find(|(e, _)| !task.elements.contains(e)) {
            return Err(StoreError::Invalid(format!(
                "数据项 {e} 不在本任务的核查范围内"
            )));
        }
        if let Some((e, v)) = r.observed.iter().find(|(_, v)| !v.is_finite()) {
            return Err(StoreError::Invalid(format!("{e} 的核查值 {v} 不是有限数")));
        }
        check_position(r.latitude, r.longitude).map_err(StoreError::Invalid)?;

        // The cross-team check, this record included.
        let mut all = self.observations_of(&task.region, &task.period).await?;
        for (e, v) in &r.observed {
            all.push((team.to_string(), e.clone(), *v));
        }
        let obs: Vec<Observation<'_>> = all
            .iter()
            .map(|(t, e, v)| Observation {
                team: t,
                element: e,
                value: *v,
            })
            .collect();
        let conflicts: Vec<Conflict> = cross_team_conflicts(&obs, CROSS_TEAM_TOLERANCE)
            .into_iter()
            .filter(|c| r.observed.contains_key(&c.element))
            .collect();
        // One open re-verification per region and period is enough.
        let open_recheck = self
            .tasks(&TaskFilter {
                status: Some("open".into()),
                period: Some(task.period.clone()),
                region: Some(task.region.clone()),
                origin: Some("cross_team".into()),
            })
            .await?;
        let recheck_elements: Vec<String> = conflicts
            .iter()
            .map(|c| c.element.clone())
            .filter(|e| !open_recheck.iter().any(|t| t.elements.contains(e)))
            .collect();

        let algo = self.hash_algo().await?;
        let at = crate::now();
        let checklist = json!(r.checklist).to_string();
        let observed = json!(r.observed).to_string();
        let (record_id, recheck) = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO verify_records (task_id, team, verifier_a, verifier_b, checklist, observed, notes, latitude, longitude, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(task_id).bind(team).bind(a).bind(b).bind(&checklist).bind(&observed)
            .bind(r.notes.trim()).bind(r.latitude).bind(r.longitude).bind(&actor.user).bind(&at)
            .fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE verify_tasks SET status = 'recorded' WHERE id = $1 AND status = 'open'")
                .bind(task_id).execute(&mut *tx).await?;
            let mut recheck = None;
            if !recheck_elements.is_empty() {
                let note = conflicts
                    .iter()
                    .filter(|c| recheck_elements.contains(&c.element))
                    .map(|c| format!("{}：{} 为 {}，{} 为 {}，相差 {:.1}%", c.element, c.team_a, c.value_a, c.team_b, c.value_b, c.difference * 100.0))
                    .collect::<Vec<_>>()
                    .join("；");
                let year = task.period.parse::<Period>().map(|p| p.year()).unwrap_or_default();
                let (rid,): (i64,) = sqlx::query_as(
                    "INSERT INTO verify_tasks (region, period, year, elements, checklist, origin, flag_id, parent_id, note, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'cross_team', NULL, $6, $7, $8, $9) RETURNING id",
                )
                .bind(&task.region).bind(&task.period).bind(year)
                .bind(json!(recheck_elements).to_string()).bind(json!(task.checklist).to_string())
                .bind(task_id).bind(format!("交叉核验差异超过 10%，需复核：{note}")).bind(&actor.user).bind(&at)
                .fetch_one(&mut *tx).await?;
                recheck = Some(rid);
            }
            let detail = json!({"task": task_id, "record": id, "team": team, "verifiers": [a, b],
                                "observed": r.observed, "latitude": r.latitude, "longitude": r.longitude,
                                "conflicts": conflicts, "recheck_task": recheck});
            let entry = NewEntry::new("verify_record", &format!("verify_task:{task_id}"), detail);
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            (id, recheck)
        });
        let record = self
            .records(task_id)
            .await?
            .into_iter()
            .find(|x| x.id == record_id)
            .ok_or_else(|| StoreError::NotFound(format!("核查记录 {record_id} 不存在")))?;
        Ok(RecordOutcome {
            record,
            conflicts,
            recheck_task: recheck,
        })
    }

    /// The task a record belongs to.
    pub async fn record_task(&self, record_id: i64) -> Result<Option<(i64, Task)>> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT task_id FROM verify_records WHERE id = $1"
        ).bind(record_id).fetch_optional(p).await)?;
        let Some((task_id,)) = row else {
            return Ok(None);
        };
        Ok(self.task(task_id).await?.map(|t| (record_id, t)))
    }

    /// Keep a photo of a record: an image by its signature (JPEG, PNG,
    /// WebP), at most `PHOTO_LIMIT` bytes, with its SHA-256.
    pub async fn add_photo(
        &self,
        record_id: i64,
        file_name: &str,
        bytes: &[u8],
        actor: &Actor,
    ) -> Result<Photo> {
        let who: Option<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT verifier_a, verifier_b FROM verify_records WHERE id = $1"
        ).bind(record_id).fetch_optional(p).await)?;
        let Some((a, b)) = who else {
            return Err(StoreError::NotFound(format!("核查记录 {record_id} 不存在")));
        };
        if actor.user != a && actor.user != b {
            return Err(StoreError::Forbidden(format!(
                "照片只能由该记录的两名核查人员（{a}、{b}）上传"
            )));
        }
        if let Some((_, t)) = self.record_task(record_id).await?
            && t.status == "closed"
        {
            return Err(StoreError::Conflict(format!(
                "核查任务 {} 已关闭，不能再上传照片",
                t.id
            )));
        }
        if bytes.is_empty() {
            return Err(StoreError::Invalid("照片是空文件".into()));
        }
        if bytes.len() > PHOTO_LIMIT {
            return Err(StoreError::Invalid(format!(
                "照片 {} 为 {:.1} MB，超过 {} MB 的上限",
                file_name,
                bytes.len() as f64 / 1048576.0,
                PHOTO_LIMIT >> 20
            )));
        }
        let Some(mime) = image_type(bytes) else {
            return Err(StoreError::Invalid(format!(
                "{file_name} 不是 JPEG、PNG 或 WebP 图片"
            )));
        };
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
            .take(120)
            .collect();
        let name = if name.trim().is_empty() {
            "照片".to_string()
        } else {
            name
        };
        let sha = sha256_hex(bytes);
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let algo = self.hash_algo().await?;
        let at = crate::now();
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO verify_photos (record_id, file_name, mime, size, sha256, data, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(record_id).bind(&name).bind(mime).bind(bytes.len() as i64).bind(&sha).bind(&data)
            .bind(&actor.user).bind(&at)
            .fetch_one(&mut *tx).await?;
            let entry = NewEntry::new("verify_photo", &format!("verify_record:{record_id}"),
                json!({"photo": id, "file": name, "size": bytes.len(), "sha256": sha, "mime": mime}));
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
            id
        });
        Ok(Photo {
            id,
            record_id,
            file_name: name,
            mime: mime.to_string(),
            size: bytes.len() as i64,
            sha256: sha,
            uploaded_by: actor.user.clone(),
            uploaded_at: at,
        })
    }

    /// A photo's bytes, its type and the task it belongs to (for the scope check).
    pub async fn photo(&self, id: i64) -> Result<Option<(Photo, Vec<u8>, Task)>> {
        type Row = (
            i64,
            i64,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
        );
        let row: Option<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, record_id, file_name, mime, size, sha256, uploaded_by, uploaded_at, data FROM verify_photos WHERE id = $1"
        ).bind(id).fetch_optional(p).await)?;
        let Some(r) = row else { return Ok(None) };
        let Some((_, task)) = self.record_task(r.1).await? else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(r.8.as_bytes())
            .map_err(|e| StoreError::Invalid(format!("照片 {id} 已损坏：{e}")))?;
        if sha256_hex(&bytes) != r.5 {
            return Err(StoreError::Invalid(format!(
                "照片 {id} 的 SHA-256 与保存时不符"
            )));
        }
        Ok(Some((
            Photo {
                id: r.0,
                record_id: r.1,
                file_name: r.2,
                mime: r.3,
                size: r.4,
                sha256: r.5,
                uploaded_by: r.6,
                uploaded_at: r.7,
            },
            bytes,
            task,
        )))
    }

    /// The second verifier confirms a record (双人核查): only the partner
    /// named in it, once.
    pub async fn confirm_record(&self, record_id: i64, actor: &Actor) -> Result<Record> {
        let sql = format!("SELECT {RECORD_COLS} FROM verify_records WHERE id = $1");
        let row: Option<RecordRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(record_id).fetch_optional(p).await)?;
        let Some(r) = row.map(record_of) else {
            return Err(StoreError::NotFound(format!("核查记录 {record_id} 不存在")));
        };
        if actor.user != r.partner() {
            return Err(StoreError::Forbidden(format!(
                "核查记录 {record_id} 须由同行核查人员 {} 确认",
                r.partner()
            )));
        }
        let algo = self.hash_algo().await?;
        let at = crate::now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE verify_records SET confirmed_by = $1, confirmed_at = $2 WHERE id = $3 AND confirmed_by IS NULL"
            )
            .bind(&actor.user).bind(&at).bind(record_id)
            .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(format!("核查记录 {record_id} 已确认")));
            }
            let entry = NewEntry::new("verify_confirm", &format!("verify_record:{record_id}"),
                json!({"record": record_id, "task": r.task_id}));
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(Record {
            confirmed_by: Some(actor.user.clone()),
            confirmed_at: Some(at),
            ..r
        })
    }

    /// Close a task (after its findings went into the review), with a note.
    pub async fn close_task(&self, id: i64, note: &str, actor: &Actor) -> Result<()> {
        if note.trim().is_empty() {
            return Err(StoreError::Invalid("关闭核查任务需要填写结论".into()));
        }
        let algo = self.hash_algo().await?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE verify_tasks SET status = 'closed' WHERE id = $1 AND status <> 'closed'")
                .bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict(format!("核查任务 {id} 不存在或已关闭")));
            }
            let mut entry = NewEntry::new("verify_close", &format!("verify_task:{id}"), json!({"task": id}));
            entry.reason = note.trim().to_string();
            append_in!(tx, algo, actor, &entry);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Field observations of a region and period per element and team: the
    /// evidence the data set review shows beside the reported values.
    pub async fn field_observations(
        &self,
        region: &str,
        period: &str,
    ) -> Result<Vec<(String, String, f64)>> {
        self.observations_of(region, period).await
    }
}
