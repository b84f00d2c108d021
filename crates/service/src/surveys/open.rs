//! What an answering page needs of a year's survey, in one piece kept until
//! the survey's setup changes: the questionnaire, the region tree, the
//! frame and the plan. Every answer reads it; one look at the ledger tells
//! whether it is still good, where reading each part would take several.

use super::{Plan, SETUP, YearForm, year_form, year_frame, year_plan};
use crate::ctx::Ctx;
use crate::error::Result;
use pingan_core::RegionTree;
use std::sync::Arc;

pub struct OpenYear {
    pub year: i32,
    pub form: Arc<YearForm>,
    pub tree: Arc<RegionTree>,
    /// By region index: whether it is a stratum of the frame.
    in_frame: Vec<bool>,
    pub plan: Arc<Option<Plan>>,
}

impl OpenYear {
    pub fn in_frame(&self, region: usize) -> bool {
        self.in_frame.get(region).copied().unwrap_or(false)
    }

    /// The township `code` if it is a stratum of the frame.
    pub fn township(&self, code: &str) -> Option<usize> {
        self.tree.find(code).filter(|r| self.in_frame(*r))
    }

    /// The township as a respondent knows it: its county's name and its own.
    pub fn place(&self, region: usize) -> String {
        self.tree.place(region)
    }
}

/// The year's survey as the answering pages use it, or why it cannot be
/// answered (no questionnaire, no frame).
pub async fn open_year(ctx: &Ctx, year: i32) -> Result<Arc<OpenYear>> {
    ctx.versioned(&format!("survey-open:{year}"), &SETUP, async {
        let form = year_form(ctx, year).await?;
        let tree = ctx.tree().await?;
        let frame = year_frame(ctx, &tree, year).await?;
        let mut in_frame = vec![false; tree.len()];
        for (r, _) in frame {
            in_frame[r] = true;
        }
        let plan = year_plan(ctx, year).await?;
        Ok(OpenYear {
            year,
            form,
            tree,
            in_frame,
            plan,
        })
    })
    .await
}
