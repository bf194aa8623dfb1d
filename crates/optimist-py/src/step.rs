//! One step over numpy arrays: every array checked, then the optimizer run with the GIL
//! released.
//!
//! Arrays may share memory (two views of one buffer; tied weights in torch, whose
//! numpy views have different bases, so numpy's borrow flags do not see it). The
//! engine's loops run on several threads and must never hold two overlapping tensors
//! at once: that would race, and lose updates. Parameters that overlap an earlier one
//! are stepped in a later pass, in the order given, as torch's loop over parameters
//! does; a gradient that shares memory with a parameter being updated is refused.

use crate::{step_error, type_error, value_error};
use numpy::{
    Element, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyReadwriteArrayDyn,
    PyUntypedArrayMethods,
};
use optimist::{Float, NonFinite, Optimizer, Param};
use pyo3::prelude::*;

/// The element type of an engine's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    F32,
    F64,
}

impl Dtype {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        }
    }

    pub(crate) fn parse(text: &str) -> PyResult<Dtype> {
        match text {
            "float32" => Ok(Dtype::F32),
            "float64" => Ok(Dtype::F64),
            _ => Err(value_error(format!(
                "unknown dtype '{text}'; expected float32 or float64"
            ))),
        }
    }
}

/// What an object is, for errors: `a numpy array of int64`, `a list`.
pub(crate) fn describe_type(obj: &Bound<'_, PyAny>) -> String {
    match obj.cast::<numpy::PyUntypedArray>() {
        Ok(a) => format!("a numpy array of {}", a.dtype()),
        Err(_) => match obj.get_type().name() {
            Ok(n) => format!("a {n}"),
            Err(_) => "an object of unknown type".to_string(),
        },
    }
}

/// Checks a parameter's or gradient's array: a numpy array of `F`, C-contiguous.
fn typed<'a, 'py, F: Element>(
    what: &str,
    name: &str,
    obj: &'a Bound<'py, PyAny>,
    dtype: Dtype,
) -> PyResult<&'a Bound<'py, PyArrayDyn<F>>> {
    let array = obj.cast::<PyArrayDyn<F>>().map_err(|_| {
        type_error(format!(
            "{what} '{name}' is {}; this step's parameters are {} arrays, and each gradient must have its parameter's dtype",
            describe_type(obj),
            dtype.name()
        ))
    })?;
    if !array.is_c_contiguous() {
        return Err(value_error(format!(
            "{what} '{name}' is not C-contiguous (a strided view or a transpose); pass a contiguous array, e.g. numpy.ascontiguousarray(x), and keep it"
        )));
    }
    Ok(array)
}

/// The bytes an array of `F` covers, `[start, end)` (contiguous, as `typed` checked).
fn span<F: Element>(a: &Bound<'_, PyArrayDyn<F>>) -> (usize, usize) {
    let start = a.data() as usize;
    (start, start + a.len() * std::mem::size_of::<F>())
}

/// One tensor's arrays, checked: its parameter and its gradient.
type Arrays<'a, 'py, F> = (&'a Bound<'py, PyArrayDyn<F>>, &'a Bound<'py, PyArrayDyn<F>>);

/// The borrows of one tensor: its parameter to write, its gradient to read.
type Borrowed<'py, F> = (PyReadwriteArrayDyn<'py, F>, PyReadonlyArrayDyn<'py, F>);

/// Borrows a parameter to write and its gradient to read, or the error saying why not.
fn borrow<'py, F: Element>(
    name: &str,
    p: &Bound<'py, PyArrayDyn<F>>,
    g: &Bound<'py, PyArrayDyn<F>>,
) -> PyResult<Borrowed<'py, F>> {
    let w = p.try_readwrite().map_err(|e| {
        value_error(match e {
            numpy::BorrowError::NotWriteable => format!(
                "parameter '{name}' is read-only (its array's WRITEABLE flag is off); pass an array the optimizer may update in place"
            ),
            _ => format!(
                "parameter '{name}' is already in use: the same array is given twice, or as a gradient too"
            ),
        })
    })?;
    let r = g.try_readonly().map_err(|_| {
        value_error(format!(
            "gradient '{name}' is the same array as a parameter being updated; pass a separate array"
        ))
    })?;
    Ok((w, r))
}

/// Steps the tensors `which` of the step in one call of the optimizer, the GIL
/// released while it runs.
fn step_some<F: Float + Element>(
    py: Python<'_>,
    opt: &mut dyn Optimizer<F>,
    names: &[String],
    arrays: &[Arrays<'_, '_, F>],
    which: impl Iterator<Item = usize>,
) -> PyResult<()> {
    let mut held = Vec::with_capacity(arrays.len());
    let mut index = Vec::with_capacity(arrays.len());
    for i in which {
        let (p, g) = arrays[i];
        held.push(borrow(&names[i], p, g)?);
        index.push(i);
    }
    let shapes: Vec<Vec<usize>> = held.iter().map(|(w, _)| w.shape().to_vec()).collect();
    let mut views = Vec::with_capacity(held.len());
    for ((&i, shape), (w, r)) in index.iter().zip(&shapes).zip(&mut held) {
        views.push(Param {
            name: &names[i],
            shape,
            value: w.as_slice_mut().map_err(value_error)?,
            grad: r.as_slice().map_err(value_error)?,
        });
    }
    py.detach(|| opt.step(&mut views)).map_err(step_error)
}

