//! `optimist bench`: tune each optimizer's learning rate on each problem, run the best
//! rate on several seeds, and report; in shards, under a Slurm job array, or whole.

use crate::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use optimist_lab::bench::{self, problems, slurm, BenchError, Phase, Plan, Suite};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `optimist bench`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,

    /// A problem, NAME[:KEY=VALUE,...]; repeat for several (default: rosenbrock, nqm,
    /// logreg, mlp; `optimist list problems` lists them).
    #[arg(long = "problem", value_name = "NAME")]
    problems: Vec<String>,

    /// An optimizer, NAME[:KEY=VALUE,...]; repeat for several (default: sgd, momentum,
    /// nesterov, adagrad, rmsprop, adam). Its learning rate is tuned.
    #[arg(long = "optimizer", short = 'o', value_name = "SPEC")]
    optimizers: Vec<String>,

    /// Seeds run at each optimizer's tuned rate.
    #[arg(long, default_value_t = 10, value_name = "N")]
    seeds: u64,

    /// Learning rates tried per optimizer, log-spaced over --lr-range, on seed 0.
    #[arg(long, default_value_t = 20, value_name = "N")]
    trials: usize,

    /// Updates per run on every problem (default: each problem's own budget).
    #[arg(long, value_name = "N")]
    budget: Option<usize>,

    /// The learning rates searched, MIN,MAX.
    #[arg(long = "lr-range", default_value = "1e-4,10", value_name = "MIN,MAX")]
    lr_range: String,

    /// Whose meaning the optimizer names have: article, pytorch or optax.
    #[arg(long, default_value = "article")]
    convention: String,

    /// The folder with the MNIST files (default: data/mnist, else the download cache).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// The bench folder: results, report and figures (shared by every shard).
    #[arg(long, default_value = "bench-out", value_name = "DIR")]
    out: PathBuf,

    /// Run only the I-th of N shares of the jobs (0 ≤ I < N); under a Slurm job
    /// array, SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT set it.
    #[arg(long, value_name = "I/N", value_parser = bench::parse_shard)]
    shard: Option<(usize, usize)>,

    /// Write the Slurm scripts (a job array of shards and a dependent report job) to
    /// DIR/slurm instead of running.
    #[arg(long)]
    slurm: bool,

    /// Tasks of the Slurm job array.
    #[arg(long = "slurm-tasks", default_value_t = 4, value_name = "N")]
    slurm_tasks: usize,

    /// CPUs per Slurm task.
    #[arg(long = "slurm-cpus", default_value_t = 1, value_name = "N")]
    slurm_cpus: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Merge whatever shards have finished into DIR/report.md, results.csv and the
    /// figures, and name the jobs still missing.
    Report {
        /// The bench folder.
        dir: PathBuf,
    },
}

fn failure(e: BenchError) -> Failure {
    match e {
        BenchError::Usage(m) => Failure::usage(m),
        BenchError::Runtime(m) => Failure::runtime(m),
    }
}

/// The suite the options describe.
fn suite(args: &Args) -> Result<Suite, Failure> {
    let (lr_min, lr_max) = args
        .lr_range
        .split_once(',')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .ok_or_else(|| {
            Failure::usage(format!(
                "--lr-range {} is not MIN,MAX (two numbers, 0 < MIN < MAX)",
                optimist_lab::text::quoted(&args.lr_range)
            ))
        })?;
    let mut names: Vec<String> = if args.problems.is_empty() {
        problems::DEFAULT_SUITE
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.problems.clone()
    };
    if let Some(budget) = args.budget {
        if !(1..=problems::MAX_BUDGET).contains(&budget) {
            return Err(Failure::usage(format!(
                "--budget {budget}: expected 1 to {}",
                problems::MAX_BUDGET
            )));
        }
        for n in &mut names {
            if !n.contains("budget=") {
                n.push_str(if n.contains(':') { "," } else { ":" });
                n.push_str(&format!("budget={budget}"));
            }
        }
    }
    let optimizers = if args.optimizers.is_empty() {
        ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.optimizers.clone()
    };
    Ok(Suite {
        problems: names,
        optimizers,
        convention: args.convention.clone(),
        seeds: args.seeds,
        trials: args.trials,
        lr_min,
        lr_max,
    })
}

