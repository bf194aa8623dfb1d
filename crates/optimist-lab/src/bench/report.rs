//! The report of a bench: from the stored job results only (never from timings or the
//! order jobs ran in), so that merged shards give the same bytes as one process.
//! `report.md` (a table per problem, the performance profile, the jobs missing),
//! `results.csv` (tidy), and figures: learning curves with a min–max band over seeds,
//! the sensitivity to the learning rate, and the performance profile.

use super::charts::{curves, profile, sensitivity};
use super::jobs::{slug, Job, Plan, Record};
use super::problems::{Goal, Problem};
use super::stats::{rank, row, Cell};
pub use super::stats::{sig, Row};
use super::BenchError;
use crate::figure::{band_chart, Format};
use crate::output::{csv_field, shortest};
use std::fmt::Write as _;
use std::path::Path;

/// The rate whose seed-0 run ended best among `records` (one per rate, by increasing
/// rate); a diverged run is worst; among equal bests, the middle rate.
pub fn best_rate(problem: &Problem, records: &[Record]) -> f64 {
    let goal = problem.goal();
    let score = |r: &Record| match r.curve.final_metric() {
        Some(v) => v,
        None if goal == Goal::Maximize => f64::NEG_INFINITY,
        None => f64::INFINITY,
    };
    let mut best: Vec<usize> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match best.first() {
            Some(&b) if goal.better(score(&records[b]), score(r)) => {}
            Some(&b) if score(&records[b]) == score(r) => best.push(i),
            _ => best = vec![i],
        }
    }
    best.get(best.len().saturating_sub(1) / 2)
        .map_or(f64::NAN, |&i| records[i].lr)
}

/// A report, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Each problem's rows, in suite order (complete cells only).
    pub tables: Vec<(String, Vec<Row>)>,
    /// The jobs not yet done, in words.
    pub missing: Vec<String>,
    /// The files to write into the bench folder: name and bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Report {
    /// Writes every file into `dir`, all or none.
    pub fn write(&self, dir: &Path) -> Result<(), BenchError> {
        let files: Vec<(std::path::PathBuf, &[u8])> = self
            .files
            .iter()
            .map(|(n, b)| (dir.join(n), b.as_slice()))
            .collect();
        crate::output::write_set(&files).map_err(|e| BenchError::Runtime(e.to_string()))
    }
}

/// Reads every stored result of the bench in `dir` and makes its report (whatever is
/// done; [`Report::missing`] names the rest).
pub fn report(dir: &Path) -> Result<Report, BenchError> {
    let plan = super::open(dir)?;
    let mut missing = Vec::new();
    let mut cells: Vec<Vec<Option<Cell>>> = Vec::new();
    let load = |job: &Job, missing: &mut Vec<String>| -> Result<Option<Record>, BenchError> {
        let r = plan.load(dir, job)?;
        if r.is_none() {
            missing.push(plan.describe(job));
        }
        Ok(r)
    };
    for p in 0..plan.problems.len() {
        let mut row = Vec::new();
        for o in 0..plan.specs.len() {
            let mut tuning = Vec::new();
            for job in plan.tuning_jobs((p, o)) {
                tuning.extend(load(&job, &mut missing)?);
            }
            if tuning.len() < plan.rates.len() {
                missing.push(format!(
                    "{} / {}: seeds 1 to {} at the tuned rate, once tuned",
                    plan.problems[p].spec,
                    plan.label(o),
                    plan.suite.seeds - 1
                ));
                row.push(None);
                continue;
            }
            let lr = best_rate(&plan.problems[p], &tuning);
            let mut seeds: Vec<Record> = tuning.iter().filter(|r| r.lr == lr).cloned().collect();
            let before = seeds.len();
            for job in plan.seed_jobs((p, o), lr) {
                seeds.extend(load(&job, &mut missing)?);
            }
            let complete = seeds.len() - before == plan.suite.seeds as usize - 1;
            row.push(complete.then_some(Cell { tuning, seeds, lr }));
        }
        cells.push(row);
    }
    let mut tables = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (p, problem) in plan.problems.iter().enumerate() {
        let rows = rank(
            problem.goal(),
            cells[p]
                .iter()
                .enumerate()
                .filter_map(|(o, c)| c.as_ref().map(|c| row(&plan, problem, o, c)))
                .collect(),
        );
        let done: Vec<(usize, &Cell)> = cells[p]
            .iter()
            .enumerate()
            .filter_map(|(o, c)| c.as_ref().map(|c| (o, c)))
            .collect();
        if !done.is_empty() {
            let name = slug(&problem.spec);
            files.push((
                format!("curves-{name}.png"),
                band_chart(&curves(&plan, problem, &done), Format::Png)
                    .map_err(|e| BenchError::Runtime(e.to_string()))?,
            ));
            files.push((
                format!("sensitivity-{name}.png"),
                band_chart(&sensitivity(&plan, problem, &done), Format::Png)
                    .map_err(|e| BenchError::Runtime(e.to_string()))?,
            ));
        }
        tables.push((problem.spec.clone(), rows));
    }
    let profile = profile(&plan, &tables);
    if let Some(chart) = &profile.1 {
        files.push((
            "profile.png".into(),
            band_chart(chart, Format::Png).map_err(|e| BenchError::Runtime(e.to_string()))?,
        ));
    }
    files.push((
        "results.csv".into(),
        results_csv(&plan, &cells).into_bytes(),
    ));
    files.push((
        "report.md".into(),
        markdown(&plan, &tables, &profile.0, &missing).into_bytes(),
    ));
    Ok(Report {
        tables,
        missing,
        files,
    })
}

