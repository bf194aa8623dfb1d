//! The lab from Python: races on landscapes with their figures, and the book's network
//! experiment, each a thin call into `optimist-lab`.

use crate::{type_error, value_error};
use numpy::{PyArray1, PyArrayMethods};
use optimist::clip::Clip;
use optimist::groups::GroupSpec;
use optimist::schedule::Schedule;
use optimist::{Convention, NonFinite, Spec};
use optimist_lab::budget::{self, Estimate, Limit};
use optimist_lab::figure::{Format, View, ViewInput};
use optimist_lab::landscape::formula::Formula;
use optimist_lab::landscape::{self, Landscape, Window};
use optimist_lab::race::{self, Run, Wrapping};
use optimist_lab::train::{self as lab_train, Parallelism, TrainConfig};
use optimist_lab::tune::{self, Tune};
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString};
use std::path::PathBuf;

/// Parses every text of `texts` as `T`, a bad one as a `ValueError`.
fn parse_all<T: std::str::FromStr>(texts: &[String]) -> PyResult<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    texts
        .iter()
        .map(|t| t.parse::<T>().map_err(value_error))
        .collect()
}

/// Parses an optional spec text as `T`.
fn parse_opt<T: std::str::FromStr>(text: Option<&str>) -> PyResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    text.map(|t| t.parse::<T>().map_err(value_error))
        .transpose()
}

/// The landscape `function` names: a built-in by name (any case), else a formula in x
/// and y, shown in `window` if given.
fn resolve(function: &str, window: Option<(f64, f64, f64, f64)>) -> PyResult<Box<dyn Landscape>> {
    let window = window
        .map(|(a, b, c, d)| Window::new(a, b, c, d).map_err(value_error))
        .transpose()?;
    let text = function.trim();
    if let Some(b) = landscape::builtins()
        .into_iter()
        .find(|b| b.name().eq_ignore_ascii_case(text))
    {
        return Ok(Box::new(match window {
            Some(w) => b.with_window(w),
            None => b,
        }));
    }
    let formula = Formula::parse(text).map_err(|e| {
        value_error(format!(
            "function '{text}' is neither a built-in landscape ({}) nor a formula in x and y: {e}",
            landscape::builtin_names().join(", ")
        ))
    })?;
    Ok(Box::new(formula.with_window(window.unwrap_or(
        optimist_lab::landscape::formula::DEFAULT_WINDOW,
    ))))
}

/// The memory limit `memory_limit=` gives: bytes (an int) or a size such as `"8G"`
/// (K, M, G, T in powers of 1024); None for the command line's default, half this
/// machine's memory.
fn memory_limit(given: Option<&Bound<'_, PyAny>>) -> PyResult<Limit> {
    let Some(obj) = given else {
        return Ok(Limit::default_for_machine());
    };
    let bytes = if obj.is_instance_of::<PyString>() {
        let text: String = obj.extract()?;
        budget::parse_size(&text).map_err(|e| value_error(format!("memory_limit: {e}")))?
    } else if obj.is_instance_of::<PyBool>() {
        return Err(type_error(
            "memory_limit must be a number of bytes or a size such as '8G', not a bool",
        ));
    } else if let Ok(n) = obj.extract::<i128>() {
        match u64::try_from(n) {
            Ok(b) if b > 0 => b,
            _ => {
                return Err(value_error(format!(
                    "memory_limit = {n} is out of range; expected a number of bytes from 1 to {}, or a size such as '8G'",
                    u64::MAX
                )))
            }
        }
    } else {
        return Err(type_error(format!(
            "memory_limit must be a number of bytes (an int) or a size such as '8G', not {}",
            crate::step::describe_type(obj)
        )));
    };
    Ok(Limit::given(bytes, "memory_limit"))
}

/// Refuses, with a `MemoryError`, a run whose estimate exceeds `limit`; `lower` names
/// the arguments that make it smaller.
fn check_memory(limit: &Limit, estimate: &Estimate, lower: &str) -> PyResult<()> {
    limit
        .check(
            estimate,
            lower,
            "memory_limit= (bytes, or a size such as '64G')",
        )
        .map_err(PyMemoryError::new_err)
}

/// A race's runs on its landscape: the numbers, and every view of them.
#[pyclass(module = "optimist._optimist")]
pub struct Race {
    landscape: Box<dyn Landscape>,
    runs: Vec<Run>,
}

