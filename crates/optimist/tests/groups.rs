//! Parameter groups: a group's tensors step exactly as under an optimizer built with
//! the group's hyperparameters alone.

use optimist::groups::{self, GroupSpec, Grouped, Pattern};
use optimist::hyper::Value;
use optimist::schedule::Scheduled;
use optimist::{registry, Convention, Error, Optimizer, Params, Tensor};

fn network() -> Params<f64> {
    [
        (
            "fc1.weight",
            Tensor::new([2, 3], vec![0.5, -1.0, 2.0, 0.25, -0.75, 1.5]).unwrap(),
        ),
        ("fc1.bias", Tensor::vector(vec![0.1, -0.2, 0.3])),
        (
            "fc2.weight",
            Tensor::new([3, 1], vec![1.0, -2.0, 0.5]).unwrap(),
        ),
        ("fc2.bias", Tensor::vector(vec![0.7])),
    ]
    .into_iter()
    .collect()
}

fn grads(p: &Params<f64>, step: usize) -> Params<f64> {
    p.iter()
        .map(|(n, t)| {
            let data = t
                .data()
                .iter()
                .map(|x| 0.4 * x - (2.0 * x + step as f64).sin())
                .collect();
            (n, Tensor::new(t.shape().to_vec(), data).unwrap())
        })
        .collect()
}

/// The tensors of `p` whose names `keep` accepts.
fn part(p: &Params<f64>, keep: impl Fn(&str) -> bool) -> Params<f64> {
    p.iter()
        .filter(|(n, _)| keep(n))
        .map(|(n, t)| (n, t.clone()))
        .collect()
}

fn torch(spec: &str) -> Box<dyn Optimizer<f64>> {
    registry::build_in(&spec.parse().unwrap(), Convention::PyTorch).unwrap()
}

#[test]
fn no_weight_decay_on_biases_equals_two_separate_optimizers() {
    let groups: Vec<GroupSpec> = vec!["*.bias:weight_decay=0".parse().unwrap()];
    let spec = "adamw:lr=0.05,weight_decay=0.3".parse().unwrap();
    let mut grouped = groups::build::<f64>(&spec, &groups, Convention::PyTorch).unwrap();
    let mut p = network();

    let is_bias = |n: &str| n.ends_with(".bias");
    let mut weights_opt = torch("adamw:lr=0.05,weight_decay=0.3");
    let mut biases_opt = torch("adamw:lr=0.05,weight_decay=0");
    let (mut weights, mut biases) = (part(&network(), |n| !is_bias(n)), part(&network(), is_bias));

    for step in 0..6 {
        let g = grads(&p, step);
        grouped.update(&mut p, &g).unwrap();
        weights_opt
            .update(&mut weights, &part(&g, |n| !is_bias(n)))
            .unwrap();
        biases_opt.update(&mut biases, &part(&g, is_bias)).unwrap();
    }
    for (name, t) in p.iter() {
        let alone = if is_bias(name) { &biases } else { &weights };
        let want = alone.get(name).unwrap().data();
        let same = t
            .data()
            .iter()
            .zip(want)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name}: {:?} vs {want:?}", t.data());
    }
    assert_eq!(grouped.steps(), 6);
    assert_eq!(
        grouped.label(),
        "adamw(lr=0.05, betas=0.9/0.999, eps=1e-8, weight_decay=0.3, amsgrad=false) with groups *.bias: weight_decay=0"
    );
}

/// A group that sets a key to the value the optimizer has anyway changes nothing: the
/// label does not claim it. A key the optimizer lacks (the article's sgd has no
/// weight decay) is refused with the reason.
#[test]
fn a_group_that_changes_nothing_is_not_in_the_label() {
    let groups = |text: &str| -> Vec<GroupSpec> { vec![text.parse().unwrap()] };
    let e = Grouped::<f64>::build(
        &"sgd:lr=0.1".parse().unwrap(),
        &groups("b*:weight_decay=0"),
        Convention::Article,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("sgd has no hyperparameter 'weight_decay'"),
        "{e}"
    );
    let adamw = |text: &str| {
        Grouped::<f64>::build(
            &"adamw:lr=0.1".parse().unwrap(),
            &groups(text),
            Convention::Article,
        )
        .unwrap()
        .label()
    };
    let same = adamw("b*:weight_decay=0.01");
    assert!(!same.contains(" with groups"), "{same}");
    let other = adamw("b*:weight_decay=0");
    assert!(
        other.ends_with(" with groups b*: weight_decay=0"),
        "{other}"
    );
}

