//! Parameter groups, as torch.optim's `param_groups`: other hyperparameters for the
//! tensors whose names match a pattern, e.g. no weight decay on biases.
//!
//! A group is written `PATTERN:KEY=VALUE[,KEY=VALUE...]` ([`GroupSpec`]): the pattern
//! is a glob over tensor names (`*` any run of characters, `?` one character, e.g.
//! `*.bias`, `layer1.*`), the keys those of the optimizer's spec that the group sets
//! otherwise. Each tensor goes to the first group whose pattern matches its name, and
//! tensors no group matches to the base optimizer. [`Grouped`] keeps one optimizer per
//! group, so that each keeps its own state and saves it.
//!
//! ```
//! use optimist::{groups::{GroupSpec, Grouped}, Convention, Optimizer, Params, Tensor};
//!
//! let spec = "adamw:lr=0.1,weight_decay=0.5".parse()?;
//! let no_decay: GroupSpec = "*.bias:weight_decay=0".parse()?;
//! let mut opt = Grouped::<f64>::build(&spec, &[no_decay], Convention::PyTorch)?;
//! let mut params: Params<f64> = [
//!     ("fc.weight", Tensor::vector(vec![1.0])),
//!     ("fc.bias", Tensor::vector(vec![1.0])),
//! ]
//! .into_iter()
//! .collect();
//! let grads = params.zeros_like();
//! opt.update(&mut params, &grads)?;
//! // A zero gradient moves only the decayed weight: 1 − lr·weight_decay.
//! assert_eq!(params.get("fc.weight").unwrap().data(), &[0.95]);
//! assert_eq!(params.get("fc.bias").unwrap().data(), &[1.0]);
//! # Ok::<(), optimist::Error>(())
//! ```

use crate::engine::{Guard, NamedState, State, TensorState, LEARNING_RATE_KEYS};
use crate::hyper::{Spec, Value};
use crate::saved::{self, Reader, Writer};
use crate::{registry, Convention, Error, Float, NonFinite, Optimizer, Param};
use std::fmt;

mod pattern;

pub use pattern::{GroupSpec, Pattern};

/// The optimizer a spec names, with groups if any are given: a [`Grouped`], else the
/// plain optimizer.
pub fn build<F: Float>(
    spec: &Spec,
    groups: &[GroupSpec],
    convention: Convention,
) -> Result<Box<dyn Optimizer<F>>, Error> {
    if groups.is_empty() {
        return registry::build_in(spec, convention);
    }
    Ok(Box::new(Grouped::build(spec, groups, convention)?))
}

/// [`build`] for the tensors named `names`, all of those the optimizer will ever see:
/// each group's pattern is checked against them at once ([`Grouped::check_names`]), so
/// that a first step need not give a tensor of every group.
pub fn build_for<F: Float>(
    spec: &Spec,
    groups: &[GroupSpec],
    convention: Convention,
    names: &[&str],
) -> Result<Box<dyn Optimizer<F>>, Error> {
    if groups.is_empty() {
        return registry::build_in(spec, convention);
    }
    let mut grouped = Grouped::build(spec, groups, convention)?;
    grouped.check_names(names.iter().copied())?;
    Ok(Box::new(grouped))
}

/// One group: its pattern, its optimizer and that optimizer's learning rate when built.
struct Group<F: Float> {
    pattern: Pattern,
    optimizer: Box<dyn Optimizer<F>>,
    lr: Option<f64>,
}

/// Optimizers for groups of tensors, stepped together as one.
///
/// Every step checks its gradients for NaN and infinities once, over all groups,
/// before any group steps ([`NonFinite`]); a skipped step skips every group.
/// [`Optimizer::set_learning_rate`] (as a [`crate::schedule::Scheduled`] calls it)
/// keeps each group's learning rate in proportion to the base's, as built, as torch's
/// multiplicative schedules do; [`Optimizer::set_hyperparameter`] sets a key in every
/// group that has it, as OneCycleLR's momentum does in torch. On the first step, a
/// group that matches no tensor is an error (a misspelled pattern), unless the patterns
/// were checked against every tensor name beforehand ([`Grouped::check_names`]).
///
/// Names and shapes are checked for all groups before any steps, so a later step with
/// other tensors changes nothing; but an error only a group's optimizer finds on its
/// first step (e.g. Muon given a vector) comes after the groups before it stepped.
pub struct Grouped<F: Float> {
    base: Group<F>,
    groups: Vec<Group<F>>,
    guard: Guard,
    /// The names and shapes of the tensors stepped (no buffers).
    seen: State<F>,
    /// Whether [`Grouped::check_names`] checked the patterns, so that the first step
    /// need not.
    names_checked: bool,
}

