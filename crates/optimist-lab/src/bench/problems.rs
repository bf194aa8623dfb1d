//! The problems a bench runs on: noisy 2-D landscapes, the noisy quadratic model,
//! logistic regression and the book's MLP on MNIST. Each has a budget of steps, a
//! metric, which way the metric improves, and a target for time-to-target.

use super::BenchError;
use crate::landscape::{builtin, builtins, Builtin, Landscape};
use crate::text::{number, quoted};

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Lower is better (a loss, a distance).
    Minimize,
    /// Higher is better (an accuracy).
    Maximize,
}

impl Goal {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Goal::Minimize => a < b,
            Goal::Maximize => a > b,
        }
    }

    /// Whether `value` meets `target`.
    pub fn reaches(self, value: f64, target: f64) -> bool {
        match self {
            Goal::Minimize => value <= target,
            Goal::Maximize => value >= target,
        }
    }
}

/// What a problem is, with its settings.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A built-in 2-D landscape whose gradient gets Gaussian noise of sd `sigma` per
    /// coordinate; the metric is the distance to the nearest minimum.
    Landscape {
        /// The landscape.
        landscape: Builtin,
        /// The noise's standard deviation.
        sigma: f64,
    },
    /// The noisy quadratic model (Zhang et al., 2019): ½·Σ hᵢxᵢ², hᵢ log-spaced from 1
    /// down to 1/κ, gradient noise N(0, σ²hᵢ), from x = 1; the metric is the loss over
    /// the initial loss.
    Quadratic {
        /// The dimension.
        dim: usize,
        /// The condition number κ.
        kappa: f64,
        /// The noise scale σ.
        sigma: f64,
    },
    /// Logistic regression (784 → 10, softmax) on MNIST, from zero, minibatches drawn
    /// with replacement; the metric is the held-out loss.
    Logistic {
        /// Images per minibatch.
        batch: usize,
    },
    /// The book's MLP (784 → 100 ×4 → 10, ReLU, He initialization) on MNIST,
    /// minibatches drawn with replacement; the metric is held-out accuracy.
    Mlp {
        /// Images per minibatch.
        batch: usize,
    },
}

/// A problem of the registry, with its budget and target.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The name as given, with its settings, e.g. `nqm:kappa=1000`: what names it in
    /// files and tables.
    pub spec: String,
    /// What it is.
    pub kind: Kind,
    /// Updates per run.
    pub budget: usize,
    /// The metric's target, for steps to target.
    pub target: f64,
    /// Points of the learning curve after the start (evenly spread over the budget).
    pub checkpoints: usize,
}

/// The problem names, in the order `optimist list problems` shows them.
pub const PROBLEM_NAMES: [&str; 3] = ["nqm", "logreg", "mlp"];

/// The default suite: one problem of each family.
pub const DEFAULT_SUITE: [&str; 4] = ["rosenbrock", "nqm", "logreg", "mlp"];

/// The largest dimension of the noisy quadratic model.
pub const MAX_DIM: usize = 10_000_000;

/// The most updates a run may take.
pub const MAX_BUDGET: usize = 10_000_000;

