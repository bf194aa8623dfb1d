//! The report of a bench: from the stored job results only (never from timings or the
//! order jobs ran in), so that merged shards give the same bytes as one process.
//! `report.md` (a table per problem, the performance profile, the jobs missing),
//! `results.csv` (tidy), and figures: learning curves with a min–max band over seeds,
//! the sensitivity to the learning rate, and the performance profile.

use super::jobs::{slug, Job, Plan, Record};
use super::problems::{Goal, Problem};
use super::BenchError;
use crate::figure::{band_chart, BandChart, BandSeries, Format};
use crate::output::shortest;
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

/// One optimizer's results on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The optimizer, without its rate.
    pub optimizer: String,
    /// The tuned rate.
    pub lr: f64,
    /// The final metric's mean over the seeds that did not diverge.
    pub mean: f64,
    /// Its sample standard deviation (0 for one seed).
    pub sd: f64,
    /// The median over every seed, a diverged one counting as worst.
    pub median: f64,
    /// The median over seeds of the first recorded step that reached the target
    /// (+∞ when half or more did not).
    pub steps_to_target: f64,
    /// Seeds that reached the target.
    pub reached: usize,
    /// Seeds that diverged.
    pub diverged: usize,
    /// 1 for the best median.
    pub rank: usize,
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

