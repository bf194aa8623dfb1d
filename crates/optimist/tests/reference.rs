//! Every case of every reference file, through the library, in f64 and f32.
//!
//! The files are the repository's `testdata/reference/*.json`, and those of the folder
//! `OPTIMIST_REFERENCE_DIR` names, if set. A case this harness cannot run (unknown
//! problem, optimizer, hyperparameter, schedule or clipping, or a field it does not
//! read) fails: nothing is skipped.
//!
//! A case may list `no_grad`: `[step, tensor]` pairs (0-based) at which that tensor has
//! no gradient (torch: `p.grad is None`); the step leaves it out, and it keeps its
//! values, state and own step count.
//!
//! # Tolerances
//! In float64, the article's own cases within 1e-12 absolute, the torch/optax ones
//! within 1e-9 relative to max(|reference|, 1).
//!
//! In float32 the error a run may show depends on how much the case amplifies the
//! rounding of each step: a fixed bound fails sensitive cases that float32 runs as well
//! as it can (a torch RMSprop case with momentum 0.3 and weight decay 0.01 drifts
//! 2.9e-4 in 40 steps, torch's own float32 1.3e-3), and is loose on tame ones. So each
//! case's sensitivity is measured, in float64: for each step k, the case runs again
//! with every parameter moved by one float32 rounding (relative 2⁻²⁴, the most a
//! rounding moves a value) just before step k; the largest change this makes anywhere
//! on the trajectory, `d_k` (at least 2⁻²⁴), is what that step's rounding grows into.
//! A float32 run rounds at every step, so to first order its error is at most the sum
//! of the `d_k`; the tolerance is that sum times [`F32_SAFETY`], for the several values
//! a step rounds (gradient, state, parameter) and the signs rounding may take. Errors
//! are relative to max(|reference|, 1), as for the float64 peers.

use optimist::clip::{Clip, Clipped};
use optimist::schedule::{Schedule, Scheduled};
use optimist::{registry, Convention, Float, Optimizer, Param, Spec};
use serde_json::Value;
use std::path::PathBuf;

/// How close a case must come: absolute, or relative to max(|reference|, 1).
#[derive(Clone, Copy)]
struct Tolerance {
    bound: f64,
    relative: bool,
}

const ARTICLE_F64: Tolerance = Tolerance {
    bound: 1e-12,
    relative: false,
};
const PEERS_F64: Tolerance = Tolerance {
    bound: 1e-9,
    relative: true,
};

/// The roundings of one float32 step a measured sensitivity is multiplied by: a step
/// rounds its gradient, each state update and the parameter, a handful of operations.
const F32_SAFETY: f64 = 8.0;

/// One float32 rounding, relative: half the gap between 1 and the next float32.
const F32_ROUNDING: f64 = 1.0 / (1u64 << 24) as f64;

/// The folders of reference files: the repository's, and `OPTIMIST_REFERENCE_DIR`'s.
fn reference_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/reference")];
    if let Some(dir) = std::env::var_os("OPTIMIST_REFERENCE_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs
}

