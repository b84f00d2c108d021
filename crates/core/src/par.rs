//! Work split over the machine's cores with scoped threads (std only): each
//! item is computed by one thread in the same way, so the result is the
//! same, bit for bit, however many cores there are.

/// How many threads to use: the cores available, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `items.iter().map(f).collect()`, in contiguous chunks on `threads()`
/// threads when there are enough items (4096) to pay for them.
pub fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    map_from(items, 4096, f)
}

/// `map`, split from `min` items on: fewer for heavier items.
pub fn map_from<T: Sync, U: Send>(items: &[T], min: usize, f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let n = threads();
    if n < 2 || items.len() < min.max(2) {
        return items.iter().map(f).collect();
    }
    let size = items.len().div_ceil(n);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(size)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<U>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for p in parts {
            // A panic in a worker is a bug of ours; surface it as one.
            out.extend(p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// `items.iter().map(f).collect()` for few, uneven items (parts of a
/// file): `threads` threads take the next item in turn, so one slow item
/// does not leave a core idle. The results are in the items' order.
pub fn in_turn<T: Sync, U: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let mut done: Vec<(usize, U)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.clamp(1, items.len().max(1)))
            .map(|_| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            // A panic in a worker is a bug of ours; surface it as one.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, u)| u).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_turn_keeps_the_items_order() {
        let items: Vec<u64> = (0..37).collect();
        for threads in [1, 2, 5, 100] {
            assert_eq!(
                super::in_turn(&items, threads, |x| x * 3),
                items.iter().map(|x| x * 3).collect::<Vec<_>>()
            );
        }
        assert!(super::in_turn(&[] as &[u8], 2, |x| *x).is_empty());
    }

    #[test]
    fn the_same_as_a_plain_map_in_order() {
        let items: Vec<u64> = (0..100_003).collect();
        let want: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        assert_eq!(super::map(&items, |x| x * x + 1), want);
        assert_eq!(
            super::map(&items[..10], |x| x + 1),
            (1..11).collect::<Vec<_>>()
        );
        assert!(super::map(&[] as &[u8], |x| *x).is_empty());
    }
}
