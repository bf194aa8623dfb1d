//! What the adapter does with names, missing gradients, other dtypes, hand-made
//! gradient stores and refused settings.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Init, Optimizer as _, VarBuilder, VarMap};
use optimist_candle::{Config, Optimizer};

fn var(values: &[f32]) -> Var {
    Var::from_slice(values, values.len(), &Device::Cpu).unwrap()
}

fn vec(v: &Var) -> Vec<f32> {
    v.to_vec1().unwrap()
}

fn sgd(lr: f64) -> Config {
    Config::parse(&format!("sgd:lr={lr}")).unwrap()
}

#[test]
fn a_var_without_a_gradient_is_left_out_and_untouched() {
    let (used, unused) = (var(&[1.0, 2.0]), var(&[3.0, 4.0]));
    let mut opt = Optimizer::new(vec![used.clone(), unused.clone()], sgd(0.5)).unwrap();
    for _ in 0..3 {
        let loss = used.sum_all().unwrap();
        opt.backward_step(&loss).unwrap();
    }
    assert_eq!(vec(&used), [-0.5, 0.5]);
    assert_eq!(vec(&unused), [3.0, 4.0]);
}

#[test]
fn a_var_whose_gradient_comes_and_goes_keeps_its_values_and_state_meanwhile() {
    let (a, b) = (var(&[1.0]), var(&[1.0]));
    let mut opt = Optimizer::new(
        vec![a.clone(), b.clone()],
        Config::parse("adam:lr=0.1").unwrap(),
    )
    .unwrap();
    let both = (a.as_tensor() + b.as_tensor()).unwrap().sum_all().unwrap();
    opt.backward_step(&both).unwrap();
    let b_after_one = vec(&b);
    // Two steps of `a` alone: `b` keeps its values and its own step count.
    for _ in 0..2 {
        opt.backward_step(&a.sum_all().unwrap()).unwrap();
    }
    assert_eq!(vec(&b), b_after_one);
    // Back again, `b` takes its second step: Adam's bias-corrected step is lr again.
    opt.backward_step(&both).unwrap();
    assert!(
        (vec(&b)[0] - (b_after_one[0] - 0.1)).abs() < 1e-6,
        "{:?}",
        vec(&b)
    );
}

#[test]
fn varmap_paths_name_the_vars_and_groups_follow_them() {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let w = vb.get_with_hints(2, "fc.weight", Init::Const(1.0)).unwrap();
    let b = vb.get_with_hints(2, "fc.bias", Init::Const(1.0)).unwrap();
    let config = Config::parse("adamw:lr=0.1,weight_decay=0.5")
        .unwrap()
        .group("*.bias:weight_decay=0")
        .unwrap();
    let mut opt = Optimizer::from_varmap(&varmap, config).unwrap();
    assert_eq!(opt.names().collect::<Vec<_>>(), ["fc.bias", "fc.weight"]);
    // A zero gradient moves only the decayed weight: 1 − lr·weight_decay.
    // (candle's backprop prunes a multiplication by the number 0, not by a tensor of zeros)
    let zeros = Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap();
    let loss = ((&w * &zeros).unwrap() + (&b * &zeros).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    opt.backward_step(&loss).unwrap();
    assert_eq!(w.to_vec1::<f32>().unwrap(), [0.95, 0.95]);
    assert_eq!(b.to_vec1::<f32>().unwrap(), [1.0, 1.0]);
    // A misspelled pattern is an error naming it, when the optimizer is built.
    let config = Config::parse("adamw")
        .unwrap()
        .group("*.bais:weight_decay=0")
        .unwrap();
    let e = Optimizer::from_varmap(&varmap, config)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("parameter group '*.bais': it matches no parameter"),
        "{e}"
    );
}

#[test]
fn a_group_whose_vars_have_no_gradient_yet_is_no_error() {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let w = vb.get_with_hints(2, "fc.weight", Init::Const(1.0)).unwrap();
    let b = vb.get_with_hints(2, "fc.bias", Init::Const(1.0)).unwrap();
    let config = Config::parse("sgd:lr=0.5")
        .unwrap()
        .group("*.bias:lr=0.25")
        .unwrap();
    let mut opt = Optimizer::from_varmap(&varmap, config).unwrap();
    // The bias group gets no gradient on the first step, then both step.
    opt.backward_step(&w.sum_all().unwrap()).unwrap();
    assert_eq!(w.to_vec1::<f32>().unwrap(), [0.5, 0.5]);
    assert_eq!(b.to_vec1::<f32>().unwrap(), [1.0, 1.0]);
    let both = (w.sum_all().unwrap() + b.sum_all().unwrap()).unwrap();
    opt.backward_step(&both).unwrap();
    assert_eq!(w.to_vec1::<f32>().unwrap(), [0.0, 0.0]);
    assert_eq!(b.to_vec1::<f32>().unwrap(), [0.75, 0.75]);
}

