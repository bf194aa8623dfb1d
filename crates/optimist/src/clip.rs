//! Gradient clipping, as torch.nn.utils does it: by the global L2 norm of all gradients
//! together ([`ClipGradNorm`]) or by value ([`ClipGradValue`]).
//!
//! [`Clipped`] clips before every step of an optimizer, on a copy: the caller's
//! gradients stay as they were. [`Clip::apply`] clips in place, like torch's
//! `clip_grad_norm_` and `clip_grad_value_`.
//!
//! ```
//! use optimist::{clip::{Clip, Clipped}, registry, Optimizer, Params, Tensor};
//!
//! let sgd = registry::parse::<f64>("sgd:lr=1", optimist::Convention::Article)?;
//! let mut opt = Clipped::new(sgd, "clip_grad_norm:max_norm=1".parse::<Clip>()?);
//! let mut params: Params<f64> = [("w", Tensor::vector(vec![0.0, 0.0]))].into_iter().collect();
//! let grads: Params<f64> = [("w", Tensor::vector(vec![3.0, 4.0]))].into_iter().collect();
//! opt.update(&mut params, &grads)?;
//! // The step has norm 1 (less torch's 1e-6 guard), the gradient is untouched.
//! assert!((params.get("w").unwrap().data()[1] + 0.8).abs() < 1e-6);
//! assert_eq!(grads.get("w").unwrap().data(), &[3.0, 4.0]);
//! # Ok::<(), optimist::Error>(())
//! ```

use crate::engine::{first_nonfinite, sum_squares};
use crate::hyper::{Configurable, Range, Spec, Value};
use crate::saved::{self, Reader, Writer};
use crate::{Error, Float, NonFinite, Optimizer, Param, Params};
use std::fmt;

crate::config! {
    /// torch.nn.utils.clip_grad_norm_: scales all gradients together so that their
    /// joint L2 norm is at most `max_norm`.
    ///
    /// ‖g‖ = √(Σ_tensors ‖g_i‖²);  g ← g·min(1, max_norm/(‖g‖ + 1e-6))
    ///
    /// Paper: R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training
    /// recurrent neural networks", ICML 2013 (arXiv:1211.5063). `max_norm` is required:
    /// its default, 0, is out of range.
    pub struct ClipGradNorm {
        name: "clip_grad_norm", convention: "pytorch",
        formula: "g ← g·min(1, max_norm/(‖g‖ + 1e-6)), ‖g‖ the L2 norm of all gradients together",
        paper: "Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks (ICML 2013, arXiv:1211.5063)";
        /// The largest joint L2 norm let through (required).
        max_norm: f64 = 0.0, Range::Positive;
    }
}

crate::config! {
    /// torch.nn.utils.clip_grad_value_: clamps every gradient element to
    /// [−clip_value, clip_value].
    ///
    /// g ← min(max(g, −clip_value), clip_value)
    ///
    /// `clip_value` is required: its default, 0, is out of range.
    pub struct ClipGradValue {
        name: "clip_grad_value", convention: "pytorch",
        formula: "g ← min(max(g, −clip_value), clip_value)",
        paper: "torch.nn.utils.clip_grad_value_";
        /// The largest magnitude of a gradient element (required).
        clip_value: f64 = 0.0, Range::Positive;
    }
}

/// A gradient clipping, written like an optimizer spec:
/// `clip_grad_norm:max_norm=1` or `clip_grad_value:clip_value=0.5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// By the joint L2 norm of all gradients.
    Norm(ClipGradNorm),
    /// By value, element by element.
    Value(ClipGradValue),
}

/// The clipping names, as specs write them.
pub const NAMES: [&str; 2] = ["clip_grad_norm", "clip_grad_value"];

/// The L2 norm of all tensors together, torch's way: the norm of the tensors' norms,
/// accumulated in f64.
pub fn global_norm<F: Float>(tensors: &[&[F]]) -> f64 {
    tensors
        .iter()
        .map(|t| {
            let n = sum_squares(t).sqrt();
            n * n
        })
        .sum::<f64>()
        .sqrt()
}

impl Clip {
    /// The clipping a spec names.
    pub fn from_spec(spec: &Spec) -> Result<Self, Error> {
        match spec.name.as_str() {
            "clip_grad_norm" => {
                require::<ClipGradNorm>(spec, "max_norm")?;
                Ok(Clip::Norm(ClipGradNorm::from_spec(spec)?))
            }
            "clip_grad_value" => {
                require::<ClipGradValue>(spec, "clip_value")?;
                Ok(Clip::Value(ClipGradValue::from_spec(spec)?))
            }
            _ => Err(Error::Unsupported {
                optimizer: spec.name.clone(),
                why: format!(
                    "unknown gradient clipping; known clippings: {}",
                    NAMES.join(", ")
                ),
            }),
        }
    }

