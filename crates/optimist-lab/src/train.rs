//! The book's network experiment (*Deep Learning from Scratch*, §6.1.8): one MLP on
//! MNIST trained with each optimizer, from the same start on the same mini-batches.
//!
//! The protocol is the book's `optimizer_compare_mnist.py`: each iteration draws one
//! mini-batch (with replacement) shared by every optimizer; each optimizer's network
//! takes a gradient step and records its loss on that batch after the step. Here every
//! network also starts from the same initial weights, so the optimizers alone differ.

use crate::mnist::{self, Dataset, Mnist, MnistError};
use crate::network::{Mlp, NetworkError, SoftmaxCrossEntropy};
use crate::output::{csv_field, shortest, write_set};
use crate::race::Wrapping;
use crate::rng::SplitMix64;
use optimist::clip::Clip;
use optimist::groups::{self, GroupSpec};
use optimist::schedule::Schedule;
use optimist::{Convention, NonFinite, Optimizer, Spec};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The book's optimizers with the article's learning rates.
pub const DEFAULT_OPTIMIZERS: [&str; 4] = [
    "sgd:lr=0.01",
    "momentum:lr=0.01",
    "adagrad:lr=0.01",
    "adam:lr=0.001",
];

/// The book's hidden layers: four of 100 units.
pub const DEFAULT_HIDDEN: [usize; 4] = [100; 4];

/// Without the training files, the test set is split and every `HOLDOUT_EVERY`-th image
/// held out: 8,000 images to train on and 2,000 to measure accuracy on.
pub const HOLDOUT_EVERY: usize = 5;

/// The most parameters a network may have: each optimizer keeps its own copy with its
/// gradient and state, about 20 bytes per parameter in all.
pub const MAX_PARAMETERS: usize = 20_000_000;

/// What went wrong in the experiment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A missing, corrupt or mismatched data file.
    #[error(transparent)]
    Data(#[from] MnistError),
    /// An optimizer spec that does not build.
    #[error("optimizer '{spec}': {source}")]
    Optimizer {
        /// The spec as written.
        spec: String,
        /// Why it does not build.
        source: Box<optimist::Error>,
    },
    /// A network that cannot be built or run on the data.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A setting that makes no experiment.
    #[error("{0}")]
    Config(String),
    /// An output file that cannot be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Whether the optimizers' networks train on several threads.
///
/// Results are the same bits either way: each network's arithmetic runs on one thread
/// in a fixed order, and every thread draws the same mini-batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// One worker thread per rayon thread (`RAYON_NUM_THREADS`, else one per core), up
    /// to one per optimizer: in parallel when there are several of both.
    #[default]
    Auto,
    /// One network after the other on one worker (the optimizer's update may still
    /// use rayon's threads).
    Sequential,
    /// At least two workers whenever there are two optimizers, even on one core.
    Parallel,
}

/// The experiment's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// The optimizers, as specs.
    pub optimizers: Vec<Spec>,
    /// Whose meaning the optimizer names have.
    pub convention: Convention,
    /// Mini-batch steps.
    pub iterations: usize,
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Seeds the initial weights and the mini-batches: the same seed repeats a run
    /// exactly.
    pub seed: u64,
    /// Every how many iterations the losses are reported (0: never).
    pub log_every: usize,
    /// Whether the networks train in parallel.
    pub parallelism: Parallelism,
    /// A learning-rate schedule applied to every optimizer, stepped once per iteration.
    pub schedule: Option<Schedule>,
    /// Gradient clipping before every step.
    pub clip: Option<Clip>,
    /// Hyperparameters for groups of tensors (`W*`, `b*`: the network's weights and
    /// biases), e.g. `b*:weight_decay=0`.
    pub groups: Vec<GroupSpec>,
    /// What a step does with a NaN or infinite gradient: refuse (the run is reported
    /// as diverged at that iteration), skip the step, or trust it.
    pub nonfinite: NonFinite,
}

