//! Named parameter tensors: what an optimizer updates.

use crate::{Error, Float};

/// A dense tensor: a shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<F> {
    shape: Vec<usize>,
    data: Vec<F>,
}

impl<F: Float> Tensor<F> {
    /// A tensor of the given shape holding `data` (row-major).
    ///
    /// Errors if the number of elements is not the product of the shape.
    pub fn new(shape: impl Into<Vec<usize>>, data: Vec<F>) -> Result<Self, Error> {
        let shape = shape.into();
        let expected = crate::engine::checked_len(&shape)?;
        if expected != data.len() {
            return Err(Error::ShapeData {
                shape,
                len: data.len(),
            });
        }
        Ok(Tensor { shape, data })
    }

    /// A one-dimensional tensor holding `data`.
    pub fn vector(data: Vec<F>) -> Self {
        Tensor {
            shape: vec![data.len()],
            data,
        }
    }

    /// A zero-dimensional tensor (a single number).
    pub fn scalar(x: F) -> Self {
        Tensor {
            shape: Vec::new(),
            data: vec![x],
        }
    }

    /// A tensor of zeros of the given shape.
    ///
    /// # Panics
    /// If the number of elements overflows a `usize` (see [`Tensor::new`] for an error
    /// instead).
    pub fn zeros(shape: impl Into<Vec<usize>>) -> Self {
        let shape = shape.into();
        let n = crate::engine::checked_len(&shape).expect("the shape's size fits a usize");
        Tensor {
            shape,
            data: vec![F::ZERO; n],
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[F] {
        &self.data
    }

    /// The elements, row-major, for writing.
    pub fn data_mut(&mut self) -> &mut [F] {
        &mut self.data
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tensor's elements, giving up the tensor.
    pub fn into_data(self) -> Vec<F> {
        self.data
    }
}

/// Named tensors in insertion order, like the article's `params` and `grads` dicts.
///
/// Names are unique; inserting an existing name replaces its tensor in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Params<F> {
    entries: Vec<(String, Tensor<F>)>,
}

impl<F: Float> Default for Params<F> {
    fn default() -> Self {
        Params {
            entries: Vec::new(),
        }
    }
}

impl<F: Float> Params<F> {
    /// No tensors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tensor` under `name`, returning the tensor it replaces, if any.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor<F>) -> Option<Tensor<F>> {
        let name = name.into();
        match self.position(&name) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, tensor)),
            None => {
                self.entries.push((name, tensor));
                None
            }
        }
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor<F>> {
        self.position(name).map(|i| &self.entries[i].1)
    }

    /// The tensor named `name`, for writing.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Tensor<F>> {
        self.position(name).map(move |i| &mut self.entries[i].1)
    }

    /// The tensors with their names, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor<F>)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The tensors with their names, in insertion order, for writing.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Tensor<F>)> {
        self.entries.iter_mut().map(|(n, t)| (n.as_str(), t))
    }

    /// The names, in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no tensors.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The total number of elements over all tensors.
    pub fn numel(&self) -> usize {
        self.entries.iter().map(|(_, t)| t.len()).sum()
    }

    /// Tensors of zeros with the same names and shapes, e.g. to hold gradients.
    pub fn zeros_like(&self) -> Self {
        Params {
            entries: self
                .entries
                .iter()
                .map(|(n, t)| (n.clone(), Tensor::zeros(t.shape.clone())))
                .collect(),
        }
    }

    /// Pairs every tensor with the gradient of the same name and shape, as the views
    /// [`crate::Optimizer::step`] takes.
    pub fn with_grads<'a>(&'a mut self, grads: &'a Params<F>) -> Result<Vec<Param<'a, F>>, Error> {
        if grads.len() != self.len() {
            let missing = self.names().find(|n| grads.get(n).is_none());
            let extra = grads.names().find(|n| self.get(n).is_none());
            return Err(Error::GradMismatch(match (missing, extra) {
                (Some(n), _) => format!("no gradient for parameter '{n}'"),
                (_, Some(n)) => format!("gradient '{n}' has no parameter of that name"),
                _ => format!("{} parameters but {} gradients", self.len(), grads.len()),
            }));
        }
        let mut views = Vec::with_capacity(self.len());
        for (i, (name, tensor)) in self.entries.iter_mut().enumerate() {
            // Same order is the common case; fall back to a lookup by name.
            let grad = match grads.entries.get(i) {
                Some((n, g)) if n == name => g,
                _ => grads.get(name).ok_or_else(|| {
                    Error::GradMismatch(format!("no gradient for parameter '{name}'"))
                })?,
            };
            if grad.shape != tensor.shape {
                return Err(Error::GradMismatch(format!(
                    "gradient '{name}' has shape {:?} but the parameter has shape {:?}",
                    grad.shape, tensor.shape
                )));
            }
            views.push(Param {
                name,
                shape: &tensor.shape,
                value: &mut tensor.data,
                grad: &grad.data,
            });
        }
        Ok(views)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|(n, _)| n == name)
    }
}

impl<F: Float, S: Into<String>> FromIterator<(S, Tensor<F>)> for Params<F> {
    fn from_iter<I: IntoIterator<Item = (S, Tensor<F>)>>(iter: I) -> Self {
        let mut p = Params::new();
        for (n, t) in iter {
            p.insert(n, t);
        }
        p
    }
}

/// One parameter tensor as an optimizer sees it: its name and shape, its values (to
/// update in place) and its gradient.
///
/// Libraries with their own tensor types hand these to [`crate::Optimizer::step`]
/// directly, without copying into [`Params`].
#[derive(Debug)]
pub struct Param<'a, F> {
    /// The name that keys the tensor's optimizer state.
    pub name: &'a str,
    /// The shape (checked against the state's on every step).
    pub shape: &'a [usize],
    /// The values, updated in place.
    pub value: &'a mut [F],
    /// The gradient, as many elements as `value`.
    pub grad: &'a [F],
}