    /// Clips `grads` in place, all tensors together.
    pub fn apply<F: Float>(&self, grads: &mut [&mut [F]]) {
        match *self {
            Clip::Norm(c) => {
                let views: Vec<&[F]> = grads.iter().map(|g| &**g).collect();
                let total = global_norm(&views);
                // Multiplied even when 1, as torch does (no branch on the norm).
                let coef = F::from_f64((c.max_norm / (total + 1e-6)).min(1.0));
                for g in grads.iter_mut().flat_map(|g| g.iter_mut()) {
                    *g = *g * coef;
                }
            }
            Clip::Value(c) => {
                let (lo, hi) = (F::from_f64(-c.clip_value), F::from_f64(c.clip_value));
                for g in grads.iter_mut().flat_map(|g| g.iter_mut()) {
                    *g = g.max(lo).min(hi);
                }
            }
        }
    }

    /// Clips the tensors of `grads` in place, all together.
    pub fn apply_to_params<F: Float>(&self, grads: &mut Params<F>) {
        let mut views: Vec<&mut [F]> = grads.iter_mut().map(|(_, t)| t.data_mut()).collect();
        self.apply(&mut views);
    }
}

/// An error naming `key` of `C` and its range unless `spec` sets it.
fn require<C: Configurable>(spec: &Spec, key: &str) -> Result<(), Error> {
    if spec.values.iter().any(|(k, _)| k == key) {
        return Ok(());
    }
    let info = C::info();
    Err(Error::MissingKey {
        optimizer: info.name.to_string(),
        key: key.to_string(),
        allowed: info
            .keys
            .iter()
            .find(|k| k.name == key)
            .map_or_else(String::new, |k| k.range.describe(key)),
    })
}

impl std::str::FromStr for Clip {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Clip::from_spec(&text.parse()?)
    }
}

impl fmt::Display for Clip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, values): (&str, Vec<(&str, Value)>) = match self {
            Clip::Norm(c) => ("clip_grad_norm", c.values()),
            Clip::Value(c) => ("clip_grad_value", c.values()),
        };
        let items: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{name}:{}", items.join(","))
    }
}

/// An optimizer whose gradients are clipped before each step, on a copy kept by the
/// wrapper: the caller's gradients are not changed.
///
/// Gradients holding NaN or an infinity reach the optimizer unclipped, so that its
/// policy ([`NonFinite`]) names the element as given and refuses or skips the step
/// (clipping would spread a NaN to every tensor, or clamp it to a number).
pub struct Clipped<F: Float> {
    inner: Box<dyn Optimizer<F>>,
    clip: Clip,
    grads: Vec<Vec<F>>,
}

impl<F: Float> fmt::Debug for Clipped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clipped")
            .field("inner", &self.inner.label())
            .field("clip", &self.clip)
            .finish()
    }
}

impl<F: Float> Clipped<F> {
    /// `inner`, stepping on clipped gradients.
    pub fn new(inner: Box<dyn Optimizer<F>>, clip: Clip) -> Self {
        Clipped {
            inner,
            clip,
            grads: Vec::new(),
        }
    }

    /// The clipping.
    pub fn clip(&self) -> &Clip {
        &self.clip
    }

    /// The optimizer clipped.
    pub fn inner(&self) -> &dyn Optimizer<F> {
        self.inner.as_ref()
    }
}