impl Problem {
    /// The metric's name, for tables and figures.
    pub fn metric(&self) -> &'static str {
        match self.kind {
            Kind::Landscape { .. } => "distance to the minimum",
            Kind::Quadratic { .. } => "loss / initial loss",
            Kind::Logistic { .. } => "held-out loss",
            Kind::Mlp { .. } => "held-out accuracy",
        }
    }

    /// The values the metric can take, for checking stored results: an accuracy is a
    /// fraction; a distance and a ratio of losses are never negative; the held-out loss
    /// is −ln(p + ε) averaged, so within [−ln(1 + ε), −ln ε] (with slack for float32).
    pub fn metric_range(&self) -> (f64, f64) {
        let eps = crate::network::LOG_EPSILON;
        match self.kind {
            Kind::Mlp { .. } => (0.0, 1.0),
            Kind::Logistic { .. } => (-1e-3, -eps.ln() + 1e-3),
            _ => (0.0, f64::MAX),
        }
    }

    /// Which way the metric improves.
    pub fn goal(&self) -> Goal {
        match self.kind {
            Kind::Mlp { .. } => Goal::Maximize,
            _ => Goal::Minimize,
        }
    }

    /// Whether the problem reads MNIST.
    pub fn needs_mnist(&self) -> bool {
        matches!(self.kind, Kind::Logistic { .. } | Kind::Mlp { .. })
    }

    /// One line describing it, for `optimist list problems` and the report.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Landscape { landscape, sigma } => format!(
                "f(x, y) = {} from ({}, {}), gradient noise σ = {}",
                landscape.formula(),
                number(landscape.start().0),
                number(landscape.start().1),
                number(*sigma)
            ),
            Kind::Quadratic { dim, kappa, sigma } => format!(
                "noisy quadratic model: dimension {dim}, condition number κ = {}, noise σ = {}",
                number(*kappa),
                number(*sigma)
            ),
            Kind::Logistic { batch } => {
                format!("logistic regression on MNIST, minibatches of {batch}")
            }
            Kind::Mlp { batch } => {
                format!("the book's MLP 784-100-100-100-100-10 on MNIST, minibatches of {batch}")
            }
        }
    }

    /// The steps at which the metric is recorded: 0, then `checkpoints` evenly spread
    /// up to the budget.
    pub fn steps(&self) -> Vec<usize> {
        let n = self.checkpoints.min(self.budget).max(1);
        let mut steps: Vec<usize> = (0..=n).map(|k| k * self.budget / n).collect();
        steps.dedup();
        steps
    }
}

/// The keys problem `name` takes.
pub fn keys(name: &str) -> &'static [&'static str] {
    match name {
        "nqm" => &["dim", "kappa", "sigma", "budget", "target"],
        "logreg" | "mlp" => &["batch", "budget", "target"],
        _ => &["sigma", "budget", "target"],
    }
}

/// Every known problem name: the three families, then the landscapes with minima.
pub fn known_names() -> Vec<String> {
    let mut names: Vec<String> = PROBLEM_NAMES.iter().map(|s| s.to_string()).collect();
    names.extend(
        builtins()
            .into_iter()
            .filter(|b| !b.minima().is_empty())
            .map(|b| b.name().to_string()),
    );
    names
}

/// Parses `NAME[:KEY=VALUE,...]`, e.g. `rosenbrock:sigma=0.5` or `nqm:kappa=100`.
pub fn parse(text: &str) -> Result<Problem, BenchError> {
    let bad = |why: String| BenchError::Usage(format!("problem {}: {why}", quoted(text)));
    let (name, rest) = match text.split_once(':') {
        Some((n, r)) => (n.trim(), r),
        None => (text.trim(), ""),
    };
    let mut problem = default_problem(name).ok_or_else(|| {
        bad(format!(
            "unknown problem; known problems: {} (optimist list problems)",
            known_names().join(", ")
        ))
    })?;
    let mut seen: Vec<&str> = Vec::new();
    for item in rest.split(',').filter(|s| !s.trim().is_empty()) {
        let (key, value) = item
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| bad(format!("{} is not KEY=VALUE", quoted(item))))?;
        if seen.contains(&key) {
            return Err(bad(format!("{key} is given twice")));
        }
        seen.push(key);
        let allowed = keys(name);
        if !allowed.contains(&key) {
            return Err(bad(format!(
                "unknown key {}; {name} takes {}",
                quoted(key),
                allowed.join(", ")
            )));
        }
        let num = |lo: f64, hi: f64| -> Result<f64, BenchError> {
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= lo && v <= hi => Ok(v),
                _ => Err(bad(format!(
                    "{key}={} is not a number from {} to {}",
                    quoted(value),
                    number(lo),
                    number(hi)
                ))),
            }
        };
        let whole = |lo: usize, hi: usize| -> Result<usize, BenchError> {
            match value.parse::<usize>() {
                Ok(v) if (lo..=hi).contains(&v) => Ok(v),
                _ => Err(bad(format!(
                    "{key}={} is not a whole number from {lo} to {hi}",
                    quoted(value)
                ))),
            }
        };
        match (key, &mut problem.kind) {
            ("budget", _) => problem.budget = whole(1, MAX_BUDGET)?,
            ("target", _) => problem.target = num(f64::MIN, f64::MAX)?,
            ("sigma", Kind::Landscape { sigma, .. }) => *sigma = num(0.0, 1e6)?,
            ("sigma", Kind::Quadratic { sigma, .. }) => *sigma = num(0.0, 1e6)?,
            ("kappa", Kind::Quadratic { kappa, .. }) => *kappa = num(1.0, 1e12)?,
            ("dim", Kind::Quadratic { dim, .. }) => *dim = whole(1, MAX_DIM)?,
            ("batch", Kind::Logistic { batch } | Kind::Mlp { batch }) => *batch = whole(1, 10_000)?,
            _ => return Err(bad(format!("{key} does not apply to {name}"))),
        }
    }
    problem.spec = canonical(name, &problem);
    Ok(problem)
}

