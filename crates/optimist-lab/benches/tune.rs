//! Tuning's speed: 20 optimizers × 50 learning rates × 500 steps on Rosenbrock from its
//! classic start (1,000 runs, 500,000 optimizer steps), on all of rayon's threads and
//! on one, in the same run. The aim: at most 1 s on 2 cores.
//!
//! `cargo bench -p optimist-lab --bench tune`. Prints the best of several repetitions
//! of each, the time per optimizer step, and the speed-up of all threads over one.

use optimist::Spec;
use optimist_lab::landscape::builtin;
use optimist_lab::tune::{tune, Search, Tune};
use std::time::{Duration, Instant};

/// Twenty optimizers: the article's six, ten more of the registry's (Muon is left out:
/// it updates matrices only), and four variants with other hyperparameters.
const OPTIMIZERS: [&str; 20] = [
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "adadelta",
    "adamax",
    "nadam",
    "radam",
    "rprop",
    "lion",
    "adafactor",
    "lamb",
    "schedule_free_adamw",
    "momentum:momentum=0.5",
    "nesterov:momentum=0.5",
    "rmsprop:decay_rate=0.9",
    "adam:beta1=0.5",
];
const STEPS: usize = 500;
const REPEATS: usize = 5;

/// The best of [`REPEATS`] timings of tuning every optimizer, with the runs made.
fn time(specs: &[Spec], config: &Tune) -> (Duration, usize) {
    let f = builtin("rosenbrock").expect("a built-in");
    let mut best = Duration::MAX;
    let mut runs = 0;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let tuning = tune(&f, specs, config, &|| {}).expect("every optimizer tunes");
        best = best.min(start.elapsed());
        runs = tuning.results.iter().map(|t| t.trials.len()).sum();
    }
    (best, runs)
}

fn main() {
    let specs: Vec<Spec> = OPTIMIZERS
        .iter()
        .map(|s| s.parse().expect("a valid spec"))
        .collect();
    let f = builtin("rosenbrock").expect("a built-in");
    let config = Tune {
        search: Search::default(),
        ..Tune::new(&f, STEPS)
    };
    assert_eq!(config.search.trials(), 50);
    let threads = rayon::current_num_threads();
    let (all, runs) = time(&specs, &config);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool")
        .install(|| time(&specs, &config).0);
    assert_eq!(runs, 20 * 50);
    let per_step = |d: Duration| d.as_secs_f64() * 1e9 / (runs * STEPS) as f64;
    println!(
        "tune: {} optimizers × {} rates × {STEPS} steps on rosenbrock ({runs} runs), best of {REPEATS}",
        specs.len(),
        config.search.trials()
    );
    println!(
        "  {threads} threads: {:8.1} ms  ({:.0} ns per step)",
        all.as_secs_f64() * 1e3,
        per_step(all)
    );
    println!(
        "  1 thread:  {:8.1} ms  ({:.0} ns per step)",
        one.as_secs_f64() * 1e3,
        per_step(one)
    );
    println!(
        "  speed-up of {threads} threads over 1: {:.2}×; aim: at most 1000 ms on 2 cores",
        one.as_secs_f64() / all.as_secs_f64()
    );
}