#[test]
fn the_first_matching_group_wins_and_schedules_keep_the_ratio_of_learning_rates() {
    let groups: Vec<GroupSpec> = vec![
        "fc2.bias:lr=0.3".parse().unwrap(),
        "*.bias:lr=0.2".parse().unwrap(),
    ];
    let grouped =
        Grouped::<f64>::build(&"sgd:lr=0.1".parse().unwrap(), &groups, Convention::PyTorch)
            .unwrap();
    assert_eq!(grouped.group_of("fc2.bias"), Some(0));
    assert_eq!(grouped.group_of("fc1.bias"), Some(1));
    assert_eq!(grouped.group_of("fc1.weight"), None);
    let mut opt = Scheduled::new(
        Box::new(grouped),
        "steplr:step_size=1,gamma=0.5".parse().unwrap(),
    )
    .unwrap();
    let mut p = network();
    let g: Params<f64> = p
        .iter()
        .map(|(n, t)| {
            (
                n,
                Tensor::new(t.shape().to_vec(), vec![1.0; t.len()]).unwrap(),
            )
        })
        .collect();
    for step in 0..2 {
        let before = p.clone();
        opt.update(&mut p, &g).unwrap();
        let moved = |n: &str| before.get(n).unwrap().data()[0] - p.get(n).unwrap().data()[0];
        let factor = 0.5f64.powi(step);
        for (name, lr) in [("fc1.weight", 0.1), ("fc1.bias", 0.2), ("fc2.bias", 0.3)] {
            assert!(
                (moved(name) - lr * factor).abs() < 1e-15,
                "{name} at step {step}: {}",
                moved(name)
            );
        }
    }
}

#[test]
fn hyperparameters_set_on_every_group_that_has_them() {
    let groups: Vec<GroupSpec> = vec!["*.bias:momentum=0.5".parse().unwrap()];
    let mut g = Grouped::<f64>::build(
        &"sgd:lr=0.1,momentum=0.9".parse().unwrap(),
        &groups,
        Convention::PyTorch,
    )
    .unwrap();
    g.set_hyperparameter("momentum", Value::Num(0.8)).unwrap();
    let momentum = |o: &dyn Optimizer<f64>| {
        o.hyperparameters()
            .into_iter()
            .find(|(k, _)| *k == "momentum")
            .unwrap()
            .1
    };
    assert_eq!(momentum(g.base()), Value::Num(0.8));
    assert_eq!(momentum(g.groups().next().unwrap().1), Value::Num(0.8));
    // A value out of range changes no group.
    let e = g
        .set_hyperparameter("momentum", Value::Num(-1.0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("momentum = -1 is out of range"), "{e}");
    assert_eq!(momentum(g.groups().next().unwrap().1), Value::Num(0.8));
}

#[test]
fn groups_that_cannot_be_built_or_match_nothing_are_named() {
    let spec = "adamw:lr=0.05".parse().unwrap();
    let e = |groups: &[&str]| {
        let groups: Vec<GroupSpec> = groups.iter().map(|g| g.parse().unwrap()).collect();
        Grouped::<f64>::build(&spec, &groups, Convention::PyTorch)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        e(&["*.bias:weight_decay=-1"]),
        "parameter group '*.bias': adamw: weight_decay = -1 is out of range; allowed: weight_decay >= 0 and finite"
    );
    assert!(e(&["*.bias:wd=0"])
        .starts_with("parameter group '*.bias': adamw has no hyperparameter 'wd'"));
    assert_eq!(
        e(&["*.bias:lr=0.1", "*.bias:lr=0.2"]),
        "parameter group '*.bias': it is given twice; the second would match nothing"
    );

    let groups: Vec<GroupSpec> = vec!["*.bais:weight_decay=0".parse().unwrap()];
    let mut opt = Grouped::<f64>::build(&spec, &groups, Convention::PyTorch).unwrap();
    let mut p = network();
    let g = grads(&p, 0);
    let err = opt.update(&mut p, &g).unwrap_err();
    assert!(matches!(err, Error::Group { .. }));
    assert_eq!(
        err.to_string(),
        "parameter group '*.bais': it matches no parameter (or only ones an earlier group takes); \
         the parameters: fc1.weight, fc1.bias, fc2.weight, fc2.bias"
    );
    assert_eq!(p, network());
    assert!(Pattern::new("a:b").is_err());

    // Checked against every name up front, the misspelling is found before any step.
    let mut opt = Grouped::<f64>::build(&spec, &groups, Convention::PyTorch).unwrap();
    let names: Vec<String> = network().names().map(String::from).collect();
    let err = opt
        .check_names(names.iter().map(String::as_str))
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("parameter group '*.bais': it matches no parameter"));
}

