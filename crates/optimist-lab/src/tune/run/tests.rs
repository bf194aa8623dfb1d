//! The tuning's tests: rates, scores, the robust best and the notes, on real landscapes.

use super::*;
use crate::landscape::{article, builtin};
use crate::race::Race;

fn specs(names: &[&str]) -> Vec<Spec> {
    names.iter().map(|s| s.parse().unwrap()).collect()
}

/// SGD on x²/20 + y² from (−7, 2): a step scales y by (1 − 2·lr), so rates of 1 or
/// more cannot shrink it, and the best rate balances x's slow decay (1 − lr/10)
/// against y's.
#[test]
fn sgd_on_the_article_tunes_to_a_known_rate() {
    let f = article();
    let config = Tune {
        score: Score::Loss,
        ..Tune::new(&f, 30)
    };
    let counted = std::sync::atomic::AtomicUsize::new(0);
    let tuning = tune(&f, &specs(&["sgd", "adam:beta1=0.8"]), &config, &|| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(counted.into_inner(), 100);
    let sgd = &tuning.results[0];
    assert_eq!(sgd.trials.len(), 50);
    assert_eq!(sgd.key, "lr");
    assert!(sgd.trials.windows(2).all(|p| p[0].lr < p[1].lr));
    let best = sgd.best();
    // After 30 steps: x = −7(1 − lr/10)³⁰, y = 2(1 − 2lr)³⁰; the loss is lowest
    // near lr = 0.95, as the article chose.
    let loss = |lr: f64| {
        let x = -7.0 * (1.0 - lr / 10.0f64).powi(30);
        let y = 2.0 * (1.0 - 2.0 * lr).powi(30);
        x * x / 20.0 + y * y
    };
    assert!((best.last.loss - loss(best.lr)).abs() < 1e-12 * loss(best.lr));
    assert!((0.9..1.0).contains(&best.lr), "{}", best.lr);
    for t in &sgd.trials {
        assert!(t.score >= best.score);
        if t.diverged_at.is_none() {
            assert!((t.last.loss - loss(t.lr)).abs() <= 1e-9 * loss(t.lr).max(1e-300));
        }
    }
    // lr = 10 multiplies y by −19 each step: after 30 steps y ≈ 4e38, finite but
    // outside the window, a failure.
    let worst = sgd.trials.last().unwrap();
    assert!(worst.outside && worst.diverged_at.is_none() && worst.score == f64::INFINITY);
    assert!(!sgd.at_edge);
    assert_eq!(tuning.results[1].label(), "adam:beta1=0.8");
    assert_eq!(
        sgd.tuned_spec().to_string(),
        format!("sgd:lr={}", shortest(best.lr))
    );
}

/// On x² − y², unbounded below, the lowest loss would be the run thrown farthest:
/// runs that end outside the window fail instead.
#[test]
fn on_a_saddle_the_best_run_stays_in_the_window() {
    let f = builtin("saddle").unwrap();
    let config = Tune::new(&f, 50);
    assert_eq!(config.score, Score::Loss);
    let tuning = tune(&f, &specs(&["sgd", "adam"]), &config, &|| {}).unwrap();
    for tuned in &tuning.results {
        let best = tuned.best();
        assert!(f.window().contains(best.last.x, best.last.y));
        assert_eq!(best.score, best.last.loss);
        assert!(best.last.loss < 0.0, "it escaped along y");
        let left = tuned.trials.iter().filter(|t| t.outside).count();
        assert!(left > 0, "{}: large rates leave the window", tuned.label());
        for t in tuned.trials.iter().filter(|t| t.outside) {
            assert!(!f.window().contains(t.last.x, t.last.y) && t.failed());
            assert_eq!(t.score, f64::INFINITY);
        }
    }
}

#[test]
fn the_race_reproduces_the_tuned_trial() {
    let f = builtin("rosenbrock").unwrap();
    let config = Tune::new(&f, 200);
    assert_eq!(config.score, Score::Distance);
    let names = ["sgd", "momentum", "adam", "rmsprop:decay_rate=0.9"];
    let tuning = tune(&f, &specs(&names), &config, &|| {}).unwrap();
    let race = Race {
        start: config.start,
        steps: 200,
        optimizers: tuning.results.iter().map(Tuned::tuned_spec).collect(),
        convention: Convention::Article,
        wrapping: Default::default(),
    };
    let runs = race.run::<f64>(&f).unwrap();
    for (run, tuned) in runs.iter().zip(&tuning.results) {
        let best = tuned.best();
        assert_eq!(run.last(), best.last, "{}", tuned.label());
        assert_eq!(run.diverged_at, best.diverged_at);
        assert_eq!(
            best.distance,
            Some((best.last.x - 1.0).hypot(best.last.y - 1.0))
        );
        assert_eq!(best.score, best.distance.unwrap());
        // Tuned, each gets closer to (1, 1) than from where it started.
        assert!(
            best.score < (-2.0f64 - 1.0).hypot(2.0 - 1.0),
            "{}",
            tuned.label()
        );
    }
    assert_eq!(tuning.results[3].label(), "rmsprop:decay_rate=0.9");
}

#[test]
fn threads_do_not_change_the_result() {
    let f = builtin("beale").unwrap();
    let config = Tune::new(&f, 100);
    let names = specs(&["adagrad", "nesterov"]);
    let many = tune(&f, &names, &config, &|| {}).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| tune(&f, &names, &config, &|| {}))
        .unwrap();
    assert_eq!(many, one);
}

