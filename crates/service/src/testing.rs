//! For tests in this and other crates (feature `testing`): `both!` runs a
//! body on a fresh SQLite file and a fresh PostgreSQL database, and `Db`
//! calls the service as the command line does (the operator, named by the
//! actor) with short signatures for setting up and checking data.

use crate::callbacks::{self, CallbackEvidence};
use crate::imports::{self, ImportSummary};
use crate::session::{self, LoginRefusal};
use crate::users::{self, NewUser};
use crate::values::{self, ImportOptions};
use crate::{Caller, Ctx, Result, cap, intake};
use pingan_core::Period;
use pingan_core::labels::CallbackResult;
use pingan_core::region::Level;
use pingan_core::score::ScoreReport;
use pingan_store::{Actor, Case, Draw, DrawnCase, Store, User};

pub use pingan_store::testing::{Fresh, Kind, fresh, postgres, sqlite};

/// `name::sqlite` and `name::postgres` from one body taking `&Db`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = $crate::testing::sqlite().await;
                ($body)(&$crate::testing::Db::new(f.store.clone())).await;
                f.done().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(f) = $crate::testing::postgres().await {
                    ($body)(&$crate::testing::Db::new(f.store.clone())).await;
                    f.done().await;
                }
            }
        }
    };
}

/// The service over a store, reached as the operator.
#[derive(Clone)]
pub struct Db {
    pub ctx: Ctx,
}

impl std::ops::Deref for Db {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.ctx.store
    }
}

fn op(actor: &Actor) -> Caller {
    Caller::operator(&actor.user)
}

impl Db {
    pub fn new(store: Store) -> Db {
        Db {
            ctx: Ctx::new(store),
        }
    }

    /// A province as the operator loads it: the built-in framework (from
    /// 2000), then the regions, benchmarks and values files (values judged
    /// by the validation rules, as every import is).
    pub async fn load(
        &self,
        regions: &str,
        benchmarks: &str,
        values: &str,
    ) -> Result<ImportSummary> {
        let a = Actor::cli("tester");
        self.import_framework(
            "pingan-2024.toml",
            pingan_core::framework::DEFAULT_TOML.as_bytes(),
            Some(2000),
            false,
            &a,
        )
        .await?;
        self.import_regions("regions.csv", regions.as_bytes(), false, &a)
            .await?;
        self.import_benchmarks("benchmarks.csv", benchmarks.as_bytes(), false, &a)
            .await?;
        self.import_values("values.csv", values.as_bytes(), false, &a)
            .await
    }

    pub async fn import_framework(
        &self,
        file: &str,
        bytes: &[u8],
        year: Option<i32>,
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::DirectImport>()?;
        imports::framework(&self.ctx, &who, file, bytes, year, dry_run).await
    }

    pub async fn import_regions(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::DirectImport>()?;
        imports::regions(&self.ctx, &who, file, bytes, dry_run).await
    }

    pub async fn import_benchmarks(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::DirectImport>()?;
        imports::benchmarks(&self.ctx, &who, file, bytes, dry_run).await
    }

    /// Values approved on import (the office's own data entry).
    pub async fn import_values(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        self.import_values_as(file, bytes, dry_run, false, actor)
            .await
    }

    /// Values kept even where they break a validation rule (a province
    /// with planted anomalies, as `pingan import values --accept-breaches`).
    pub async fn import_values_accepting(
        &self,
        file: &str,
        bytes: &[u8],
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::Submit>()?;
        let batch = intake::csv(&self.ctx, &who, file, bytes).await?;
        let options = ImportOptions {
            accept_breaches: true,
            ..Default::default()
        };
        values::import(&self.ctx, &who, batch, options).await
    }

    /// The values a scoring of `period` reads, as this instance keeps
    /// them, and how they were brought up to date.
    pub async fn scoring_values(
        &self,
        period: pingan_core::Period,
        preview: bool,
    ) -> Result<(pingan_core::data::DataSet, crate::Refresh)> {
        let v = self
            .ctx
            .store
            .framework_version(period.year())
            .await?
            .ok_or_else(|| crate::ServiceError::invalid("no framework"))?;
        let tree = self.ctx.store.region_tree().await?;
        let _permit = self.ctx.heavy_permit().await?;
        self.ctx
            .scoring_values(v.id, &v.framework, &tree, period, preview)
            .await
    }

