//! Training: one network per optimizer, stepped in parallel on the same mini-batches,
//! with progress reported as it goes.

use super::config::{EvalSet, Parallelism, TrainConfig, TrainData, TrainError, MAX_PARAMETERS};
use super::evaluate::{evaluate, Evaluation};
use super::smooth::smooth_curve;
use crate::data::mnist::{self, Dataset};
use crate::network::{Mlp, NetworkError};
use crate::rng::SplitMix64;
use optimist::{Optimizer, Spec};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// What happens during a run, for progress bars and logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// `done` of `total` iterations are complete.
    Iteration {
        /// Iterations complete.
        done: usize,
        /// All iterations.
        total: usize,
    },
    /// Every [`TrainConfig::log_every`] iterations from the first, like the book: each
    /// optimizer's loss on this iteration's batch after its step.
    Losses {
        /// The iteration (0 for the first).
        iteration: usize,
        /// `(spec, loss)` per optimizer.
        losses: &'a [(String, f64)],
    },
    /// Training is over; the networks are being evaluated.
    Evaluating,
}

/// One optimizer's run.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerRun {
    /// The spec as given.
    pub spec: Spec,
    /// The optimizer with every hyperparameter: `adam(lr=0.001, beta1=0.9, ...)`.
    pub label: String,
    /// The loss on each iteration's batch after that iteration's step (NaN once
    /// diverged).
    pub losses: Vec<f32>,
    /// The iteration whose loss was not finite, if the run diverged; its network
    /// stopped training there.
    pub diverged_at: Option<usize>,
    /// The mean loss over the whole training set at the end.
    pub train_loss: f64,
    /// The fraction of training images classified correctly at the end.
    pub train_accuracy: f64,
    /// The fraction of evaluation images classified correctly at the end.
    pub accuracy: f64,
    /// Seconds spent training this network (forward, backward, update and the
    /// recorded loss), summed over iterations.
    pub seconds: f64,
}

impl OptimizerRun {
    /// The losses smoothed as the book's figure: see [`smooth_curve`].
    pub fn smoothed(&self) -> Vec<f64> {
        let raw: Vec<f64> = self.losses.iter().map(|&l| f64::from(l)).collect();
        smooth_curve(&raw)
    }
}

/// The experiment's results.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainResult {
    /// The settings it ran with.
    pub config: TrainConfig,
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    /// Training images.
    pub train_size: usize,
    /// Evaluation images.
    pub eval_size: usize,
    /// Which images accuracy was measured on.
    pub eval_set: EvalSet,
    /// One run per optimizer, in the order given.
    pub runs: Vec<OptimizerRun>,
    /// Whether the networks trained in parallel.
    pub parallel: bool,
    /// Wall-clock seconds for training (all networks).
    pub train_seconds: f64,
    /// Wall-clock seconds for the final evaluation.
    pub eval_seconds: f64,
}

/// One optimizer's network during training.
struct Runner {
    net: Mlp<f32>,
    optimizer: Box<dyn Optimizer<f32>>,
    /// The optimizer's label as configured.
    label: String,
    losses: Vec<f32>,
    diverged_at: Option<usize>,
    elapsed: Duration,
}

impl Runner {
    /// Iteration `i` on the batch `(x, t)`: gradient, step, then the loss after it.
    fn iterate(&mut self, i: usize, x: &[f32], t: &[u8]) -> Result<f32, NetworkError> {
        if self.diverged_at.is_some() {
            self.losses.push(f32::NAN);
            return Ok(f32::NAN);
        }
        let start = Instant::now();
        let before = self.net.loss_and_gradient(x, t)?;
        let after = if before.is_finite() {
            match self.net.step(self.optimizer.as_mut()) {
                // A gradient the optimizer refuses: this run diverged, the others go on.
                Err(NetworkError::Optimizer(e))
                    if matches!(*e, optimist::Error::NonFinite { .. }) =>
                {
                    f32::NAN
                }
                other => {
                    other?;
                    self.net.loss(x, t)?
                }
            }
        } else {
            f32::NAN
        };
        self.elapsed += start.elapsed();
        if !after.is_finite() {
            self.diverged_at = Some(i);
        }
        self.losses.push(after);
        Ok(after)
    }
}