/// The spec with every setting that differs from the default, in a fixed order, so
/// that the same problem always has the same name.
fn canonical(name: &str, p: &Problem) -> String {
    let Some(d) = default_problem(name) else {
        return name.to_string();
    };
    let mut parts: Vec<String> = Vec::new();
    let mut push = |key: &str, a: String, b: String| {
        if a != b {
            parts.push(format!("{key}={a}"));
        }
    };
    match (&p.kind, &d.kind) {
        (Kind::Landscape { sigma: a, .. }, Kind::Landscape { sigma: b, .. }) => {
            push("sigma", number(*a), number(*b))
        }
        (
            Kind::Quadratic { dim, kappa, sigma },
            Kind::Quadratic {
                dim: d0,
                kappa: k0,
                sigma: s0,
            },
        ) => {
            push("dim", dim.to_string(), d0.to_string());
            push("kappa", number(*kappa), number(*k0));
            push("sigma", number(*sigma), number(*s0));
        }
        (
            Kind::Logistic { batch } | Kind::Mlp { batch },
            Kind::Logistic { batch: b0 } | Kind::Mlp { batch: b0 },
        ) => push("batch", batch.to_string(), b0.to_string()),
        _ => {}
    }
    push("budget", p.budget.to_string(), d.budget.to_string());
    push("target", number(p.target), number(d.target));
    if parts.is_empty() {
        name.to_string()
    } else {
        format!("{name}:{}", parts.join(","))
    }
}

/// The problem `name` with its default settings.
fn default_problem(name: &str) -> Option<Problem> {
    let (kind, budget, target, checkpoints) = match name {
        "nqm" => (
            Kind::Quadratic {
                dim: 10_000,
                kappa: 1000.0,
                sigma: 0.3,
            },
            500,
            0.01,
            50,
        ),
        "logreg" => (Kind::Logistic { batch: 128 }, 1000, 0.3, 20),
        "mlp" => (Kind::Mlp { batch: 128 }, 1000, 0.95, 10),
        _ => {
            let landscape = builtin(name).filter(|b| !b.minima().is_empty())?;
            (
                Kind::Landscape {
                    landscape,
                    sigma: 1.0,
                },
                500,
                0.1,
                50,
            )
        }
    };
    Some(Problem {
        spec: name.to_string(),
        kind,
        budget,
        target,
        checkpoints,
    })
}

/// Every problem with its default settings, for `optimist list problems`.
pub fn registry() -> Vec<Problem> {
    known_names()
        .iter()
        .filter_map(|n| default_problem(n))
        .collect()
}
