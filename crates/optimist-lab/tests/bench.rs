//! The bench's problems against closed forms and races, its seed streams, and its
//! shards.

use optimist::{registry, Convention, Spec};
use optimist_lab::bench::{problems, run_job, runner::stream_seed, slurm, Plan, Suite};
use optimist_lab::landscape::{builtin, Landscape};
use optimist_lab::race::drive;

fn spec(text: &str) -> Spec {
    text.parse().unwrap()
}

#[test]
fn noiseless_quadratic_follows_the_closed_form() {
    // SGD on ½·Σ hᵢxᵢ² from x = 1: xᵢ(t) = (1 − lr·hᵢ)^t.
    let p = problems::parse("nqm:dim=50,kappa=100,sigma=0,budget=40").unwrap();
    let lr = 0.7;
    let curve = run_job(&p, None, &spec("sgd:lr=0.7"), Convention::Article, 0).unwrap();
    assert_eq!(curve.steps, p.steps());
    assert_eq!(curve.diverged_at, None);
    let h: Vec<f64> = (0..50).map(|i| 100f64.powf(-(i as f64) / 49.0)).collect();
    let l0: f64 = h.iter().sum();
    for (&t, &got) in curve.steps.iter().zip(&curve.metric) {
        let want = h
            .iter()
            .map(|h| h * (1.0 - lr * h).powi(2 * t as i32))
            .sum::<f64>()
            / l0;
        assert!(
            (got - want).abs() <= 1e-12 * want.max(1e-300),
            "step {t}: {got} vs {want}"
        );
    }
    // A rate above 2/h_max blows up: reported as diverged, with the finite points kept.
    let p = problems::parse("nqm:dim=50,sigma=0,budget=5000").unwrap();
    let curve = run_job(&p, None, &spec("sgd:lr=2.5"), Convention::Article, 0).unwrap();
    let at = curve.diverged_at.expect("diverges");
    assert!(curve.steps.iter().all(|&s| s < at) && curve.final_metric().is_none());
}

#[test]
fn noiseless_landscape_runs_end_where_the_race_does() {
    let f = builtin("rosenbrock").unwrap();
    let p = problems::parse("rosenbrock:sigma=0,budget=300").unwrap();
    for s in ["sgd:lr=0.001", "adam:lr=0.05", "momentum:lr=0.0005"] {
        let curve = run_job(&p, None, &spec(s), Convention::Article, 4).unwrap();
        let mut opt = registry::build_in::<f64>(&spec(s), Convention::Article).unwrap();
        let mut last = None;
        drive(opt.as_mut(), &f, f.start(), 300, |pt| last = Some(pt)).unwrap();
        let last = last.unwrap();
        let want = (last.x - 1.0).hypot(last.y - 1.0);
        assert_eq!(curve.final_metric(), Some(want), "{s}");
    }
}

#[test]
fn a_job_depends_on_its_problem_and_seed_only() {
    let p = problems::parse("nqm:dim=200,budget=50").unwrap();
    let adam = spec("adam:lr=0.01");
    let a = run_job(&p, None, &adam, Convention::Article, 3).unwrap();
    // Again, after other jobs, on another thread: the same bits.
    let _ = run_job(&p, None, &adam, Convention::Article, 2).unwrap();
    let b = std::thread::spawn({
        let (p, adam) = (p.clone(), adam.clone());
        move || run_job(&p, None, &adam, Convention::Article, 3).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(a, b);
    let c = run_job(&p, None, &adam, Convention::Article, 4).unwrap();
    assert_ne!(a.metric, c.metric, "another seed, other noise");
    // Streams differ by problem and by seed.
    assert_ne!(stream_seed("nqm", 0), stream_seed("nqm", 1));
    assert_ne!(stream_seed("nqm", 0), stream_seed("nqm:dim=200", 0));
}

fn plan(problems: &[&str], optimizers: &[&str]) -> Plan {
    Plan::new(Suite {
        problems: problems.iter().map(|s| s.to_string()).collect(),
        optimizers: optimizers.iter().map(|s| s.to_string()).collect(),
        convention: "article".into(),
        seeds: 5,
        trials: 7,
        lr_min: 1e-3,
        lr_max: 1.0,
    })
    .unwrap()
}

#[test]
fn shards_split_the_cells_without_overlap() {
    let plan = plan(
        &["rosenbrock", "nqm", "beale"],
        &["sgd", "adam:lr=3", "momentum"],
    );
    assert_eq!(plan.rates.len(), 7);
    assert_eq!(plan.rates[0], 1e-3);
    assert_eq!(plan.rates[6], 1.0);
    // A rate given with the optimizer is replaced by the tuned one.
    assert_eq!(plan.label(1), "adam");
    for n in 1..=10 {
        let mut all: Vec<(usize, usize)> = (0..n).flat_map(|i| plan.shard_cells(i, n)).collect();
        all.sort();
        assert_eq!(all, plan.cells(), "{n} shards");
        let sizes: Vec<usize> = (0..n).map(|i| plan.shard_cells(i, n).len()).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }
    assert_eq!(optimist_lab::bench::shard_jobs(&plan, (0, 1)), 9 * (7 + 4));
    assert_eq!(optimist_lab::bench::parse_shard("2/3"), Ok((2, 3)));
    for bad in ["3/3", "1", "-1/2", "1/0", "a/b"] {
        assert!(optimist_lab::bench::parse_shard(bad).is_err(), "{bad}");
    }
}

#[test]
fn slurm_array_variables_name_the_shard() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(slurm::array_shard(env(&[])), Ok(None));
    assert_eq!(
        slurm::array_shard(env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4")
        ])),
        Ok(Some((3, 4)))
    );
    // An array submitted as 1-4.
    assert_eq!(
        slurm::array_shard(env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1")
        ])),
        Ok(Some((3, 4)))
    );
    let e = slurm::array_shard(env(&[
        ("SLURM_ARRAY_TASK_ID", "4"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]))
    .unwrap_err();
    assert!(e.contains("--array=0-3"), "{e}");
    assert!(slurm::array_shard(env(&[("SLURM_ARRAY_TASK_ID", "1")])).is_err());
    assert_eq!(slurm::shell_quote("a b'c"), r"'a b'\''c'");
    assert_eq!(
        slurm::shell_quote("nqm:dim=3,budget=2"),
        "nqm:dim=3,budget=2"
    );
}

