//! How much large content the workers check at once.
//!
//! Checking a file takes memory out of proportion to its size: decoded text and its offset
//! map, markup events, the normalized text and its map. On ordinary files that is a few times
//! their size, but files an attacker writes to be hard to read (markup that never closes, one
//! line of a million concatenated strings, letters spaced out) take 10–25 times it
//! (`bench/hostile.sh`). One such file at the size limit is a few hundred megabytes; one on
//! every worker of a many-core server at once would be gigabytes, and an out-of-memory kill
//! ends the weekly scan with nothing reported.
//!
//! So content of [`LARGE`] bytes or more is checked only while the large content in flight
//! stays within a budget (the size limit, at least [`MIN_BUDGET`]): a large file waits until
//! the ones before it are done, in the order they came. Smaller files never wait. A file is
//! always let through when nothing else is in flight, so one larger than the budget cannot
//! wait forever, and a worker holds at most one [`Permit`], so waiting cannot deadlock.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Content from this size on takes part of the budget.
pub(crate) const LARGE: u64 = 1 << 20;
/// The smallest budget, whatever the size limit.
pub(crate) const MIN_BUDGET: u64 = 16 << 20;

/// The budget of large content in flight, shared by the workers of a scan.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes of the permits held.
    used: u64,
    /// Permits held.
    held: usize,
    /// The ticket the next waiter takes, and the one let in next (first come, first served).
    next: u64,
    serving: u64,
}

/// Part of the budget, given back when dropped.
#[derive(Debug)]
#[must_use = "the budget is given back when the permit is dropped"]
pub(crate) struct Permit<'b> {
    budget: &'b Budget,
    bytes: u64,
}

impl Budget {
    /// A budget for a scan whose size limit is `max_size`.
    pub(crate) fn for_max_size(max_size: u64) -> Budget {
        Budget::new(max_size.max(MIN_BUDGET))
    }

    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> Budget {
        Budget { limit, state: Mutex::new(State::default()), changed: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two counters updated together: a panic elsewhere leaves it whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for room for `bytes` of content and takes it; `None` (no wait) for content
    /// under [`LARGE`].
    pub(crate) fn hold(&self, bytes: u64) -> Option<Permit<'_>> {
        if bytes < LARGE {
            return None;
        }
        let mut st = self.lock();
        let ticket = st.next;
        st.next += 1;
        while st.serving != ticket || (st.held > 0 && st.used + bytes > self.limit) {
            st = self.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        st.serving += 1;
        st.used += bytes;
        st.held += 1;
        drop(st);
        // The next in line may fit too.
        self.changed.notify_all();
        Some(Permit { budget: self, bytes })
    }

    /// Bytes held now.
    #[cfg(test)]
    fn used(&self) -> u64 {
        self.lock().used
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut st = self.budget.lock();
        st.used -= self.bytes;
        st.held -= 1;
        drop(st);
        self.budget.changed.notify_all();
        give_back_freed_memory();
    }
}

/// Returns to the system the memory that the checks of large content freed. glibc's allocator
/// keeps freed memory in the arena of the thread that freed it, for that thread's next
/// allocations: after every worker has checked a large file, the process held the peak of each
/// although the budget let them through in turn (`bench/hostile.sh`-style files of 16 MB on
/// eight workers: 1.3 GB peak without this, 0.83 GB with it). Other allocators and systems
/// return memory their own way.
#[allow(unsafe_code)]
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` has no preconditions; it takes the allocator's locks itself and
    // only releases memory that is free.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    const MB: u64 = 1 << 20;

    #[test]
    fn small_content_never_waits() {
        let b = Budget::new(2 * MB);
        let _big = b.hold(2 * MB).expect("large content takes a permit");
        assert!(b.hold(LARGE - 1).is_none());
        assert_eq!(b.used(), 2 * MB);
    }

    #[test]
    fn content_over_the_budget_goes_alone() {
        let b = Budget::new(2 * MB);
        let p = b.hold(5 * MB).expect("let through when nothing is in flight");
        assert_eq!(b.used(), 5 * MB);
        drop(p);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn large_content_waits_for_room_in_order() {
        let b = Budget::new(4 * MB);
        let first = b.hold(3 * MB).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            // A 3 MB waiter, then a 1 MB one that would fit beside the first permit but must
            // not pass the waiter before it.
            let (b, tx2) = (&b, tx.clone());
            s.spawn(move || {
                let _p = b.hold(3 * MB).unwrap();
                tx2.send("3 MB").unwrap();
            });
            while b.lock().next < 2 {
                std::thread::yield_now();
            }
            s.spawn(move || {
                let _p = b.hold(MB).unwrap();
                tx.send("1 MB").unwrap();
            });
            while b.lock().next < 3 {
                std::thread::yield_now();
            }
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "no one passes the first waiter");
            drop(first);
            let mut got: Vec<_> = (0..2).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
            got.sort();
            assert_eq!(got, ["1 MB", "3 MB"]);
        });
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn content_that_fits_goes_together() {
        let b = Budget::new(4 * MB);
        let _a = b.hold(2 * MB).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            let b = &b;
            s.spawn(move || {
                let _p = b.hold(2 * MB).unwrap();
                tx.send(b.used()).unwrap();
            });
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 4 * MB);
        });
    }
}