#[test]
fn other_float_dtypes_are_errors_naming_the_var() {
    for dtype in [DType::F16, DType::BF16] {
        let vars = vec![var(&[1.0]), Var::zeros(3, dtype, &Device::Cpu).unwrap()];
        let e = Optimizer::new(vars, sgd(0.1)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "var 'var1' is {dtype:?}; optimist-candle updates f32 and f64 vars only"
            )),
            "{e}"
        );
    }
    let vars = vec![
        var(&[1.0]),
        Var::zeros(1, DType::F64, &Device::Cpu).unwrap(),
    ];
    let e = Optimizer::new(vars, sgd(0.1)).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "var 'var1' is F64 but var 'var0' is F32; one optimizer updates vars of one dtype"
        ),
        "{e}"
    );
    // Integer vars have no gradients: left out, as candle_nn's optimizers leave them.
    let vars = vec![
        var(&[1.0]),
        Var::zeros(1, DType::U32, &Device::Cpu).unwrap(),
    ];
    assert_eq!(
        Optimizer::new(vars, sgd(0.1))
            .unwrap()
            .names()
            .collect::<Vec<_>>(),
        ["var0"]
    );
}

#[test]
fn f64_vars_step_in_f64() {
    let w = Var::from_slice(&[1.0f64, -2.0], 2, &Device::Cpu).unwrap();
    let mut opt = Optimizer::new(vec![w.clone()], sgd(0.25)).unwrap();
    let loss = w.sqr().unwrap().sum_all().unwrap();
    opt.backward_step(&loss).unwrap();
    // p − lr·2p = p/2.
    assert_eq!(w.to_vec1::<f64>().unwrap(), [0.5, -1.0]);
}

#[test]
fn a_refused_learning_rate_is_the_next_steps_error_and_changes_nothing() {
    let w = var(&[1.0]);
    let mut opt = Optimizer::new(vec![w.clone()], sgd(0.5)).unwrap();
    opt.set_learning_rate(-1.0);
    assert_eq!(opt.learning_rate(), 0.5);
    let e = opt
        .backward_step(&w.sum_all().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("lr = -1 is out of range"), "{e}");
    assert_eq!(vec(&w), [1.0]);
    opt.set_learning_rate(0.25);
    assert_eq!(opt.learning_rate(), 0.25);
    opt.backward_step(&w.sum_all().unwrap()).unwrap();
    assert_eq!(vec(&w), [0.75]);
    let e = opt.try_set_learning_rate(f64::NAN).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn a_non_finite_gradient_is_refused_naming_the_var() {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let w = vb
        .get_with_hints(2, "head.weight", Init::Const(1.0))
        .unwrap();
    let mut opt = Optimizer::from_varmap(&varmap, Config::parse("adam").unwrap()).unwrap();
    let loss = (&w / 0.0).unwrap().sum_all().unwrap();
    let e = opt.backward_step(&loss).unwrap_err().to_string();
    assert!(
        e.contains("the gradient of 'head.weight' holds inf at element 0"),
        "{e}"
    );
    assert_eq!(w.to_vec1::<f32>().unwrap(), [1.0, 1.0]);
}

#[test]
fn hand_made_gradients_may_share_storage_with_vars_or_each_other() {
    let (a, b) = (var(&[1.0, 2.0]), var(&[4.0, 8.0]));
    let mut opt = Optimizer::new(vec![a.clone(), b.clone()], sgd(0.5)).unwrap();
    // `a`'s gradient is `a` itself, `b`'s a view of the same storage.
    let mut grads = GradStore::default();
    grads.insert(&a, a.as_tensor().clone());
    grads.insert(
        &b,
        a.as_tensor().reshape((2, 1)).unwrap().reshape(2).unwrap(),
    );
    opt.step(&grads).unwrap();
    assert_eq!(vec(&a), [0.5, 1.0]);
    assert_eq!(vec(&b), [3.5, 7.0]);
    // Two gradients that are one tensor.
    let g = Tensor::new(&[2f32, 2.0], &Device::Cpu).unwrap();
    let mut grads = GradStore::default();
    grads.insert(&a, g.clone());
    grads.insert(&b, g);
    opt.step(&grads).unwrap();
    assert_eq!(vec(&a), [-0.5, 0.0]);
    assert_eq!(vec(&b), [2.5, 6.0]);
}

#[test]
fn a_gradient_of_another_shape_or_dtype_is_an_error_naming_the_var() {
    let a = var(&[1.0, 2.0]);
    let mut opt = Optimizer::new(vec![a.clone()], sgd(0.5)).unwrap();
    let mut grads = GradStore::default();
    grads.insert(&a, Tensor::new(&[1f32, 2.0, 3.0], &Device::Cpu).unwrap());
    let e = opt.step(&grads).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "the gradient of var 'var0' is F32 of shape [3], but the var is F32 of shape [2]"
        ),
        "{e}"
    );
    grads.insert(&a, Tensor::new(&[1f64, 2.0], &Device::Cpu).unwrap());
    let e = opt.step(&grads).unwrap_err().to_string();
    assert!(
        e.starts_with("the gradient of var 'var0' is F64 of shape [2]"),
        "{e}"
    );
    assert_eq!(vec(&a), [1.0, 2.0]);
}