impl TrainConfig {
    /// The book's experiment: [`DEFAULT_OPTIMIZERS`], 2000 iterations of 128 examples,
    /// [`DEFAULT_HIDDEN`], losses every 100 iterations.
    pub fn book(seed: u64) -> Self {
        TrainConfig {
            optimizers: DEFAULT_OPTIMIZERS
                .iter()
                .map(|s| s.parse().expect("the default specs parse"))
                .collect(),
            convention: Convention::Article,
            iterations: 2000,
            batch_size: 128,
            hidden: DEFAULT_HIDDEN.to_vec(),
            seed,
            log_every: 100,
            parallelism: Parallelism::Auto,
            schedule: None,
            clip: None,
            groups: Vec::new(),
            nonfinite: NonFinite::Refuse,
        }
    }

    /// Checks the settings against themselves and builds every optimizer once, so a
    /// bad setting fails before any work.
    pub fn validate(&self) -> Result<(), TrainError> {
        if self.optimizers.is_empty() {
            return Err(TrainError::Config("no optimizers to train with".into()));
        }
        if self.iterations == 0 {
            return Err(TrainError::Config("iterations must be at least 1".into()));
        }
        if self.batch_size == 0 {
            return Err(TrainError::Config("batch size must be at least 1".into()));
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(TrainError::Config(format!(
                "hidden layer {} has zero units",
                i + 1
            )));
        }
        for (i, spec) in self.optimizers.iter().enumerate() {
            if self.optimizers[..i].contains(spec) {
                return Err(TrainError::Config(format!(
                    "optimizer '{spec}' is given twice"
                )));
            }
            self.build(spec)?;
        }
        Ok(())
    }

    /// The optimizer for `spec` with the run's groups, policy, clipping and schedule,
    /// and its label as configured (a schedule changes the learning rate from the
    /// start, e.g. by its warm-up, so the label is taken before it applies).
    fn build(&self, spec: &Spec) -> Result<(Box<dyn Optimizer<f32>>, String), TrainError> {
        let built = || -> Result<(Box<dyn Optimizer<f32>>, String), optimist::Error> {
            let mut opt = groups::build::<f32>(spec, &self.groups, self.convention)?;
            opt.set_nonfinite(self.nonfinite)?;
            let wrapping = Wrapping {
                schedule: self.schedule.clone(),
                clip: self.clip,
            };
            let settings: Vec<String> = wrapping.settings().into_iter().map(|(_, v)| v).collect();
            let mut label = opt.label();
            for s in settings {
                label = format!("{label} with {s}");
            }
            let opt = wrapping.wrap(opt)?;
            Ok((opt, label))
        };
        built().map_err(|source| TrainError::Optimizer {
            spec: spec.to_string(),
            source: Box::new(source),
        })
    }
}

/// Which images the accuracy is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalSet {
    /// The test set (the training files were there).
    Test,
    /// Images held out of the test set (the training files were missing).
    HeldOut,
}

impl EvalSet {
    /// `test` or `held-out`.
    pub fn name(self) -> &'static str {
        match self {
            EvalSet::Test => "test",
            EvalSet::HeldOut => "held-out",
        }
    }
}

/// Images to train on and images to measure accuracy on.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainData {
    /// The training images.
    pub train: Dataset,
    /// The images accuracy is measured on.
    pub eval: Dataset,
    /// Which images `eval` holds.
    pub eval_set: EvalSet,
    /// Said to the user when the data is not the standard split.
    pub note: Option<String>,
}