impl<F: Float> fmt::Debug for Grouped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grouped")
            .field("label", &self.label())
            .field("guard", &self.guard)
            .finish()
    }
}

impl<F: Float> Grouped<F> {
    /// `base` for the tensors no group matches, and each group's optimizer for the
    /// tensors its pattern is the first to match. The optimizers may differ (e.g. Muon
    /// for matrices, AdamW for the rest).
    pub fn new(
        base: Box<dyn Optimizer<F>>,
        groups: Vec<(Pattern, Box<dyn Optimizer<F>>)>,
    ) -> Result<Self, Error> {
        for (i, (p, _)) in groups.iter().enumerate() {
            if groups[..i].iter().any(|(q, _)| q == p) {
                return Err(Error::Group {
                    pattern: p.to_string(),
                    why: "it is given twice; the second would match nothing".to_string(),
                });
            }
        }
        let group = |pattern, mut optimizer: Box<dyn Optimizer<F>>| {
            // The groups check together, before any steps; an optimizer without a
            // policy checks by itself, which changes no result.
            let _ = optimizer.set_nonfinite(NonFinite::Trust);
            Group {
                pattern,
                lr: optimizer.learning_rate(),
                optimizer,
            }
        };
        Ok(Grouped {
            base: group(Pattern::new("*")?, base),
            groups: groups.into_iter().map(|(p, o)| group(p, o)).collect(),
            guard: Guard::default(),
            seen: State::default(),
            names_checked: false,
        })
    }

    /// Checks every group's pattern against the names of all the tensors this optimizer
    /// will see: a group that matches none of them (or only ones an earlier group
    /// takes) is an error, a misspelled pattern. After it, a step may leave out every
    /// tensor of a group (e.g. one whose tensors get no gradient until later), the
    /// first step included.
    pub fn check_names<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        let names: Vec<&str> = names.into_iter().collect();
        self.unmatched_group(&names)?;
        self.names_checked = true;
        Ok(())
    }

    /// An error for the first group that none of `names` falls in.
    fn unmatched_group(&self, names: &[&str]) -> Result<(), Error> {
        let which: Vec<Option<usize>> = names.iter().map(|n| self.group_of(n)).collect();
        match (0..self.groups.len()).find(|k| !which.contains(&Some(*k))) {
            Some(k) => Err(Error::Group {
                pattern: self.groups[k].pattern.to_string(),
                why: format!(
                    "it matches no parameter (or only ones an earlier group takes); the parameters: {}",
                    names.join(", ")
                ),
            }),
            None => Ok(()),
        }
    }

    /// The optimizer `spec` names in `convention` for the tensors no group matches,
    /// and for each group the same with the group's keys set.
    pub fn build(spec: &Spec, groups: &[GroupSpec], convention: Convention) -> Result<Self, Error> {
        let base = registry::build_in(spec, convention)?;
        let groups = groups
            .iter()
            .map(|g| {
                let opt = registry::build_in(&g.apply_to(spec), convention).map_err(|e| {
                    Error::Group {
                        pattern: g.pattern.to_string(),
                        why: e.to_string(),
                    }
                })?;
                Ok((g.pattern.clone(), opt))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Grouped::new(base, groups)
    }

    /// The optimizer of the tensors no group matches.
    pub fn base(&self) -> &dyn Optimizer<F> {
        self.base.optimizer.as_ref()
    }

    /// Each group's pattern and optimizer, in order.
    pub fn groups(&self) -> impl Iterator<Item = (&Pattern, &dyn Optimizer<F>)> {
        self.groups
            .iter()
            .map(|g| (&g.pattern, g.optimizer.as_ref()))
    }

    /// The index of the group a tensor named `name` belongs to; `None` for the base.
    pub fn group_of(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.pattern.matches(name))
    }

    /// The base and every group.
    fn all_mut(&mut self) -> impl Iterator<Item = &mut Group<F>> {
        std::iter::once(&mut self.base).chain(self.groups.iter_mut())
    }
}