/// One step over `params` and `grads` (numpy arrays of `F`), all checked before the
/// optimizer runs. Returns the passes taken beyond the first (tensors that share
/// memory are stepped one pass after another). `wrapped`: the optimizer clips or
/// schedules, which works on a whole step and cannot be cut into passes.
pub(crate) fn step_typed<F: Float + Element>(
    py: Python<'_>,
    opt: &mut dyn Optimizer<F>,
    dtype: Dtype,
    names: &[String],
    params: &[Bound<'_, PyAny>],
    grads: &[Bound<'_, PyAny>],
    wrapped: bool,
) -> PyResult<u64> {
    let mut arrays = Vec::with_capacity(params.len());
    for ((name, p), g) in names.iter().zip(params).zip(grads) {
        let p = typed::<F>("parameter", name, p, dtype)?;
        let g = typed::<F>("gradient", name, g, dtype)?;
        if p.shape() != g.shape() {
            return Err(value_error(format!(
                "parameters and gradients do not match: gradient '{name}' has shape {:?} but the parameter has shape {:?}",
                g.shape(),
                p.shape()
            )));
        }
        arrays.push((p, g));
    }
    let spans: Vec<(Span, Span)> = arrays.iter().map(|(p, g)| (span(p), span(g))).collect();
    let passes = match plan_passes(&spans) {
        Ok(None) => return step_some(py, opt, names, &arrays, 0..arrays.len()).map(|()| 0),
        Ok(Some(passes)) => passes,
        Err(Shared { grad, param }) => {
            return Err(value_error(format!(
                "gradient '{}' shares memory with parameter '{}' (the same array, or views of one buffer), which this step updates; pass a separate array (a copy)",
                names[grad], names[param]
            )))
        }
    };
    let count = passes.iter().max().map_or(1, |&k| k + 1);
    let pass_of = &passes;
    let in_pass = |k: usize| (0..arrays.len()).filter(move |&i| pass_of[i] == k);
    if wrapped {
        let later = in_pass(1).next().unwrap_or(0);
        let first = (0..later)
            .find(|&i| overlap(spans[i].0, spans[later].0))
            .unwrap_or(0);
        return Err(value_error(format!(
            "parameters '{}' and '{}' share memory, so they are updated one after the other, in two passes; gradient clipping and a schedule work on a whole step and cannot: pass separate arrays, or build the optimizer without clip and schedule",
            names[first], names[later]
        )));
    }
    // Everything a later pass could fail on is checked before the first pass changes
    // anything: the borrows, the shapes of known state, non-finite gradients.
    for k in 0..count {
        let held = in_pass(k)
            .map(|i| borrow(&names[i], arrays[i].0, arrays[i].1))
            .collect::<PyResult<Vec<_>>>()?;
        drop(held);
    }
    for i in (0..arrays.len()).filter(|&i| passes[i] > 0) {
        if let Some(state) = opt.state_of(&names[i]) {
            let shape = arrays[i].0.shape();
            if state.shape != shape {
                return Err(step_error(optimist::Error::StateMismatch(format!(
                    "parameter '{}' has shape {:?} but its state has shape {:?}",
                    names[i], shape, state.shape
                ))));
            }
        }
    }
    if opt.nonfinite() != NonFinite::Trust {
        for (i, (_, g)) in arrays.iter().enumerate() {
            let finite = g
                .try_readonly()
                .map_err(value_error)?
                .as_slice()
                .map_err(value_error)?
                .iter()
                .all(|x| x.is_finite());
            if !finite {
                // The optimizer refuses or skips the step on this tensor alone, before
                // any pass has changed anything.
                return step_some(py, opt, names, &arrays, std::iter::once(i)).map(|()| 0);
            }
        }
    }
    for k in 0..count {
        step_some(py, opt, names, &arrays, in_pass(k))?;
    }
    Ok(count as u64 - 1)
}

/// Bytes `[start, end)`.
type Span = (usize, usize);

/// Whether two spans share a byte.
fn overlap(a: Span, b: Span) -> bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

/// A gradient that shares memory with a parameter (tensor indices).
#[derive(Debug, PartialEq)]
struct Shared {
    grad: usize,
    param: usize,
}

/// The pass of each tensor, from the (parameter, gradient) spans: `None` when no two
/// parameters overlap (one pass), else each tensor's pass, a parameter in a pass after
/// every earlier parameter it overlaps. A gradient overlapping any parameter is an
/// error. Sorting the spans finds overlaps in n log n.
fn plan_passes(spans: &[(Span, Span)]) -> Result<Option<Vec<usize>>, Shared> {
    // (span, tensor, is a gradient), empty spans left out.
    let mut all: Vec<(Span, usize, bool)> = Vec::with_capacity(2 * spans.len());
    for (i, &(p, g)) in spans.iter().enumerate() {
        all.extend(
            [(p, i, false), (g, i, true)]
                .into_iter()
                .filter(|e| e.0 .0 < e.0 .1),
        );
    }
    all.sort_unstable_by_key(|e| e.0 .0);
    // Parameters that overlap, as (earlier, later).
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for (k, &(s, i, grad)) in all.iter().enumerate() {
        open.retain(|&o| all[o].0 .1 > s.0);
        for &o in &open {
            let (_, j, other_grad) = all[o];
            match (grad, other_grad) {
                (true, true) => {}
                (true, false) => return Err(Shared { grad: i, param: j }),
                (false, true) => return Err(Shared { grad: j, param: i }),
                (false, false) => edges.push((i.min(j), i.max(j))),
            }
        }
        open.push(k);
    }
    if edges.is_empty() {
        return Ok(None);
    }
    edges.sort_unstable_by_key(|&(_, later)| later);
    let mut pass = vec![0; spans.len()];
    for (earlier, later) in edges {
        pass[later] = pass[later].max(pass[earlier] + 1);
    }
    Ok(Some(pass))
}