#[test]
fn a_non_contiguous_gradient_is_read_in_its_layout() {
    let w = Var::from_slice(&[1f32, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3), &Device::Cpu).unwrap();
    let mut opt = Optimizer::new(vec![w.clone()], sgd(1.0)).unwrap();
    let g = Tensor::new(&[[1f32, 2.0], [3.0, 4.0], [5.0, 6.0]], &Device::Cpu)
        .unwrap()
        .t()
        .unwrap();
    assert!(!g.is_contiguous());
    let mut grads = GradStore::default();
    grads.insert(&w, g);
    opt.step(&grads).unwrap();
    assert_eq!(
        w.to_vec2::<f32>().unwrap(),
        [[0.0, -1.0, -2.0], [2.0, 1.0, 0.0]]
    );
}

#[test]
fn the_same_var_twice_or_two_names_alike_are_errors() {
    let a = var(&[1.0]);
    let e = Optimizer::new(vec![a.clone(), a.clone()], sgd(0.1))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("vars 'var0' and 'var1' share their storage"),
        "{e}"
    );
    let e = Optimizer::from_named([("w", a), ("w", var(&[2.0]))], sgd(0.1))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("two vars are named 'w'"), "{e}");
}

#[test]
fn schedules_and_clipping_wrap_the_optimizer() {
    let w = var(&[0.0, 0.0]);
    let config = sgd(1.0)
        .clip("clip_grad_norm:max_norm=1")
        .unwrap()
        .schedule("steplr:step_size=1,gamma=0.5")
        .unwrap();
    let mut opt = Optimizer::new(vec![w.clone()], config).unwrap();
    let c = Tensor::new(&[3f32, 4.0], &Device::Cpu).unwrap();
    let loss = (w.as_tensor() * &c).unwrap().sum_all().unwrap();
    opt.backward_step(&loss).unwrap();
    assert_eq!(opt.learning_rate(), 0.5);
    // The step has norm 1 (less torch's 1e-6 guard); the next has half of it.
    let after = vec(&w);
    assert!(
        (after[0] + 0.6).abs() < 1e-6 && (after[1] + 0.8).abs() < 1e-6,
        "{after:?}"
    );
    opt.backward_step(&loss).unwrap();
    let after = vec(&w);
    assert!(
        (after[0] + 0.9).abs() < 1e-6 && (after[1] + 1.2).abs() < 1e-6,
        "{after:?}"
    );
    let e = Config::parse("sgd")
        .unwrap()
        .schedule("steplr")
        .unwrap_err()
        .to_string();
    assert!(e.contains("step_size is required"), "{e}");
}

#[test]
fn conventions_change_the_meaning_of_names() {
    let torch = Config::parse("adam:lr=0.1").unwrap();
    let article = torch
        .clone()
        .with_convention(optimist_candle::Convention::Article)
        .unwrap();
    let w = var(&[1.0]);
    let label = |c: Config| Optimizer::new(vec![w.clone()], c).unwrap().label();
    assert!(label(torch).starts_with("adam(lr=0.1, betas=0.9/0.999"));
    assert!(label(article).starts_with("adam(lr=0.1, beta1=0.9, beta2=0.999"));
    let e = Config::parse("adamm").unwrap_err().to_string();
    assert!(
        e.starts_with("unknown optimizer 'adamm' (did you mean 'adam'?); known optimizers: sgd"),
        "{e}"
    );
    // Specs mean torch's optimizers here: the article's key gets a hint.
    let e = Config::parse("rmsprop:decay_rate=0.9")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'decay_rate' is a hyperparameter of rmsprop in the article convention"),
        "{e}"
    );
    let e = Config::parse("sgd:momentum=2").unwrap_err().to_string();
    assert!(e.contains("momentum = 2 is out of range"), "{e}");
}

#[test]
fn many_vars_step_on_a_small_stack() {
    // One nested lock per var: thousands of vars must not overflow a 2 MiB thread.
    let stepped = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let vars: Vec<Var> = (0..3000).map(|i| var(&[i as f32])).collect();
            let mut grads = GradStore::default();
            for v in &vars {
                grads.insert(v, Tensor::new(&[2f32], &Device::Cpu).unwrap());
            }
            let mut opt = Optimizer::new(vars.clone(), sgd(0.5)).unwrap();
            opt.step(&grads).unwrap();
            opt.step(&grads).unwrap();
            vars.iter().map(|v| vec(v)[0]).collect::<Vec<f32>>()
        })
        .unwrap()
        .join()
        .unwrap();
    let expected: Vec<f32> = (0..3000).map(|i| i as f32 - 2.0).collect();
    assert_eq!(stepped, expected);
}
