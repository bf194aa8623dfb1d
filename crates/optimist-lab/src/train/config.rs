//! What a training run is asked to do, the data it reads, and what can go wrong.

use crate::data::mnist::{self, Dataset, Mnist, MnistError};
use crate::network::NetworkError;
use crate::race::Wrapping;
use optimist::clip::Clip;
use optimist::groups::{self, GroupSpec};
use optimist::schedule::Schedule;
use optimist::{Convention, NonFinite, Optimizer, Spec};
use std::path::{Path, PathBuf};

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
    pub(super) fn build(
        &self,
        spec: &Spec,
    ) -> Result<(Box<dyn Optimizer<f32>>, String), TrainError> {
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