/// Runs `optimist bench`.
pub fn run(args: Args) -> Result<(), Failure> {
    if let Some(Action::Report { dir }) = &args.action {
        return report(dir).map(|_| ());
    }
    let suite = suite(&args)?;
    // Checked before anything is written.
    let plan = Plan::new(suite.clone()).map_err(failure)?;
    if args.slurm {
        return write_slurm(&args, plan);
    }
    let env_shard = slurm::array_shard(|k| std::env::var(k).ok()).map_err(Failure::usage)?;
    let shard = args.shard.or(env_shard);
    let data = if plan.problems.iter().any(|p| p.needs_mnist()) {
        let dir = match &args.data {
            Some(d) => d.clone(),
            None => crate::train::default_data()?,
        };
        let data = optimist_lab::train::load_data(&dir)
            .map_err(|e| Failure::usage(format!("{e}\n(point --data DIR at a folder with the MNIST files, or download them with `optimist data mnist`)")))?;
        if let Some(note) = &data.note {
            say!("note: {note}");
        }
        Some(data)
    } else {
        None
    };
    let plan = bench::prepare(&args.out, suite).map_err(failure)?;
    let (index, count) = shard.unwrap_or((0, 1));
    let total = bench::shard_jobs(&plan, (index, count));
    say!(
        "{} problems × {} optimizers × {} rates, then {} seeds: {total} jobs{}",
        plan.problems.len(),
        plan.specs.len(),
        plan.rates.len(),
        plan.suite.seeds,
        if count > 1 {
            format!(" in shard {index}/{count}")
        } else {
            String::new()
        }
    );
    crate::on_interrupt(format!(
        "; finished jobs are kept: run the same command to resume ({})",
        args.out.display()
    ));
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} jobs, {eta} left")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message("tuning");
        bar
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    let summary = bench::run(
        &plan,
        &args.out,
        (index, count),
        data.as_ref(),
        &|phase, _| {
            if phase == Phase::Seeds {
                bar.set_message("seeds");
            }
            bar.inc(1)
        },
        &|why| bar.suspend(|| say!("note: {why}")),
    );
    bar.finish_and_clear();
    let summary = summary.map_err(failure)?;
    let wall = start.elapsed().as_secs_f64();
    say!(
        "{} jobs run, {} already done, in {wall:.1} s",
        summary.ran,
        summary.skipped
    );
    let total_job: f64 = summary.timings.iter().map(|t| t.tuning + t.seeds).sum();
    if summary.ran > 0 {
        let mut rows = Vec::new();
        for t in &summary.timings {
            let share = |s: f64| format!("{:.1} s ({:.0}%)", s, 100.0 * s / total_job.max(1e-9));
            rows.push([
                t.problem.clone(),
                t.jobs.to_string(),
                share(t.tuning),
                share(t.seeds),
                share(t.tuning + t.seeds),
            ]);
        }
        say!(
            "job time (summed over threads, {:.1} s in all):\n{}",
            total_job,
            crate::shared::aligned(
                &["problem", "jobs", "tuning", "seeds", "total"],
                &rows,
                1..5
            )
        );
    }
    if count > 1 {
        say!(
            "shard {index}/{count} done; when every shard is done: optimist bench report {}",
            args.out.display()
        );
        return Ok(());
    }
    report(&args.out)
}