    /// Values through the review when `review`.
    pub async fn import_values_as(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        review: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::Submit>()?;
        let batch = intake::csv(&self.ctx, &who, file, bytes).await?;
        let options = ImportOptions {
            dry_run,
            review,
            ..Default::default()
        };
        values::import(&self.ctx, &who, batch, options).await
    }

    pub async fn import_cases(
        &self,
        file: &str,
        bytes: &[u8],
        dry_run: bool,
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let c = op(actor);
        let who = c.authorize::<cap::CaseImport>()?;
        let batch = callbacks::csv(&self.ctx, &who, file, bytes).await?;
        callbacks::import(&self.ctx, &who, batch, dry_run).await
    }

    pub async fn scores(
        &self,
        period: Period,
        level: Option<Level>,
        actor: &Actor,
    ) -> Result<ScoreReport> {
        crate::scores::stored(&self.ctx, period, level, None, actor).await
    }

    pub async fn region_score(
        &self,
        period: Period,
        region: &str,
        actor: &Actor,
    ) -> Result<Option<pingan_core::score::RegionResult>> {
        let c = op(actor);
        let who = c.authorize::<cap::Scores>()?;
        crate::scores::region(&self.ctx, &who, period, region).await
    }

    pub async fn add_user(&self, new: &NewUser, actor: &Actor) -> Result<User> {
        let c = op(actor);
        let who = c.authorize::<cap::Accounts>()?;
        users::add(&self.ctx, &who, new.clone()).await
    }

    pub async fn set_locked(
        &self,
        username: &str,
        locked: bool,
        reason: &str,
        actor: &Actor,
    ) -> Result<()> {
        let c = op(actor);
        let who = c.authorize::<cap::RoleGrant>()?;
        users::set_locked(&self.ctx, &who, username, locked, reason).await
    }

    pub async fn set_password(
        &self,
        username: &str,
        password: &str,
        must_change: bool,
        actor: &Actor,
    ) -> Result<()> {
        let c = op(actor);
        let who = c.authorize::<cap::Accounts>()?;
        users::reset_password(&self.ctx, &who, username, password, must_change).await
    }

    pub async fn set_totp(
        &self,
        username: &str,
        enable: bool,
        actor: &Actor,
    ) -> Result<Option<String>> {
        let c = op(actor);
        let who = c.authorize::<cap::RoleGrant>()?;
        users::set_totp(&self.ctx, &who, username, enable).await
    }

    pub async fn check_login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<std::result::Result<User, LoginRefusal>> {
        session::check_login(&self.ctx, username, password, None, client).await
    }

    pub async fn session_user(&self, secret: &str) -> Result<Option<User>> {
        session::session_user(&self.ctx, secret).await
    }

    pub async fn create_token(
        &self,
        name: &str,
        department: &str,
        region: Option<&str>,
        days: i64,
        actor: &Actor,
    ) -> Result<(i64, String)> {
        let c = op(actor);
        let who = c.authorize::<cap::RoleGrant>()?;
        users::create_token(&self.ctx, &who, name, department, region, days).await
    }

    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> Result<()> {
        let c = op(actor);
        let who = c.authorize::<cap::RoleGrant>()?;
        users::revoke_token(&self.ctx, &who, id).await
    }

    pub async fn cases(&self, region: Option<&str>, year: Option<i32>) -> Result<Vec<Case>> {
        let c = Caller::operator("tester");
        let who = c.authorize::<cap::Cases>()?;
        callbacks::list(&self.ctx, &who, region, year).await
    }

    pub async fn draw_callbacks(
        &self,
        region: &str,
        year: i32,
        rate: Option<f64>,
        seed: Option<i64>,
        actor: &Actor,
    ) -> Result<(Draw, bool)> {
        let c = op(actor);
        let who = c.authorize::<cap::Callback>()?;
        callbacks::draw(&self.ctx, &who, region, year, rate, seed).await
    }

    pub async fn record_callback(
        &self,
        draw: i64,
        case_id: &str,
        result: CallbackResult,
        note: &str,
        actor: &Actor,
    ) -> Result<DrawnCase> {
        let c = op(actor);
        let who = c.authorize::<cap::Callback>()?;
        callbacks::record(&self.ctx, &who, draw, case_id, result, note).await
    }

    pub async fn callback_evidence(
        &self,
        region: &str,
        year: i32,
        actor: &Actor,
    ) -> Result<CallbackEvidence> {
        let c = op(actor);
        let who = c.authorize::<cap::Callbacks>()?;
        callbacks::evidence(&self.ctx, &who, region, year).await
    }
}
