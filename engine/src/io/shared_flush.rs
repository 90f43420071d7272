//! One device flush for many logs.
//!
//! An fdatasync of a file with no metadata to write is a flush of the device's write cache,
//! and a device flush makes durable every write the device completed before it began, in any
//! file. ext4 (with or without a journal) and XFS issue that flush even when the file has
//! nothing of its own to write; other filesystems may skip it, so only those two share.
//!
//! A log whose completed writes only overwrote blocks that were already written and synced
//! (a recycled segment within its old length: see `log::recycle`) therefore needs no
//! fdatasync of its own, only a flush that began after its writes completed. The logs of a
//! shard that sync at about the same time share one: 64 partitions committing together cost
//! one flush instead of 64 that queue behind each other in io_uring's workers and at the
//! device.
//!
//! What else must hold, checked where it can be: the writes bypassed the page cache (statx
//! confirms direct I/O per file: ext4 buffers O_DIRECT writes of data-journalled or encrypted
//! files), and the flush is of the device the writes went to (one shared flush per device).
//! Not checked: an XFS file whose blocks someone shared with a copy (`cp --reflink`) turns
//! overwrites into copy-on-write, new metadata; pinlog never shares its files' blocks.
//!
//! The rule a caller gets: `flush` resolves after a flush that began after the call. A caller
//! that arrives while a flush runs waits for the next one, which every caller that arrived
//! during the running one shares.

use std::cell::RefCell;
use std::future::Future;

use futures::channel::oneshot;

/// What a finished flush tells the callers that waited for it: its number and its outcome.
type Finished = (u64, Result<(), FlushError>);

/// A failed flush, as each caller that shared it reports it.
#[derive(Debug, Clone)]
pub(crate) struct FlushError {
    pub raw_os_error: Option<i32>,
    pub message: String,
}

impl FlushError {
    pub(crate) fn to_io_error(&self) -> std::io::Error {
        match self.raw_os_error {
            Some(errno) => std::io::Error::from_raw_os_error(errno),
            None => std::io::Error::other(self.message.clone()),
        }
    }
}

#[derive(Default)]
struct State {
    /// Flushes begun so far; while one runs, it is number `begun`.
    begun: u64,
    running: bool,
    /// Callers waiting for a flush to finish. At most one per log of the shard: only a log's
    /// sync task calls, and a log runs one at a time.
    waiting: Vec<oneshot::Sender<Finished>>,
}

/// The shard's shared device flush (see the module docs). Not `Send`: it lives on its shard.
#[derive(Default)]
pub struct SharedFlush {
    state: RefCell<State>,
}

impl SharedFlush {
    /// Resolves once a flush that began after this call has finished; `flush_via` runs it (an
    /// fdatasync of the caller's file) when no flush that fits is running already.
    pub(crate) async fn flush<F, Fut>(&self, flush_via: F) -> Result<(), FlushError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), FlushError>>,
    {
        // Whether one runs now or not, the first flush to begin from here is the next number.
        let needed = self.state.borrow().begun + 1;
        let mut flush_via = Some(flush_via);
        loop {
            let waiting = {
                let mut state = self.state.borrow_mut();
                if state.running {
                    let (sender, receiver) = oneshot::channel();
                    state.waiting.push(sender);
                    Some(receiver)
                } else {
                    // Whatever began since we came (and has finished, its outcome sent to
                    // others), a flush begun now is after our call too.
                    state.running = true;
                    state.begun += 1;
                    None
                }
            };
            match waiting {
                Some(receiver) => match receiver.await {
                    Ok((number, outcome)) if number >= needed => return outcome,
                    // The one that ran when we came (or whoever ran it was dropped): the next
                    // one is ours to begin or to wait for.
                    _ => continue,
                },
                None => {
                    let guard = Running { owner: self };
                    let run = flush_via.take().expect("a caller begins at most one flush");
                    let outcome = run().await;
                    guard.finish(outcome.clone());
                    return outcome;
                }
            }
        }
    }
}

/// The flush in progress; dropped unfinished (its task cancelled), it lets the waiters retry
/// instead of waiting for ever.
struct Running<'a> {
    owner: &'a SharedFlush,
}

