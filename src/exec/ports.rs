//! Concrete ports for the symbols `P1` … `P9`: each worker takes ports from
//! its own slice of a range outside the host's ephemeral range, never the
//! same port twice in one network namespace, so nothing an earlier case left
//! behind (TIME_WAIT) can touch a new case.

use std::time::{Duration, Instant};

/// How long a port stays unusable after a case used it when the namespace
/// is not recycled (the host's own stack): TIME_WAIT lasts 60 s on Linux.
pub const REUSE_AFTER: Duration = Duration::from_secs(65);

/// One worker's ports.
#[derive(Debug)]
pub struct PortPool {
    lo: u16,
    hi: u16,
    next: u16,
    /// Host mode only: when each port was last handed out.
    used_at: Option<Vec<Option<Instant>>>,
}

impl PortPool {
    /// The share of worker `worker` of `workers` in `lo..hi`.
    pub fn new(lo: u16, hi: u16, worker: usize, workers: usize, track_time: bool) -> PortPool {
        let span = (hi - lo) as usize / workers.max(1);
        let a = lo + (span * worker) as u16;
        let b = a + span as u16;
        PortPool { lo: a, hi: b, next: a, used_at: track_time.then(|| vec![None; span]) }
    }

    /// Number of ports in this pool.
    pub fn len(&self) -> usize {
        (self.hi - self.lo) as usize
    }

    /// Whether the pool has no ports.
    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }

    /// Whether `n` more ports can be taken before the pool wraps.
    pub fn has(&self, n: usize) -> bool {
        (self.hi - self.next) as usize >= n
    }

    /// Starts again from the first port (after the namespace was recycled).
    pub fn reset(&mut self) {
        self.next = self.lo;
    }

    /// Takes the next port. In host mode, waits until the port was last
    /// used at least [`REUSE_AFTER`] ago; returns `None` when the pool
    /// wrapped and needs a reset (namespace mode).
    pub fn take(&mut self) -> Option<u16> {
        if self.next >= self.hi {
            self.used_at.as_ref()?;
            self.next = self.lo;
        }
        let p = self.next;
        self.next += 1;
        if let Some(times) = &mut self.used_at {
            let slot = &mut times[(p - self.lo) as usize];
            if let Some(t) = *slot {
                let age = t.elapsed();
                if age < REUSE_AFTER {
                    std::thread::sleep(REUSE_AFTER - age);
                }
            }
            *slot = Some(Instant::now());
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_get_disjoint_slices() {
        let a = PortPool::new(1024, 32768, 0, 2, false);
        let b = PortPool::new(1024, 32768, 1, 2, false);
        assert_eq!(a.len() + b.len(), 32768 - 1024);
        assert!(a.hi <= b.lo);
    }

    #[test]
    fn a_namespace_pool_wraps_with_none() {
        let mut p = PortPool::new(2000, 2003, 0, 1, false);
        assert_eq!((p.take(), p.take(), p.take(), p.take()), (Some(2000), Some(2001), Some(2002), None));
        p.reset();
        assert_eq!(p.take(), Some(2000));
    }
}
