//! State by name: each optimizer lists a tensor's state in torch's layout (its step
//! count, buffers named `exp_avg`, `exp_avg_sq`, `momentum_buffer`, ..., scalars such as
//! `mu_product`), and takes such a state back, so that other formats (a torch
//! `state_dict`, safetensors) convert to and from it.

use optimist::{registry, Convention, NamedState, Optimizer, Param};
use std::collections::BTreeMap;

fn torch(spec: &str) -> Box<dyn Optimizer<f64>> {
    registry::build_in(&spec.parse().unwrap(), Convention::PyTorch).unwrap()
}

const SHAPES: [[usize; 2]; 2] = [[3, 4], [4, 2]];
const NAMES: [&str; 2] = ["fc.weight", "fc2.weight"];

fn initial() -> Vec<Vec<f64>> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (0..s[0] * s[1])
                .map(|j| (((j + 5 * i) * 7919) % 200) as f64 / 100.0 - 1.0)
                .collect()
        })
        .collect()
}

fn step(opt: &mut dyn Optimizer<f64>, values: &mut [Vec<f64>], which: &[usize], k: usize) {
    let grads: Vec<Vec<f64>> = values
        .iter()
        .map(|v| {
            v.iter()
                .map(|x| 0.3 * x + (3.0 * x + k as f64).cos())
                .collect()
        })
        .collect();
    let mut views: Vec<Param<'_, f64>> = values
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| which.contains(i))
        .map(|(i, v)| Param {
            name: NAMES[i],
            shape: &SHAPES[i],
            value: v,
            grad: &grads[i],
        })
        .collect();
    opt.step(&mut views).unwrap();
}

/// A torch-like `optimizer.state` for one tensor: `{'step': n, name: buffer, ...}`.
type TorchState = BTreeMap<String, TorchValue>;

#[derive(Debug, Clone, PartialEq)]
enum TorchValue {
    Step(u64),
    Tensor(Vec<usize>, Vec<f64>),
    Scalar(f64),
}

/// Our named state as torch lays it out.
fn to_torch(s: &NamedState<f64>) -> TorchState {
    let mut d = TorchState::new();
    d.insert("step".into(), TorchValue::Step(s.step));
    for (name, b) in &s.buffers {
        let shape = if b.len() == s.shape.iter().product::<usize>() {
            s.shape.clone()
        } else {
            vec![b.len()]
        };
        d.insert(name.clone(), TorchValue::Tensor(shape, b.clone()));
    }
    for (name, x) in &s.scalars {
        d.insert(name.clone(), TorchValue::Scalar(*x));
    }
    d
}

/// A torch-like state read back into ours.
fn from_torch(d: &TorchState, shape: &[usize]) -> NamedState<f64> {
    let mut s = NamedState {
        shape: shape.to_vec(),
        step: 0,
        buffers: Vec::new(),
        scalars: Vec::new(),
    };
    for (k, v) in d {
        match v {
            TorchValue::Step(n) => s.step = *n,
            TorchValue::Tensor(_, data) => s.buffers.push((k.clone(), data.clone())),
            TorchValue::Scalar(x) => s.scalars.push((k.clone(), *x)),
        }
    }
    s
}

/// The buffer and scalar names of each optimizer, as torch (or optax) names them.
#[test]
fn names_are_torchs() {
    let names = |spec: &str| {
        let mut opt = torch(spec);
        let mut v = initial();
        step(opt.as_mut(), &mut v, &[0, 1], 0);
        let s = opt.state_of("fc.weight").unwrap();
        let mut n: Vec<String> = s.buffers.iter().map(|(n, _)| n.clone()).collect();
        n.extend(s.scalars.iter().map(|(n, _)| n.clone()));
        n
    };
    assert_eq!(names("adam"), ["exp_avg", "exp_avg_sq"]);
    assert_eq!(
        names("adam:amsgrad=true"),
        ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    );
    assert_eq!(names("adamw"), ["exp_avg", "exp_avg_sq"]);
    assert_eq!(names("sgd:momentum=0.9"), ["momentum_buffer"]);
    assert!(names("sgd").is_empty());
    assert_eq!(names("adagrad"), ["sum"]);
    assert_eq!(
        names("rmsprop:centered=true,momentum=0.5"),
        ["square_avg", "grad_avg", "momentum_buffer"]
    );
    assert_eq!(names("adadelta"), ["square_avg", "acc_delta"]);
    assert_eq!(names("adamax"), ["exp_avg", "exp_inf"]);
    assert_eq!(names("nadam"), ["exp_avg", "exp_avg_sq", "mu_product"]);
    assert_eq!(names("radam"), ["exp_avg", "exp_avg_sq"]);
    assert_eq!(names("rprop"), ["prev", "step_size"]);
    assert_eq!(names("adafactor"), ["row_var", "col_var"]);
    assert_eq!(names("muon"), ["momentum_buffer"]);
    assert_eq!(names("lion"), ["mu"]);
    assert_eq!(names("lamb"), ["mu", "nu"]);
    assert_eq!(
        names("schedule_free_adamw"),
        ["z", "nu", "max_lr", "weight_sum"]
    );
}

