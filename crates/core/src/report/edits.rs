//! The office's edits of a document before it is issued (issue 20): the
//! words of a section replaced by its own, tables and charts kept. A
//! section's words are its paragraphs, one per line in the text; the
//! paragraphs before the first heading (a notice's opening) are the
//! section `opening`.

use super::doc::{Block, Doc};

/// The section before the first heading.
pub const OPENING: &str = "opening";

/// The longest text a section may be given (characters).
pub const MAX_CHARS: usize = 20_000;

fn prose(b: &Block) -> Option<String> {
    match b {
        Block::Para { text, .. } => Some(text.clone()),
        Block::RunIn { lead, text } => Some(format!("{lead}{text}")),
        _ => None,
    }
}

/// Where each block belongs: the key of the section it is in.
fn keys(doc: &Doc) -> Vec<Option<String>> {
    let mut current: Option<String> = None;
    let mut seen_title = false;
    doc.blocks
        .iter()
        .map(|b| match b {
            Block::Heading { key, .. } => {
                current = Some(key.clone());
                None
            }
            Block::Title(_) => {
                seen_title = true;
                None
            }
            _ if current.is_none() && seen_title => Some(OPENING.to_string()),
            _ => current.clone(),
        })
        .collect()
}

impl Doc {
    /// The sections whose words can be edited, in order, with their heading
    /// ('' for the opening) and current words.
    pub fn editable(&self) -> Vec<(String, String, String)> {
        let keys = keys(self);
        let mut out: Vec<(String, String, String)> = Vec::new();
        for (k, b) in keys.iter().zip(&self.blocks) {
            let (Some(key), Some(text)) = (k, prose(b)) else {
                continue;
            };
            match out.iter_mut().find(|(s, _, _)| s == key) {
                Some(entry) => {
                    entry.2.push('\n');
                    entry.2.push_str(&text);
                }
                None => {
                    let heading = self
                        .blocks
                        .iter()
                        .find_map(|b| match b {
                            Block::Heading { key: h, text } if h == key => Some(text.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    out.push((key.clone(), heading, text));
                }
            }
        }
        out
    }

    /// The document with `text` as the words of `section`: its paragraphs
    /// where the section's first paragraph stood, the others gone, tables
    /// and charts kept. Empty lines are dropped. False if the document has
    /// no such section.
    pub fn apply_edit(&mut self, section: &str, text: &str) -> bool {
        let keys = keys(self);
        let at: Vec<usize> = keys
            .iter()
            .zip(&self.blocks)
            .enumerate()
            .filter(|(_, (k, b))| k.as_deref() == Some(section) && prose(b).is_some())
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = at.first() else {
            return false;
        };
        let paragraphs: Vec<Block> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Block::Para {
                id: String::new(),
                text: l.to_string(),
            })
            .collect();
        let keep_id = match &self.blocks[first] {
            Block::Para { id, .. } => id.clone(),
            _ => String::new(),
        };
        for i in at.iter().rev() {
            self.blocks.remove(*i);
        }
        let mut paragraphs = paragraphs;
        if let Some(Block::Para { id, .. }) = paragraphs.first_mut() {
            *id = keep_id;
        }
        for (k, p) in paragraphs.into_iter().enumerate() {
            self.blocks.insert(first + k, p);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::{Cell, Row, Table};

    fn doc() -> Doc {
        Doc {
            title: "t".into(),
            blocks: vec![
                Block::Title("t".into()),
                Block::Addressee("a：".into()),
                Block::Para {
                    id: "notice-opening".into(),
                    text: "开头。".into(),
                },
                Block::Heading {
                    key: "deductions".into(),
                    text: "一、扣分情况".into(),
                },
                Block::Para {
                    id: String::new(),
                    text: "共有 2 项。".into(),
                },
                Block::Table(Table {
                    id: "x".into(),
                    head: vec!["h".into()],
                    rows: vec![Row {
                        key: String::new(),
                        cells: vec![Cell::text("c")],
                    }],
                }),
                Block::Heading {
                    key: "suggestions".into(),
                    text: "二、整改建议".into(),
                },
                Block::RunIn {
                    lead: "（一）甲。".into(),
                    text: "加强。".into(),
                },
                Block::RunIn {
                    lead: "（二）乙。".into(),
                    text: "完善。".into(),
                },
            ],
            properties: Vec::new(),
        }
    }

    #[test]
    fn sections_read_and_replaced_keeping_tables() {
        let mut d = doc();
        let e = d.editable();
        let keys: Vec<&str> = e.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["opening", "deductions", "suggestions"]);
        assert_eq!(e[2].2, "（一）甲。加强。\n（二）乙。完善。");
        assert_eq!(e[1].1, "一、扣分情况");
        assert!(d.apply_edit("suggestions", "一条。\n\n  两条。  \n"));
        assert!(d.apply_edit("deductions", "改过的。"));
        assert!(d.apply_edit(OPENING, "新开头。"));
        assert!(!d.apply_edit("nowhere", "x"));
        let e = d.editable();
        assert_eq!(e[2].2, "一条。\n两条。");
        assert_eq!(e[1].2, "改过的。");
        // The table stays after the section's words; the opening keeps its id.
        assert!(matches!(d.blocks[5], Block::Table(_)));
        assert!(
            matches!(&d.blocks[2], Block::Para { id, text } if id == "notice-opening" && text == "新开头。")
        );
        // An emptied section has no words left and cannot be edited again
        // until the document is made anew.
        assert!(d.apply_edit("deductions", "  \n"));
        assert!(!d.editable().iter().any(|(k, _, _)| k == "deductions"));
    }
}