/// Every case of every `.json` file, with the file it came from.
fn cases() -> Vec<(String, Value)> {
    let mut cases = Vec::new();
    for dir in reference_dirs() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read the reference folder {}: {e}", dir.display()))
            .map(|e| e.expect("reference folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "no .json reference files in {}",
            dir.display()
        );
        for file in files {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let json: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let list = json["cases"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: no 'cases' array", file.display()));
            let fname = file.display().to_string();
            cases.extend(list.iter().map(|c| (fname.clone(), c.clone())));
        }
    }
    cases
}

/// The fields a case may have; any other is a field this harness does not read, and
/// fails the case.
const FIELDS: [&str; 13] = [
    "name",
    "source",
    "problem",
    "optimizer",
    "hyperparameters",
    "schedule",
    "clip_grad_norm",
    "clip_grad_value",
    "shapes",
    "initial",
    "steps",
    "trajectory",
    "no_grad",
];

/// The problem's gradient at `p` (all tensors flattened in order).
fn gradient(problem: &str, p: &[f64]) -> Result<Vec<f64>, String> {
    match problem {
        // f(x, y) = x²/20 + y²
        "article" => match p {
            [x, y] => Ok(vec![x / 10.0, 2.0 * y]),
            _ => Err(format!(
                "problem 'article' needs one tensor of 2 elements, got {}",
                p.len()
            )),
        },
        // g_i = a_i·p_i + 0.3·cos(3·p_i), a_i = 0.2 + 0.3·(i mod 5)
        "bowl" => Ok(p
            .iter()
            .enumerate()
            .map(|(i, &x)| (0.2 + 0.3 * (i % 5) as f64) * x + 0.3 * (3.0 * x).cos())
            .collect()),
        other => Err(format!("unknown problem '{other}'")),
    }
}

fn convention(source: &str) -> Result<Convention, String> {
    if source == "article" {
        Ok(Convention::Article)
    } else if source.starts_with("torch.") {
        Ok(Convention::PyTorch)
    } else if source.starts_with("optax.") {
        Ok(Convention::Optax)
    } else {
        Err(format!("unknown source '{source}'"))
    }
}

/// A hyperparameter's JSON value as spec text: numbers, booleans, pairs `a/b`.
fn value_text(v: &Value) -> Result<String, String> {
    match v {
        Value::Number(n) => Ok(n.as_f64().ok_or("bad number")?.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) => {
            let parts: Result<Vec<String>, String> = items.iter().map(value_text).collect();
            Ok(parts?.join("/"))
        }
        other => Err(format!("unsupported hyperparameter value {other}")),
    }
}

fn spec_of(case: &Value) -> Result<Spec, String> {
    let name = case["optimizer"].as_str().ok_or("no 'optimizer'")?;
    let mut values = Vec::new();
    if let Some(hp) = case["hyperparameters"].as_object() {
        for (k, v) in hp {
            values.push((k.clone(), value_text(v)?));
        }
    }
    Ok(Spec {
        name: name.to_string(),
        values,
    })
}

fn floats(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("expected an array")?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("not a number: {x}")))
        .collect()
}

/// A JSON object of keyword arguments as a spec named `name`, skipping `skip`.
fn spec_from_object(name: &str, object: &Value, skip: &[&str]) -> Result<Spec, String> {
    let object = object
        .as_object()
        .ok_or_else(|| format!("{name}: expected an object of keyword arguments, got {object}"))?;
    let mut values = Vec::new();
    for (k, v) in object {
        if !skip.contains(&k.as_str()) {
            values.push((k.clone(), value_text(v)?));
        }
    }
    Ok(Spec {
        name: name.to_string(),
        values,
    })
}

/// `opt` with the case's gradient clipping (applied before each step) and its
/// learning-rate schedule (torch's lr_scheduler, stepped after each step), if any.
fn with_extras<F: Float>(
    case: &Value,
    opt: Box<dyn Optimizer<F>>,
) -> Result<Box<dyn Optimizer<F>>, String> {
    let mut opt = opt;
    let clips: Vec<&str> = ["clip_grad_norm", "clip_grad_value"]
        .into_iter()
        .filter(|k| !case[*k].is_null())
        .collect();
    match clips[..] {
        [] => {}
        [kind] => {
            let clip = Clip::from_spec(&spec_from_object(kind, &case[kind], &[])?)
                .map_err(|e| e.to_string())?;
            opt = Box::new(Clipped::new(opt, clip));
        }
        _ => {
            return Err(
                "both clip_grad_norm and clip_grad_value: their order is not defined".into(),
            )
        }
    }
    let schedule = &case["schedule"];
    if !schedule.is_null() {
        let name = schedule["name"]
            .as_str()
            .ok_or_else(|| format!("schedule {schedule} has no 'name'"))?;
        let schedule = Schedule::from_spec(&spec_from_object(name, schedule, &["name"])?)
            .map_err(|e| e.to_string())?;
        opt = Box::new(Scheduled::new(opt, schedule).map_err(|e| e.to_string())?);
    }
    Ok(opt)
}