impl<F: Float> Optimizer<F> for Grouped<F> {
    fn name(&self) -> &'static str {
        self.base.optimizer.name()
    }

    fn hyperparameters(&self) -> Vec<(&'static str, Value)> {
        self.base.optimizer.hyperparameters()
    }

    fn step(&mut self, params: &mut [Param<'_, F>]) -> Result<(), Error> {
        if params.is_empty() {
            return Ok(());
        }
        let which: Vec<Option<usize>> = params.iter().map(|p| self.group_of(p.name)).collect();
        if self.seen.tensors.is_empty() && !self.names_checked {
            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
            self.unmatched_group(&names)?;
        }
        // Names and shapes checked for every group at once, before any steps.
        let no_buffers = |_: &Param<'_, F>| Ok(Vec::new());
        let Some(begun) = self.seen.begin(&mut self.guard, params, no_buffers)? else {
            return Ok(());
        };
        let mut parts: Vec<Vec<Param<'_, F>>> =
            (0..=self.groups.len()).map(|_| Vec::new()).collect();
        for (p, w) in params.iter_mut().zip(&which) {
            parts[w.map_or(0, |k| k + 1)].push(Param {
                name: p.name,
                shape: p.shape,
                value: &mut *p.value,
                grad: p.grad,
            });
        }
        for (g, mut part) in self.all_mut().zip(parts) {
            g.optimizer.step(&mut part)?;
        }
        self.seen.t = begun.t;
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.seen.t
    }

    fn reset(&mut self) {
        for g in self.all_mut() {
            g.optimizer.reset();
        }
        self.seen = State::default();
        self.guard.skipped = 0;
    }

    fn learning_rate(&self) -> Option<f64> {
        self.base.optimizer.learning_rate()
    }

    /// Sets the base's learning rate to `lr`, and each group's to `lr` scaled by the
    /// ratio of the two as built.
    fn set_learning_rate(&mut self, lr: f64) -> Result<(), Error> {
        let base = self.base.lr;
        let old: Vec<Option<f64>> = self
            .all_mut()
            .map(|g| g.optimizer.learning_rate())
            .collect();
        let mut set = Ok(());
        for g in self.all_mut() {
            let Some(own) = g.lr else { continue };
            let scaled = match base {
                Some(b) if b > 0.0 && own != b => own * (lr / b),
                _ => lr,
            };
            set = g.optimizer.set_learning_rate(scaled);
            if set.is_err() {
                break;
            }
        }
        if set.is_err() {
            for (g, old) in self.all_mut().zip(old) {
                if let Some(lr) = old {
                    // Each was set to this before, so it sets again.
                    let _ = g.optimizer.set_learning_rate(lr);
                }
            }
        }
        set
    }

    /// Sets `key` in every group that has it (the base must); a learning rate as
    /// [`Optimizer::set_learning_rate`] does.
    fn set_hyperparameter(&mut self, key: &str, value: Value) -> Result<(), Error> {
        if let (Value::Num(lr), true) = (value, LEARNING_RATE_KEYS.contains(&key)) {
            return self.set_learning_rate(lr);
        }
        let old: Vec<Option<Value>> = self
            .all_mut()
            .map(|g| {
                let hp = g.optimizer.hyperparameters();
                hp.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
            })
            .collect();
        let mut set = Ok(());
        for (i, (g, had)) in self.all_mut().zip(&old).enumerate() {
            if had.is_some() || i == 0 {
                set = g.optimizer.set_hyperparameter(key, value);
                if set.is_err() {
                    break;
                }
            }
        }
        if set.is_err() {
            for (g, old) in self.all_mut().zip(old) {
                if let Some(v) = old {
                    let _ = g.optimizer.set_hyperparameter(key, v);
                }
            }
        }
        set
    }

    fn set_nonfinite(&mut self, policy: NonFinite) -> Result<(), Error> {
        self.guard.policy = policy;
        Ok(())
    }

    fn nonfinite(&self) -> NonFinite {
        self.guard.policy
    }

    fn skipped_steps(&self) -> u64 {
        self.guard.skipped
    }

    fn state_tensors(&self) -> Vec<String> {
        self.seen.tensors.iter().map(|s| s.name.clone()).collect()
    }

    fn state_of(&self, tensor: &str) -> Option<NamedState<F>> {
        let g = self
            .group_of(tensor)
            .map_or(&self.base, |k| &self.groups[k]);
        g.optimizer.state_of(tensor)
    }

    fn load_tensor_state(&mut self, tensor: &str, state: NamedState<F>) -> Result<(), Error> {
        if let Some(s) = self.seen.tensors.iter().find(|s| s.name == tensor) {
            if s.shape != state.shape {
                return Err(Error::StateMismatch(format!(
                    "parameter '{tensor}' has shape {:?} but its state has shape {:?}",
                    state.shape, s.shape
                )));
            }
        }
        let shape = state.shape.clone();
        let k = self.group_of(tensor);
        let g = match k {
            Some(k) => &mut self.groups[k],
            None => &mut self.base,
        };
        g.optimizer.load_tensor_state(tensor, state)?;
        if !self.seen.tensors.iter().any(|s| s.name == tensor) {
            self.seen.tensors.push(TensorState {
                name: tensor.to_string(),
                shape,
                step: 0,
                carry: (),
                slots: Vec::new(),
            });
        }
        Ok(())
    }

    fn save_state(&self) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(saved::GROUPED);
        w.u64(self.guard.skipped);
        w.u64(self.seen.t);
        w.count(self.seen.tensors.len());
        for s in &self.seen.tensors {
            w.str(&s.name);
            w.shape(&s.shape);
        }
        w.count(self.groups.len());
        for g in &self.groups {
            w.str(g.pattern.as_str());
            w.bytes(&g.optimizer.save_state()?);
        }
        w.bytes(&self.base.optimizer.save_state()?);
        Ok(w.finish())
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let mut r = Reader::open(bytes, saved::GROUPED)?;
        let skipped = saved::count_of(&mut r, "count of skipped steps")?;
        // Version 1 had no step count of its own: the base's, once loaded.
        let t = match r.version() {
            1 => None,
            _ => Some(saved::count_of(&mut r, "step count")?),
        };
        let mut seen = Vec::new();
        for _ in 0..r.count()? {
            seen.push(TensorState {
                name: r.str()?,
                shape: r.shape()?,
                step: 0,
                carry: (),
                slots: Vec::new(),
            });
        }
        let mut groups = Vec::new();
        for _ in 0..r.count()? {
            groups.push((r.str()?, r.bytes()?));
        }
        let base = r.bytes()?;
        r.finish()?;
        let ours: Vec<&str> = self.groups.iter().map(|g| g.pattern.as_str()).collect();
        if groups
            .iter()
            .map(|(p, _)| p.as_str())
            .ne(ours.iter().copied())
        {
            let theirs: Vec<&str> = groups.iter().map(|(p, _)| p.as_str()).collect();
            return Err(saved::bad(format!(
                "its groups are [{}], and this optimizer's [{}]",
                theirs.join(", "),
                ours.join(", ")
            )));
        }
        saved::same_tensors(&seen, &self.seen.tensors)?;
        // Each optimizer loads or changes nothing; the ones loaded before a failure
        // get their state back, so that the whole load changes nothing.
        let backups = std::iter::once(self.base.optimizer.save_state())
            .chain(self.groups.iter().map(|g| g.optimizer.save_state()))
            .collect::<Result<Vec<_>, _>>()?;
        let blobs = std::iter::once(base).chain(groups.iter().map(|(_, b)| *b));
        let mut loaded = 0;
        let mut result = Ok(());
        for (g, blob) in self.all_mut().zip(blobs) {
            result = g.optimizer.load_state(blob);
            if result.is_err() {
                break;
            }
            loaded += 1;
        }
        if let Err(e) = result {
            for (g, backup) in self.all_mut().zip(&backups).take(loaded) {
                g.optimizer.load_state(backup)?;
            }
            return Err(e);
        }
        self.seen = State {
            t: t.unwrap_or_else(|| self.base.optimizer.steps()),
            tensors: seen,
        };
        self.guard.skipped = skipped;
        Ok(())
    }

    fn label(&self) -> String {
        let base = self.base.optimizer.label();
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let (b, o) = (&self.base.optimizer, &g.optimizer);
                if b.name() != o.name() {
                    return format!("{}: {}", g.pattern, o.label());
                }
                let theirs = b.hyperparameters();
                let differ: Vec<String> = o
                    .hyperparameters()
                    .into_iter()
                    .filter(|kv| !theirs.contains(kv))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                // A group that changes nothing here (its keys are another
                // optimizer's) is not claimed.
                if differ.is_empty() {
                    return String::new();
                }
                format!("{}: {}", g.pattern, differ.join(", "))
            })
            .filter(|g| !g.is_empty())
            .collect();
        if groups.is_empty() {
            return base;
        }
        format!("{base} with groups {}", groups.join("; "))
    }
}
