//! Every optimizer by name: build one from a [`Spec`], or list them all.

use crate::engine::{Elementwise, Optimizer, Rule, Tensorwise};
use crate::hyper::{Configurable, OptimizerInfo, Spec};
use crate::optim::*;
use crate::{Error, Float};

/// One way to build any optimizer: every configuration (the article's, torch's and
/// optax's) builds into an optimizer computing in `f32` or `f64`, after checking its
/// hyperparameters. A configuration that picks among several rules (e.g. torch's SGD
/// keeps a momentum buffer only when `momentum > 0`, Adam a third buffer only with
/// `amsgrad`) picks here, so that each optimizer carries only the state it uses.
///
/// ```
/// use optimist::{optim::{pytorch, Adam}, Build};
///
/// let sgd = pytorch::Sgd { lr: 0.1, ..Default::default() }.build::<f32>()?;
/// assert_eq!(sgd.label(), "sgd(lr=0.1, momentum=0, dampening=0, weight_decay=0, nesterov=false)");
/// let adam = Adam { lr: 0.3, ..Adam::default() }.build::<f64>()?;
/// assert_eq!(adam.name(), "adam");
/// # Ok::<(), optimist::Error>(())
/// ```
pub trait Build: Configurable {
    /// The optimizer running this configuration, after checking it.
    fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error>;
}

/// `rule` as a boxed optimizer, after checking it; for [`Build::build`].
pub(crate) fn boxed<F: Float, R: Rule<F>>(rule: R) -> Result<Box<dyn Optimizer<F>>, Error> {
    Ok(Box::new(Elementwise::<F, R>::new(rule)?))
}

/// Configurations that are one elementwise rule.
macro_rules! build_elementwise {
    ($($ty:ty),* $(,)?) => {$(
        impl Build for $ty {
            fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
                boxed::<F, Self>(self)
            }
        }
    )*};
}

/// Configurations that are one tensor-level rule.
macro_rules! build_tensorwise {
    ($($ty:ty),* $(,)?) => {$(
        impl Build for $ty {
            fn build<F: Float>(self) -> Result<Box<dyn Optimizer<F>>, Error> {
                Ok(Box::new(Tensorwise::<F, Self>::new(self)?))
            }
        }
    )*};
}

build_elementwise!(
    Sgd,
    Momentum,
    Nesterov,
    AdaGrad,
    RmsProp,
    Adam,
    pytorch::Adagrad,
    pytorch::Adadelta,
    pytorch::Adamax,
    pytorch::NAdam,
    pytorch::RAdam,
    pytorch::Rprop,
    optax::Lion,
    optax::ScheduleFreeAdamW,
);
build_tensorwise!(pytorch::Adafactor, pytorch::Muon, optax::Lamb);

/// Builds the optimizer of configuration `C` from a spec.
fn from_spec<F: Float, C: Build>(spec: &Spec) -> Result<Box<dyn Optimizer<F>>, Error> {
    C::from_spec(spec)?.build()
}

/// Whose formulas, defaults and hyperparameter names an optimizer name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    /// The article's (*Deep Learning from Scratch*, chapter 6).
    #[default]
    Article,
    /// torch.optim's.
    PyTorch,
    /// optax's.
    Optax,
}

impl Convention {
    /// Every convention, in the order names fall back through.
    pub const ALL: [Convention; 3] = [Convention::Article, Convention::PyTorch, Convention::Optax];

    /// The name used in `--convention` and [`OptimizerInfo::convention`].
    pub fn name(self) -> &'static str {
        match self {
            Convention::Article => "article",
            Convention::PyTorch => "pytorch",
            Convention::Optax => "optax",
        }
    }
}

impl std::str::FromStr for Convention {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Convention::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!("unknown convention '{s}'; known conventions: article, pytorch, optax")
            })
    }
}

impl std::fmt::Display for Convention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How an entry builds its optimizer from a spec.
type BuildFn<F> = fn(&Spec) -> Result<Box<dyn Optimizer<F>>, Error>;

/// A registered optimizer: its description and how to build it.
struct Entry<F: Float> {
    info: fn() -> OptimizerInfo,
    build: BuildFn<F>,
}