impl TrainData {
    /// MNIST's training and test sets; without training files, the test set split into
    /// images to train on and every [`HOLDOUT_EVERY`]-th image held out.
    pub fn from_mnist(set: Mnist, dir: &Path) -> Self {
        match set.train {
            Some(train) => TrainData {
                train,
                eval: set.test,
                eval_set: EvalSet::Test,
                note: None,
            },
            None => {
                let (train, eval) = set.test.split_every(HOLDOUT_EVERY);
                let note = format!(
                    "the MNIST training files ({}.gz, {}.gz) are not in {}; training on {} of the {} test images and measuring accuracy on the other {} (every {}th image)",
                    mnist::TRAIN_IMAGES,
                    mnist::TRAIN_LABELS,
                    dir.display(),
                    train.len(),
                    set.test.len(),
                    eval.len(),
                    HOLDOUT_EVERY
                );
                TrainData {
                    train,
                    eval,
                    eval_set: EvalSet::HeldOut,
                    note: Some(note),
                }
            }
        }
    }
}

/// Reads MNIST from `dir` (see [`mnist::load`]) and splits it as [`TrainData::from_mnist`].
pub fn load_data(dir: &Path) -> Result<TrainData, TrainError> {
    Ok(TrainData::from_mnist(mnist::load(dir)?, dir))
}

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

/// A network's mean loss and accuracy on a set of images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The mean loss (the book's cross-entropy).
    pub loss: f64,
    /// The fraction of images whose highest score is their label.
    pub accuracy: f64,
}

/// The mean loss and accuracy of `net` on every image of `data`, in chunks.
pub fn evaluate(net: &mut Mlp<f32>, data: &Dataset) -> Result<Evaluation, NetworkError> {
    const CHUNK: usize = 1000;
    let classes = net.classes();
    let (mut x, mut t, mut probs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut total_loss, mut correct) = (0.0f64, 0usize);
    let all: Vec<usize> = (0..data.len()).collect();
    for chunk in all.chunks(CHUNK) {
        data.gather(chunk, &mut x, &mut t);
        let scores = net.forward(&x)?;
        probs.resize(scores.len(), 0.0);
        let loss = SoftmaxCrossEntropy::forward(scores, &t, classes, &mut probs);
        total_loss += f64::from(loss) * chunk.len() as f64;
        for (row, &label) in scores.chunks_exact(classes).zip(&t) {
            // The first of equal maxima, as numpy's argmax.
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, &v)| if v > row[b] { j } else { b });
            correct += usize::from(best == usize::from(label));
        }
    }
    let n = data.len().max(1) as f64;
    Ok(Evaluation {
        loss: total_loss / n,
        accuracy: correct as f64 / n,
    })
}