/// A cell's stored results.
struct Cell {
    /// Seed 0 at every rate, by rate.
    tuning: Vec<Record>,
    /// Every seed at the tuned rate.
    seeds: Vec<Record>,
    lr: f64,
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

fn row(plan: &Plan, problem: &Problem, o: usize, cell: &Cell) -> Row {
    let goal = problem.goal();
    let worst = if goal == Goal::Maximize {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let finals: Vec<f64> = cell
        .seeds
        .iter()
        .filter_map(|r| r.curve.final_metric())
        .collect();
    let n = finals.len() as f64;
    let mean = finals.iter().sum::<f64>() / n;
    let sd = if finals.len() > 1 {
        (finals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let all: Vec<f64> = cell
        .seeds
        .iter()
        .map(|r| r.curve.final_metric().unwrap_or(worst))
        .collect();
    let hits: Vec<f64> = cell
        .seeds
        .iter()
        .map(|r| {
            r.curve
                .steps
                .iter()
                .zip(&r.curve.metric)
                .find(|(_, &v)| goal.reaches(v, problem.target))
                .map_or(f64::INFINITY, |(&s, _)| s as f64)
        })
        .collect();
    Row {
        optimizer: plan.label(o),
        lr: cell.lr,
        mean: if finals.is_empty() { f64::NAN } else { mean },
        sd: if finals.is_empty() { f64::NAN } else { sd },
        median: median(&all),
        steps_to_target: median(&hits),
        reached: hits.iter().filter(|h| h.is_finite()).count(),
        diverged: cell.seeds.len() - finals.len(),
        rank: 0,
    }
}

/// The lower median of `values` (no averaging, so ±∞ stay ±∞).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Ranks rows by median (best first; equal medians share a rank), then by mean.
fn rank(goal: Goal, mut rows: Vec<Row>) -> Vec<Row> {
    let key = |r: &Row| match goal {
        Goal::Minimize => r.median,
        Goal::Maximize => -r.median,
    };
    rows.sort_by(|a, b| key(a).total_cmp(&key(b)));
    for i in 0..rows.len() {
        rows[i].rank = if i > 0 && key(&rows[i]) == key(&rows[i - 1]) {
            rows[i - 1].rank
        } else {
            i + 1
        };
    }
    rows
}

/// A number to four significant digits, for tables.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.3e}")
    }
}

fn curves(plan: &Plan, problem: &Problem, done: &[(usize, &Cell)]) -> BandChart {
    let series = done
        .iter()
        .map(|&(o, cell)| {
            let steps = problem.steps();
            let mut points = Vec::new();
            let mut band = Vec::new();
            for (k, &s) in steps.iter().enumerate() {
                let v: Vec<f64> = cell
                    .seeds
                    .iter()
                    .filter_map(|r| r.curve.metric.get(k).copied())
                    .collect();
                if v.is_empty() {
                    break;
                }
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                points.push((s as f64, median(&v)));
                band.push((s as f64, lo, hi));
            }
            BandSeries {
                name: plan.label(o),
                detail: format!("{}={}", plan.keys[o], shortest(cell.lr)),
                points,
                band,
                dots: false,
                best: None,
            }
        })
        .collect();
    BandChart {
        title: problem.spec.clone(),
        subtitle: format!(
            "median and min–max over {} seeds at the tuned rate",
            plan.suite.seeds
        ),
        x_title: "step".into(),
        y_title: problem.metric().into(),
        log_x: false,
        log_y: problem.goal() == Goal::Minimize,
        series,
    }
}

fn sensitivity(plan: &Plan, problem: &Problem, done: &[(usize, &Cell)]) -> BandChart {
    let series = done
        .iter()
        .map(|&(o, cell)| {
            let points = cell
                .tuning
                .iter()
                .map(|r| (r.lr, r.curve.final_metric().unwrap_or(f64::NAN)))
                .collect();
            let best = cell
                .tuning
                .iter()
                .find(|r| r.lr == cell.lr)
                .and_then(|r| r.curve.final_metric())
                .map(|v| (cell.lr, v));
            BandSeries {
                name: plan.label(o),
                detail: format!("best {}={}", plan.keys[o], shortest(cell.lr)),
                points,
                band: Vec::new(),
                dots: true,
                best,
            }
        })
        .collect();
    BandChart {
        title: problem.spec.clone(),
        subtitle: format!("final metric on seed 0 after {} steps", problem.budget),
        x_title: "learning rate (log scale); a gap: the run diverged".into(),
        y_title: problem.metric().into(),
        log_x: true,
        log_y: problem.goal() == Goal::Minimize,
        series,
    }
}

/// The performance profile (Dolan & Moré, 2002) over steps to target: for each
/// optimizer, the fraction of problems it solves within τ times the best optimizer's
/// steps. Returns the table lines and the figure (none without a complete problem).
fn profile(plan: &Plan, tables: &[(String, Vec<Row>)]) -> (String, Option<BandChart>) {
    let complete: Vec<&Vec<Row>> = tables
        .iter()
        .map(|(_, rows)| rows)
        .filter(|rows| rows.len() == plan.specs.len())
        .collect();
    if complete.is_empty() {
        return (String::new(), None);
    }
    let ratios: Vec<Vec<f64>> = (0..plan.specs.len())
        .map(|o| {
            let label = plan.label(o);
            complete
                .iter()
                .map(|rows| {
                    let best = rows
                        .iter()
                        .map(|r| r.steps_to_target)
                        .fold(f64::INFINITY, f64::min);
                    let mine = rows.iter().find(|r| r.optimizer == label);
                    // A run that is at the target at step 0 took no steps: ratio 1.
                    match mine.map(|r| r.steps_to_target) {
                        Some(t) if t.is_finite() => t.max(1.0) / best.max(1.0),
                        _ => f64::INFINITY,
                    }
                })
                .collect()
        })
        .collect();
    let n = complete.len() as f64;
    let finite_max = ratios
        .iter()
        .flatten()
        .copied()
        .filter(|r| r.is_finite())
        .fold(1.0, f64::max);
    let tau_max = (finite_max * 2.0).max(4.0);
    let mut table = String::from(
        "| optimizer | ρ(1): fastest | ρ(2) | ρ(4) | solved |\n|---|---:|---:|---:|---:|\n",
    );
    let series = ratios
        .iter()
        .enumerate()
        .map(|(o, r)| {
            let rho = |tau: f64| r.iter().filter(|&&x| x <= tau).count() as f64 / n;
            let _ = writeln!(
                table,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                plan.label(o),
                rho(1.0),
                rho(2.0),
                rho(4.0),
                rho(f64::MAX)
            );
            let mut taus: Vec<f64> = r.iter().copied().filter(|x| x.is_finite()).collect();
            taus.push(1.0);
            taus.push(tau_max);
            taus.sort_by(f64::total_cmp);
            taus.dedup();
            let mut points = Vec::new();
            let mut last = None;
            for &t in &taus {
                if let Some(prev) = last {
                    points.push((t, prev));
                }
                points.push((t, rho(t)));
                last = Some(rho(t));
            }
            BandSeries {
                name: plan.label(o),
                detail: format!(
                    "fastest on {:.0}%, solves {:.0}%",
                    100.0 * rho(1.0),
                    100.0 * rho(f64::MAX)
                ),
                points,
                band: Vec::new(),
                dots: false,
                best: None,
            }
        })
        .collect();
    let chart = BandChart {
        title: "performance profile".into(),
        subtitle: format!("steps to target over {} problems", complete.len()),
        x_title: "τ: within this factor of the fastest optimizer's steps (log scale)".into(),
        y_title: "fraction of problems".into(),
        log_x: true,
        log_y: false,
        series,
    };
    (table, Some(chart))
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

/// A CSV field, quoted when it holds a comma or a quote.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
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
