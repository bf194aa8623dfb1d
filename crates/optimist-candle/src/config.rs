//! [`Config`]: which optimist optimizer to build, written as a spec.

use optimist::clip::{Clip, Clipped};
use optimist::groups::{self, GroupSpec};
use optimist::schedule::{Schedule, Scheduled};
use optimist::{Convention, Float, NonFinite, Spec};
use std::fmt;

/// An optimist optimizer as a spec, `NAME[:KEY=VALUE[,KEY=VALUE...]]`, with PyTorch's
/// meaning of the names by default, and optionally parameter groups, a learning-rate
/// schedule, gradient clipping and a policy for non-finite gradients.
///
/// Each setter builds the whole configuration once, so a bad spec, key, value or
/// pattern is an error where it is written, not at the first step.
///
/// ```
/// use optimist_candle::Config;
///
/// let config = Config::parse("adamw:lr=1e-3,weight_decay=0.01")?
///     .group("*.bias:weight_decay=0")?
///     .schedule("cosineannealinglr:T_max=1000")?
///     .clip("clip_grad_norm:max_norm=1")?;
/// assert_eq!(
///     config.to_string(),
///     "adamw:lr=1e-3,weight_decay=0.01 (pytorch) group *.bias:weight_decay=0 \
///      clip clip_grad_norm:max_norm=1 schedule cosineannealinglr:T_max=1000,eta_min=0"
/// );
/// assert!(Config::parse("adamw:lr=-1").is_err());
/// # Ok::<(), candle_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    spec: Spec,
    convention: Convention,
    groups: Vec<GroupSpec>,
    schedule: Option<Schedule>,
    clip: Option<Clip>,
    nonfinite: NonFinite,
}

impl Config {
    /// The optimizer `text` names (e.g. `adamw:lr=1e-3,weight_decay=0.01`), in
    /// PyTorch's convention: `sgd`, `adagrad`, `rmsprop` and `adam` are torch.optim's,
    /// with torch's keys and defaults; names only optax has (e.g. `lion`) keep optax's
    /// keys. The error is the library's message (see [`Config::from_str`] for the typed
    /// error).
    ///
    /// [`Config::from_str`]: std::str::FromStr::from_str
    pub fn parse(text: &str) -> candle_core::Result<Self> {
        text.parse().map_err(candle_core::Error::wrap)
    }

    /// The optimizer `spec` names, in PyTorch's convention, after checking that it
    /// builds.
    pub fn from_spec(spec: Spec) -> Result<Self, optimist::Error> {
        Config {
            spec,
            convention: Convention::PyTorch,
            groups: Vec::new(),
            schedule: None,
            clip: None,
            nonfinite: NonFinite::default(),
        }
        .checked()
    }

    /// The same spec read in `convention`: [`Convention::Article`] for the article's
    /// `sgd`, `momentum`, `adagrad`, `rmsprop` and `adam`, [`Convention::Optax`] for
    /// optax's meaning of the names.
    pub fn with_convention(mut self, convention: Convention) -> candle_core::Result<Self> {
        self.convention = convention;
        self.checked().map_err(candle_core::Error::wrap)
    }

    /// Adds a parameter group, `PATTERN:KEY=VALUE[,KEY=VALUE...]` (e.g.
    /// `*.bias:weight_decay=0`): the vars whose names the glob matches (and no earlier
    /// group's) get these hyperparameters instead. Names are VarMap paths, or `var0`,
    /// `var1`, ... for vars given without names.
    pub fn group(mut self, group: &str) -> candle_core::Result<Self> {
        let group: GroupSpec = group.parse().map_err(candle_core::Error::wrap)?;
        self.groups.push(group);
        self.checked().map_err(candle_core::Error::wrap)
    }

    /// Sets the learning-rate schedule, with torch's lr_scheduler names (e.g.
    /// `cosineannealinglr:T_max=1000,warmup_steps=100`), stepped after every step.
    pub fn schedule(mut self, schedule: &str) -> candle_core::Result<Self> {
        self.schedule = Some(schedule.parse().map_err(candle_core::Error::wrap)?);
        self.checked().map_err(candle_core::Error::wrap)
    }

    /// Clips the gradients before every step: `clip_grad_norm:max_norm=X` (their joint
    /// L2 norm, as torch's `clip_grad_norm_`) or `clip_grad_value:clip_value=X`. The
    /// clipped gradients are a copy; the `GradStore` is not changed.
    pub fn clip(mut self, clip: &str) -> candle_core::Result<Self> {
        self.clip = Some(clip.parse().map_err(candle_core::Error::wrap)?);
        self.checked().map_err(candle_core::Error::wrap)
    }

    /// What a step does with a gradient holding NaN or an infinity: refuse it with an
    /// error naming the var (the default), skip it, or trust it (no check).
    pub fn nonfinite(mut self, policy: NonFinite) -> Self {
        self.nonfinite = policy;
        self
    }

    /// The optimizer's spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Whose meaning the spec's names have.
    pub fn convention(&self) -> Convention {
        self.convention
    }

    /// The optimist optimizer for vars of element type `F`: the spec's, with its
    /// groups, policy for non-finite gradients, clipping and schedule, in that order
    /// (as `optimist train` builds them).
    pub fn build<F: Float>(&self) -> Result<Box<dyn optimist::Optimizer<F>>, optimist::Error> {
        self.wrap(groups::build::<F>(
            &self.spec,
            &self.groups,
            self.convention,
        )?)
    }

    /// [`Config::build`] for the vars named `names`: each group's pattern is checked
    /// against all of them at once, so a group whose vars get no gradient on the first
    /// steps is no error.
    pub fn build_for<F: Float>(
        &self,
        names: &[&str],
    ) -> Result<Box<dyn optimist::Optimizer<F>>, optimist::Error> {
        self.wrap(groups::build_for::<F>(
            &self.spec,
            &self.groups,
            self.convention,
            names,
        )?)
    }

    /// The grouped optimizer with the policy, clipping and schedule around it.
    fn wrap<F: Float>(
        &self,
        mut opt: Box<dyn optimist::Optimizer<F>>,
    ) -> Result<Box<dyn optimist::Optimizer<F>>, optimist::Error> {
        opt.set_nonfinite(self.nonfinite)?;
        if let Some(clip) = self.clip {
            opt = Box::new(Clipped::new(opt, clip));
        }
        if let Some(schedule) = &self.schedule {
            opt = Box::new(Scheduled::new(opt, schedule.clone())?);
        }
        Ok(opt)
    }

    /// `self` once it builds.
    fn checked(self) -> Result<Self, optimist::Error> {
        self.build::<f64>()?;
        Ok(self)
    }
}

impl std::str::FromStr for Config {
    type Err = optimist::Error;

    fn from_str(text: &str) -> Result<Self, optimist::Error> {
        Config::from_spec(text.parse()?)
    }
}

impl fmt::Display for Config {
    /// The spec and convention, then each group, the clipping and the schedule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.spec, self.convention)?;
        for g in &self.groups {
            write!(f, " group {g}")?;
        }
        if let Some(c) = &self.clip {
            write!(f, " clip {c}")?;
        }
        if let Some(s) = &self.schedule {
            write!(f, " schedule {s}")?;
        }
        if self.nonfinite != NonFinite::default() {
            write!(f, " nonfinite {}", self.nonfinite.name())?;
        }
        Ok(())
    }
}