macro_rules! registry {
    ($($ty:ty),* $(,)?) => {
        fn entries<F: Float>() -> Vec<Entry<F>> {
            vec![$(Entry { info: <$ty as Configurable>::info, build: from_spec::<F, $ty> }),*]
        }
    };
}

// Every optimizer, once. Names are unique within a convention.
registry! {
    Sgd,
    Momentum,
    Nesterov,
    AdaGrad,
    RmsProp,
    Adam,
    pytorch::Sgd,
    pytorch::Adagrad,
    pytorch::RmsProp,
    pytorch::Adam,
    pytorch::AdamW,
    pytorch::Adadelta,
    pytorch::Adamax,
    pytorch::NAdam,
    pytorch::RAdam,
    pytorch::Rprop,
    optax::Lion,
    pytorch::Adafactor,
    pytorch::Muon,
    optax::Lamb,
    optax::ScheduleFreeAdamW,
}

/// Every optimizer's name, convention, formula, paper and hyperparameters.
pub fn catalog() -> Vec<OptimizerInfo> {
    entries::<f64>().iter().map(|e| (e.info)()).collect()
}

/// Builds the optimizer a spec names in `convention`; a name that convention lacks
/// falls back to the first of article, pytorch, optax that has it. The convention is
/// always given: `adam` is the article's Adam in [`Convention::Article`] and torch's in
/// [`Convention::PyTorch`].
///
/// ```
/// use optimist::{registry, Convention};
///
/// let spec: optimist::Spec = "momentum:lr=0.1".parse()?;
/// let opt = registry::build_in::<f64>(&spec, Convention::Article)?;
/// assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.9)");
/// # Ok::<(), optimist::Error>(())
/// ```
pub fn build_in<F: Float>(
    spec: &Spec,
    convention: Convention,
) -> Result<Box<dyn Optimizer<F>>, Error> {
    let entries = entries::<F>();
    let order = std::iter::once(convention).chain(Convention::ALL);
    for c in order {
        if let Some(e) = entries.iter().find(|e| {
            let info = (e.info)();
            info.name == spec.name && info.convention == c.name()
        }) {
            return (e.build)(spec).map_err(|err| with_elsewhere(err, c));
        }
    }
    Err(Error::UnknownOptimizer {
        name: spec.name.clone(),
        known: names(),
    })
}

/// `err`, naming another convention whose optimizer of the same name has the unknown
/// key (`sgd:momentum=0.9` in the article's convention: torch's `sgd` has it).
fn with_elsewhere(mut err: Error, used: Convention) -> Error {
    if let Error::UnknownKey {
        optimizer,
        key,
        elsewhere: elsewhere @ None,
        ..
    } = &mut err
    {
        *elsewhere = catalog()
            .into_iter()
            .find(|info| {
                info.name == optimizer.as_str()
                    && info.convention != used.name()
                    && info.keys.iter().any(|k| k.name == key.as_str())
            })
            .map(|info| info.convention.to_string());
    }
    err
}

/// Every optimizer name, each once, in catalog order.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for info in catalog() {
        if !names.iter().any(|n| n == info.name) {
            names.push(info.name.to_string());
        }
    }
    names
}