#[pymethods]
impl Race {
    /// One dict per run: `spec`, `name`, `label` (unique in the race, e.g. `sgd lr=0.1`), `hyperparameters` (key, text) pairs,
    /// `trajectory` (a float64 array of rows x, y, loss: the start, then each step
    /// while finite) and `diverged_at` (the step that was not finite, or None).
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for run in &self.runs {
            let d = PyDict::new(py);
            d.set_item("spec", run.spec.to_string())?;
            d.set_item("name", &run.name)?;
            d.set_item("label", &run.label)?;
            d.set_item("hyperparameters", run.hyperparameters.clone())?;
            let flat: Vec<f64> = run.points.iter().flat_map(|p| [p.x, p.y, p.loss]).collect();
            let rows = PyArray1::from_vec(py, flat).reshape([run.points.len(), 3])?;
            d.set_item("trajectory", rows)?;
            d.set_item("diverged_at", run.diverged_at)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The landscape: (name, formula, window (x_min, x_max, y_min, y_max), minima).
    #[allow(clippy::type_complexity)]
    fn landscape(&self) -> (String, String, (f64, f64, f64, f64), Vec<(f64, f64)>) {
        let l = self.landscape.as_ref();
        let w = l.window();
        (
            l.name().to_string(),
            l.formula().to_string(),
            (w.x_min, w.x_max, w.y_min, w.y_max),
            l.minima(),
        )
    }

    /// The files of `view` (grid, overlay, loss, gif, html) as (name, bytes) pairs,
    /// still images in `format` (png or svg).
    #[pyo3(signature = (view="grid", format="png"))]
    fn files<'py>(
        &self,
        py: Python<'py>,
        view: &str,
        format: &str,
    ) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
        let view: View = view.parse().map_err(value_error)?;
        let formats = [format.parse::<Format>().map_err(value_error)?];
        let landscape = self.landscape.as_ref();
        let runs = &self.runs;
        let files = py
            .detach(|| {
                view.files(&ViewInput {
                    landscape,
                    runs,
                    formats: &formats,
                })
            })
            .map_err(value_error)?;
        Ok(files
            .into_iter()
            .map(|f| (f.name, PyBytes::new(py, &f.bytes)))
            .collect())
    }

    /// `optimizer,step,x,y,loss` rows, as `optimist compare` writes trajectories.csv.
    fn csv(&self) -> String {
        optimist_lab::output::trajectories_csv(&self.runs)
    }
}

/// Races `optimizers` (specs) on `function` from `start` for `steps` updates in
/// float64, after tuning each one's learning rate on it when `tune` is true.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (function, optimizers, start, steps, tune=false, convention="article", window=None, schedule=None, clip=None, memory_limit=None))]
pub fn compare(
    py: Python<'_>,
    function: &str,
    optimizers: Vec<String>,
    start: Option<(f64, f64)>,
    steps: usize,
    tune: bool,
    convention: &str,
    window: Option<(f64, f64, f64, f64)>,
    schedule: Option<&str>,
    clip: Option<&str>,
    memory_limit: Option<Bound<'_, PyAny>>,
) -> PyResult<Race> {
    let limit = self::memory_limit(memory_limit.as_ref())?;
    let landscape = resolve(function, window)?;
    if optimizers.is_empty() {
        return Err(value_error("no optimizers to race; give at least one spec"));
    }
    if steps == 0 {
        return Err(value_error("steps must be at least 1"));
    }
    let mut race = race::Race::article();
    race.optimizers = parse_all::<Spec>(&optimizers)?;
    race.convention = convention.parse::<Convention>().map_err(value_error)?;
    race.start = start.unwrap_or_else(|| landscape.start());
    race.steps = steps;
    check_memory(
        &limit,
        &budget::race_memory(race.optimizers.len(), steps),
        "steps or the number of optimizers",
    )?;
    race.wrapping = Wrapping {
        schedule: parse_opt::<Schedule>(schedule)?,
        clip: parse_opt::<Clip>(clip)?,
    };
    let l = landscape.as_ref();
    let (x, y) = race.start;
    let (value, (gx, gy)) = (l.value(x, y), l.gradient(x, y));
    if ![x, y, value, gx, gy].iter().all(|v| v.is_finite()) {
        return Err(value_error(format!(
            "f(x, y) = {} is not finite at the start ({x}, {y}): f = {value}, gradient ({gx}, {gy}); choose another start",
            l.formula()
        )));
    }
    let runs = py.detach(|| -> Result<Vec<Run>, String> {
        if tune {
            let mut config = Tune::new(l, race.steps);
            config.start = race.start;
            config.convention = race.convention;
            config.wrapping = race.wrapping.clone();
            let tuning =
                tune::tune(l, &race.optimizers, &config, &|| {}).map_err(|e| e.to_string())?;
            race.optimizers = tuning.results.iter().map(|t| t.tuned_spec()).collect();
        }
        race.run::<f64>(l).map_err(|e| e.to_string())
    });
    Ok(Race {
        runs: runs.map_err(value_error)?,
        landscape,
    })
}

