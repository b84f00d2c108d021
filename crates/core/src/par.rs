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

#[cfg(test)]
mod tests {
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