/// Runs the experiment on `data`, reporting progress to `on_event`.
pub fn train(
    config: &TrainConfig,
    data: &TrainData,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<TrainResult, TrainError> {
    config.validate()?;
    if data.train.is_empty() || data.eval.is_empty() {
        return Err(TrainError::Config(format!(
            "need images to train on and to evaluate on; have {} and {}",
            data.train.len(),
            data.eval.len()
        )));
    }
    let inputs = data.train.image_size();
    if data.eval.image_size() != inputs {
        return Err(TrainError::Config(format!(
            "training images have {inputs} pixels but evaluation images have {}",
            data.eval.image_size()
        )));
    }
    let mut sizes = vec![inputs];
    sizes.extend(&config.hidden);
    sizes.push(mnist::CLASSES);
    let parameters: usize = sizes.windows(2).map(|w| (w[0] + 1) * w[1]).sum();
    if parameters > MAX_PARAMETERS {
        return Err(TrainError::Config(format!(
            "a {} network has {parameters} parameters; at most {MAX_PARAMETERS} (each optimizer trains its own copy)",
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("-")
        )));
    }

    // Separate streams, so that the batches do not depend on the network's size.
    let mut root = SplitMix64::new(config.seed);
    let mut init_rng = root.split();
    let batch_rng = root.split();
    let initial = Mlp::<f32>::he(&sizes, &mut init_rng)?;
    let runners: Vec<Runner> = config
        .optimizers
        .iter()
        .map(|spec| {
            let (optimizer, label) = config.build(spec)?;
            Ok(Runner {
                net: initial.clone(),
                label,
                optimizer,
                losses: Vec::with_capacity(config.iterations),
                diverged_at: None,
                elapsed: Duration::ZERO,
            })
        })
        .collect::<Result<_, TrainError>>()?;
    let workers = match config.parallelism {
        Parallelism::Auto => rayon::current_num_threads().min(runners.len()),
        Parallelism::Sequential => 1,
        Parallelism::Parallel => rayon::current_num_threads().max(2).min(runners.len()),
    }
    .max(1);
    let parallel = workers > 1;

    let start = Instant::now();
    let mut runners = run_workers(
        runners,
        workers,
        data,
        config,
        Batches::new(batch_rng, config.batch_size),
        on_event,
    )?;
    let train_seconds = start.elapsed().as_secs_f64();

    on_event(Event::Evaluating);
    let start = Instant::now();
    let evaluate_one = |r: &mut Runner| -> Result<(Evaluation, Evaluation), NetworkError> {
        Ok((
            evaluate(&mut r.net, &data.train)?,
            evaluate(&mut r.net, &data.eval)?,
        ))
    };
    let scores: Vec<(Evaluation, Evaluation)> = if parallel {
        runners
            .par_iter_mut()
            .map(evaluate_one)
            .collect::<Result<_, _>>()?
    } else {
        runners
            .iter_mut()
            .map(evaluate_one)
            .collect::<Result<_, _>>()?
    };
    let eval_seconds = start.elapsed().as_secs_f64();

    let runs = runners
        .into_iter()
        .zip(scores)
        .zip(&config.optimizers)
        .map(|((r, (on_train, on_eval)), spec)| OptimizerRun {
            spec: spec.clone(),
            label: r.label,
            losses: r.losses,
            diverged_at: r.diverged_at,
            train_loss: on_train.loss,
            train_accuracy: on_train.accuracy,
            accuracy: on_eval.accuracy,
            seconds: r.elapsed.as_secs_f64(),
        })
        .collect();
    Ok(TrainResult {
        config: config.clone(),
        sizes,
        train_size: data.train.len(),
        eval_size: data.eval.len(),
        eval_set: data.eval_set,
        runs,
        parallel,
        train_seconds,
        eval_seconds,
    })
}

/// The mini-batches: indices drawn with replacement from one seeded stream, so that
/// every copy made from the same state yields the same batches.
#[derive(Clone)]
struct Batches {
    rng: SplitMix64,
    size: usize,
    indices: Vec<usize>,
    x: Vec<f32>,
    t: Vec<u8>,
}

impl Batches {
    fn new(rng: SplitMix64, size: usize) -> Self {
        Batches {
            rng,
            size,
            indices: Vec::with_capacity(size),
            x: Vec::new(),
            t: Vec::new(),
        }
    }

    /// Draws the next batch into `x` and `t`.
    fn advance(&mut self, data: &Dataset) {
        let n = data.len() as u64;
        self.indices.clear();
        for _ in 0..self.size {
            self.indices.push(self.rng.below(n) as usize);
        }
        data.gather(&self.indices, &mut self.x, &mut self.t);
    }
}

/// Trains every runner on `workers` threads, each with its share of the runners and its
/// own copy of the batch stream, and reports progress from this thread as the runners
/// advance. Returns the runners in their original order.
///
/// With several workers, each runs on a one-thread rayon pool: the optimizer's own
/// parallel loops then stay on that thread, so the workers do not steal each other's
/// work and each optimizer's time is its own.
fn run_workers(
    runners: Vec<Runner>,
    workers: usize,
    data: &TrainData,
    config: &TrainConfig,
    batches: Batches,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Runner>, TrainError> {
    let count = runners.len();
    let mut shares: Vec<Vec<(usize, Runner)>> = (0..workers).map(|_| Vec::new()).collect();
    for (k, r) in runners.into_iter().enumerate() {
        shares[k % workers].push((k, r));
    }
    let (tx, rx) = std::sync::mpsc::channel::<(usize, usize, f32)>();
    let iterations = config.iterations;
    let finished = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|mut share| {
                let tx = tx.clone();
                let mut batches = batches.clone();
                let train = &data.train;
                scope.spawn(move || {
                    let work = move || -> Result<Vec<(usize, Runner)>, NetworkError> {
                        for i in 0..iterations {
                            batches.advance(train);
                            for (k, r) in share.iter_mut() {
                                let loss = r.iterate(i, &batches.x, &batches.t)?;
                                // The receiver only leaves early when another worker
                                // failed; this one then finishes unheard.
                                let _ = tx.send((*k, i, loss));
                            }
                        }
                        Ok(share)
                    };
                    let pool = if workers > 1 {
                        rayon::ThreadPoolBuilder::new().num_threads(1).build().ok()
                    } else {
                        None
                    };
                    match &pool {
                        Some(pool) => pool.install(work),
                        None => work(),
                    }
                })
            })
            .collect();
        drop(tx);
        report_progress(rx, count, config, on_event);
        handles
            .into_iter()
            .map(|h| h.join().expect("a training worker panicked"))
            .collect::<Vec<_>>()
    });
    let mut all: Vec<(usize, Runner)> = Vec::with_capacity(count);
    for share in finished {
        all.extend(share?);
    }
    all.sort_by_key(|(k, _)| *k);
    Ok(all.into_iter().map(|(_, r)| r).collect())
}

