//! The worker pool of the jobs that fan out over threads: `check` (fetching and judging
//! sources), `add` (capturing inputs) and `verify --bagit` (hashing payload files).
//!
//! Workers draw jobs one at a time from a shared iterator and send each result, with the job's
//! index, to the calling thread, which takes them as they come (in completion order) through a
//! bounded queue: a slow consumer holds the workers back instead of letting results pile up in
//! memory. Each worker runs the caller's `worker` function, which gets the next job and hands
//! back results itself, so that it can keep state of its own across jobs (a repository handle,
//! a snapshot borrowing it: libgit2 handles are not shared between threads).
//!
//! `verify`'s history walk is not run here: its calling thread produces the jobs (blobs found
//! while walking) as the workers consume them.

use std::sync::Mutex;

/// Runs `worker` on `workers` threads over `jobs`, and gives each result to `on_result` on the
/// calling thread as it arrives. `worker` is called once per thread with `next` (the next job
/// and its index, `None` when there are no more) and `send` (hands a result back; `false` once
/// the caller has stopped). `on_result` returning `false` stops the run: the workers stop at
/// their next `send`. At most `queue` results wait between the threads. A worker that panics
/// loses only the jobs it held; the others run on.
pub(crate) fn run<J: Send, R: Send>(
    workers: usize,
    queue: usize,
    jobs: impl Iterator<Item = J> + Send,
    worker: impl Fn(&mut dyn FnMut() -> Option<(usize, J)>, &mut dyn FnMut(usize, R) -> bool) + Sync,
    on_result: &mut dyn FnMut(usize, R) -> bool,
) {
    let jobs = Mutex::new(jobs.enumerate());
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, R)>(queue.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                let sender = sender.clone();
                let (jobs, worker) = (&jobs, &worker);
                scope.spawn(move || {
                    // The lock is held only while the next job is drawn.
                    let mut next = || jobs.lock().ok().and_then(|mut jobs| jobs.next());
                    let mut send = |i, result| sender.send((i, result)).is_ok();
                    worker(&mut next, &mut send);
                })
            })
            .collect();
        drop(sender);
        {
            // Dropped before the workers are joined: a worker blocked on a full queue then
            // sees the caller gone instead of waiting for ever.
            let receiver = receiver;
            for (i, result) in receiver.iter() {
                if !on_result(i, result) {
                    break;
                }
            }
        }
        for handle in handles {
            // A worker's panic has cost its own jobs; the run's results stand.
            let _ = handle.join();
        }
    });
}

/// Runs `work` over `items` on two threads, each with its own state from `state` (a libgit2
/// repository handle, say, which is not shared between threads; a thread whose state cannot be
/// made does nothing). Returns each item's result by index: `None` for an item no thread did.
pub(crate) fn on_two_threads<T: Sync, S, R: Send>(
    items: &[T],
    state: impl Fn() -> Option<S> + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    run(
        2,
        items.len().max(1),
        items.iter(),
        |next, send| {
            let Some(mut state) = state() else {
                return;
            };
            while let Some((i, item)) = next() {
                if !send(i, work(&mut state, item)) {
                    break;
                }
            }
        },
        &mut |i, result| {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
            true
        },
    );
    results
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_job_is_done_once_and_results_keep_their_index() {
        let mut seen = vec![0u32; 1000];
        super::run(
            4,
            8,
            0..1000u32,
            |next, send| {
                while let Some((i, job)) = next() {
                    if !send(i, job * 2) {
                        break;
                    }
                }
            },
            &mut |i, result| {
                assert_eq!(result, i as u32 * 2);
                seen[i] += 1;
                true
            },
        );
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn a_stopped_run_ends_without_doing_every_job() {
        let done = std::sync::atomic::AtomicUsize::new(0);
        let mut taken = 0;
        super::run(
            2,
            1,
            0..100_000u32,
            |next, send| {
                while let Some((i, job)) = next() {
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if !send(i, job) {
                        break;
                    }
                }
            },
            &mut |_, _| {
                taken += 1;
                taken < 10
            },
        );
        assert_eq!(taken, 10);
        assert!(done.load(std::sync::atomic::Ordering::Relaxed) < 100);
    }

    #[test]
    fn a_worker_that_panics_costs_only_its_own_jobs() {
        let mut results = 0;
        super::run(
            2,
            4,
            0..10u32,
            |next, send| {
                while let Some((i, job)) = next() {
                    if job == 3 {
                        panic!("injected");
                    }
                    send(i, job);
                }
            },
            &mut |_, _| {
                results += 1;
                true
            },
        );
        // One worker died holding job 3; the other finished the rest.
        assert_eq!(results, 9);
    }
}
