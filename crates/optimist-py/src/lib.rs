//! `optimist._optimist`: the Python extension module under the `optimist` package.
//!
//! It stays thin over the libraries: `engine::Engine` runs any optimist optimizer
//! over numpy arrays in place, `catalog` describes them, and `lab` runs the races,
//! figures and network experiment of `optimist-lab`. The Python package
//! (`python/optimist`) builds the article's classes, `optimist.torch` and the result
//! objects on top; no optimizer math lives in either layer.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

mod engine;
mod lab;
mod step;

/// A library error as Python's `ValueError`, its message unchanged.
pub(crate) fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

pyo3::create_exception!(
    _optimist,
    StateMismatchError,
    PyValueError,
    "A known tensor given with another shape than its optimizer state's (a ValueError)."
);

/// A step's error from the library: `StateMismatchError` for a tensor whose shape is
/// not its state's, else a `ValueError`; the message unchanged.
pub(crate) fn step_error(e: optimist::Error) -> PyErr {
    match e {
        optimist::Error::StateMismatch(_) => StateMismatchError::new_err(e.to_string()),
        e => value_error(e),
    }
}

/// A `TypeError` with `message`.
pub(crate) fn type_error(message: impl Into<String>) -> PyErr {
    PyTypeError::new_err(message.into())
}

/// A hyperparameter value as Python sees it: a float, an int, a bool or a pair of floats.
pub(crate) fn value_to_py<'py>(
    py: Python<'py>,
    value: optimist::hyper::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use optimist::hyper::Value;
    Ok(match value {
        Value::Num(x) => x.into_pyobject(py)?.into_any(),
        Value::Int(n) => n.into_pyobject(py)?.into_any(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Pair(a, b) => (a, b).into_pyobject(py)?.into_any(),
    })
}

/// Descriptions as `optimist list` prints them: one dict per entry, with `name`,
/// `convention`, `formula`, `paper` and `hyperparameters` (each a dict of `name`,
/// `default`, `range` and `doc`).
fn describe<'py>(
    py: Python<'py>,
    infos: Vec<optimist::hyper::OptimizerInfo>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for info in infos {
        let d = PyDict::new(py);
        d.set_item("name", info.name)?;
        d.set_item("convention", info.convention)?;
        d.set_item("formula", info.formula)?;
        d.set_item("paper", info.paper)?;
        let keys = PyList::empty(py);
        for k in info.keys {
            let kd = PyDict::new(py);
            kd.set_item("name", k.name)?;
            kd.set_item("default", value_to_py(py, k.default)?)?;
            kd.set_item("range", k.range.describe(k.name))?;
            kd.set_item("doc", k.doc)?;
            keys.append(kd)?;
        }
        d.set_item("hyperparameters", keys)?;
        list.append(d)?;
    }
    Ok(list)
}

/// Every optimizer the library has, as `optimist list` describes it.
#[pyfunction]
fn catalog(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    describe(py, optimist::registry::catalog())
}

/// Every learning-rate schedule (and the warm-up), described likewise.
#[pyfunction]
fn schedules(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    describe(py, optimist::schedule::catalog())
}

#[pymodule]
fn _optimist(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_class::<lab::Race>()?;
    m.add(
        "StateMismatchError",
        m.py().get_type::<StateMismatchError>(),
    )?;
    m.add_function(wrap_pyfunction!(catalog, m)?)?;
    m.add_function(wrap_pyfunction!(schedules, m)?)?;
    m.add_function(wrap_pyfunction!(lab::compare, m)?)?;
    m.add_function(wrap_pyfunction!(lab::train, m)?)?;
    m.add_function(wrap_pyfunction!(lab::landscapes, m)?)?;
    Ok(())
}