/// Builds the optimizer named by a spec's text, e.g. `"adam:lr=0.3"`, in `convention`
/// (as [`build_in`]).
///
/// ```
/// use optimist::{registry, Convention};
///
/// let torch = registry::parse::<f32>("adam:lr=0.01,betas=0.9/0.99", Convention::PyTorch)?;
/// assert_eq!(torch.hyperparameters()[1].0, "betas");
/// let article = registry::parse::<f32>("adam:lr=0.3", Convention::Article)?;
/// assert_eq!(article.hyperparameters()[1].0, "beta1");
/// # Ok::<(), optimist::Error>(())
/// ```
pub fn parse<F: Float>(text: &str, convention: Convention) -> Result<Box<dyn Optimizer<F>>, Error> {
    build_in(&text.parse()?, convention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_listed_optimizer_with_defaults() {
        for info in catalog() {
            let convention = info.convention.parse().unwrap();
            let opt = build_in::<f32>(&info.name.parse().unwrap(), convention).unwrap();
            assert_eq!(opt.name(), info.name);
            assert_eq!(opt.hyperparameters().len(), info.keys.len());
        }
    }

    #[test]
    fn article_names_mean_torch_optimizers_only_in_the_pytorch_convention() {
        let keys = |name: &str, c: Convention| -> Vec<&'static str> {
            let opt = build_in::<f64>(&name.parse().unwrap(), c).unwrap();
            opt.hyperparameters().into_iter().map(|(k, _)| k).collect()
        };
        for (name, torch_key) in [
            ("sgd", "nesterov"),
            ("adagrad", "lr_decay"),
            ("rmsprop", "alpha"),
            ("adam", "betas"),
        ] {
            assert!(
                !keys(name, Convention::Article).contains(&torch_key),
                "{name}"
            );
            assert!(
                keys(name, Convention::PyTorch).contains(&torch_key),
                "{name}"
            );
        }
        // Names a convention lacks fall back to the one that has them.
        assert_eq!(
            parse::<f64>("adamw", Convention::Article).unwrap().name(),
            "adamw"
        );
        let lion = build_in::<f32>(&"lion".parse().unwrap(), Convention::PyTorch).unwrap();
        assert_eq!(
            lion.label(),
            "lion(learning_rate=0.0001, b1=0.9, b2=0.99, weight_decay=0.001)"
        );
    }

    #[test]
    fn misspellings_get_did_you_mean_and_other_conventions_keys_a_hint() {
        let err = |text: &str, c: Convention| parse::<f64>(text, c).err().unwrap().to_string();
        for (text, closest) in [
            ("adm", "adam"),
            ("rmsporp", "rmsprop"),
            ("nesterow", "nesterov"),
        ] {
            let e = err(text, Convention::Article);
            assert!(
                e.starts_with(&format!("unknown optimizer '{text}' (did you mean '{closest}'?); known optimizers: sgd,")),
                "{e}"
            );
        }
        assert_eq!(
            err("adam:lrr=0.1", Convention::Article),
            "adam has no hyperparameter 'lrr' (did you mean 'lr'?); its hyperparameters: lr, beta1, beta2, eps"
        );
        assert_eq!(
            err("sgd:momentum=0.9", Convention::Article),
            "sgd has no hyperparameter 'momentum'; its hyperparameters: lr; 'momentum' is a hyperparameter of sgd in the pytorch convention (choose convention pytorch, e.g. --convention pytorch)"
        );
        let e = err("adam:betas=0.9/0.99", Convention::Article);
        assert!(e.contains("(did you mean 'beta1'?)") && e.ends_with("of adam in the pytorch convention (choose convention pytorch, e.g. --convention pytorch)"), "{e}");
        // And the other way: the article's key in torch's convention.
        let e = err("rmsprop:decay_rate=0.9", Convention::PyTorch);
        assert!(e.ends_with("'decay_rate' is a hyperparameter of rmsprop in the article convention (choose convention article, e.g. --convention article)"), "{e}");
        // A key no convention's optimizer of that name has gets no hint.
        assert!(!err("sgd:zzz=1", Convention::Article).contains("convention"));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse::<f64>("adamm", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("unknown optimizer 'adamm'") && e.contains("sgd, momentum"),
            "{e}"
        );
        let e = parse::<f64>("sgd:momentum=0.9", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("sgd has no hyperparameter 'momentum'") && e.contains("lr"),
            "{e}"
        );
        let e = parse::<f64>("adam:beta1=1", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "adam: beta1 = 1 is out of range; allowed: 0 <= beta1 < 1"
        );
        let e = parse::<f64>("sgd:lr=-0.1", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            e,
            "sgd: lr = -0.1 is out of range; allowed: lr > 0 and finite"
        );
        let e = parse::<f64>("sgd:lr=abc", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "sgd: lr = 'abc' is not a finite number");
        let e = parse::<f64>("sgd:lr=NaN", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(e, "sgd: lr = 'NaN' is not a finite number");
        let e = parse::<f64>("rmsprop:decay_rate=1.5", Convention::Article)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("0 <= decay_rate < 1"), "{e}");
    }
}
