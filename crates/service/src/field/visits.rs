//! A team's visit to a task: the record by two verifiers (with the
//! cross-team check), its photos and the partner's confirmation; and
//! closing the task.

use super::{record_in_scope, task_in_scope};
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::Period;
use pingan_core::access::{Cap, Grants};
use pingan_core::field::{
    CROSS_TEAM_TOLERANCE, Conflict, Observation, check_position, cross_team_conflicts, image_type,
};
use pingan_core::labels::{TaskOrigin, TaskStatus};
use pingan_store::{NewRecord, Photo, Recheck, Record, TaskFilter};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// What saving a record found.
#[derive(Clone, Debug, Serialize)]
pub struct RecordOutcome {
    pub record: Record,
    /// Elements where two teams differ by more than 10 %.
    pub conflicts: Vec<Conflict>,
    /// The re-verification task opened for them, if any.
    pub recheck_task: Option<i64>,
}

/// The items of `wanted` that `given` has no answer for.
fn not_in<'a, V>(wanted: &'a [String], given: &BTreeMap<String, V>) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|w| !given.contains_key(*w))
        .map(String::as_str)
        .collect()
}

/// One team's visit. Two distinct verifiers, the recorder one of them;
/// the checklist answered; a value for each element; a position. Compared
/// with the other teams' records of the same region and period, it opens
/// one re-verification task for the elements over 10 %.
pub async fn record(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRecord>,
    task_id: i64,
    r: NewRecord,
) -> Result<RecordOutcome> {
    let task = task_in_scope(ctx, who, task_id).await?;
    if task.status == TaskStatus::Closed {
        return Err(ServiceError::conflict(format!("核查任务 {task_id} 已关闭")));
    }
    let me = who.name();
    let team = crate::text::clean(crate::text::SHORT.named("核查组名称"), &r.team)?;
    let notes = crate::text::clean(crate::text::NOTE.named("核查说明"), &r.notes)?;
    if team.is_empty() {
        return Err(ServiceError::invalid("请填写核查组名称"));
    }
    let [a, b] = [r.verifiers[0].trim(), r.verifiers[1].trim()];
    if a.is_empty() || b.is_empty() || a == b {
        return Err(ServiceError::invalid(
            "实地核查须由两名不同的核查人员共同完成（双人核查）",
        ));
    }
    if me != a && me != b {
        return Err(ServiceError::invalid(format!(
            "记录人 {me} 须是两名核查人员之一"
        )));
    }
    for name in [a, b] {
        let ok = ctx.store.user(name).await?.is_some_and(|u| {
            !u.disabled && Grants::of(&u.roles, u.department.as_deref()).has(Cap::FieldRecord)
        });
        if !ok {
            return Err(ServiceError::invalid(format!(
                "{name} 不是有效的实地核查组账户"
            )));
        }
    }
    let missing = not_in(&task.checklist, &r.checklist);
    if !missing.is_empty() {
        return Err(ServiceError::invalid(format!(
            "核查清单未填写：{}",
            missing.join("、")
        )));
    }
    if let Some(extra) = r.checklist.keys().find(|k| !task.checklist.contains(k)) {
        return Err(ServiceError::invalid(format!("核查清单中没有“{extra}”")));
    }
    let unobserved = not_in(&task.elements, &r.observed);
    if !unobserved.is_empty() {
        return Err(ServiceError::invalid(format!(
            "请填写实地核查值：{}",
            unobserved.join("、")
        )));
    }
    if let Some((e, _)) = r.observed.iter().find(|(e, _)| !task.elements.contains(e)) {
        return Err(ServiceError::invalid(format!(
            "数据项 {e} 不在本任务的核查范围内"
        )));
    }
    if let Some((e, v)) = r.observed.iter().find(|(_, v)| !v.is_finite()) {
        return Err(ServiceError::invalid(format!(
            "{e} 的核查值 {v} 不是有限数"
        )));
    }
    check_position(r.latitude, r.longitude).map_err(ServiceError::Invalid)?;

    // The cross-team check, this record included.
    let mut all = ctx
        .store
        .field_observations(&task.region, &task.period)
        .await?;
    for (e, v) in &r.observed {
        all.push((team.clone(), e.clone(), *v));
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
    let open_recheck = ctx
        .store
        .tasks(&TaskFilter {
            status: Some(TaskStatus::Open),
            period: Some(task.period.clone()),
            region: Some(task.region.clone()),
            origin: Some(TaskOrigin::CrossTeam),
        })
        .await?;
    let recheck_elements: Vec<String> = conflicts
        .iter()
        .map(|c| c.element.clone())
        .filter(|e| !open_recheck.iter().any(|t| t.elements.contains(e)))
        .collect();
    let recheck = (!recheck_elements.is_empty()).then(|| {
        let note = conflicts
            .iter()
            .filter(|c| recheck_elements.contains(&c.element))
            .map(|c| {
                format!(
                    "{}：{} 为 {}，{} 为 {}，相差 {:.1}%",
                    c.element,
                    c.team_a,
                    c.value_a,
                    c.team_b,
                    c.value_b,
                    c.difference * 100.0
                )
            })
            .collect::<Vec<_>>()
            .join("；");
        Recheck {
            elements: recheck_elements.clone(),
            year: task
                .period
                .parse::<Period>()
                .map(|p| p.year())
                .unwrap_or_default(),
            note: format!("交叉核验差异超过 10%，需复核：{note}"),
        }
    });
    let new = NewRecord {
        team: team.clone(),
        verifiers: [a.to_string(), b.to_string()],
        checklist: r.checklist,
        observed: r.observed,
        notes,
        latitude: r.latitude,
        longitude: r.longitude,
    };
    let detail = json!({"task": task_id, "team": team, "verifiers": [a, b],
                        "observed": new.observed, "latitude": new.latitude, "longitude": new.longitude,
                        "conflicts": conflicts});
    let (record_id, recheck_task) = ctx
        .store
        .insert_record(&task, &new, recheck.as_ref(), detail, &who.actor())
        .await?;
    let record = ctx
        .store
        .records(task_id)
        .await?
        .into_iter()
        .find(|x| x.id == record_id)
        .ok_or_else(|| ServiceError::not_found(format!("核查记录 {record_id} 不存在")))?;
    Ok(RecordOutcome {
        record,
        conflicts,
        recheck_task,
    })
}

/// Close a task (after its findings went into the review), with a note.
pub async fn close(ctx: &Ctx, who: &Authorized<'_, cap::Field>, id: i64, note: &str) -> Result<()> {
    task_in_scope(ctx, who, id).await?;
    let note = crate::text::clean(crate::text::NOTE.named("关闭结论"), note)?;
    if note.is_empty() {
        return Err(ServiceError::invalid("关闭核查任务需要填写结论"));
    }
    Ok(ctx.store.close_task(id, &note, &who.actor()).await?)
}

/// A photo may not be larger than this (a phone photo is 2–5 MB).
pub const PHOTO_LIMIT: usize = 6 << 20;

/// A photo of a record by one of its two verifiers: an image by its
/// content (JPEG, PNG, WebP), at most `PHOTO_LIMIT` bytes, kept with its
/// SHA-256. Not after the task is closed.
pub async fn add_photo(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRecord>,
    record_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> Result<Photo> {
    let task = record_in_scope(ctx, who, record_id).await?;
    let Some(rec) = ctx.store.record(record_id).await? else {
        return Err(ServiceError::not_found(format!(
            "核查记录 {record_id} 不存在"
        )));
    };
    let me = who.name();
    let [a, b] = &rec.verifiers;
    if me != *a && me != *b {
        return Err(ServiceError::forbidden(format!(
            "照片只能由该记录的两名核查人员（{a}、{b}）上传"
        )));
    }
    if task.status == TaskStatus::Closed {
        return Err(ServiceError::conflict(format!(
            "核查任务 {} 已关闭，不能再上传照片",
            task.id
        )));
    }
    if bytes.is_empty() {
        return Err(ServiceError::invalid("照片是空文件"));
    }
    if bytes.len() > PHOTO_LIMIT {
        return Err(ServiceError::invalid(format!(
            "照片 {} 为 {:.1} MB，超过 {} MB 的上限",
            file_name,
            bytes.len() as f64 / 1048576.0,
            PHOTO_LIMIT >> 20
        )));
    }
    let Some(mime) = image_type(bytes) else {
        return Err(ServiceError::invalid(format!(
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
    Ok(ctx
        .store
        .insert_photo(record_id, &name, mime, bytes, &who.actor())
        .await?)
}

/// A photo's metadata and bytes, if its task is in the caller's scope.
pub async fn photo(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRead>,
    id: i64,
) -> Result<(Photo, Vec<u8>)> {
    let (p, bytes, task) = ctx
        .store
        .photo(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("照片 {id} 不存在")))?;
    let tree = ctx.tree().await?;
    who.region_in_scope(&tree, &task.region)?;
    Ok((p, bytes))
}

/// The second verifier confirms a record (双人核查): only the partner
/// named in it, once.
pub async fn confirm(
    ctx: &Ctx,
    who: &Authorized<'_, cap::FieldRecord>,
    record_id: i64,
) -> Result<Record> {
    record_in_scope(ctx, who, record_id).await?;
    let Some(r) = ctx.store.record(record_id).await? else {
        return Err(ServiceError::not_found(format!(
            "核查记录 {record_id} 不存在"
        )));
    };
    if who.name() != r.partner() {
        return Err(ServiceError::forbidden(format!(
            "核查记录 {record_id} 须由同行核查人员 {} 确认",
            r.partner()
        )));
    }
    let at = ctx.store.confirm_record(&r, &who.actor()).await?;
    Ok(Record {
        confirmed_by: Some(who.name()),
        confirmed_at: Some(at),
        ..r
    })
}