/// The case's `no_grad` pairs: `(step, tensor)`, both 0-based.
fn no_grad(case: &Value, steps: usize, tensors: usize) -> Result<Vec<(usize, usize)>, String> {
    let Some(list) = case.get("no_grad").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    list.as_array()
        .ok_or("'no_grad' is not a list")?
        .iter()
        .map(|pair| match pair.as_array().map(|p| p.as_slice()) {
            Some([k, t]) => match (k.as_u64(), t.as_u64()) {
                (Some(k), Some(t)) if (k as usize) < steps && (t as usize) < tensors => {
                    Ok((k as usize, t as usize))
                }
                _ => Err(format!(
                    "'no_grad' pair {pair} is not [step < {steps}, tensor < {tensors}]"
                )),
            },
            _ => Err(format!("'no_grad' holds {pair}, not a [step, tensor] pair")),
        })
        .collect()
}

/// Runs one case in `F`, with every parameter multiplied by `1 + F32_ROUNDING` before
/// step `nudge` (0-based) if given; returns every tensor after every step, as f64.
fn trajectory<F: Float>(case: &Value, nudge: Option<usize>) -> Result<Vec<Vec<Vec<f64>>>, String> {
    if let Some(field) = case
        .as_object()
        .ok_or("a case is not an object")?
        .keys()
        .find(|k| !FIELDS.contains(&k.as_str()))
    {
        return Err(format!("unknown field '{field}'"));
    }
    let problem = case["problem"].as_str().ok_or("no 'problem'")?;
    let conv = convention(case["source"].as_str().ok_or("no 'source'")?)?;
    let spec = spec_of(case)?;
    let shapes: Vec<Vec<usize>> = case["shapes"]
        .as_array()
        .ok_or("no 'shapes'")?
        .iter()
        .map(|s| {
            s.as_array()
                .ok_or("bad shape")?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize).ok_or("bad dimension"))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()?;
    let initial = case["initial"].as_array().ok_or("no 'initial'")?;
    if initial.len() != shapes.len() {
        return Err("'initial' and 'shapes' differ in length".into());
    }
    let mut tensors: Vec<Vec<F>> = Vec::new();
    for (t, shape) in initial.iter().zip(&shapes) {
        let data = floats(t)?;
        if data.len() != shape.iter().product::<usize>() {
            return Err(format!(
                "initial tensor of {} elements for shape {shape:?}",
                data.len()
            ));
        }
        tensors.push(data.into_iter().map(F::from_f64).collect());
    }
    let names: Vec<String> = (0..tensors.len()).map(|i| format!("p{i}")).collect();
    let opt = registry::build_in(&spec, conv).map_err(|e| e.to_string())?;
    let mut opt: Box<dyn Optimizer<F>> = with_extras(case, opt)?;
    let steps = case["steps"].as_u64().ok_or("no 'steps'")? as usize;
    let left_out = no_grad(case, steps, tensors.len())?;
    let mut out = Vec::with_capacity(steps);
    for k in 0..steps {
        if nudge == Some(k) {
            for x in tensors.iter_mut().flatten() {
                *x = F::from_f64(x.to_f64() * (1.0 + F32_ROUNDING));
            }
        }
        // The gradient of every element, counted over all tensors in order.
        let flat: Vec<f64> = tensors.iter().flatten().map(|x| x.to_f64()).collect();
        let g = gradient(problem, &flat)?;
        let mut grads: Vec<Vec<F>> = Vec::new();
        let mut offset = 0;
        for t in &tensors {
            grads.push(
                g[offset..offset + t.len()]
                    .iter()
                    .map(|&x| F::from_f64(x))
                    .collect(),
            );
            offset += t.len();
        }
        let mut views: Vec<Param<'_, F>> = tensors
            .iter_mut()
            .zip(&grads)
            .zip(&shapes)
            .zip(&names)
            .enumerate()
            .filter(|(i, _)| !left_out.contains(&(k, *i)))
            .map(|(_, (((value, grad), shape), name))| Param {
                name,
                shape,
                value,
                grad,
            })
            .collect();
        opt.step(&mut views)
            .map_err(|e| format!("step {}: {e}", k + 1))?;
        out.push(
            tensors
                .iter()
                .map(|t| t.iter().map(|x| x.to_f64()).collect())
                .collect(),
        );
    }
    Ok(out)
}

