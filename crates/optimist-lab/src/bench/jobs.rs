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

    /// Job `job`'s stored result, if it is there and is this job's; a file that is
    /// not a valid result of the job is an error naming it.
    pub fn load(&self, dir: &Path, job: &Job) -> Result<Option<Record>, BenchError> {
        match self.stored(dir, job)? {
            Stored::Missing => Ok(None),
            Stored::Done(record) => Ok(Some(record)),
            Stored::Invalid(why) => Err(BenchError::Runtime(format!(
                "{why}; run the bench again to redo that job (or delete the file)"
            ))),
        }
    }

    /// What job `job`'s file holds: nothing yet, its result, or something that is not
    /// a valid result of it (a special file, a file too large, not a result, or a
    /// result that does not fit the job: a tampered or damaged file), said with the
    /// file's name. A file holding another job's result is an error: two jobs would
    /// share one file.
    pub fn stored(&self, dir: &Path, job: &Job) -> Result<Stored, BenchError> {
        let path = self.path(dir, job);
        let invalid = |why: String| {
            Ok(Stored::Invalid(format!(
                "{} is not a valid result of {}: {why}",
                path.display(),
                self.describe(job)
            )))
        };
        let text = match read_capped(&path, MAX_RESULT_BYTES) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(Stored::Missing),
            Err(Unreadable::Io(e)) => {
                return Err(BenchError::Runtime(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
            Err(Unreadable::Bad(why)) => return invalid(why),
        };
        let record: Record = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(e) => return invalid(format!("not a job result ({e})")),
        };
        let same = record.problem == self.problems[job.problem].spec
            && record.optimizer == self.label(job.optimizer)
            && record.lr == job.lr
            && record.seed == job.seed;
        if !same {
            return Err(BenchError::Runtime(format!(
                "{} holds another job's result ({} / {} lr {} seed {}); delete it to run the job again",
                path.display(),
                crate::text::quoted(&record.problem),
                crate::text::quoted(&record.optimizer),
                shortest(record.lr),
                record.seed
            )));
        }
        match check(&self.problems[job.problem], &record) {
            Ok(()) => Ok(Stored::Done(record)),
            Err(why) => invalid(why),
        }
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

/// The largest job file read: a result holds at most a few dozen points (a few KB).
pub const MAX_RESULT_BYTES: u64 = 1 << 20;

/// What a job's file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// No file: the job is not done.
    Missing,
    /// The job's result, checked against the job.
    Done(Record),
    /// A file that is not a valid result of the job: why, naming the file.
    Invalid(String),
}

/// Why a small file could not be read.
pub(crate) enum Unreadable {
    /// The system's error.
    Io(std::io::Error),
    /// Not a regular file, too large, or not text: why.
    Bad(String),
}

/// The text of the regular file at `path` (a link to one is followed), `None` if there
/// is none; anything else (a FIFO, a device such as `/dev/zero`, a folder) is refused
/// before it is opened, and no more than `limit` bytes are read.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Option<String>, Unreadable> {
    use std::io::Read as _;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Unreadable::Io(e)),
    };
    if !meta.is_file() {
        return Err(Unreadable::Bad(format!(
            "it is not a regular file but {}",
            file_kind(&meta.file_type())
        )));
    }
    let file = std::fs::File::open(path).map_err(Unreadable::Io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Unreadable::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable::Bad(format!(
            "it is larger than {} bytes",
            limit
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Unreadable::Bad("it is not UTF-8 text".into()))
}

/// A file type in words.
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Why `record` cannot be a result of a job on `problem`: its curve must be recorded at
/// the problem's checkpoints (up to where it diverged, within the budget), with a
/// finite metric in the metric's range at each, and a finite, non-negative time.
pub fn check(problem: &Problem, record: &Record) -> Result<(), String> {
    let curve = &record.curve;
    if curve.steps.len() != curve.metric.len() {
        return Err(format!(
            "its curve has {} steps but {} values",
            curve.steps.len(),
            curve.metric.len()
        ));
    }
    let checkpoints = problem.steps();
    let expected: Vec<usize> = match curve.diverged_at {
        None => checkpoints,
        Some(d) if d > problem.budget => {
            return Err(format!(
                "it diverged at step {d}, past the budget of {} steps",
                problem.budget
            ))
        }
        Some(d) => checkpoints.into_iter().filter(|&s| s < d).collect(),
    };
    if curve.steps != expected {
        return Err(format!(
            "its curve is recorded at {} steps ({}), where the problem records {} ({}{})",
            curve.steps.len(),
            ends(&curve.steps),
            expected.len(),
            ends(&expected),
            if curve.diverged_at.is_some() {
                ", before the step it diverged at"
            } else {
                ", 0 to the budget"
            }
        ));
    }
    let (low, high) = problem.metric_range();
    if let Some((s, v)) = curve
        .steps
        .iter()
        .zip(&curve.metric)
        .find(|(_, v)| !(v.is_finite() && (low..=high).contains(*v)))
    {
        return Err(format!(
            "its {} at step {s} is {}, outside {} to {}",
            problem.metric(),
            crate::text::number(*v),
            crate::text::number(low),
            crate::text::number(high)
        ));
    }
    if !(record.seconds.is_finite() && record.seconds >= 0.0) {
        return Err(format!(
            "its time, {} s, is not a finite, non-negative number",
            crate::text::number(record.seconds)
        ));
    }
    Ok(())
}

/// The first and last of `steps`, for a message.
fn ends(steps: &[usize]) -> String {
    match (steps.first(), steps.last()) {
        (Some(a), Some(b)) if steps.len() > 1 => format!("{a} to {b}"),
        (Some(a), _) => format!("{a}"),
        _ => "none".into(),
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