impl<F: Float> Optimizer<F> for Clipped<F> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.inner.hyperparameters()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        if self.inner.nonfinite() != NonFinite::Trust {
            let grads: Vec<&[F]> = params.iter().map(|p| p.grad).collect();
            if first_nonfinite(&grads).is_some() {
                // Unclipped, so that the optimizer names the bad element as given (a
                // NaN spreads to every tensor in norm clipping) and refuses or skips.
                return self.inner.step(params);
            }
        }
        self.grads.resize_with(params.len(), Vec::new);
        for (copy, p) in self.grads.iter_mut().zip(params.iter()) {
            copy.clear();
            copy.extend_from_slice(p.grad);
        }
        let mut copies: Vec<&mut [F]> = self.grads.iter_mut().map(|g| g.as_mut_slice()).collect();
        self.clip.apply(&mut copies);
        let mut views: Vec<Param<'_, F>> = params
            .iter_mut()
            .zip(&self.grads)
            .map(|(p, g)| Param {
                name: p.name,
                shape: p.shape,
                value: &mut *p.value,
                grad: g,
            })
            .collect();
        self.inner.step(&mut views)
    }

    fn steps(&self) -> u64 {
        self.inner.steps()
    }

    fn reset(&mut self) {
        self.inner.reset();
    }

    fn learning_rate(&self) -> Option<f64> {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        self.inner.set_learning_rate(lr)
    }

    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        self.inner.set_hyperparameter(key, value)
    }

    crate::engine::forward_policy_and_state_to_inner!();

    fn save_state(&self) -> Result<Vec<u8>, Error> {
        let inner = self.inner.save_state()?;
        let mut w = Writer::new(saved::CLIPPED);
        w.str(&self.clip.to_string());
        w.bytes(&inner);
        Ok(w.finish())
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut r = Reader::open(bytes, saved::CLIPPED)?;
        let clip = r.str()?;
        let inner = r.bytes()?;
        r.finish()?;
        if clip != self.clip.to_string() {
            return Err(saved::bad(format!(
                "its gradients are clipped by {clip}, and this optimizer's by {}",
                self.clip
            )));
        }
        self.inner.load_state(inner)
    }

    fn label(&self) -> String {
        format!("{} with {}", self.inner.label(), self.clip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{registry, Tensor};

    fn clip(text: &str) -> Clip {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn norm_clipping_scales_all_tensors_by_one_coefficient() {
        // Joint norm √(3² + 4² + 12²) = 13.
        let (mut a, mut b) = (vec![3.0f64, 4.0], vec![12.0f64]);
        assert_eq!(global_norm::<f64>(&[&a, &b]), 13.0);
        clip("clip_grad_norm:max_norm=6.5").apply(&mut [&mut a[..], &mut b[..]]);
        let coef = 6.5 / (13.0 + 1e-6);
        assert_eq!(a, vec![3.0 * coef, 4.0 * coef]);
        assert_eq!(b, vec![12.0 * coef]);
        // Under the limit: unchanged (the coefficient is clamped to 1).
        let mut c = vec![0.3f32, -0.4];
        clip("clip_grad_norm:max_norm=1").apply(&mut [&mut c[..]]);
        assert_eq!(c, vec![0.3, -0.4]);
    }

    #[test]
    fn value_clipping_clamps_each_element() {
        let mut g: Params<f64> = [("w", Tensor::vector(vec![-2.0, 0.1, 0.7, -0.25]))]
            .into_iter()
            .collect();
        clip("clip_grad_value:clip_value=0.5").apply_to_params(&mut g);
        assert_eq!(g.get("w").unwrap().data(), &[-0.5, 0.1, 0.5, -0.25]);
    }

    #[test]
    fn clipped_steps_on_a_copy_and_matches_clipping_in_place() {
        let start: Params<f64> = [
            ("w", Tensor::vector(vec![1.0, -2.0])),
            ("b", Tensor::scalar(0.5)),
        ]
        .into_iter()
        .collect();
        let grads: Params<f64> = [
            ("w", Tensor::vector(vec![3.0, 4.0])),
            ("b", Tensor::scalar(-12.0)),
        ]
        .into_iter()
        .collect();
        let c = clip("clip_grad_norm:max_norm=1");
        let adam = || registry::parse::<f64>("adam:lr=0.1", crate::Convention::Article).unwrap();

        let mut wrapped = Clipped::new(adam(), c);
        let mut p1 = start.clone();
        for _ in 0..3 {
            wrapped.update(&mut p1, &grads).unwrap();
        }
        assert_eq!(grads.get("b").unwrap().data(), &[-12.0]);

        let mut plain = adam();
        let mut clipped = grads.clone();
        c.apply_to_params(&mut clipped);
        let mut p2 = start.clone();
        for _ in 0..3 {
            plain.update(&mut p2, &clipped).unwrap();
        }
        assert_eq!(p1, p2);
        assert_ne!(p1, start);
        assert_eq!(wrapped.steps(), 3);
        assert_eq!(wrapped.learning_rate(), Some(0.1));
        assert!(wrapped.label().ends_with("with clip_grad_norm:max_norm=1"));
    }

    #[test]
    fn bad_clippings_name_the_value_and_the_allowed_range() {
        let err = |text: &str| text.parse::<Clip>().unwrap_err().to_string();
        assert_eq!(
            err("clip_grad_norm:max_norm=0"),
            "clip_grad_norm: max_norm = 0 is out of range; allowed: max_norm > 0 and finite"
        );
        assert_eq!(
            err("clip_grad_value:clip_value=-0.5"),
            "clip_grad_value: clip_value = -0.5 is out of range; allowed: clip_value > 0 and finite"
        );
        assert_eq!(
            err("clip_grad_norm"),
            "clip_grad_norm: max_norm is required; allowed: max_norm > 0 and finite"
        );
        assert!(err("clip_grad_norm:max_norm=1,norm_type=inf").contains(
            "clip_grad_norm has no hyperparameter 'norm_type'; its hyperparameters: max_norm"
        ));
        assert_eq!(
            err("clip_norm:max_norm=1"),
            "clip_norm: unknown gradient clipping; known clippings: clip_grad_norm, clip_grad_value"
        );
    }
}
