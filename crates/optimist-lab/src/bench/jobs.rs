//! The suite as a list of jobs: cells (problem × optimizer), their tuning jobs on seed
//! 0 and their seed jobs at the tuned rate, shards of cells, and where each job's
//! result is stored.

use super::problems::{self, Problem};
use super::runner::Curve;
use super::BenchError;
use crate::output::shortest;
use crate::tune::{rate_key, with_rate, Search};
use optimist::{Convention, Spec};
use std::path::{Path, PathBuf};

/// What a bench runs: written to `DIR/suite.json`, so that `optimist bench report DIR`
/// and every shard agree on the jobs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suite {
    /// The problems, as canonical specs (e.g. `nqm`, `rosenbrock:sigma=0.5`).
    pub problems: Vec<String>,
    /// The optimizers, as specs (a learning rate given is replaced by the tuned one).
    pub optimizers: Vec<String>,
    /// Whose meaning the optimizer names have: article, pytorch or optax.
    pub convention: String,
    /// Seeds run at each optimizer's tuned rate (seed 0 is the tuning run).
    pub seeds: u64,
    /// Learning rates tried per optimizer, log-spaced from `lr_min` to `lr_max`.
    pub trials: usize,
    /// The smallest rate tried.
    pub lr_min: f64,
    /// The largest rate tried.
    pub lr_max: f64,
}

/// The most seeds per optimizer.
pub const MAX_SEEDS: u64 = 10_000;

/// A suite made ready: problems parsed, optimizers checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The suite as written.
    pub suite: Suite,
    /// Its problems.
    pub problems: Vec<Problem>,
    /// Its optimizers.
    pub specs: Vec<Spec>,
    /// Each optimizer's learning-rate key (`lr` or `learning_rate`).
    pub keys: Vec<String>,
    /// The convention.
    pub convention: Convention,
    /// The rates of the tuning sweep.
    pub rates: Vec<f64>,
}

/// One run: which cell, at which rate, with which seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Job {
    /// Index into [`Plan::problems`].
    pub problem: usize,
    /// Index into [`Plan::specs`].
    pub optimizer: usize,
    /// The learning rate.
    pub lr: f64,
    /// The seed number.
    pub seed: u64,
}

/// A job's stored result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The problem spec.
    pub problem: String,
    /// The optimizer spec, without its rate.
    pub optimizer: String,
    /// The learning rate.
    pub lr: f64,
    /// The seed number.
    pub seed: u64,
    /// What it measured.
    pub curve: Curve,
    /// How long it took, in seconds (never in the report, which must not depend on it).
    pub seconds: f64,
}

