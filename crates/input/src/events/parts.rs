//! `read_events` for a CSV without quotes (every generated and most
//! exported files) on every core. Pass one splits the file's slices on
//! each core and sends each row to a part chosen by a hash of its
//! `event_id`, so every version of an event is in one part; pass two
//! checks and deduplicates the parts on every core, each exactly as one
//! whole file, in file order. Ten million rows on one core spent most of
//! their time keeping the latest versions (one hash map), which now is
//! one map per part.

use super::{EventsRead, Keeper, check, columns};
use crate::error::{Collector, InputError};
use crate::table::split_records;
use pingan_core::RegionTree;
use rustc_hash::FxHasher;
use std::borrow::Cow;
use std::hash::Hasher;

/// Below this many bytes one core does it all (and the events keep the
/// file's order).
pub(super) const SPLIT_FROM: usize = 4 << 20;

/// A row: its line and its bytes (no line end).
type Row<'a> = (usize, &'a [u8]);

fn part_of(id: &[u8], n: usize) -> usize {
    let mut h = FxHasher::default();
    h.write(std::str::from_utf8(id).unwrap_or("").trim().as_bytes());
    (h.finish() % n as u64) as usize
}

/// The header: its line's fields and where the rows after it start
/// (byte, line), or None for a file of blank lines.
pub(super) fn header(body: &str) -> Option<(Vec<&str>, usize, usize)> {
    let bytes = body.as_bytes();
    let (mut start, mut line) = (0, 1);
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let rec = &body[start..end];
        let rec = rec.strip_suffix('\r').unwrap_or(rec);
        if !rec.is_empty() {
            let fields = rec.split(',').map(str::trim).collect();
            return Some((fields, (end + 1).min(bytes.len()), line + 1));
        }
        start = end + 1;
        line += 1;
    }
    None
}

/// `bytes` cut into `n` slices at line ends.
pub(super) fn slices(bytes: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut from = 0;
    for k in 1..n {
        let at = (bytes.len() * k / n).max(from);
        let cut = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        out.push(&bytes[from..cut]);
        from = cut;
    }
    out.push(&bytes[from..]);
    out
}

/// The events of `body` (CSV, no `"` anywhere), errors into `errs`.
pub(super) fn read<'a>(body: &'a str, tree: &RegionTree, errs: &mut Collector) -> EventsRead<'a> {
    read_split(body, tree, errs, SPLIT_FROM, pingan_core::par::threads())
}