/// The Kaiser window of `len` points: I₀(β·√(1 − (2n/(len−1) − 1)²)) / I₀(β), as
/// `numpy.kaiser`.
pub fn kaiser(len: usize, beta: f64) -> Vec<f64> {
    if len == 1 {
        return vec![1.0];
    }
    let m = (len - 1) as f64;
    (0..len)
        .map(|n| {
            let r = 2.0 * n as f64 / m - 1.0;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

/// The modified Bessel function of the first kind, order 0: Σ ((x/2)^k / k!)².
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut sum, mut term, mut k) = (1.0f64, 1.0f64, 1.0f64);
    // Terms shrink once k² > q; stop when they no longer change the sum.
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The book's `smooth_curve`: a moving average weighted by a Kaiser window of 11
/// points (β = 2), the series reflected at both ends so the result is as long as the
/// input.
///
/// At the start the reflection excludes the first value (`x[1], x[2], ...`), at the
/// end it includes the last (`x[n−1], x[n−2], ...`), exactly as the book's
/// `np.r_[x[window_len-1:0:-1], x, x[-1:-window_len:-1]]`. For fewer than 11 values
/// the reflected indices are clamped to the series.
pub fn smooth_curve(x: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 11;
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let w = kaiser(WINDOW, 2.0);
    let total: f64 = w.iter().sum();
    let half = (WINDOW / 2) as isize;
    let at = |k: isize| -> f64 {
        let n = n as isize;
        let j = if k < 0 {
            -k
        } else if k >= n {
            2 * n - 1 - k
        } else {
            k
        };
        x[j.clamp(0, n - 1) as usize]
    };
    (0..n as isize)
        .map(|i| {
            w.iter()
                .enumerate()
                .map(|(m, &wm)| wm * at(i + m as isize - half))
                .sum::<f64>()
                / total
        })
        .collect()
}

/// Every loss as CSV: `iteration`, then per optimizer its raw loss and its smoothed
/// loss (columns named by spec, e.g. `adam:lr=0.001` and `adam:lr=0.001 smoothed`).
pub fn loss_csv(result: &TrainResult) -> String {
    let smoothed: Vec<Vec<f64>> = result.runs.iter().map(|r| r.smoothed()).collect();
    let mut out = String::from("iteration");
    for r in &result.runs {
        let _ = write!(
            out,
            ",{},{}",
            csv_field(&r.spec.to_string()),
            csv_field(&format!("{} smoothed", r.spec))
        );
    }
    out.push('\n');
    for i in 0..result.config.iterations {
        let _ = write!(out, "{i}");
        for (r, s) in result.runs.iter().zip(&smoothed) {
            let _ = write!(out, ",{},{}", number(f64::from(r.losses[i])), number(s[i]));
        }
        out.push('\n');
    }
    out
}

/// Per optimizer: spec, label, final smoothed batch loss, training-set loss and
/// accuracy, evaluation accuracy, seconds, and the iteration it diverged at (empty if
/// it did not).
pub fn summary_csv(result: &TrainResult) -> String {
    let mut out = format!(
        "optimizer,label,final_smoothed_loss,train_loss,train_accuracy,{}_accuracy,seconds,diverged_at\n",
        result.eval_set.name().replace('-', "_")
    );
    for r in &result.runs {
        let smoothed = r.smoothed().last().copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            csv_field(&r.spec.to_string()),
            csv_field(&r.label),
            number(smoothed),
            number(r.train_loss),
            number(r.train_accuracy),
            number(r.accuracy),
            number(r.seconds),
            r.diverged_at.map_or(String::new(), |d| d.to_string())
        );
    }
    out
}

/// The files [`write_outputs`] writes, by name.
pub const OUTPUT_FILES: [&str; 4] = [
    "mnist-loss.csv",
    "mnist-summary.csv",
    "mnist-loss.png",
    "mnist-loss.svg",
];

/// Writes every loss ([`loss_csv`]), the accuracies and timings ([`summary_csv`]) and
/// the loss figure as PNG and SVG into `dir` (created if missing), each file whole or
/// not at all. Returns the paths written.
pub fn write_outputs(result: &TrainResult, dir: &Path) -> Result<Vec<PathBuf>, TrainError> {
    std::fs::create_dir_all(dir).map_err(|source| TrainError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let paths: Vec<PathBuf> = OUTPUT_FILES.iter().map(|f| dir.join(f)).collect();
    let figure = crate::train_figure::LossFigure::new(result);
    let contents = [
        loss_csv(result).into_bytes(),
        summary_csv(result).into_bytes(),
        figure.png().map_err(|e| TrainError::Write {
            path: paths[2].clone(),
            source: std::io::Error::other(e),
        })?,
        figure.svg().into_bytes(),
    ];
    let files: Vec<(&PathBuf, Vec<u8>)> = paths.iter().zip(contents).collect();
    write_set(&files).map_err(|e| TrainError::Write {
        path: e.path,
        source: e.source,
    })?;
    Ok(paths)
}

/// A number for CSV: shortest round-trip form; `NaN` for not-a-number.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        shortest(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(
            csv_field("adam:lr=0.1,beta1=0.8"),
            "\"adam:lr=0.1,beta1=0.8\""
        );
        assert_eq!(csv_field("sgd:lr=0.01"), "sgd:lr=0.01");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn bessel_i0_matches_reference_values() {
        // I₀(1) and I₀(2) (Abramowitz & Stegun, table 9.8).
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-15);
        assert!((bessel_i0(2.0) - 2.279_585_302_336_067).abs() < 1e-14);
        assert_eq!(bessel_i0(0.0), 1.0);
    }
}