/// Writes the report of the bench in `dir`; missing jobs are a failure (exit 1).
fn report(dir: &Path) -> Result<(), Failure> {
    let report = bench::report(dir).map_err(failure)?;
    // Two reports at once (two shards finishing) take turns writing their sets.
    let lock = crate::shared::lock(dir)?;
    report.write(dir).map_err(failure)?;
    drop(lock);
    let mut out = String::new();
    for (problem, rows) in &report.tables {
        out.push_str(&format!("{problem}\n"));
        let cells: Vec<[String; 5]> = rows
            .iter()
            .map(|r| {
                [
                    r.rank.to_string(),
                    r.optimizer.clone(),
                    optimist_lab::output::shortest(r.lr),
                    format!(
                        "{} ± {}",
                        bench::report::sig(r.mean),
                        bench::report::sig(r.sd)
                    ),
                    if r.steps_to_target.is_finite() {
                        r.steps_to_target.to_string()
                    } else {
                        "—".into()
                    },
                ]
            })
            .collect();
        out.push_str(&crate::shared::aligned(
            &[
                "rank",
                "optimizer",
                "tuned lr",
                "final mean ± sd",
                "steps to target",
            ],
            &cells,
            2..5,
        ));
        out.push('\n');
    }
    out.push_str(&format!("wrote {}\n", dir.join("report.md").display()));
    crate::stdio::print(&out)?;
    if !report.missing.is_empty() {
        let shown: Vec<&str> = report.missing.iter().take(10).map(|s| s.as_str()).collect();
        return Err(Failure::runtime(format!(
            "{} jobs are missing (the report covers the finished ones):\n  {}{}",
            report.missing.len(),
            shown.join("\n  "),
            if report.missing.len() > 10 {
                "\n  ... (all are listed in report.md)"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Writes DIR/slurm/*: the array script, the report script and the submit script.
fn write_slurm(args: &Args, plan: Plan) -> Result<(), Failure> {
    if args.slurm_tasks == 0 || args.slurm_cpus == 0 {
        return Err(Failure::usage(
            "--slurm-tasks and --slurm-cpus must be at least 1",
        ));
    }
    // The scripts name paths as text: one that is not UTF-8 is refused, not mangled.
    let text = |p: &Path, what: &str| -> Result<String, Failure> {
        p.to_str().map(str::to_string).ok_or_else(|| {
            Failure::usage(format!(
                "--slurm: {what} {} is not valid UTF-8, which the Slurm scripts cannot name; choose another",
                p.display()
            ))
        })
    };
    let abs = |p: &Path, what: &str| {
        let p = std::path::absolute(p)
            .map_err(|e| Failure::runtime(format!("cannot make {} absolute: {e}", p.display())))?;
        text(&p, what)
    };
    let exe = std::env::current_exe()
        .map_err(|e| Failure::runtime(format!("cannot find the optimist binary: {e}")))?;
    let exe = text(&exe, "the optimist binary")?;
    let dir = abs(&args.out, "--out")?;
    let mut cli: Vec<String> = Vec::new();
    for p in &plan.suite.problems {
        cli.extend(["--problem".into(), p.clone()]);
    }
    for o in &args.optimizers {
        cli.extend(["--optimizer".into(), o.clone()]);
    }
    cli.extend([
        "--seeds".into(),
        plan.suite.seeds.to_string(),
        "--trials".into(),
        plan.suite.trials.to_string(),
        "--lr-range".into(),
        args.lr_range.clone(),
        "--convention".into(),
        plan.suite.convention.clone(),
    ]);
    if let Some(d) = &args.data {
        cli.extend(["--data".into(), abs(d, "--data")?]);
    } else if plan.problems.iter().any(|p| p.needs_mnist()) {
        let d = crate::train::default_data()?;
        cli.extend(["--data".into(), abs(&d, "the MNIST folder")?]);
    }
    let slurm = slurm::Slurm {
        tasks: args.slurm_tasks,
        cpus: args.slurm_cpus,
        exe,
        dir,
        args: cli,
    };
    slurm
        .check()
        .map_err(|why| Failure::usage(format!("--slurm: {why}; choose another path")))?;
    let scripts = slurm.scripts();
    let dir = PathBuf::from(&slurm.dir);
    let plan = bench::prepare(&dir, plan.suite).map_err(failure)?;
    let folder = dir.join("slurm");
    let files: Vec<(PathBuf, Vec<u8>)> = scripts
        .iter()
        .map(|(n, t)| (folder.join(n), t.clone().into_bytes()))
        .collect();
    crate::shared::write_files(&folder, &files)?;
    let cells = plan.cells().len();
    let mut note = String::new();
    if args.slurm_tasks > cells {
        note = format!(
            "\nnote: the suite has {cells} cells (problem × optimizer), the unit of a shard; {} tasks will have nothing to do",
            args.slurm_tasks - cells
        );
    }
    crate::stdio::print(&format!(
        "wrote {}/{{{}, {}, {}}}\nsubmit with: sh {}\n(DIR must be on a filesystem every node shares){note}\n",
        folder.display(),
        slurm::ARRAY_SCRIPT,
        slurm::REPORT_SCRIPT,
        slurm::SUBMIT_SCRIPT,
        folder.join(slurm::SUBMIT_SCRIPT).display()
    ))
}