fn results_csv(plan: &Plan, cells: &[Vec<Option<Cell>>]) -> String {
    let mut out = String::from("problem,optimizer,lr,seed,step,metric\n");
    for (p, row) in cells.iter().enumerate() {
        for (o, cell) in row.iter().enumerate() {
            let Some(cell) = cell else { continue };
            let mut records: Vec<&Record> = cell.tuning.iter().chain(&cell.seeds).collect();
            records.sort_by(|a, b| a.lr.total_cmp(&b.lr).then(a.seed.cmp(&b.seed)));
            records.dedup_by(|a, b| a.lr == b.lr && a.seed == b.seed);
            for r in records {
                let head = format!(
                    "{},{},{},{}",
                    csv_field(&plan.problems[p].spec),
                    csv_field(&plan.label(o)),
                    shortest(r.lr),
                    r.seed
                );
                for (s, v) in r.curve.steps.iter().zip(&r.curve.metric) {
                    let _ = writeln!(out, "{head},{s},{}", shortest(*v));
                }
                if let Some(s) = r.curve.diverged_at {
                    let _ = writeln!(out, "{head},{s},nan");
                }
            }
        }
    }
    out
}

fn markdown(
    plan: &Plan,
    tables: &[(String, Vec<Row>)],
    profile: &str,
    missing: &[String],
) -> String {
    let s = &plan.suite;
    let mut md = String::from("# optimist bench\n\n");
    let _ = writeln!(
        md,
        "{} optimizers on {} problems. Each optimizer's learning rate was tuned on seed 0 over {} rates log-spaced from {} to {} (best final metric), then run on {} seeds. Convention: {}.\n",
        plan.specs.len(),
        plan.problems.len(),
        s.trials,
        shortest(s.lr_min),
        shortest(s.lr_max),
        s.seeds,
        s.convention
    );
    for ((spec, rows), problem) in tables.iter().zip(&plan.problems) {
        let better = match problem.goal() {
            Goal::Minimize => "lower",
            Goal::Maximize => "higher",
        };
        let _ = writeln!(md, "## {spec}\n");
        let _ = writeln!(
            md,
            "{}; {} steps; metric: {} ({better} is better); target {}.\n",
            problem.describe(),
            problem.budget,
            problem.metric(),
            shortest(problem.target)
        );
        md.push_str("| rank | optimizer | tuned lr | final mean ± sd | median | steps to target | diverged |\n|---:|---|---:|---:|---:|---:|---:|\n");
        for r in rows {
            let steps = if r.steps_to_target.is_finite() {
                format!("{} ({}/{})", r.steps_to_target, r.reached, s.seeds)
            } else {
                format!("— ({}/{})", r.reached, s.seeds)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} ± {} | {} | {} | {}/{} |",
                r.rank,
                r.optimizer,
                shortest(r.lr),
                sig(r.mean),
                sig(r.sd),
                sig(r.median),
                steps,
                r.diverged,
                s.seeds
            );
        }
        if rows.len() < plan.specs.len() {
            let _ = writeln!(
                md,
                "\n{} of {} optimizers not finished yet.",
                plan.specs.len() - rows.len(),
                plan.specs.len()
            );
        }
        if !rows.is_empty() {
            let name = slug(spec);
            let _ = writeln!(
                md,
                "\n![learning curves](curves-{name}.png)\n\n![sensitivity to the learning rate](sensitivity-{name}.png)\n"
            );
        }
    }
    if !profile.is_empty() {
        md.push_str("## Performance profile\n\nρ(τ): the fraction of problems on which an optimizer reaches the target (median over seeds) within τ times the steps of the fastest.\n\n");
        md.push_str(profile);
        md.push_str("\n![performance profile](profile.png)\n\n");
    }
    md.push_str("Steps to target: the median over seeds of the first recorded step at which the metric met the target (— when half or more never did), with how many seeds reached it. Mean ± sd are over the seeds that did not diverge; the median and the rank count a diverged seed as worst. `results.csv` has every recorded point of every run.\n");
    if !missing.is_empty() {
        let _ = writeln!(md, "\n## Missing jobs ({})\n", missing.len());
        for m in missing {
            let _ = writeln!(md, "- {m}");
        }
    }
    md
}