impl Plan {
    /// Checks `suite` and makes its plan.
    pub fn new(suite: Suite) -> Result<Plan, BenchError> {
        let usage = BenchError::Usage;
        if suite.problems.is_empty() {
            return Err(usage("no problem to run".into()));
        }
        if suite.optimizers.is_empty() {
            return Err(usage("no optimizer to run".into()));
        }
        if suite.seeds == 0 || suite.seeds > MAX_SEEDS {
            return Err(usage(format!(
                "{} seeds: expected 1 to {MAX_SEEDS}",
                suite.seeds
            )));
        }
        let search = Search {
            lr_min: suite.lr_min,
            lr_max: suite.lr_max,
            coarse: suite.trials,
            refine: 0,
        };
        search.check().map_err(|e| usage(e.to_string()))?;
        let convention: Convention = suite.convention.parse().map_err(usage)?;
        let problems: Vec<Problem> = suite
            .problems
            .iter()
            .map(|p| problems::parse(p))
            .collect::<Result<_, _>>()?;
        let specs: Vec<Spec> = suite
            .optimizers
            .iter()
            .map(|s| s.parse::<Spec>().map_err(|e| usage(e.to_string())))
            .collect::<Result<_, _>>()?;
        let keys = specs
            .iter()
            .map(|s| rate_key(s, convention).map_err(|e| usage(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, p) in problems.iter().enumerate() {
            if problems[..i].iter().any(|q| q.spec == p.spec) {
                return Err(usage(format!("problem {} is given twice", p.spec)));
            }
        }
        let mut plan = Plan {
            rates: search.coarse_rates(),
            suite,
            problems,
            specs,
            keys,
            convention,
        };
        plan.suite.problems = plan.problems.iter().map(|p| p.spec.clone()).collect();
        plan.suite.optimizers = (0..plan.specs.len()).map(|o| plan.label(o)).collect();
        for (i, l) in plan.suite.optimizers.iter().enumerate() {
            if plan.suite.optimizers[..i].contains(l) {
                return Err(usage(format!("optimizer {l} is given twice")));
            }
        }
        Ok(plan)
    }

    /// Optimizer `o` without its learning rate, e.g. `adam` or `rmsprop:decay_rate=0.9`.
    pub fn label(&self, o: usize) -> String {
        let mut spec = self.specs[o].clone();
        spec.values.retain(|(k, _)| *k != self.keys[o]);
        spec.to_string()
    }

    /// The spec job `job` builds: its optimizer at its rate.
    pub fn spec(&self, job: &Job) -> Spec {
        with_rate(
            &self.specs[job.optimizer],
            &self.keys[job.optimizer],
            job.lr,
        )
    }

    /// Every cell (problem, optimizer), problem-major: the unit of sharding.
    pub fn cells(&self) -> Vec<(usize, usize)> {
        (0..self.problems.len())
            .flat_map(|p| (0..self.specs.len()).map(move |o| (p, o)))
            .collect()
    }

    /// The tuning jobs of cell `(p, o)`: every rate on seed 0.
    pub fn tuning_jobs(&self, (p, o): (usize, usize)) -> Vec<Job> {
        self.rates
            .iter()
            .map(|&lr| Job {
                problem: p,
                optimizer: o,
                lr,
                seed: 0,
            })
            .collect()
    }

    /// The seed jobs of cell `(p, o)` at rate `lr`: seeds 1 and up (seed 0 is the
    /// tuning job at that rate).
    pub fn seed_jobs(&self, (p, o): (usize, usize), lr: f64) -> Vec<Job> {
        (1..self.suite.seeds)
            .map(|seed| Job {
                problem: p,
                optimizer: o,
                lr,
                seed,
            })
            .collect()
    }

    /// The cells of shard `index` of `count`: every `count`-th cell from `index`.
    pub fn shard_cells(&self, index: usize, count: usize) -> Vec<(usize, usize)> {
        self.cells()
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % count == index)
            .map(|(_, c)| c)
            .collect()
    }

    /// A job in words, e.g. `nqm / adam lr=0.01 seed 3`.
    pub fn describe(&self, job: &Job) -> String {
        format!(
            "{} / {} {}={} seed {}",
            self.problems[job.problem].spec,
            self.label(job.optimizer),
            self.keys[job.optimizer],
            shortest(job.lr),
            job.seed
        )
    }

    /// Where job `job`'s result is stored under `dir`.
    pub fn path(&self, dir: &Path, job: &Job) -> PathBuf {
        dir.join("jobs")
            .join(slug(&self.problems[job.problem].spec))
            .join(slug(&self.label(job.optimizer)))
            .join(format!("lr={},seed={}.json", shortest(job.lr), job.seed))
    }

    /// Job `job`'s stored result, if it is there and is this job's.
    pub fn load(&self, dir: &Path, job: &Job) -> Result<Option<Record>, BenchError> {
        let path = self.path(dir, job);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(BenchError::Runtime(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let record: Record = serde_json::from_str(&text).map_err(|e| {
            BenchError::Runtime(format!(
                "{} is not a job result ({e}); delete it to run the job again",
                path.display()
            ))
        })?;
        let same = record.problem == self.problems[job.problem].spec
            && record.optimizer == self.label(job.optimizer)
            && record.lr == job.lr
            && record.seed == job.seed;
        if !same {
            return Err(BenchError::Runtime(format!(
                "{} holds another job's result ({} / {} lr {} seed {}); delete it to run the job again",
                path.display(),
                record.problem,
                record.optimizer,
                shortest(record.lr),
                record.seed
            )));
        }
        Ok(Some(record))
    }

    /// Stores `record` as job `job`'s result, atomically.
    pub fn store(&self, dir: &Path, job: &Job, record: &Record) -> Result<(), BenchError> {
        let path = self.path(dir, job);
        let fail = |e: std::io::Error| {
            BenchError::Runtime(format!("cannot write {}: {e}", path.display()))
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let text = serde_json::to_string(record)
            .map_err(|e| BenchError::Runtime(format!("cannot encode a result: {e}")))?;
        crate::output::write_atomic(&path, text.as_bytes()).map_err(fail)
    }
}

/// `text` as a file name: letters, digits and `.=-` kept, anything else `_`.
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".=-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Parses `I/N` (0 ≤ I < N).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || {
        format!(
            "shard {} is not I/N with 0 ≤ I < N, e.g. 0/4",
            crate::text::quoted(text)
        )
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}
