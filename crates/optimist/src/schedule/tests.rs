//! The schedules against torch's values, and [`Scheduled`] over optimizers.

use super::*;
use crate::hyper::Value;
use crate::{registry, Optimizer, Params, Tensor};
use std::f64::consts::PI;

fn parse(text: &str) -> Schedule {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn lrs(s: &Schedule, base: f64, epochs: u64) -> Vec<f64> {
    (0..epochs).map(|e| s.lr(base, e).unwrap()).collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1e-300),
            "epoch {e}: got {g}, want {w}"
        );
    }
}

/// torch's chainable `get_lr` for the schedules that have one: the learning rate
/// of epoch e from that of epoch e − 1 (epoch 0 from the initial step).
fn torch_chain(s: &Schedule, base: f64, epochs: u64) -> Vec<f64> {
    let mut lr = base;
    let mut out = Vec::new();
    for e in 0..epochs {
        let ef = e as f64;
        lr = match s.kind() {
            ScheduleKind::StepLr(c) => {
                if e == 0 || e % c.step_size != 0 {
                    lr
                } else {
                    lr * c.gamma
                }
            }
            ScheduleKind::MultiStepLr(c, ms) => {
                lr * c.gamma.powi(ms.iter().filter(|&&m| m == e).count() as i32)
            }
            ScheduleKind::ExponentialLr(c) => {
                if e == 0 {
                    lr
                } else {
                    lr * c.gamma
                }
            }
            ScheduleKind::CosineAnnealingLr(c) => {
                let (t, eta) = (c.T_max as f64, c.eta_min);
                if e == 0 {
                    lr
                } else if (e as i64 - 1 - t as i64).rem_euclid(2 * t as i64) == 0 {
                    lr + (base - eta) * (1.0 - (PI / t).cos()) / 2.0
                } else {
                    (1.0 + (PI * ef / t).cos()) / (1.0 + (PI * (ef - 1.0) / t).cos()) * (lr - eta)
                        + eta
                }
            }
            ScheduleKind::LinearLr(c) => {
                let (s0, s1, n) = (c.start_factor, c.end_factor, c.total_iters as f64);
                if e == 0 {
                    lr * s0
                } else if ef > n {
                    lr
                } else {
                    lr * (1.0 + (s1 - s0) / (n * s0 + (ef - 1.0) * (s1 - s0)))
                }
            }
            ScheduleKind::OneCycleLr(..) => unreachable!("not chainable"),
        };
        out.push(lr);
    }
    out
}

#[test]
fn step_lr_decays_every_step_size_epochs() {
    let s = parse("StepLR:step_size=3,gamma=0.5");
    let want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025];
    assert_close(&lrs(&s, 0.1, 8), &want, 1e-15);
    assert_close(&lrs(&s, 0.1, 40), &torch_chain(&s, 0.1, 40), 1e-12);
}

#[test]
fn multistep_lr_decays_at_each_milestone_and_twice_at_repeats() {
    let s = parse("multisteplr:milestones=5/2/5,gamma=0.1");
    let want = [1.0, 1.0, 0.1, 0.1, 0.1, 0.001, 0.001];
    assert_close(&lrs(&s, 1.0, 7), &want, 1e-14);
    assert_close(&lrs(&s, 1.0, 12), &torch_chain(&s, 1.0, 12), 1e-12);
}

#[test]
fn exponential_lr_decays_every_epoch() {
    let s = parse("exponentiallr:gamma=0.9");
    assert_close(&lrs(&s, 2.0, 4), &[2.0, 1.8, 1.62, 1.458], 1e-14);
    assert_close(&lrs(&s, 2.0, 50), &torch_chain(&s, 2.0, 50), 1e-12);
}

#[test]
fn cosine_annealing_matches_torch_recursion_past_t_max() {
    let s = parse("cosineannealinglr:T_max=10,eta_min=0.01");
    let got = lrs(&s, 0.5, 45);
    assert_eq!(got[0], 0.5);
    assert!((got[5] - (0.01 + 0.49 * 0.5)).abs() < 1e-15);
    assert!((got[10] - 0.01).abs() < 1e-15);
    assert!((got[20] - 0.5).abs() < 1e-15, "back up after 2·T_max");
    assert_close(&got, &torch_chain(&s, 0.5, 45), 1e-12);
}

