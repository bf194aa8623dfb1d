//! Every case of every reference file, through the library, in f64 and f32.
//!
//! The files come from `../shared/reference/` beside the repository, or from the folder
//! `OPTIMIST_REFERENCE_DIR` names. A case this harness cannot run (unknown problem,
//! optimizer, hyperparameter, schedule or clipping) fails: nothing is skipped.

use optimist::clip::{Clip, Clipped};
use optimist::schedule::{Schedule, Scheduled};
use optimist::{registry, Convention, Float, Optimizer, Param, Spec};
use serde_json::Value;
use std::path::PathBuf;

/// How close a case must come: the article's own cases within 1e-12 absolute in
/// float64; the torch/optax ones within 1e-9 relative to max(|reference|, 1); every
/// case within 1e-4 relative to max(|reference|, 1) in float32.
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
const ANY_F32: Tolerance = Tolerance {
    bound: 1e-4,
    relative: true,
};

fn reference_dir() -> PathBuf {
    match std::env::var_os("OPTIMIST_REFERENCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
    }
}

/// Every case of every `.json` file, with the file it came from.
fn cases() -> Vec<(String, Value)> {
    let dir = reference_dir();
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
    let mut cases = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let list = json["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no 'cases' array", file.display()));
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        cases.extend(list.iter().map(|c| (fname.clone(), c.clone())));
    }
    cases
}

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

/// Runs one case in `F`; returns the largest error (absolute, or relative to
/// max(|reference|, 1)) and where it occurred.
fn run_case<F: Float>(case: &Value, relative: bool) -> Result<(f64, String), String> {
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
    let trajectory = case["trajectory"].as_array().ok_or("no 'trajectory'")?;
    if trajectory.len() != steps {
        return Err(format!(
            "{} trajectory entries for {steps} steps",
            trajectory.len()
        ));
    }
    let mut worst = (0.0f64, String::new());
    for (k, expected) in trajectory.iter().enumerate() {
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
            .map(|(((value, grad), shape), name)| Param {
                name,
                shape,
                value,
                grad,
            })
            .collect();
        opt.step(&mut views)
            .map_err(|e| format!("step {}: {e}", k + 1))?;
        let expected = expected.as_array().ok_or("bad trajectory entry")?;
        for (ti, (t, e)) in tensors.iter().zip(expected).enumerate() {
            let e = floats(e)?;
            if e.len() != t.len() {
                return Err(format!(
                    "step {}: tensor {ti} has {} reference values",
                    k + 1,
                    e.len()
                ));
            }
            for (j, (&got, &want)) in t.iter().zip(&e).enumerate() {
                let scale = if relative { want.abs().max(1.0) } else { 1.0 };
                let err = (got.to_f64() - want).abs() / scale;
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

fn check_all<F: Float>(tolerance: impl Fn(&Value) -> Tolerance) {
    let mut failures = Vec::new();
    let cases = cases();
    for (file, case) in &cases {
        let name = format!("{file}: {}", case["name"].as_str().unwrap_or("<unnamed>"));
        let tol = tolerance(case);
        match run_case::<F>(case, tol.relative) {
            Ok((err, _)) if err <= tol.bound => {
                println!("ok   {name} ({}, max error {err:.2e})", F::NAME)
            }
            Ok((err, at)) => {
                failures.push(format!("{name}: error {err:.3e} > {:e} at {at}", tol.bound))
            }
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
        if case["source"] == "article" {
            ARTICLE_F64
        } else {
            PEERS_F64
        }
    });
}

#[test]
fn every_reference_case_in_f32() {
    check_all::<f32>(|_| ANY_F32);
}