/// Turns the workers' `(runner, iteration, loss)` reports into events: an iteration is
/// done when every runner has done it, and its losses are logged then.
fn report_progress(
    rx: std::sync::mpsc::Receiver<(usize, usize, f32)>,
    count: usize,
    config: &TrainConfig,
    on_event: &mut dyn FnMut(Event<'_>),
) {
    let names: Vec<String> = config.optimizers.iter().map(|s| s.to_string()).collect();
    let mut progress = vec![0usize; count];
    let mut done = 0usize;
    // Losses of logged iterations, until every runner has reported them.
    let mut pending: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    let mut log: Vec<(String, f64)> = Vec::with_capacity(count);
    for (k, i, loss) in rx {
        progress[k] = i + 1;
        if config.log_every > 0 && i % config.log_every == 0 {
            pending.entry(i).or_insert_with(|| vec![f64::NAN; count])[k] = f64::from(loss);
        }
        let now = progress.iter().copied().min().unwrap_or(0);
        while done < now {
            done += 1;
            on_event(Event::Iteration {
                done,
                total: config.iterations,
            });
            if let Some(losses) = pending.remove(&(done - 1)) {
                log.clear();
                log.extend(names.iter().cloned().zip(losses));
                on_event(Event::Losses {
                    iteration: done - 1,
                    losses: &log,
                });
            }
        }
    }
}
