//! 群众意见 (issue 18, seed §7.3): what citizens wrote — the questionnaire's
//! free-text answers and the township opinion boxes (意见箱) — read as the
//! problems they name most, per region (`pingan_text`), kept until the
//! year's answers or opinions change; an opinion comes in here, redacted
//! before it is stored; a problem found here goes on to the problem list
//! with its evidence.

use super::year_form;
use crate::ctx::Ctx;
use crate::error::{Result, ServiceError};
use crate::{Authorized, cap};
use pingan_core::RegionTree;
use pingan_core::labels::LedgerAction;
use pingan_core::survey::form::Kind;
use pingan_store::{Actor, NewProblem};
use pingan_text::{Comment, Corpus};
pub use pingan_text::{Keyword, Keywords};
use serde_json::json;
use std::sync::Arc;

/// Where a comment comes from, as the page names it.
pub const OPINION_BOX: &str = "意见箱";
pub const SURVEY: &str = "问卷";
/// Rows a problem is looked for in.
const LOOKED_AT: usize = 200;
/// The problem list's origin for problems found in comments.
pub const ORIGIN: &str = "comments";
/// An opinion's length in characters, at most.
pub const OPINION_MAX: usize = 1000;

/// The year's comments, segmented.
pub struct Comments {
    pub year: i32,
    pub tree: Arc<RegionTree>,
    pub corpus: Corpus,
}

impl Comments {
    /// The `n` words most named in `root`'s subtree.
    pub fn keywords(&self, root: usize, n: usize) -> Keywords {
        self.corpus.keywords(|r| self.tree.is_within(r, root), n)
    }
}

/// The years with comments to read (a questionnaire or opinions), newest
/// first.
pub async fn years(ctx: &Ctx) -> Result<Vec<i32>> {
    let mut y = super::survey_years(ctx).await?;
    y.extend(ctx.store.opinion_years().await?);
    y.sort_unstable_by(|a, b| b.cmp(a));
    y.dedup();
    Ok(y)
}

/// The comments of `year` (every region; pages show the caller's part).
pub async fn comments(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Surveys>,
    year: i32,
) -> Result<Arc<Comments>> {
    read(ctx, year).await
}

async fn read(ctx: &Ctx, year: i32) -> Result<Arc<Comments>> {
    let version = ctx.store.survey_version(year).await?.max(
        ctx.store
            .last_entry_of(&[LedgerAction::Opinion, LedgerAction::ImportRegions])
            .await?,
    );
    ctx.versioned_at(&format!("comments:{year}"), version, async {
        let tree = ctx.tree().await?;
        let mut all: Vec<Comment> = Vec::new();
        if let Ok(f) = year_form(ctx, year).await {
            let texts: Vec<(usize, String)> = f
                .form
                .questions
                .iter()
                .enumerate()
                .filter(|(_, q)| matches!(q.kind, Kind::Text))
                .map(|(i, _)| (i, SURVEY.to_string()))
                .collect();
            if !texts.is_empty() {
                ctx.store
                    .each_survey_response(f.stored.id, |r| {
                        let (Some(region), Ok(answers)) = (
                            tree.find(&r.region),
                            serde_json::from_str::<Vec<String>>(&r.answers),
                        ) else {
                            return;
                        };
                        for (q, label) in &texts {
                            if let Some(t) = answers.get(*q).filter(|t| !t.trim().is_empty()) {
                                all.push(Comment {
                                    region,
                                    source: label.clone(),
                                    // Answers stored before redaction came in.
                                    text: pingan_core::redact::redact(t).into_owned(),
                                });
                            }
                        }
                    })
                    .await?;
            }
        }
        for o in ctx.store.opinions(year).await? {
            if let Some(region) = tree.find(&o.region) {
                all.push(Comment {
                    region,
                    source: OPINION_BOX.into(),
                    text: o.text,
                });
            }
        }
        let _permit = ctx.heavy_permit().await?;
        let corpus = tokio::task::spawn_blocking(move || Corpus::new(all))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Comments { year, tree, corpus })
    })
    .await
}

/// Keep a citizen's opinion for `township` in `year`: checked, numbers
/// taken out, no name or address kept.
pub async fn add_opinion(ctx: &Ctx, year: i32, township: &str, text: &str) -> Result<i64> {
    let tree = ctx.tree().await?;
    let r = tree
        .find(township)
        .filter(|&r| tree.children(r).is_empty())
        .ok_or_else(|| ServiceError::not_found("意见箱链接无效：没有这个乡镇（街道）"))?;
    let text = pingan_core::text::clean(pingan_core::text::NOTE.named("意见"), text.trim())
        .map_err(ServiceError::invalid)?;
    let n = text.chars().count();
    if n < 4 {
        return Err(ServiceError::invalid("请至少写几个字，说明您的意见"));
    }
    if n > OPINION_MAX {
        return Err(ServiceError::invalid(format!(
            "意见最多 {OPINION_MAX} 字（现为 {n} 字）"
        )));
    }
    let text = pingan_core::redact::redact(&text).into_owned();
    let actor = Actor {
        user: "public".into(),
        client: "public".into(),
    };
    Ok(ctx
        .store
        .add_opinion(year, &tree.get(r).code, &text, &actor)
        .await?)
}

/// Put `word`, as the comments of `region`'s subtree name it, on the
/// problem list, the evidence read here (not taken from the request).
pub async fn send_problem(
    ctx: &Ctx,
    who: &Authorized<'_, cap::SurveyManage>,
    year: i32,
    region: &str,
    word: &str,
) -> Result<(i64, bool)> {
    let c = read(ctx, year).await?;
    let root = c
        .tree
        .find(region)
        .ok_or_else(|| ServiceError::not_found(format!("地区 {region} 不存在")))?;
    let k = c.keywords(root, LOOKED_AT);
    let found =
        k.words.iter().find(|w| w.word == word).ok_or_else(|| {
            ServiceError::invalid(format!("“{word}”不是该地区群众意见中的关键词"))
        })?;
    let examples: Vec<&str> = found
        .examples
        .iter()
        .map(|&i| c.corpus.comment(i).text.as_str())
        .collect();
    let title = format!("群众反映较多：{word}");
    let evidence = json!({"word": word, "related": found.related, "comments": found.count, "of": k.comments,
        "share": found.count as f64 / k.comments.max(1) as f64, "examples": examples});
    Ok(ctx
        .store
        .add_problem(
            &NewProblem {
                year,
                region,
                origin: ORIGIN,
                title: &title,
                evidence,
            },
            &who.actor(),
        )
        .await?)
}

/// The problems of `year` found in comments, as (region code, title).
pub async fn listed(
    ctx: &Ctx,
    _who: &Authorized<'_, cap::Surveys>,
    year: i32,
) -> Result<std::collections::HashSet<(String, String)>> {
    Ok(ctx
        .store
        .problems(year, Some(ORIGIN))
        .await?
        .into_iter()
        .map(|p| (p.region, p.title))
        .collect())
}