#[test]
fn linear_lr_goes_from_start_to_end_factor() {
    let s = parse("linearlr:start_factor=0.25,end_factor=1,total_iters=4");
    let want = [0.25, 0.4375, 0.625, 0.8125, 1.0, 1.0];
    assert_close(&lrs(&s, 1.0, 6), &want, 1e-15);
    let s = parse("linearlr:start_factor=1,end_factor=0,total_iters=3");
    assert_close(&lrs(&s, 0.3, 3), &[0.3, 0.2, 0.1], 1e-14);
    assert_eq!(s.lr(0.3, 3).unwrap(), 0.0);
    let s = parse("linearlr");
    assert_close(&lrs(&s, 3.0, 9), &torch_chain(&s, 3.0, 9), 1e-12);
}

#[test]
fn one_cycle_phases_and_momentum() {
    // max 1, total 10: up over epochs 0..=2 (end step 0.3·10 − 1), down over 2..=9.
    let s = parse("onecyclelr:max_lr=1,total_steps=10");
    let (initial, min) = (1.0 / 25.0, 1.0 / 25.0 / 1e4);
    let down = |pct: f64| min + (1.0 - min) / 2.0 * ((PI * pct).cos() + 1.0);
    let want = [
        initial,
        1.0 + (initial - 1.0) / 2.0, // half-way up: cos(π/2) = 0
        1.0,
        down(1.0 / 7.0),
        down(2.0 / 7.0),
    ];
    assert_close(&lrs(&s, 123.0, 5), &want, 1e-14);
    assert!((s.lr(0.5, 9).unwrap() - min).abs() < 1e-15);
    assert!((s.lr(0.5, 10).unwrap() - down(8.0 / 7.0)).abs() < 1e-15);
    let e = s.lr(0.5, 11).unwrap_err().to_string();
    assert!(
        e.contains("past the end of the cycle") && e.contains("10"),
        "{e}"
    );
    assert_eq!(s.momentum(0), Some(0.95));
    assert!((s.momentum(2).unwrap() - 0.85).abs() < 1e-15);
    assert!((s.momentum(9).unwrap() - 0.95).abs() < 1e-15);

    let s = parse(
        "onecyclelr:max_lr=1,epochs=2,steps_per_epoch=5,three_phase=true,anneal_strategy=linear",
    );
    // Up over 0..=2, down to the initial lr over 2..=4, then to min over 4..=9.
    let want = [
        initial,
        (1.0 + initial) / 2.0,
        1.0,
        (1.0 + initial) / 2.0,
        initial,
    ];
    assert_close(&lrs(&s, 1.0, 5), &want, 1e-14);
    assert!((s.lr(1.0, 9).unwrap() - min).abs() < 1e-15);
    assert_eq!(s.momentum(6), Some(0.95));
}

#[test]
fn warmup_then_any_schedule_is_torch_sequential_lr() {
    let s = parse("cosineannealinglr:T_max=4,warmup_steps=3,warmup_start_factor=0.1");
    let cos = |e: f64| (1.0 + (PI * e / 4.0).cos()) / 2.0;
    let want = [0.1, 0.4, 0.7, 1.0, cos(1.0), cos(2.0), cos(3.0), 0.0];
    assert_close(&lrs(&s, 1.0, 7), &want[..7], 1e-14);
    assert!(s.lr(1.0, 7).unwrap().abs() < 1e-16);
    let s = parse("steplr:step_size=2,gamma=0.5,warmup_steps=2");
    assert_close(&lrs(&s, 3.0, 6), &[1.0, 2.0, 3.0, 3.0, 1.5, 1.5], 1e-14);
}

#[test]
fn display_parses_back_to_the_same_schedule() {
    for text in [
        "steplr:step_size=5,gamma=0.5",
        "multisteplr:milestones=3/8,gamma=0.2,warmup_steps=2",
        "exponentiallr:gamma=0.95",
        "cosineannealinglr:T_max=25,eta_min=0.001,warmup_steps=5,warmup_start_factor=0.01",
        "linearlr:start_factor=0.5",
        "onecyclelr:max_lr=0.1,total_steps=100,anneal_strategy=linear",
    ] {
        let s = parse(text);
        assert_eq!(parse(&s.to_string()), s, "{text} → {s}");
    }
    assert_eq!(
        parse("StepLR:step_size=5").to_string(),
        "steplr:step_size=5,gamma=0.1"
    );
}

