//! Futures that complete when a log's watermark passes a threshold: appends waiting to be
//! written or made durable, and fetches long-polling for new data. Woken by the flusher as it
//! advances the watermark, never by polling.

use futures::channel::oneshot;

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
}

impl<T: Ord + Copy> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            waiting: Vec::new(),
        }
    }
}

impl<T: Ord + Copy> Waiters<T> {
    /// A receiver completed once `release(watermark)` is called with `watermark >= threshold`.
    pub fn wait(&mut self, threshold: T) -> oneshot::Receiver<Result<(), WaitError>> {
        let (sender, receiver) = oneshot::channel();
        self.waiting.push((threshold, sender));
        receiver
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
            .any(|(threshold, _)| *threshold <= watermark)
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Fails every waiter.
    pub fn fail_all(&mut self, error: WaitError) {
        for (_, sender) in self.waiting.drain(..) {
            let _ = sender.send(Err(error.clone()));
        }
    }
}