impl Running<'_> {
    fn finish(self, outcome: Result<(), FlushError>) {
        self.wake(Some(outcome));
        std::mem::forget(self);
    }

    fn wake(&self, outcome: Option<Result<(), FlushError>>) {
        let (number, waiting) = {
            let mut state = self.owner.state.borrow_mut();
            state.running = false;
            (state.begun, std::mem::take(&mut state.waiting))
        };
        for waiter in waiting {
            // A number below every waiter's need sends them round again.
            let finished = match &outcome {
                Some(outcome) => (number, outcome.clone()),
                None => (0, Ok(())),
            };
            let _ = waiter.send(finished);
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.wake(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    fn run<F: Future<Output = ()> + 'static>(future: F) {
        glommio::LocalExecutorBuilder::default()
            .make()
            .expect("an executor")
            .run(future);
    }

    /// Flushes, each recording when it began and ended (in ticks of a shared clock).
    #[derive(Default)]
    struct Device {
        clock: Cell<u64>,
        flushes: RefCell<Vec<(u64, u64)>>,
    }

    impl Device {
        fn tick(&self) -> u64 {
            self.clock.set(self.clock.get() + 1);
            self.clock.get()
        }

        async fn flush(self: Rc<Self>) -> Result<(), FlushError> {
            let began = self.tick();
            glommio::timer::sleep(Duration::from_millis(5)).await;
            let ended = self.tick();
            self.flushes.borrow_mut().push((began, ended));
            Ok(())
        }
    }

    #[test]
    fn callers_share_flushes_and_each_waits_for_one_begun_after_it_came() {
        run(async {
            let shared = Rc::new(SharedFlush::default());
            let device = Rc::new(Device::default());
            let mut callers = Vec::new();
            for i in 0..40u64 {
                let (shared, device) = (shared.clone(), device.clone());
                callers.push(glommio::spawn_local(async move {
                    // Callers arrive spread over several flushes.
                    glommio::timer::sleep(Duration::from_millis(i / 4)).await;
                    let came = device.tick();
                    shared
                        .flush(|| device.clone().flush())
                        .await
                        .expect("no fault");
                    let resolved = device.tick();
                    (came, resolved)
                }));
            }
            let mut results = Vec::new();
            for caller in callers {
                results.push(caller.await);
            }
            let flushes = device.flushes.borrow();
            assert!(
                flushes.len() < results.len() / 4,
                "{} flushes for {} callers",
                flushes.len(),
                results.len()
            );
            for (came, resolved) in results {
                assert!(
                    flushes
                        .iter()
                        .any(|&(began, ended)| began > came && ended < resolved),
                    "a caller that came at {came} resolved at {resolved} without a flush \
                     begun after it: {flushes:?}"
                );
            }
            // One at a time.
            for pair in flushes.windows(2) {
                assert!(pair[0].1 < pair[1].0, "flushes overlapped: {flushes:?}");
            }
        });
    }

    #[test]
    fn a_failed_flush_fails_every_caller_that_shared_it_and_the_next_one_runs() {
        run(async {
            let shared = Rc::new(SharedFlush::default());
            let attempts = Rc::new(Cell::new(0));
            let failing = |attempts: Rc<Cell<u32>>| async move {
                attempts.set(attempts.get() + 1);
                glommio::timer::sleep(Duration::from_millis(50)).await;
                if attempts.get() <= 2 {
                    Err(FlushError {
                        raw_os_error: Some(libc::EIO),
                        message: String::new(),
                    })
                } else {
                    Ok(())
                }
            };
            let mut callers = Vec::new();
            for i in 0..6u64 {
                let (shared, attempts) = (shared.clone(), attempts.clone());
                callers.push(glommio::spawn_local(async move {
                    glommio::timer::sleep(Duration::from_millis(i)).await;
                    shared.flush(|| failing(attempts)).await
                }));
            }
            let mut outcomes = Vec::new();
            for caller in callers {
                outcomes.push(caller.await);
            }
            // The first flush (caller 0's) fails; callers 1..6 came while it ran (50 ms) and
            // share the second, which fails too.
            assert_eq!(attempts.get(), 2);
            for outcome in &outcomes {
                let error = outcome.as_ref().expect_err("every caller saw a failure");
                assert_eq!(error.to_io_error().raw_os_error(), Some(libc::EIO));
            }
            let attempts_now = attempts.clone();
            shared
                .flush(|| failing(attempts_now))
                .await
                .expect("the third succeeds");
        });
    }

    #[test]
    fn a_cancelled_flush_lets_its_waiters_run_their_own() {
        run(async {
            let shared = Rc::new(SharedFlush::default());
            let stuck = {
                let shared = shared.clone();
                glommio::spawn_local(async move {
                    shared
                        .flush(|| async {
                            glommio::timer::sleep(Duration::from_secs(3600)).await;
                            Ok(())
                        })
                        .await
                })
            };
            glommio::timer::sleep(Duration::from_millis(2)).await;
            let waiter = {
                let shared = shared.clone();
                glommio::spawn_local(async move { shared.flush(|| async { Ok(()) }).await })
            };
            glommio::timer::sleep(Duration::from_millis(2)).await;
            assert!(
                stuck.cancel().await.is_none(),
                "the stuck flush never finished"
            );
            waiter.await.expect("the waiter ran its own flush");
        });
    }
}