#[test]
fn bad_specs_name_the_value_and_the_allowed_range() {
    let err = |text: &str| text.parse::<Schedule>().unwrap_err().to_string();
    let e = err("cosine:T_max=3");
    assert!(
        e.starts_with("unknown schedule 'cosine'; known schedules: steplr, multisteplr"),
        "{e}"
    );
    let e = err("steplr:step_size=3,gama=0.5");
    assert!(
        e.contains("steplr has no hyperparameter 'gama'")
            && e.contains("step_size, gamma, warmup_steps, warmup_start_factor"),
        "{e}"
    );
    assert_eq!(
        err("steplr:gamma=0.5"),
        "steplr: step_size is required; allowed: step_size a whole number >= 1"
    );
    assert_eq!(
        err("steplr:step_size=2.5"),
        "steplr: step_size = '2.5' is not a whole number"
    );
    assert_eq!(
        err("steplr:step_size=0"),
        "steplr: step_size = 0 is out of range; allowed: step_size a whole number >= 1"
    );
    assert_eq!(
        err("steplr:step_size=2,gamma=-1"),
        "steplr: gamma = -1 is out of range; allowed: gamma >= 0 and finite"
    );
    assert_eq!(
        err("exponentiallr"),
        "exponentiallr: gamma is required; allowed: gamma > 0 and finite"
    );
    assert_eq!(
        err("cosineannealinglr:T_max=0"),
        "cosineannealinglr: T_max = 0 is out of range; allowed: T_max a whole number >= 1"
    );
    assert_eq!(
        err("linearlr:start_factor=0"),
        "linearlr: start_factor = 0 is out of range; allowed: 0 < start_factor <= 1"
    );
    assert!(err("multisteplr:gamma=0.5").contains("milestones is required"));
    assert!(err("multisteplr:milestones=3/x").contains("milestones = '3/x' is not whole numbers"));
    assert!(err("onecyclelr:total_steps=10").contains("max_lr is required"));
    assert!(err("onecyclelr:max_lr=1").contains("total_steps is required"));
    assert!(
        err("onecyclelr:max_lr=1,total_steps=10,anneal_strategy=cosine")
            .contains("anneal_strategy = 'cosine' is not cos or linear")
    );
    assert!(err("onecyclelr:max_lr=1,total_steps=10,warmup_steps=2")
        .contains("warmup_steps = 2 is allowed only with the other schedules"));
    assert_eq!(
        err("linearlr:warmup_steps=1.5"),
        "warmup: warmup_steps = '1.5' is not a whole number"
    );
}

/// The settings without a sensible default are constructor arguments, and build the
/// schedules their specs do.
#[test]
fn constructors_take_the_settings_without_defaults() {
    let none = Warmup::default();
    let same = |kind: ScheduleKind, spec: &str| {
        assert_eq!(Schedule::new(kind, none).unwrap(), parse(spec));
    };
    same(ScheduleKind::StepLr(StepLr::new(3)), "steplr:step_size=3");
    same(
        ScheduleKind::ExponentialLr(ExponentialLr::new(0.9)),
        "exponentiallr:gamma=0.9",
    );
    same(
        ScheduleKind::CosineAnnealingLr(CosineAnnealingLr::new(25)),
        "cosineannealinglr:T_max=25",
    );
    same(
        ScheduleKind::OneCycleLr(OneCycleLr::new(0.1, 100), Anneal::Cos),
        "onecyclelr:max_lr=0.1,total_steps=100",
    );
    assert!(Schedule::new(ScheduleKind::StepLr(StepLr::default()), none).is_err());
}

/// Steps `opt` with a gradient of 1 and returns the change of the parameter at
/// each step: −lr for SGD.
fn moves(opt: &mut dyn Optimizer<f64>, steps: usize) -> Vec<f64> {
    let mut params: Params<f64> = [("x", Tensor::scalar(0.0))].into_iter().collect();
    let grads: Params<f64> = [("x", Tensor::scalar(1.0))].into_iter().collect();
    let mut out = Vec::new();
    for _ in 0..steps {
        let before = params.get("x").unwrap().data()[0];
        opt.update(&mut params, &grads).unwrap();
        out.push(before - params.get("x").unwrap().data()[0]);
    }
    out
}