#[test]
fn problem_specs_are_canonical_and_checked() {
    let p = problems::parse("nqm:sigma=0.3,kappa=100,budget=500").unwrap();
    assert_eq!(p.spec, "nqm:kappa=100");
    assert_eq!(
        problems::parse("mlp").unwrap().goal(),
        problems::Goal::Maximize
    );
    for bad in [
        "nqm:dim=0",
        "nqm:kappa",
        "logreg:sigma=1",
        "mlp:batch=x",
        "saddle",
        "nqm:dim=2,dim=3",
    ] {
        assert!(problems::parse(bad).is_err(), "{bad}");
    }
    let names: Vec<String> = problems::registry()
        .iter()
        .map(|p| p.spec.clone())
        .collect();
    assert!(names.starts_with(&["nqm".into(), "logreg".into(), "mlp".into()]));
    assert!(names.contains(&"rosenbrock".to_string()));
    assert!(builtin("saddle").unwrap().minima().is_empty());
}

/// A stored result is checked against its job: a tampered or damaged file is never
/// taken as done. Each tampering the hostile tests tried, on the problem whose metric
/// it breaks (an accuracy of 1e308 or −5, a loss below −ln(1 + ε) or above −ln ε, a
/// distance of −5), and curves of the wrong length or steps.
#[test]
fn stored_results_are_checked_against_their_job() {
    use optimist_lab::bench::jobs::check;
    use optimist_lab::bench::{Curve, Record};
    let record = |p: &problems::Problem, f: &dyn Fn(usize) -> f64| {
        let steps = p.steps();
        Record {
            problem: p.spec.clone(),
            optimizer: "sgd".into(),
            lr: 0.1,
            seed: 0,
            curve: Curve {
                metric: (0..steps.len()).map(f).collect(),
                steps,
                diverged_at: None,
            },
            seconds: 0.5,
        }
    };
    let mlp = problems::parse("mlp").unwrap();
    let logreg = problems::parse("logreg").unwrap();
    let landscape = problems::parse("rosenbrock").unwrap();
    assert_eq!(check(&mlp, &record(&mlp, &|_| 0.9)), Ok(()));
    assert_eq!(check(&logreg, &record(&logreg, &|_| 2.3)), Ok(()));
    assert_eq!(check(&landscape, &record(&landscape, &|_| 1e200)), Ok(()));
    for (p, v) in [
        (&mlp, 1e308),
        (&mlp, -5.0),
        (&mlp, 1.0 + 1e-9),
        (&logreg, 1e308),
        (&logreg, -5.0),
        (&logreg, 17.0),
        (&landscape, -5.0),
        (&landscape, f64::NAN),
    ] {
        let e = check(p, &record(p, &|i| if i == 1 { v } else { 0.5 })).unwrap_err();
        let at = format!("at step {} is", p.steps()[1]);
        assert!(e.contains(&at) && e.contains("outside"), "{e}");
    }
    // The curve's steps: as many as the problem records, at its checkpoints.
    let mut r = record(&landscape, &|_| 1.0);
    r.curve.steps.truncate(3);
    r.curve.metric.truncate(3);
    let e = check(&landscape, &r).unwrap_err();
    assert!(e.contains("recorded at 3 steps") && e.contains("51"), "{e}");
    let mut r = record(&landscape, &|_| 1.0);
    *r.curve.steps.last_mut().unwrap() = 1_000_000_000_000_000_000;
    assert!(check(&landscape, &r).is_err());
    let mut r = record(&landscape, &|_| 1.0);
    r.curve.metric.pop();
    assert!(check(&landscape, &r)
        .unwrap_err()
        .contains("51 steps but 50 values"));
    // A diverged run: the checkpoints before the step it diverged at, within the budget.
    let mut r = record(&landscape, &|_| 1.0);
    r.curve.diverged_at = Some(25);
    r.curve.steps.truncate(3);
    r.curve.metric.truncate(3);
    assert_eq!(check(&landscape, &r), Ok(()));
    r.curve.diverged_at = Some(501);
    assert!(check(&landscape, &r)
        .unwrap_err()
        .contains("past the budget"));
    let mut r = record(&landscape, &|_| 1.0);
    r.seconds = -1.0;
    assert!(check(&landscape, &r).unwrap_err().contains("its time"));
}
