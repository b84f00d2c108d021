//! Who is calling: a signed-in person, a department's API token, or the
//! operator at the server's command line; their capabilities (from
//! `pingan_core::access`) and the region and department they are scoped to.

use crate::access::Capability;
use crate::error::{Result, ServiceError};
use pingan_core::RegionTree;
use pingan_core::access::{Cap, Grants, Role, department_scope, submitter_department};
use pingan_store::{Actor, TokenInfo, User};
use std::marker::PhantomData;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A person with an account.
    User(String),
    /// A department system's API token, by id.
    Token(i64),
    /// The command line on the server: whoever holds the database holds
    /// every capability, so the CLI authorises as this.
    Operator(String),
    /// An anonymous respondent on the public answering page: hands in
    /// one answer to one township's survey, nothing else. Recorded as
    /// "public", never by address (个人信息保护法: minimum necessary).
    Public,
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    /// For display; what the caller may do is `grants`.
    pub roles: Vec<Role>,
    grants: Grants,
    /// Scope root; None = the whole tree.
    pub region: Option<String>,
    /// For department accounts and tokens.
    pub department: Option<String>,
    pub must_change_password: bool,
    pub client: String,
}

impl Caller {
    pub fn user(u: &User, client: &str) -> Caller {
        Caller {
            principal: Principal::User(u.username.clone()),
            roles: u.roles.clone(),
            grants: Grants::of(&u.roles, u.department.as_deref()),
            region: u.region.clone(),
            department: u.department.clone(),
            must_change_password: u.must_change_password,
            client: client.to_string(),
        }
    }

    /// A department token acts as that department's submitter.
    pub fn token(t: &TokenInfo, client: &str) -> Caller {
        let roles = vec![Role::Department];
        Caller {
            principal: Principal::Token(t.id),
            grants: Grants::of(&roles, Some(&t.department)),
            roles,
            region: t.region.clone(),
            department: Some(t.department.clone()),
            must_change_password: false,
            client: client.to_string(),
        }
    }

    /// The command line: every capability, the whole province.
    pub fn operator(name: &str) -> Caller {
        Caller {
            principal: Principal::Operator(name.to_string()),
            roles: Vec::new(),
            grants: Grants::ALL,
            region: None,
            department: None,
            must_change_password: false,
            client: "cli".into(),
        }
    }

    /// An anonymous respondent answering `region`'s survey.
    pub fn public(region: &str) -> Caller {
        Caller {
            principal: Principal::Public,
            roles: Vec::new(),
            grants: Grants::only(Cap::SurveyAnswers),
            region: Some(region.to_string()),
            department: None,
            must_change_password: false,
            client: "public".into(),
        }
    }

    /// The name recorded in provenance and the ledger.
    pub fn name(&self) -> String {
        match &self.principal {
            Principal::User(n) | Principal::Operator(n) => n.clone(),
            Principal::Token(id) => format!("token:{id}"),
            Principal::Public => "public".into(),
        }
    }

    pub fn is_token(&self) -> bool {
        matches!(self.principal, Principal::Token(_))
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user: self.name(),
            client: self.client.clone(),
        }
    }

    /// Whether the caller holds `cap` (for what a page shows; operations
    /// take an `Authorized` proof instead).
    pub fn can(&self, cap: Cap) -> bool {
        !self.must_change_password && self.grants.has(cap)
    }

    /// Every capability the caller holds (none before a first-login
    /// password change).
    pub fn grants(&self) -> Grants {
        if self.must_change_password {
            Grants::NONE
        } else {
            self.grants
        }
    }

    /// Proof that the caller holds capability `C`, or why not.
    pub fn authorize<C: Capability>(&self) -> Result<Authorized<'_, C>> {
        if self.must_change_password {
            return Err(ServiceError::forbidden("首次登录请先修改密码"));
        }
        if self.grants.has(C::CAP) {
            Ok(Authorized::new(self))
        } else {
            Err(ServiceError::Denied(C::CAP))
        }
    }

    /// A department-only caller sees its department's elements only; every
    /// other role that reads values sees all of them.
    pub fn element_allowed(&self, department_of_element: &str) -> bool {
        department_scope(&self.roles, self.department.as_deref())
            .is_none_or(|d| d == department_of_element)
    }

    /// May this caller submit values of a department's elements? The
    /// office (direct import) any; everyone else only the department its
    /// account is bound to, whatever other roles it holds: reading another
    /// department's values is not reporting them.
    pub fn submits_for(&self, department_of_element: &str) -> bool {
        self.grants.has(Cap::DirectImport)
            || self.submitter_department() == Some(department_of_element)
    }

    /// The department whose sets this caller submits (and may resubmit).
    pub fn submitter_department(&self) -> Option<&str> {
        submitter_department(&self.roles, self.department.as_deref())
    }

    /// Is region `i` of `tree` within this caller's scope?
    pub fn sees(&self, tree: &RegionTree, i: usize) -> bool {
        match self.region.as_deref().and_then(|r| tree.find(r)) {
            None if self.region.is_some() => false,
            None => true,
            Some(root) => tree.is_within(i, root),
        }
    }

    /// The region by code, or 403/404 when outside the scope or unknown.
    pub fn region_in_scope(&self, tree: &RegionTree, code: &str) -> Result<usize> {
        let i = tree
            .find(code)
            .ok_or_else(|| ServiceError::not_found(format!("地区 {code} 不存在")))?;
        if self.sees(tree, i) {
            Ok(i)
        } else {
            Err(ServiceError::forbidden("无权访问该地区的数据"))
        }
    }

    /// Codes of the regions the caller sees (None: everything).
    pub fn scope_codes(&self, tree: &RegionTree) -> Option<Vec<String>> {
        self.region.as_ref()?;
        Some(
            (0..tree.len())
                .filter(|&i| self.sees(tree, i))
                .map(|i| tree.get(i).code.clone())
                .collect(),
        )
    }
}

/// Proof that `caller` holds capability `C`. It reads as the caller, whose
/// scope the operation still applies.
#[derive(Debug)]
pub struct Authorized<'a, C: Capability> {
    caller: &'a Caller,
    _cap: PhantomData<C>,
}

impl<'a, C: Capability> Authorized<'a, C> {
    /// Only `Caller::authorize` checks and calls this.
    fn new(caller: &'a Caller) -> Self {
        Authorized {
            caller,
            _cap: PhantomData,
        }
    }

    pub fn caller(&self) -> &'a Caller {
        self.caller
    }
}

impl<C: Capability> std::ops::Deref for Authorized<'_, C> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        self.caller
    }
}

impl<C: Capability> Clone for Authorized<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: Capability> Copy for Authorized<'_, C> {}