/// The reference trajectory: every tensor after every step.
fn expected(case: &Value) -> Result<Vec<Vec<Vec<f64>>>, String> {
    let steps = case["steps"].as_u64().ok_or("no 'steps'")? as usize;
    let trajectory = case["trajectory"].as_array().ok_or("no 'trajectory'")?;
    if trajectory.len() != steps {
        return Err(format!(
            "{} trajectory entries for {steps} steps",
            trajectory.len()
        ));
    }
    trajectory
        .iter()
        .map(|e| {
            e.as_array()
                .ok_or("bad trajectory entry")?
                .iter()
                .map(floats)
                .collect()
        })
        .collect()
}

/// The largest error of `got` against `want` (absolute, or relative to
/// max(|want|, 1)) and where it occurred; NaN counts as infinite.
fn worst(
    got: &[Vec<Vec<f64>>],
    want: &[Vec<Vec<f64>>],
    relative: bool,
) -> Result<(f64, String), String> {
    let mut worst = (0.0f64, String::new());
    for (k, (got, want)) in got.iter().zip(want).enumerate() {
        if got.len() != want.len() {
            return Err(format!(
                "step {}: {} tensors, {} in the reference",
                k + 1,
                got.len(),
                want.len()
            ));
        }
        for (ti, (t, e)) in got.iter().zip(want).enumerate() {
            if e.len() != t.len() {
                return Err(format!(
                    "step {}: tensor {ti} has {} reference values",
                    k + 1,
                    e.len()
                ));
            }
            for (j, (&got, &want)) in t.iter().zip(e).enumerate() {
                let scale = if relative { want.abs().max(1.0) } else { 1.0 };
                let err = (got - want).abs() / scale;
                if err.is_nan() || err > worst.0 {
                    worst = (
                        if err.is_nan() { f64::INFINITY } else { err },
                        format!(
                            "step {}, tensor {ti}[{j}]: got {got}, reference {want}",
                            k + 1
                        ),
                    );
                }
            }
        }
    }
    Ok(worst)
}

/// The float32 tolerance of a case, from its measured sensitivity (see the module's
/// doc).
fn f32_tolerance(case: &Value) -> Result<Tolerance, String> {
    let exact = trajectory::<f64>(case, None)?;
    let mut sum = 0.0;
    for k in 0..exact.len() {
        let (d, _) = worst(&trajectory::<f64>(case, Some(k))?, &exact, true)?;
        sum += d.max(F32_ROUNDING);
    }
    Ok(Tolerance {
        bound: F32_SAFETY * sum,
        relative: true,
    })
}

fn check_all<F: Float>(tolerance: impl Fn(&Value) -> Result<Tolerance, String>) {
    let mut failures = Vec::new();
    let cases = cases();
    for (file, case) in &cases {
        let name = format!("{file}: {}", case["name"].as_str().unwrap_or("<unnamed>"));
        let run = || -> Result<(f64, String, Tolerance), String> {
            let tol = tolerance(case)?;
            let (err, at) = worst(
                &trajectory::<F>(case, None)?,
                &expected(case)?,
                tol.relative,
            )?;
            Ok((err, at, tol))
        };
        match run() {
            Ok((err, _, tol)) if err <= tol.bound => {
                println!(
                    "ok   {name} ({}, max error {err:.2e}, tolerance {:.2e})",
                    F::NAME,
                    tol.bound
                )
            }
            Ok((err, at, tol)) => failures.push(format!(
                "{name}: error {err:.3e} > {:.3e} at {at}",
                tol.bound
            )),
            Err(why) => failures.push(format!("{name}: cannot run: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} reference cases failed in {}:\n{}",
        failures.len(),
        cases.len(),
        F::NAME,
        failures.join("\n")
    );
}

#[test]
fn every_reference_case_in_f64() {
    check_all::<f64>(|case| {
        Ok(if case["source"] == "article" {
            ARTICLE_F64
        } else {
            PEERS_F64
        })
    });
}

#[test]
fn every_reference_case_in_f32() {
    check_all::<f32>(f32_tolerance);
}