/// After one step of torch's Adam, `exp_avg = (1 − beta1)·g` and `exp_avg_sq =
/// (1 − beta2)·g²`, `step = 1`; a tensor left out of later steps keeps its own count.
#[test]
fn adam_state_reads_as_torchs() {
    let mut opt = torch("adam:lr=0.01,betas=0.8/0.9");
    let mut v = initial();
    let g: Vec<f64> = v[0].iter().map(|x| 0.3 * x + (3.0 * x).cos()).collect();
    step(opt.as_mut(), &mut v, &[0, 1], 0);
    let s = to_torch(&opt.state_of("fc.weight").unwrap());
    assert_eq!(s["step"], TorchValue::Step(1));
    let want_m: Vec<f64> = g.iter().map(|g| 0.2 * g).collect();
    let want_v: Vec<f64> = g.iter().map(|g| 0.1 * g * g).collect();
    let close = |a: &TorchValue, b: &[f64]| match a {
        TorchValue::Tensor(shape, d) => {
            shape == &[3, 4] && d.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-15)
        }
        _ => false,
    };
    assert!(close(&s["exp_avg"], &want_m));
    assert!(close(&s["exp_avg_sq"], &want_v));
    step(opt.as_mut(), &mut v, &[1], 1);
    assert_eq!(opt.state_of("fc.weight").unwrap().step, 1);
    assert_eq!(opt.state_of("fc2.weight").unwrap().step, 2);
    assert_eq!(opt.state_tensors(), NAMES);
    assert!(opt.state_of("nothing").is_none());
}

/// Read out in torch's layout and loaded into a new optimizer, the state takes the same
/// steps as the original, to the bit, for every optimizer.
#[test]
fn state_through_torchs_layout_resumes_bit_identically() {
    for info in registry::catalog() {
        let convention: Convention = info.convention.parse().unwrap();
        let build = || registry::build_in::<f64>(&info.name.parse().unwrap(), convention).unwrap();
        let mut opt = build();
        let mut v = initial();
        step(opt.as_mut(), &mut v, &[0, 1], 0);
        step(opt.as_mut(), &mut v, &[0], 1);
        let dicts: Vec<TorchState> = NAMES
            .iter()
            .map(|n| to_torch(&opt.state_of(n).unwrap()))
            .collect();
        let mut other = build();
        for (i, d) in dicts.iter().enumerate() {
            other
                .load_tensor_state(NAMES[i], from_torch(d, &SHAPES[i]))
                .unwrap_or_else(|e| panic!("{}: {e}", info.name));
        }
        let mut w = v.clone();
        for k in 2..5 {
            step(opt.as_mut(), &mut v, &[0, 1], k);
            step(other.as_mut(), &mut w, &[0, 1], k);
        }
        assert_eq!(v, w, "{} ({})", info.name, info.convention);
    }
}

/// A state of the wrong layout or values is an error naming what is wrong; nothing
/// changes.
#[test]
fn wrong_states_are_refused() {
    let mut opt = torch("adam");
    let mut v = initial();
    step(opt.as_mut(), &mut v, &[0, 1], 0);
    let good = opt.state_of("fc.weight").unwrap();
    let before = opt.save_state().unwrap();
    let err = |opt: &mut Box<dyn Optimizer<f64>>, s: NamedState<f64>| {
        opt.load_tensor_state("fc.weight", s)
            .unwrap_err()
            .to_string()
    };
    let mut renamed = good.clone();
    renamed.buffers[0].0 = "momentum_buffer".into();
    assert!(err(&mut opt, renamed)
        .contains("its buffers are [momentum_buffer, exp_avg_sq], and a tensor of shape [3, 4] has [exp_avg, exp_avg_sq]"));
    let mut short = good.clone();
    short.buffers[1].1.pop();
    assert!(err(&mut opt, short).contains("its exp_avg_sq holds 11 values"));
    let mut negative = good.clone();
    negative.buffers[1].1[3] = -1.0;
    assert!(err(&mut opt, negative).contains("holds -1 in exp_avg_sq[3]"));
    let mut reshaped = good.clone();
    reshaped.shape = vec![4, 3];
    assert!(
        err(&mut opt, reshaped).contains("it has shape [4, 3], and its state here shape [3, 4]")
    );
    let mut huge = good.clone();
    huge.step = u64::MAX;
    assert!(err(&mut opt, huge).contains("step count"));
    let mut scalar = good;
    scalar.scalars.push(("mu_product".into(), 0.5));
    assert!(err(&mut opt, scalar)
        .contains("its scalars are [mu_product], and this optimizer carries []"));
    assert_eq!(opt.save_state().unwrap(), before);
}
