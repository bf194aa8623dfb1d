//! Every optimizer by name: build one from a [`Spec`], or list them all.

use crate::engine::{Elementwise, Optimizer, Rule};
use crate::hyper::{Configurable, OptimizerInfo, Spec};
use crate::optim::*;
use crate::{Error, Float};

/// Builds an elementwise optimizer from its spec.
fn elementwise<F: Float, R: Rule<F>>(spec: &Spec) -> Result<Box<dyn Optimizer<F>>, Error> {
    Ok(Box::new(Elementwise::<F, R>::new(R::from_spec(spec)?)?))
}

macro_rules! registry {
    ($($ty:ty => $build:ident),* $(,)?) => {
        /// Every optimizer's name, convention, formula, paper and hyperparameters.
        pub fn catalog() -> Vec<OptimizerInfo> {
            vec![$(<$ty as Configurable>::info()),*]
        }

        /// Builds the optimizer a spec names, with its hyperparameters checked.
        ///
        /// ```
        /// let spec: optimist::Spec = "momentum:lr=0.1".parse()?;
        /// let opt = optimist::registry::build::<f64>(&spec)?;
        /// assert_eq!(opt.label(), "momentum(lr=0.1, momentum=0.9)");
        /// # Ok::<(), optimist::Error>(())
        /// ```
        pub fn build<F: Float>(spec: &Spec) -> Result<Box<dyn Optimizer<F>>, Error> {
            $(
                if spec.name == <$ty as Configurable>::info().name {
                    return $build::<F, $ty>(spec);
                }
            )*
            Err(Error::UnknownOptimizer {
                name: spec.name.clone(),
                known: names(),
            })
        }
    };
}

registry! {
    Sgd => elementwise,
    Momentum => elementwise,
    Nesterov => elementwise,
    AdaGrad => elementwise,
    RmsProp => elementwise,
    Adam => elementwise,
}

/// Every optimizer's name, in catalog order.
pub fn names() -> Vec<String> {
    catalog().iter().map(|i| i.name.to_string()).collect()
}

/// Builds the optimizer named by a spec's text, e.g. `"adam:lr=0.3"`.
pub fn parse<F: Float>(text: &str) -> Result<Box<dyn Optimizer<F>>, Error> {
    build(&text.parse()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_listed_optimizer_with_defaults() {
        for info in catalog() {
            let opt = parse::<f32>(info.name).unwrap();
            assert_eq!(opt.name(), info.name);
            assert_eq!(opt.hyperparameters().len(), info.keys.len());
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse::<f64>("adamm").err().unwrap().to_string();
        assert!(
            e.contains("unknown optimizer 'adamm'") && e.contains("sgd, momentum"),
            "{e}"
        );
        let e = parse::<f64>("sgd:momentum=0.9").err().unwrap().to_string();
        assert!(
            e.contains("sgd has no hyperparameter 'momentum'") && e.contains("lr"),
            "{e}"
        );
        let e = parse::<f64>("adam:beta1=1").err().unwrap().to_string();
        assert_eq!(
            e,
            "adam: beta1 = 1 is out of range; allowed: 0 <= beta1 < 1"
        );
        let e = parse::<f64>("sgd:lr=-0.1").err().unwrap().to_string();
        assert_eq!(
            e,
            "sgd: lr = -0.1 is out of range; allowed: lr > 0 and finite"
        );
        let e = parse::<f64>("sgd:lr=abc").err().unwrap().to_string();
        assert_eq!(e, "sgd: lr = 'abc' is not a finite number");
        let e = parse::<f64>("sgd:lr=NaN").err().unwrap().to_string();
        assert_eq!(e, "sgd: lr = 'NaN' is not a finite number");
        let e = parse::<f64>("rmsprop:decay_rate=1.5")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("0 <= decay_rate < 1"), "{e}");
    }
}