#[test]
fn with_names_checked_up_front_a_first_step_may_leave_a_group_out() {
    let groups: Vec<GroupSpec> = vec!["*.bias:weight_decay=0".parse().unwrap()];
    let spec = "adamw:lr=0.05,weight_decay=0.1".parse().unwrap();
    let names: Vec<String> = network().names().map(String::from).collect();
    let mut opt = Grouped::<f64>::build(&spec, &groups, Convention::PyTorch).unwrap();
    // Unchecked, a first step without biases is taken for a misspelled pattern.
    let mut weights = part(&network(), |n| n.ends_with("weight"));
    let g = grads(&weights, 0);
    assert!(opt.update(&mut weights, &g).is_err());
    opt.check_names(names.iter().map(String::as_str)).unwrap();
    opt.update(&mut weights, &g).unwrap();
    let mut alone = part(&network(), |n| n.ends_with("weight"));
    torch("adamw:lr=0.05,weight_decay=0.1")
        .update(&mut alone, &g)
        .unwrap();
    assert_eq!(weights, alone);
    // The biases join later, in their own group, with fresh state.
    let mut all = network();
    for (n, t) in weights.iter() {
        *all.get_mut(n).unwrap() = t.clone();
    }
    let g = grads(&all, 1);
    opt.update(&mut all, &g).unwrap();
    let mut biases = part(&network(), |n| n.ends_with("bias"));
    torch("adamw:lr=0.05,weight_decay=0")
        .update(&mut biases, &part(&g, |n| n.ends_with("bias")))
        .unwrap();
    for (n, t) in biases.iter() {
        assert_eq!(all.get(n), Some(t), "{n}");
    }
}

#[test]
fn tensors_come_and_go_across_groups() {
    let groups: Vec<GroupSpec> = vec!["*.bias:weight_decay=0".parse().unwrap()];
    let mut opt = Grouped::<f64>::build(
        &"adamw:lr=0.05".parse().unwrap(),
        &groups,
        Convention::PyTorch,
    )
    .unwrap();
    let mut p = network();
    let g = grads(&p, 0);
    opt.update(&mut p, &g).unwrap();
    // A new bias joins its group with fresh state: it takes the group's first step.
    let mut more = p.clone();
    more.insert("fc3.bias", Tensor::vector(vec![0.5]));
    let g = grads(&more, 1);
    opt.update(&mut more, &g).unwrap();
    let mut alone = part(&network(), |_| false);
    alone.insert("fc3.bias", Tensor::vector(vec![0.5]));
    let mut bias_opt = torch("adamw:lr=0.05,weight_decay=0");
    bias_opt
        .update(&mut alone, &part(&g, |n| n == "fc3.bias"))
        .unwrap();
    assert_eq!(alone.get("fc3.bias"), more.get("fc3.bias"));
    assert_eq!(opt.steps(), 2);
    // A step may leave tensors out: only the ones given change.
    let mut some = part(&more, |n| n.starts_with("fc1"));
    let before = more.clone();
    let g = grads(&some, 2);
    opt.update(&mut some, &g).unwrap();
    assert_ne!(some.get("fc1.weight"), before.get("fc1.weight"));
    assert_eq!(opt.steps(), 3);
    // A known name with another shape is an error that changes nothing.
    let mut wrong = more.clone();
    wrong.insert("fc2.bias", Tensor::vector(vec![0.0, 1.0]));
    let same = wrong.clone();
    let e = opt
        .update(&mut wrong, &grads(&same, 3))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("parameter 'fc2.bias' has shape [2] but its state has shape [1]"),
        "{e}"
    );
    assert_eq!(wrong, same);
    assert_eq!(opt.steps(), 3);
}