/// Every built-in landscape: (name, formula, window, minima, start).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn landscapes() -> Vec<(
    String,
    String,
    (f64, f64, f64, f64),
    Vec<(f64, f64)>,
    (f64, f64),
)> {
    landscape::builtins()
        .iter()
        .map(|b| {
            let w = b.window();
            (
                b.name().to_string(),
                b.formula().to_string(),
                (w.x_min, w.x_max, w.y_min, w.y_max),
                b.minima(),
                b.start(),
            )
        })
        .collect()
}

/// Runs the book's network experiment on the MNIST files in `data`; returns a dict with
/// the settings and one dict per optimizer (its losses as a float32 array, smoothed
/// losses, accuracy, ...).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (data, optimizers, iterations=2000, batch_size=128, hidden=None, seed=2024, convention="article", schedule=None, clip=None, groups=Vec::new(), nonfinite="refuse", memory_limit=None))]
pub fn train<'py>(
    py: Python<'py>,
    data: PathBuf,
    optimizers: Vec<String>,
    iterations: usize,
    batch_size: usize,
    hidden: Option<Vec<usize>>,
    seed: u64,
    convention: &str,
    schedule: Option<&str>,
    clip: Option<&str>,
    groups: Vec<String>,
    nonfinite: &str,
    memory_limit: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let limit = self::memory_limit(memory_limit.as_ref())?;
    let mut config = TrainConfig::book(seed);
    if !optimizers.is_empty() {
        config.optimizers = parse_all::<Spec>(&optimizers)?;
    }
    config.iterations = iterations;
    config.batch_size = batch_size;
    if let Some(h) = hidden {
        config.hidden = h;
    }
    config.convention = convention.parse::<Convention>().map_err(value_error)?;
    config.schedule = parse_opt::<Schedule>(schedule)?;
    config.clip = parse_opt::<Clip>(clip)?;
    config.groups = parse_all::<GroupSpec>(&groups)?;
    config.nonfinite = nonfinite.parse::<NonFinite>().map_err(value_error)?;
    config.log_every = 0;
    config.parallelism = Parallelism::Auto;
    config.validate().map_err(value_error)?;
    let data = py
        .detach(|| lab_train::load_data(&data))
        .map_err(value_error)?;
    check_memory(
        &limit,
        &budget::network_memory(&config, data.train.image_size()),
        "hidden, batch_size or the number of optimizers",
    )?;
    let result = py
        .detach(|| lab_train::train(&config, &data, &mut |_| {}))
        .map_err(value_error)?;
    let note = data.note.clone();
    let out = PyDict::new(py);
    out.set_item("note", note)?;
    out.set_item("sizes", result.sizes.clone())?;
    out.set_item("train_size", result.train_size)?;
    out.set_item("eval_size", result.eval_size)?;
    out.set_item("eval_set", result.eval_set.name())?;
    out.set_item("seconds", result.train_seconds)?;
    let runs = PyList::empty(py);
    for run in &result.runs {
        let d = PyDict::new(py);
        d.set_item("spec", run.spec.to_string())?;
        d.set_item("label", &run.label)?;
        d.set_item("losses", PyArray1::from_slice(py, &run.losses))?;
        d.set_item("smoothed", PyArray1::from_vec(py, run.smoothed()))?;
        d.set_item("diverged_at", run.diverged_at)?;
        d.set_item("train_loss", run.train_loss)?;
        d.set_item("train_accuracy", run.train_accuracy)?;
        d.set_item("accuracy", run.accuracy)?;
        d.set_item("seconds", run.seconds)?;
        runs.append(d)?;
    }
    out.set_item("runs", runs)?;
    let figure = optimist_lab::train::LossFigure::new(&result);
    out.set_item("png", PyBytes::new(py, &figure.png().map_err(value_error)?))?;
    out.set_item("svg", figure.svg().map_err(value_error)?)?;
    Ok(out)
}