/// `read`, on `cores` threads once the rows are at least `from` bytes.
fn read_split<'a>(
    body: &'a str,
    tree: &RegionTree,
    errs: &mut Collector,
    from: usize,
    cores: usize,
) -> EventsRead<'a> {
    let Some((head, start, first_line)) = header(body) else {
        errs.push(None, "文件为空：缺少表头");
        return EventsRead::default();
    };
    let Some(at) = columns(&head, errs) else {
        return EventsRead::default();
    };
    let width = head.len();
    let rest = &body.as_bytes()[start..];
    let threads = if rest.len() < from { 1 } else { cores.max(1) };
    // A few parts per core, so one slow part does not leave a core idle.
    let n = if threads == 1 { 1 } else { threads * 4 };
    let cut = slices(rest, threads);
    let mut first = Vec::with_capacity(cut.len());
    let mut line = first_line;
    for s in &cut {
        first.push(line);
        line += memchr::memchr_iter(b'\n', s).count();
    }
    let file = errs.file;
    // Pass one: each slice's rows into its parts, with their lines.
    let spread: Vec<(Vec<Vec<Row<'a>>>, Vec<InputError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cut
            .iter()
            .zip(&first)
            .map(|(slice, &line)| {
                s.spawn(move || {
                    let mut local = Collector::new(file);
                    let mut parts: Vec<Vec<Row<'a>>> = (0..n)
                        .map(|_| Vec::with_capacity(slice.len() / 110 / n + 16))
                        .collect();
                    split_records(slice, line, Some(width), &mut local, |_, line, rec| {
                        let first = rec[0];
                        let last = rec[rec.len() - 1];
                        // The record's bytes: from its first field to the
                        // end of its last (the same slice).
                        let from = first.as_ptr() as usize - slice.as_ptr() as usize;
                        let to = last.as_ptr() as usize + last.len() - slice.as_ptr() as usize;
                        parts[part_of(rec[at[0]], n)].push((line, &slice[from..to]));
                        true
                    });
                    (parts, local.errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut errors = Vec::new();
    let mut by_part: Vec<Vec<&[Row<'a>]>> = vec![Vec::new(); n];
    for (parts, e) in &spread {
        errors.extend(e.iter().cloned());
        for (k, rows) in parts.iter().enumerate() {
            by_part[k].push(rows);
        }
    }
    // Pass two: the parts on every core, taken in turn.
    let mut outs =
        pingan_core::par::in_turn(&by_part, threads, |rows| read_part(file, rows, &at, tree));
    let mut read = EventsRead::default();
    let mut events = Vec::with_capacity(outs.len());
    let mut rest = Vec::with_capacity(outs.len());
    for (r, e) in outs.drain(..) {
        errors.extend(e);
        read.rows += r.rows;
        read.duplicates += r.duplicates;
        events.push(r.events);
        rest.push((r.ids, r.categories, r.digests, r.lines));
    }
    // One vector each: most of the time goes in faulting in the new memory
    // (two seconds for ten million events on one core), so the events on
    // one core and the other four vectors, of about the same size, on the
    // other.
    std::thread::scope(|s| {
        let joined = s.spawn(|| events.concat());
        let total = rest.iter().map(|r| r.0.len()).sum();
        read.ids.reserve_exact(total);
        read.categories.reserve_exact(total);
        read.digests.reserve_exact(total);
        read.lines.reserve_exact(total);
        for (ids, categories, digests, lines) in rest {
            read.ids.extend(ids);
            read.categories.extend(categories);
            read.digests.extend(digests);
            read.lines.extend(lines);
        }
        read.events = joined
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
    });
    // The first problems by line, as one core reading in order finds them.
    errors.sort_by_key(|e| e.line);
    for e in errors {
        errs.push(e.line, e.message);
    }
    read
}

/// One part's rows (slice by slice, so in file order) checked and kept.
fn read_part<'a>(
    file: &str,
    rows: &[&[Row<'a>]],
    at: &[usize; 11],
    tree: &RegionTree,
) -> (EventsRead<'a>, Vec<InputError>) {
    let mut errs = Collector::new(file);
    let mut keeper = Keeper::default();
    let size: usize = rows.iter().map(|r| r.len()).sum();
    keeper.reserve(size);
    let mut fields: Vec<&'a [u8]> = Vec::with_capacity(16);
    'rows: for &(line, rec) in rows.iter().flat_map(|r| r.iter()) {
        fields.clear();
        fields.extend(rec.split(|&b| b == b','));
        let f: [Cow<'a, str>; 11] = std::array::from_fn(|j| {
            // Pass one checked the count; the text is UTF-8 and cut at commas.
            Cow::Borrowed(
                std::str::from_utf8(fields.get(at[j]).copied().unwrap_or(b""))
                    .unwrap_or("\u{fffd}")
                    .trim(),
            )
        });
        keeper.row(&mut errs, check(line, &f, tree));
        if errs.full() {
            break 'rows;
        }
    }
    (keeper.out, errs.errors)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{HEAD, tree};
    use super::*;
    use proptest::prelude::*;

    /// What a read found, in an order that does not depend on the parts.
    fn summary(r: &EventsRead<'_>, errs: Collector) -> (Vec<String>, usize, usize, Vec<String>) {
        let mut events: Vec<String> = (0..r.events.len())
            .map(|i| {
                format!(
                    "{}|{}|{:x}|{}|{:?}",
                    r.ids[i], r.categories[i], r.digests[i], r.lines[i], r.events[i]
                )
            })
            .collect();
        events.sort();
        let mut errors: Vec<String> = errs.errors.iter().map(ToString::to_string).collect();
        errors.sort();
        (events, r.rows, r.duplicates, errors)
    }

    /// Row `twist` 0 is refused, 1 conflicts with another row of its version.
    fn row(id: u8, version: u8, twist: u8) -> String {
        let urgency = match twist {
            0 => "很急",
            1 => "紧急",
            _ => "一般",
        };
        format!(
            "e{id},grid,990101001,纠纷{},{urgency},1,2024-01-02 08:00:00,,,,2024-01-02 08:{version:02}:00",
            version % 2
        )
    }

    proptest! {
        /// Split into parts on several threads, a file reads exactly as on
        /// one: the same events, versions, duplicates and errors.
        #[test]
        fn parts_read_as_one(rows in proptest::collection::vec((0u8..40, 0u8..4, 0u8..30, proptest::bool::weighted(0.05)), 0..300), cores in 2usize..5) {
            let mut text = String::from(HEAD);
            for (id, version, twist, blank) in rows {
                text.push_str(&row(id, version, twist));
                text.push_str(if blank { "\r\n\n" } else { "\n" });
            }
            let tree = tree();
            let mut one = Collector::new("x.csv");
            let a = read_split(&text, &tree, &mut one, usize::MAX, 1);
            let mut many = Collector::new("x.csv");
            let b = read_split(&text, &tree, &mut many, 0, cores);
            prop_assert_eq!(summary(&a, one), summary(&b, many));
        }
    }

    #[test]
    fn slices_end_at_line_ends() {
        let text = b"a\nbb\nccc\n\ndddd";
        for n in 1..8 {
            let s = slices(text, n);
            assert_eq!(s.concat(), text.to_vec());
            // Each slice starts at a line's start.
            let mut at = 0;
            for p in &s {
                assert!(
                    at == 0 || at == text.len() || text[at - 1] == b'\n',
                    "{n}: {s:?}"
                );
                at += p.len();
            }
        }
    }
}
