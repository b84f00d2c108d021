//! Roles and what they may do (api.md): pure rules, shared by the CLI and
//! the server. 三员分立: the system, security and audit administrators are
//! three different people, and none of them holds any other role.

mod caps;

pub use caps::{
    ALL_CAPS, CASE_DEPARTMENTS, Cap, Grants, Holder, SURVEY_FIRM, department_scope,
    matrix_markdown, submitter_department,
};

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    OfficeAdmin,
    Department,
    Collector,
    Verifier,
    Expert,
    RegionOfficial,
    Supervisor,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

pub const ALL_ROLES: [Role; 10] = [
    Role::OfficeAdmin,
    Role::Department,
    Role::Collector,
    Role::Verifier,
    Role::Expert,
    Role::RegionOfficial,
    Role::Supervisor,
    Role::SystemAdmin,
    Role::SecurityAdmin,
    Role::AuditAdmin,
];

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::OfficeAdmin => "office_admin",
            Role::Department => "department",
            Role::Collector => "collector",
            Role::Verifier => "verifier",
            Role::Expert => "expert",
            Role::RegionOfficial => "region_official",
            Role::Supervisor => "supervisor",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::OfficeAdmin => "测评办管理员",
            Role::Department => "部门报送员",
            Role::Collector => "数据采集组",
            Role::Verifier => "实地核查组",
            Role::Expert => "专家评审组",
            Role::RegionOfficial => "地区用户",
            Role::Supervisor => "监督小组",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }

    /// One of the three separated administrator roles (三员).
    pub fn is_separated_admin(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_ROLES
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = ALL_ROLES.iter().map(|r| r.code()).collect();
                format!("未知的角色“{}”：可用 {}", s.trim(), all.join("、"))
            })
    }
}

/// Parse `a,b,c` into a valid role set (sorted, no repeats).
pub fn parse_roles(s: &str) -> Result<Vec<Role>, String> {
    let mut roles: Vec<Role> = s
        .split([',', '，'])
        .filter(|x| !x.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    roles.sort();
    roles.dedup();
    check_roles(&roles)?;
    Ok(roles)
}

/// The rules of api.md for one account's roles: at least one, and 三员分立.
pub fn check_roles(roles: &[Role]) -> Result<(), String> {
    if roles.is_empty() {
        return Err("至少要有一个角色".into());
    }
    let admins: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|r| r.is_separated_admin())
        .collect();
    if !admins.is_empty() && roles.len() > 1 {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        return Err(format!(
            "三员分立：系统管理员、安全管理员、审计管理员只能单独授予，不能与其他角色同时授予（{}）",
            names.join("、")
        ));
    }
    Ok(())
}

/// A password the complexity rule accepts: at least 10 characters, and at
/// least three of lower case, upper case, digits, other characters
/// (等保 level 3 expects a complexity rule; this is the common reading).
pub fn check_password(pw: &str, username: &str) -> Result<(), String> {
    let n = pw.chars().count();
    if n < 10 {
        return Err("密码至少 10 个字符".into());
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if classes < 3 {
        return Err("密码须包含大写字母、小写字母、数字、符号中的至少三类".into());
    }
    if !username.is_empty() && pw.to_lowercase().contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separation_of_the_three_admins() {
        assert!(parse_roles("office_admin,expert").is_ok());
        assert!(parse_roles("system_admin").is_ok());
        assert!(
            parse_roles("system_admin,security_admin")
                .unwrap_err()
                .contains("三员分立")
        );
        assert!(parse_roles("audit_admin,supervisor").is_err());
        assert!(parse_roles("").is_err());
        assert!(parse_roles("boss").unwrap_err().contains("未知的角色"));
        assert_eq!(parse_roles("expert,expert").unwrap(), vec![Role::Expert]);
    }

    #[test]
    fn password_rule() {
        assert!(check_password("short1A", "u").is_err());
        assert!(check_password("alllowercase", "u").is_err());
        assert!(check_password("Pingan-2024x", "u").is_ok());
        assert!(check_password("Zhangsan2024!", "zhangsan").is_err());
    }
}