#[test]
fn scheduled_steps_use_the_schedule_at_the_steps_taken() {
    let sgd = registry::parse::<f64>("sgd:lr=0.8", crate::Convention::Article).unwrap();
    let mut opt = Scheduled::new(sgd, parse("steplr:step_size=2,gamma=0.5")).unwrap();
    assert_close(&moves(&mut opt, 5), &[0.8, 0.8, 0.4, 0.4, 0.2], 1e-15);
    assert_eq!(opt.learning_rate(), Some(0.2));
    assert_eq!(opt.steps(), 5);
    opt.reset();
    assert_eq!(opt.learning_rate(), Some(0.8));
    assert_eq!(opt.inner().learning_rate(), Some(0.8));
    opt.set_learning_rate(0.4).unwrap();
    assert_close(&moves(&mut opt, 3), &[0.4, 0.4, 0.2], 1e-15);
    assert!(opt
        .label()
        .starts_with("sgd(lr=0.2) with steplr:step_size=2"));
}

#[test]
fn scheduled_learning_rate_may_reach_zero() {
    // The article's sgd asks for lr > 0; cosine annealing reaches 0 at T_max.
    let sgd = registry::parse::<f64>("sgd:lr=1", crate::Convention::Article).unwrap();
    let mut opt = Scheduled::new(sgd, parse("cosineannealinglr:T_max=2")).unwrap();
    let m = moves(&mut opt, 4);
    assert_close(&[m[0], m[1], m[3]], &[1.0, 0.5, 0.5], 1e-15);
    assert_eq!(m[2], 0.0);
}

#[test]
fn one_cycle_runs_total_steps_plus_one_then_stops_without_a_change() {
    let sgd = registry::parse::<f64>("sgd:lr=1", crate::Convention::Article).unwrap();
    let s = parse("onecyclelr:max_lr=1,total_steps=4,cycle_momentum=false");
    let mut opt = Scheduled::new(sgd, s.clone()).unwrap();
    let m = moves(&mut opt, 5);
    assert_close(&m, &lrs(&s, 1.0, 5), 1e-9);
    let mut params: Params<f64> = [("x", Tensor::scalar(7.0))].into_iter().collect();
    let grads: Params<f64> = [("x", Tensor::scalar(1.0))].into_iter().collect();
    let e = opt.update(&mut params, &grads).unwrap_err().to_string();
    assert!(e.contains("past the end of the cycle"), "{e}");
    assert_eq!(params.get("x").unwrap().data()[0], 7.0);
}

#[test]
fn one_cycle_cycles_momentum_or_the_first_beta() {
    let adam =
        registry::build_in::<f64>(&"adam:lr=0.1".parse().unwrap(), crate::Convention::PyTorch)
            .unwrap();
    let mut opt = Scheduled::new(adam, parse("onecyclelr:max_lr=1,total_steps=10")).unwrap();
    let betas = |opt: &Scheduled<f64>| {
        opt.hyperparameters()
            .into_iter()
            .find(|(k, _)| *k == "betas")
            .unwrap()
            .1
    };
    assert_eq!(betas(&opt), Value::Pair(0.95, 0.999));
    moves(&mut opt, 2);
    assert_eq!(betas(&opt), Value::Pair(0.85, 0.999));

    let sgd = registry::build_in::<f64>(
        &"sgd:lr=0.1,momentum=0.9".parse().unwrap(),
        crate::Convention::PyTorch,
    )
    .unwrap();
    let opt = Scheduled::new(sgd, parse("onecyclelr:max_lr=1,total_steps=10")).unwrap();
    let momentum = opt
        .hyperparameters()
        .into_iter()
        .find(|(k, _)| *k == "momentum");
    assert_eq!(momentum, Some(("momentum", Value::Num(0.95))));

    for (spec, conv) in [
        ("adam", crate::Convention::Article),
        ("sgd", crate::Convention::PyTorch),
    ] {
        let opt = registry::build_in::<f64>(&spec.parse().unwrap(), conv).unwrap();
        let e = Scheduled::new(opt, parse("onecyclelr:max_lr=1,total_steps=10"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cycle_momentum needs an optimizer with momentum > 0 or betas")
                && e.contains("set cycle_momentum=false"),
            "{e}"
        );
    }
}