#[test]
fn ties_take_the_middle_and_divergence_never_wins() {
    let at = |lr: f64, score: f64| Trial {
        lr,
        score,
        last: Point {
            step: 0,
            x: 0.0,
            y: 0.0,
            loss: 0.0,
        },
        distance: None,
        diverged_at: score.is_infinite().then_some(3),
        outside: false,
        refined: false,
    };
    let trials = [
        at(0.1, 2.0),
        at(0.2, 0.0),
        at(0.3, 0.0),
        at(0.4, 0.0),
        at(0.5, f64::INFINITY),
    ];
    assert_eq!(best_index(&trials), 2);
    assert_eq!(best_index(&trials[..3]), 1);
    assert_eq!(
        best_index(&[at(1.0, f64::INFINITY), at(2.0, f64::INFINITY)]),
        0
    );
    // One lucky rate among bad ones loses to a steady neighbourhood.
    let spiky = [
        at(0.1, 5.0),
        at(0.2, 5.0),
        at(0.3, 0.1),
        at(0.4, 5.0),
        at(0.5, 1.0),
        at(0.6, 1.0),
        at(0.7, 1.0),
        at(0.8, 5.0),
    ];
    assert_eq!(best_index(&spiky), 5);
    // Among equal medians the lowest own score wins.
    let steady = [
        at(0.1, 3.0),
        at(0.2, 1.0),
        at(0.3, 0.5),
        at(0.4, 1.0),
        at(0.5, 3.0),
    ];
    assert_eq!(best_index(&steady), 2);
}

/// Adadelta's best rate on Rosenbrock lies above the default range: the note says
/// so and names a range to try.
#[test]
fn a_best_rate_at_the_edge_names_a_wider_range() {
    let f = builtin("rosenbrock").unwrap();
    let config = Tune::new(&f, 500);
    let tuning = tune(&f, &specs(&["adadelta", "sgd"]), &config, &|| {}).unwrap();
    let (adadelta, sgd) = (&tuning.results[0], &tuning.results[1]);
    assert!(adadelta.at_edge && adadelta.best().lr > config.search.lr_max);
    let note = adadelta.edge_note(&config.search).unwrap();
    assert!(
        note.starts_with(&format!(
            "best rate {} at the top of the range 0.000001 to 10, outside it; try --lr-range 0.0001,1000",
            number(adadelta.best().lr)
        )),
        "{note}"
    );
    assert!(!sgd.at_edge && sgd.edge_note(&config.search).is_none());
    // At the bottom: a range whose smallest rate did best.
    let mut low = sgd.clone();
    low.at_edge = true;
    low.best = 0;
    let search = Search {
        lr_min: low.trials[0].lr,
        ..config.search
    };
    let note = low.edge_note(&search).unwrap();
    assert_eq!(
        note,
        format!(
            "best rate {} at the bottom of the range {} to 10; try --lr-range {},0.1",
            number(search.lr_min),
            number(search.lr_min),
            number(round_rate(search.lr_min / 100.0))
        )
    );
}

/// On Rastrigin, distance scoring ranks an SGD ending on a ridge (f ≈ 35) above
/// optimizers in shallow pits farther off: the table says so.
#[test]
fn strong_distance_and_loss_disagreement_is_named() {
    let f = builtin("rastrigin").unwrap();
    let config = Tune::new(&f, 100);
    assert_eq!(config.score, Score::Distance);
    let tuning = tune(
        &f,
        &specs(&["sgd", "momentum", "adagrad", "adam"]),
        &config,
        &|| {},
    )
    .unwrap();
    assert_eq!(tuning.min_loss, Some(0.0));
    let notes = tuning.disagreements();
    let sgd = tuning.results[0].best();
    let adam = tuning.results[3].best();
    assert!(sgd.distance < adam.distance && sgd.last.loss > 10.0 * adam.last.loss);
    let note = notes[0].as_deref().unwrap();
    assert_eq!(
        note,
        format!(
            "closer to a minimum than adam, but its f − f* is {} against adam's {}; --score loss ranks them the other way",
            number(round_rate(sgd.last.loss)),
            number(round_rate(adam.last.loss))
        )
    );
    // Adam is the lowest in loss: nothing ranks above it against a far lower loss.
    assert!(notes[3].is_none());
    // By loss, nothing is ten times closer while scoring worse here.
    let by_loss = Tune {
        score: Score::Loss,
        ..config
    };
    let tuning = tune(&f, &specs(&["adagrad", "adam"]), &by_loss, &|| {}).unwrap();
    assert!(tuning.disagreements().iter().all(Option::is_none));
}

#[test]
fn bad_requests_are_errors() {
    let saddle = builtin("saddle").unwrap();
    let config = Tune {
        score: Score::Distance,
        ..Tune::new(&saddle, 10)
    };
    assert_eq!(Score::default_for(&saddle), Score::Loss);
    let e = tune(&saddle, &specs(&["sgd"]), &config, &|| {}).unwrap_err();
    assert!(e.to_string().contains("no known minimum"), "{e}");
    let f = article();
    let config = Tune::new(&f, 10);
    let e = tune(&f, &specs(&["sgd", "adamm"]), &config, &|| {}).unwrap_err();
    assert!(e.to_string().contains("unknown optimizer 'adamm'"), "{e}");
    assert_eq!(
        tune(&f, &[], &config, &|| {}).unwrap_err(),
        TuneError::NoOptimizers
    );
    let far = Tune {
        start: (f64::NAN, 0.0),
        ..config
    };
    assert!(matches!(
        tune(&f, &specs(&["sgd"]), &far, &|| {}),
        Err(TuneError::BadStart { .. })
    ));
    assert_eq!("distance".parse(), Ok(Score::Distance));
    assert!("lost"
        .parse::<Score>()
        .unwrap_err()
        .contains("loss or distance"));
}
