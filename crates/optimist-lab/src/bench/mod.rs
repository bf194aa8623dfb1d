//! `optimist bench`: a fair comparison of optimizers, as DeepOBS (Schneider et al.,
//! 2019) and AlgoPerf (Dahl et al., 2023) ask: each optimizer's learning rate tuned on
//! the same budget (a log-spaced search on seed 0), then the best rate run on several
//! seeds, with stochastic gradients, and a report of the results with their spread.
//!
//! Every run is a job with its own random stream (a hash of the problem and the seed
//! number), stored atomically as `DIR/jobs/...json` once done, so that results depend
//! neither on the order of the jobs nor on the machine, an interrupted bench resumes
//! where it stopped, and shards of cells (problem × optimizer) run anywhere, e.g. as a
//! Slurm job array, and merge into the same report, byte for byte.

mod charts;
pub mod jobs;
pub mod problems;
pub mod report;
pub mod runner;
pub mod slurm;
mod stats;

pub use jobs::{parse_shard, Job, Plan, Record, Stored, Suite};
pub use problems::{Goal, Kind, Problem};
pub use report::{report, Report};
pub use runner::{run_job, Curve};

use crate::network::NetworkError;
use crate::train::TrainData;
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

/// Why a bench could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BenchError {
    /// Bad input: a problem, optimizer or setting that is not allowed.
    #[error("{0}")]
    Usage(String),
    /// A failure at run time: a file that cannot be read or written.
    #[error("{0}")]
    Runtime(String),
}

impl From<optimist::Error> for BenchError {
    fn from(e: optimist::Error) -> Self {
        BenchError::Usage(e.to_string())
    }
}

impl From<NetworkError> for BenchError {
    fn from(e: NetworkError) -> Self {
        BenchError::Runtime(e.to_string())
    }
}

/// The name of the file holding the suite in a bench's folder.
pub const SUITE_FILE: &str = "suite.json";

/// Checks `suite`, then writes it to `dir` or checks it is the suite `dir` already holds
/// (a bench folder holds one suite, so that resumed runs and shards agree).
pub fn prepare(dir: &Path, suite: Suite) -> Result<Plan, BenchError> {
    let plan = Plan::new(suite)?;
    let path = dir.join(SUITE_FILE);
    let text = serde_json::to_string_pretty(&plan.suite)
        .map_err(|e| BenchError::Runtime(format!("cannot encode the suite: {e}")))?
        + "\n";
    match read_suite(&path) {
        Ok(Some(old)) if old == text => {}
        Ok(Some(_)) => {
            return Err(BenchError::Usage(format!(
                "{} holds another bench (its {SUITE_FILE} differs: other problems, optimizers, seeds, trials or rates); choose another --out DIR, or delete that folder",
                dir.display()
            )))
        }
        Ok(None) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                BenchError::Runtime(format!("cannot create {}: {e}", dir.display()))
            })?;
            crate::output::write_atomic(&path, text.as_bytes()).map_err(|e| {
                BenchError::Runtime(format!("cannot write {}: {e}", path.display()))
            })?;
        }
        Err(e) => return Err(e),
    }
    Ok(plan)
}

/// The text of the suite file at `path`, if there is one: a regular file of at most
/// [`jobs::MAX_RESULT_BYTES`] (a special file such as a FIFO is refused, never opened).
fn read_suite(path: &Path) -> Result<Option<String>, BenchError> {
    jobs::read_capped(path, jobs::MAX_RESULT_BYTES).map_err(|e| {
        BenchError::Runtime(match e {
            jobs::Unreadable::Io(e) => format!("cannot read {}: {e}", path.display()),
            jobs::Unreadable::Bad(why) => format!("{} is not a bench suite: {why}", path.display()),
        })
    })
}

/// The suite stored in `dir`, planned.
pub fn open(dir: &Path) -> Result<Plan, BenchError> {
    let path = dir.join(SUITE_FILE);
    let text = read_suite(&path)?.ok_or_else(|| {
        BenchError::Usage(format!(
            "{} is not a bench folder: it has no {SUITE_FILE}",
            dir.display(),
        ))
    })?;
    let suite: Suite = serde_json::from_str(&text).map_err(|e| {
        BenchError::Runtime(format!("{} is not a bench suite: {e}", path.display()))
    })?;
    Plan::new(suite)
}

/// Which part of the protocol a job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The learning-rate search on seed 0.
    Tuning,
    /// The tuned rate on the other seeds.
    Seeds,
}

/// Time spent on one problem by this process, in seconds of job time (summed over
/// threads).
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The problem spec.
    pub problem: String,
    /// Seconds in tuning jobs.
    pub tuning: f64,
    /// Seconds in seed jobs.
    pub seeds: f64,
    /// Jobs run (not found already done).
    pub jobs: usize,
}

