//! Reads a rule's inline table key by key, collecting every problem so the
//! lint can report them all (missing, unknown, wrong type, forbidden value).

use toml::{Table, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct RuleIssue {
    /// `rule_key_missing`, `rule_key_unknown`, `rule_key_type` or `rule_value`.
    pub kind: &'static str,
    pub key: String,
    pub message: String,
}

pub(crate) struct Reader<'a> {
    table: &'a Table,
    used: Vec<&'static str>,
    issues: Vec<RuleIssue>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "字符串",
        Value::Integer(_) => "整数",
        Value::Float(_) => "小数",
        Value::Boolean(_) => "布尔值",
        Value::Datetime(_) => "日期",
        Value::Array(_) => "数组",
        Value::Table(_) => "表",
    }
}

pub(crate) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

impl<'a> Reader<'a> {
    pub fn new(table: &'a Table) -> Self {
        Reader {
            table,
            used: Vec::new(),
            issues: Vec::new(),
        }
    }

    pub fn issue(&mut self, kind: &'static str, key: &str, message: impl Into<String>) {
        self.issues.push(RuleIssue {
            kind,
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn get(&mut self, key: &'static str, required: bool) -> Option<&'a Value> {
        self.used.push(key);
        let v = self.table.get(key);
        if v.is_none() && required {
            self.issue("rule_key_missing", key, format!("计分规则缺少必填项 {key}"));
        }
        v
    }

    fn wrong_type(&mut self, key: &str, want: &str, got: &Value) {
        self.issue(
            "rule_key_type",
            key,
            format!("计分规则 {key} 应为{want}，实际是{}", type_name(got)),
        );
    }

    pub fn number(&mut self, key: &'static str, required: bool) -> Option<f64> {
        let v = self.get(key, required)?;
        let n = as_number(v);
        if n.is_none() {
            self.wrong_type(key, "有限数值", v);
        }
        n
    }

    pub fn string(&mut self, key: &'static str, required: bool) -> Option<String> {
        let v = self.get(key, required)?;
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(key, "字符串", other);
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &'static str) -> Option<bool> {
        let v = self.get(key, false)?;
        match v {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(key, "布尔值（true/false）", other);
                None
            }
        }
    }

    /// A string key restricted to `allowed` values.
    pub fn choice(
        &mut self,
        key: &'static str,
        required: bool,
        allowed: &[&str],
    ) -> Option<String> {
        let s = self.string(key, required)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.issue(
                "rule_value",
                key,
                format!("计分规则 {key} 的值“{s}”无效：可用 {}", allowed.join("、")),
            );
            None
        }
    }

    /// A raw value, for keys with a shape of their own (target, tiers).
    pub fn raw(&mut self, key: &'static str, required: bool) -> Option<&'a Value> {
        self.get(key, required)
    }

    pub fn type_issue(&mut self, key: &str, want: &str, got: &Value) {
        self.wrong_type(key, want, got);
    }

    pub fn has_issues(&self) -> bool {
        !self.issues.is_empty()
    }

    pub fn into_issues(self) -> Vec<RuleIssue> {
        self.issues
    }

    /// Unknown keys are errors (scoring.md §1); the rule stands only when
    /// nothing at all was wrong.
    pub fn finish<T>(mut self, value: Option<T>) -> Result<T, Vec<RuleIssue>> {
        let unknown: Vec<String> = self
            .table
            .keys()
            .filter(|k| !self.used.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.issue("rule_key_unknown", &k, format!("计分规则中有未知的键 {k}"));
        }
        match value {
            Some(v) if self.issues.is_empty() => Ok(v),
            _ => Err(self.issues),
        }
    }
}
