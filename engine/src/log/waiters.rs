//! Futures that complete when a log's watermark passes a threshold: appends waiting to be
//! written or made durable, and fetches long-polling for new data. Woken by the flusher as it
//! advances the watermark, never by polling.

use futures::channel::oneshot;

use crate::limits::WAITERS_PRUNE_MIN;

/// Why a wait ended without its threshold being reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The log failed (an I/O error); the string says why.
    Failed(String),
    /// The log was closed or deleted.
    Closed,
}

/// Waiters on one watermark, each with the value it waits for the watermark to reach.
pub struct Waiters<T: Ord + Copy> {
    waiting: Vec<(T, oneshot::Sender<Result<(), WaitError>>)>,
    /// `waiting` is pruned of waiters nobody listens to any more when it reaches this length:
    /// a long poll that times out drops its receiver, and on a partition that receives nothing
    /// its entry would otherwise stay for good, one per fetch.
    prune_at: usize,
    /// Set by `fail_all`: the watermark will not move again, so a later wait ends at once.
    ended: Option<WaitError>,
}

impl<T: Ord + Copy> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            waiting: Vec::new(),
            prune_at: WAITERS_PRUNE_MIN,
            ended: None,
        }
    }
}

impl<T: Ord + Copy> Waiters<T> {
    /// A receiver completed once `release(watermark)` is called with `watermark >= threshold`,
    /// or with the error of `fail_all`, even one that came before.
    pub fn wait(&mut self, threshold: T) -> oneshot::Receiver<Result<(), WaitError>> {
        let (sender, receiver) = oneshot::channel();
        match &self.ended {
            Some(error) => {
                let _ = sender.send(Err(error.clone()));
            }
            None => {
                if self.waiting.len() >= self.prune_at {
                    self.waiting.retain(|(_, sender)| !sender.is_canceled());
                    // Twice what is left: pruning stays amortised O(1) per wait however many
                    // waiters are alive.
                    self.prune_at = (2 * self.waiting.len()).max(WAITERS_PRUNE_MIN);
                }
                self.waiting.push((threshold, sender));
            }
        }
        receiver
    }

    /// Entries held, including waiters whose receiver was dropped and not yet pruned.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Completes every waiter whose threshold is at most `watermark`.
    pub fn release(&mut self, watermark: T) {
        if self.waiting.is_empty() {
            return;
        }
        let mut index = 0;
        while index < self.waiting.len() {
            if self.waiting[index].0 <= watermark {
                let (_, sender) = self.waiting.swap_remove(index);
                let _ = sender.send(Ok(()));
            } else {
                index += 1;
            }
        }
    }

    /// Whether anyone waits for a threshold at most `watermark`.
    pub fn any_at_most(&self, watermark: T) -> bool {
        self.waiting
            .iter()
            .any(|(threshold, sender)| *threshold <= watermark && !sender.is_canceled())
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Fails every waiter, and every later one: the log failed or closed, and an append that
    /// was between two awaits when it did must not wait for a flusher that never runs again.
    pub fn fail_all(&mut self, error: WaitError) {
        self.ended = Some(error.clone());
        for (_, sender) in self.waiting.drain(..) {
            let _ = sender.send(Err(error.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_whose_receiver_was_dropped_do_not_pile_up() {
        let mut waiters: Waiters<u64> = Waiters::default();
        let kept = waiters.wait(5);
        // An idle partition long-polled over and over: every wait times out and is dropped.
        for _ in 0..100 * WAITERS_PRUNE_MIN {
            drop(waiters.wait(7));
            assert!(waiters.len() <= WAITERS_PRUNE_MIN + 1, "{}", waiters.len());
        }
        drop(waiters.wait(3));
        assert!(
            !waiters.any_at_most(4),
            "an abandoned waiter asks the flusher for nothing"
        );
        assert!(waiters.any_at_most(5));
        waiters.release(5);
        let mut kept = kept;
        assert_eq!(
            kept.try_recv(),
            Ok(Some(Ok(()))),
            "a live waiter survives pruning"
        );
    }

    #[test]
    fn live_waiters_are_all_kept_however_many() {
        let mut waiters: Waiters<u64> = Waiters::default();
        let receivers: Vec<_> = (0..10 * WAITERS_PRUNE_MIN as u64)
            .map(|threshold| waiters.wait(threshold))
            .collect();
        assert_eq!(waiters.len(), receivers.len());
        waiters.release(u64::MAX);
        for mut receiver in receivers {
            assert_eq!(receiver.try_recv(), Ok(Some(Ok(()))));
        }
    }

    #[test]
    fn a_wait_after_the_waiters_failed_ends_at_once_with_the_failure() {
        let mut waiters: Waiters<u64> = Waiters::default();
        let before = waiters.wait(10);
        waiters.fail_all(WaitError::Failed("disk".into()));
        let mut after = waiters.wait(20);
        let mut before = before;
        assert_eq!(
            before.try_recv(),
            Ok(Some(Err(WaitError::Failed("disk".into()))))
        );
        assert_eq!(
            after.try_recv(),
            Ok(Some(Err(WaitError::Failed("disk".into())))),
            "a late waiter hangs no more"
        );
    }
}
