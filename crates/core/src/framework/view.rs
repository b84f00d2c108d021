//! The framework as a tree with effective weights and full points: what
//! `pingan framework show --format json` prints and `GET /api/v1/framework`
//! returns.

use super::Framework;
use crate::rules::Better;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct TreeView {
    pub code: String,
    pub name: String,
    pub year: Option<i32>,
    pub total: f64,
    pub public_opinion_share: f64,
    pub min_public_opinion_share: f64,
    pub dimensions: Vec<NodeView>,
    pub elements: Vec<ElementView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeView {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub weight: f64,
    pub effective_weight: f64,
    pub max: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<NodeView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<IndicatorView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IndicatorView {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub department: String,
    pub definition: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub suggestion: String,
    pub formula: String,
    pub polarity: &'static str,
    pub weight: f64,
    pub effective_weight: f64,
    pub max: f64,
    pub public_opinion: bool,
    pub provisional: bool,
    pub rule: &'static str,
    pub rule_text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ElementView {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub department: String,
}

pub fn tree(fw: &Framework) -> TreeView {
    let dimensions = fw
        .dimensions
        .iter()
        .map(|d| NodeView {
            code: d.code.clone(),
            name: d.name.clone(),
            note: d.note.clone(),
            weight: d.weight,
            effective_weight: d.weight,
            max: fw.total * d.weight,
            indicators: Vec::new(),
            domains: d
                .domains
                .iter()
                .map(|m| NodeView {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    note: String::new(),
                    weight: m.weight,
                    effective_weight: d.weight * m.weight,
                    max: fw.total * d.weight * m.weight,
                    domains: Vec::new(),
                    indicators: m
                        .indicators
                        .iter()
                        .map(|i| IndicatorView {
                            code: i.code.clone(),
                            name: i.name.clone(),
                            unit: i.unit.clone(),
                            department: i.department.clone(),
                            definition: i.definition.clone(),
                            suggestion: i.suggestion.clone(),
                            formula: i.formula_text.clone(),
                            polarity: if i.polarity == Better::Higher {
                                "higher"
                            } else {
                                "lower"
                            },
                            weight: i.weight,
                            effective_weight: d.weight * m.weight * i.weight,
                            // Left to right, as full points are computed for scoring.
                            max: fw.total * d.weight * m.weight * i.weight,
                            public_opinion: i.public_opinion,
                            provisional: i.provisional,
                            rule: i.rule.kind(),
                            rule_text: fw.rule_in_words(&i.rule, &i.unit),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    TreeView {
        code: fw.code.clone(),
        name: fw.name.clone(),
        year: fw.year,
        total: fw.total,
        public_opinion_share: fw.public_opinion_share(),
        min_public_opinion_share: fw.min_public_opinion_share,
        dimensions,
        elements: fw
            .elements
            .iter()
            .map(|e| ElementView {
                code: e.code.clone(),
                name: e.name.clone(),
                unit: e.unit.clone(),
                department: e.department.clone(),
            })
            .collect(),
    }
}