/// What a shard did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Jobs run now.
    pub ran: usize,
    /// Jobs found done and skipped.
    pub skipped: usize,
    /// Per problem, the time its jobs took.
    pub timings: Vec<Timing>,
}

/// The jobs shard `shard` = (I, N) runs at most: every cell's rates, then its seeds.
pub fn shard_jobs(plan: &Plan, shard: (usize, usize)) -> usize {
    let cells = plan.shard_cells(shard.0, shard.1).len();
    cells * (plan.rates.len() + plan.suite.seeds as usize - 1)
}

/// Runs the jobs of shard `shard` = (I, N) that are not already stored in `dir`, on
/// rayon's threads: first each cell's tuning jobs, then its seed jobs at the best rate.
/// `progress` is called after every job, run or skipped (from any thread); `notice`
/// with why a stored file was not a valid result, before its job is run again.
pub fn run(
    plan: &Plan,
    dir: &Path,
    shard: (usize, usize),
    data: Option<&TrainData>,
    progress: &(dyn Fn(Phase, &Job) + Sync),
    notice: &(dyn Fn(&str) + Sync),
) -> Result<Summary, BenchError> {
    if plan.problems.iter().any(Problem::needs_mnist) && data.is_none() {
        return Err(BenchError::Runtime("MNIST was not loaded".into()));
    }
    let cells = plan.shard_cells(shard.0, shard.1);
    let mut summary = Summary {
        ran: 0,
        skipped: 0,
        timings: plan
            .problems
            .iter()
            .map(|p| Timing {
                problem: p.spec.clone(),
                tuning: 0.0,
                seeds: 0.0,
                jobs: 0,
            })
            .collect(),
    };
    let tuning: Vec<Job> = cells.iter().flat_map(|&c| plan.tuning_jobs(c)).collect();
    run_jobs(
        plan,
        dir,
        data,
        &tuning,
        Phase::Tuning,
        &mut summary,
        (progress, notice),
    )?;
    let mut seeds = Vec::new();
    for &cell in &cells {
        let records: Vec<Record> = plan
            .tuning_jobs(cell)
            .iter()
            .map(|j| plan.load(dir, j)?.ok_or_else(|| missing(plan, j)))
            .collect::<Result<_, _>>()?;
        let best = report::best_rate(&plan.problems[cell.0], &records);
        seeds.extend(plan.seed_jobs(cell, best));
    }
    run_jobs(
        plan,
        dir,
        data,
        &seeds,
        Phase::Seeds,
        &mut summary,
        (progress, notice),
    )?;
    Ok(summary)
}

fn missing(plan: &Plan, job: &Job) -> BenchError {
    BenchError::Runtime(format!(
        "the result of {} vanished from the bench folder",
        plan.describe(job)
    ))
}

/// What [`run`] calls: after every job, and with why a stored file is run again.
type Hooks<'a> = (&'a (dyn Fn(Phase, &Job) + Sync), &'a (dyn Fn(&str) + Sync));

fn run_jobs(
    plan: &Plan,
    dir: &Path,
    data: Option<&TrainData>,
    jobs: &[Job],
    phase: Phase,
    summary: &mut Summary,
    (progress, notice): Hooks<'_>,
) -> Result<(), BenchError> {
    let results: Vec<Option<(usize, f64)>> = jobs
        .par_iter()
        .map(|job| {
            match plan.stored(dir, job)? {
                Stored::Done(_) => {
                    progress(phase, job);
                    return Ok(None);
                }
                // A damaged or tampered file is not a finished job.
                Stored::Invalid(why) => notice(&format!("{why}; running the job again")),
                Stored::Missing => {}
            }
            let problem = &plan.problems[job.problem];
            let start = Instant::now();
            let curve = run_job(problem, data, &plan.spec(job), plan.convention, job.seed)?;
            let seconds = start.elapsed().as_secs_f64();
            let record = Record {
                problem: problem.spec.clone(),
                optimizer: plan.label(job.optimizer),
                lr: job.lr,
                seed: job.seed,
                curve,
                seconds,
            };
            plan.store(dir, job, &record)?;
            progress(phase, job);
            Ok(Some((job.problem, seconds)))
        })
        .collect::<Result<_, BenchError>>()?;
    for r in results {
        match r {
            None => summary.skipped += 1,
            Some((p, s)) => {
                summary.ran += 1;
                let t = &mut summary.timings[p];
                t.jobs += 1;
                match phase {
                    Phase::Tuning => t.tuning += s,
                    Phase::Seeds => t.seeds += s,
                }
            }
        }
    }
    Ok(())
}
