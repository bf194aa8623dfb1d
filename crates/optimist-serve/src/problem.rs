//! The API's requests and answers: a landscape and a race asked for in JSON, checked
//! as `optimist compare` checks its options, and the catalogues.

use crate::budget::{Size, BUILTIN_COST};
use crate::work::Cancellable;
use crate::ApiError;
use optimist::hyper::{Range, Value as HyperValue};
use optimist::{registry, Convention, Spec};
use optimist_lab::figure::{contour_rings, CONTOUR_QUANTUM};
use optimist_lab::landscape::formula::{Formula, DEFAULT_WINDOW};
use optimist_lab::landscape::{self, builtins, Landscape, Window};
use optimist_lab::race::{Race, Run};
use optimist_lab::text::{number, quoted};
use optimist_lab::tune::{Score, Search, Tune, TuneError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};

/// The most updates per optimizer a request may ask for.
pub const MAX_STEPS: usize = 100_000;

/// The most optimizers a request may race.
pub const MAX_OPTIMIZERS: usize = 20;

/// The longest formula read, in characters.
pub const MAX_FORMULA: usize = 1000;

/// `{function, window?}`: a landscape to draw.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandscapeRequest {
    /// A built-in's name or a formula in x and y [default: article].
    pub function: Option<String>,
    /// `[xmin, xmax, ymin, ymax]` [default: the built-in's; −5..5 for a formula].
    pub window: Option<[f64; 4]>,
}

/// What `POST /api/race` (and the export and tune endpoints) take.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaceRequest {
    /// A built-in's name or a formula in x and y [default: article].
    pub function: Option<String>,
    /// `[xmin, xmax, ymin, ymax]` [default: the built-in's; −5..5 for a formula].
    pub window: Option<[f64; 4]>,
    /// `[x, y]` [default: the landscape's classic start].
    pub start: Option<[f64; 2]>,
    /// Updates per optimizer, 1 to [`MAX_STEPS`] [default: 30 on the article's
    /// landscape, else 100].
    pub steps: Option<f64>,
    /// Optimizer specs, `NAME[:KEY=VALUE,...]`, 1 to [`MAX_OPTIMIZERS`].
    pub optimizers: Vec<String>,
    /// article, pytorch or optax [default: article].
    pub convention: Option<String>,
    /// For `/api/tune` only: distance or loss [default: distance where minima are known].
    pub score: Option<String>,
    /// For `/api/tune` only: learning rates tried per optimizer, 2 to 200 [default: 50].
    pub trials: Option<f64>,
}

/// The answer of `POST /api/race`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceResponse {
    /// One per optimizer, in the order asked.
    pub runs: Vec<RunJson>,
}

/// One optimizer's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunJson {
    /// The spec as given, e.g. `adam:lr=0.3`.
    pub optimizer: String,
    /// The run's label, as trajectories.csv names it: the optimizer's name, e.g. `adam`, or for two runs of one optimizer `sgd lr=0.1`.
    pub name: String,
    /// Every hyperparameter with its value, defaults included, as `[key, value]` text.
    pub hyperparameters: Vec<(String, String)>,
    /// The start and every position after it, while finite: `[x, y, loss]`.
    pub trajectory: Vec<[f64; 3]>,
    /// `finished` or `diverged`.
    pub status: String,
    /// The step whose position, loss or gradient was not finite, if the run diverged.
    pub diverged_at: Option<usize>,
}

impl RaceResponse {
    /// The runs as JSON.
    pub fn new(runs: &[Run]) -> RaceResponse {
        // Labelled over the whole race, as compare's CSV is (each run may have been
        // raced alone so that a slow race can stop between optimizers).
        let named: Vec<(String, optimist_lab::race::Settings)> = runs
            .iter()
            .map(|r| (r.name.clone(), r.hyperparameters.clone()))
            .collect();
        let given: Vec<Option<String>> = runs
            .iter()
            .map(|r| (r.label != r.name).then(|| r.label.clone()))
            .collect();
        let labels = optimist_lab::race::labels(&named, &given);
        RaceResponse {
            runs: runs
                .iter()
                .zip(labels)
                .map(|(r, label)| RunJson {
                    optimizer: r.spec.to_string(),
                    name: label,
                    hyperparameters: r.hyperparameters.clone(),
                    trajectory: r.points.iter().map(|p| [p.x, p.y, p.loss]).collect(),
                    status: if r.diverged_at.is_some() {
                        "diverged"
                    } else {
                        "finished"
                    }
                    .into(),
                    diverged_at: r.diverged_at,
                })
                .collect(),
        }
    }
}

/// A checked race: its landscape and the lab's [`Race`].
pub struct CheckedRace {
    /// Where it runs, in the window to show.
    pub landscape: Box<dyn Landscape>,
    /// What one evaluation of the landscape's value and gradient costs, in the units of
    /// [`crate::budget`] ([`BUILTIN_COST`] for a built-in, else the formula's
    /// operations).
    pub step_cost: u64,
    /// What runs.
    pub race: Race,
}

impl CheckedRace {
    /// Its size, for the budget.
    pub(crate) fn size(&self) -> Size {
        Size {
            optimizers: self.race.optimizers.len(),
            steps: self.race.steps,
            step_cost: self.step_cost,
        }
    }

    /// The runs, by the lab's race code in f64 (as `optimist compare`), one optimizer
    /// at a time on a landscape that stops reading finite once `cancel` is raised, so
    /// that the work stops at the next step. Each run is the one the whole race would
    /// record: the optimizers never interact.
    pub fn run(&self, cancel: &AtomicBool) -> Result<Vec<Run>, ApiError> {
        let cut = || ApiError::timeout("the race was cut off");
        let landscape = Cancellable {
            inner: self.landscape.as_ref(),
            cancel,
        };
        let mut runs = Vec::with_capacity(self.race.optimizers.len());
        for spec in &self.race.optimizers {
            let mut one = self.race.clone();
            one.optimizers = vec![spec.clone()];
            let run = one.run::<f64>(&landscape);
            // A run cut off ends as if it diverged: never hand it on.
            if cancel.load(Ordering::SeqCst) {
                return Err(cut());
            }
            runs.extend(run?);
        }
        Ok(runs)
    }
}

impl LandscapeRequest {
    /// The landscape asked for, in its window.
    pub fn resolve(&self) -> Result<Box<dyn Landscape>, ApiError> {
        Ok(resolve(self.function.as_deref(), self.window)?.0)
    }
}

/// `function` (a built-in's name, else a formula) in `window`, and what evaluating it
/// costs.
fn resolve(
    function: Option<&str>,
    window: Option<[f64; 4]>,
) -> Result<(Box<dyn Landscape>, u64), ApiError> {
    let window = window
        .map(|[a, b, c, d]| {
            Window::new(a, b, c, d).map_err(|e| ApiError::bad(format!("window: {e}")))
        })
        .transpose()?;
    let text = function.unwrap_or("article").trim();
    if let Some(b) = builtins()
        .into_iter()
        .find(|b| b.name().eq_ignore_ascii_case(text))
    {
        let landscape: Box<dyn Landscape> = match window {
            Some(w) => Box::new(b.with_window(w)),
            None => Box::new(b),
        };
        return Ok((landscape, BUILTIN_COST));
    }
    let length = text.chars().count();
    if length > MAX_FORMULA {
        return Err(ApiError::bad(format!(
            "function: the formula is {length} characters long; at most {MAX_FORMULA} are read"
        )));
    }
    let formula = Formula::parse(text).map_err(|e| {
        let names = landscape::builtin_names().join(", ");
        let mut error = if looks_like_a_name(text) {
            ApiError::bad(format!(
                "function {} is neither a built-in landscape nor a formula\nas a formula: {e}\nbuilt-in landscapes: {names}; or give a formula in x and y, e.g. x^2/20 + y^2",
                quoted(text)
            ))
        } else {
            ApiError::bad(format!("function: {e}"))
        };
        error.column = Some(e.column);
        error
    })?;
    let cost = formula.operations() as u64;
    Ok((
        Box::new(formula.with_window(window.unwrap_or(DEFAULT_WINDOW))),
        cost,
    ))
}

/// Text that can only be meant as a name: a word, perhaps with hyphens.
fn looks_like_a_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A count given as a JSON number: a whole number in `range`.
fn whole(key: &str, value: f64, range: std::ops::RangeInclusive<usize>) -> Result<usize, ApiError> {
    if value.fract() == 0.0 && value >= *range.start() as f64 && value <= *range.end() as f64 {
        Ok(value as usize)
    } else {
        Err(ApiError::bad(format!(
            "{key}: {} is not a whole number from {} to {}",
            number(value),
            range.start(),
            range.end()
        )))
    }
}

impl RaceRequest {
    /// The landscape, start and race asked for, checked: every refusal names what was
    /// wrong and what is allowed.
    pub fn check(&self) -> Result<CheckedRace, ApiError> {
        if self.score.is_some() || self.trials.is_some() {
            return Err(ApiError::bad(
                "score and trials choose how /api/tune searches; send them there",
            ));
        }
        self.check_race()
    }

    /// [`RaceRequest::check`], the tuning options allowed.
    fn check_race(&self) -> Result<CheckedRace, ApiError> {
        let (landscape, step_cost) = resolve(self.function.as_deref(), self.window)?;
        let is_article = landscape.name() == "article";
        let steps = match self.steps {
            Some(s) => whole("steps", s, 1..=MAX_STEPS)?,
            None if is_article => 30,
            None => 100,
        };
        if self.optimizers.is_empty() || self.optimizers.len() > MAX_OPTIMIZERS {
            return Err(ApiError::bad(format!(
                "optimizers: {} given; race 1 to {MAX_OPTIMIZERS}, e.g. [\"sgd:lr=0.95\", \"adam:lr=0.3\"]",
                self.optimizers.len()
            )));
        }
        let optimizers = self
            .optimizers
            .iter()
            .map(|s| s.parse::<Spec>())
            .collect::<Result<Vec<_>, _>>()?;
        let convention = match &self.convention {
            Some(c) => c.parse::<Convention>().map_err(ApiError::bad)?,
            None => Convention::Article,
        };
        let start = self
            .start
            .map(|[x, y]| (x, y))
            .unwrap_or_else(|| landscape.start());
        let (x, y) = start;
        let value = landscape.value(x, y);
        let (gx, gy) = landscape.gradient(x, y);
        if !(value.is_finite() && gx.is_finite() && gy.is_finite()) {
            return Err(ApiError::bad(format!(
                "f(x, y) = {} is not finite at the start ({}, {}): f = {value}, gradient ({gx}, {gy}); choose another start",
                landscape.formula(),
                number(x),
                number(y)
            )));
        }
        let mut race = Race::article();
        race.start = start;
        race.steps = steps;
        race.optimizers = optimizers;
        race.convention = convention;
        // Every spec is built now, so a bad one is refused before any work.
        for spec in &race.optimizers {
            registry::build_in::<f64>(spec, convention)?;
        }
        Ok(CheckedRace {
            landscape,
            step_cost,
            race,
        })
    }

    /// The race and the tuning asked for (`score`, `trials`), checked.
    pub fn check_tune(&self) -> Result<(CheckedRace, Tune), ApiError> {
        let checked = self.check_race()?;
        let landscape = checked.landscape.as_ref();
        let score = match &self.score {
            Some(s) => s.parse::<Score>().map_err(ApiError::bad)?,
            None => Score::default_for(landscape),
        };
        let mut search = Search::default();
        if let Some(n) = self.trials {
            let n = whole("trials", n, 2..=200)?;
            // As `optimist tune --trials`: 60% in the first sweep.
            search.coarse = (n * 3).div_ceil(5);
            search.refine = n - search.coarse;
        }
        if score == Score::Distance && landscape.minima().is_empty() {
            return Err(ApiError::bad(
                TuneError::NoMinima(landscape.formula().to_string()).to_string(),
            ));
        }
        search.check().map_err(|e| ApiError::bad(e.to_string()))?;
        let config = Tune {
            start: checked.race.start,
            steps: checked.race.steps,
            score,
            search,
            convention: checked.race.convention,
            wrapping: Default::default(),
        };
        Ok((checked, config))
    }
}

/// `{name, formula, window, minima, start}` of every built-in.
pub fn landscapes_json() -> Value {
    let list: Vec<Value> = builtins()
        .iter()
        .map(|b| {
            let w = b.window();
            json!({
                "name": b.name(),
                "formula": b.formula(),
                "window": [w.x_min, w.x_max, w.y_min, w.y_max],
                "minima": b.minima().iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
                "start": [b.start().0, b.start().1],
            })
        })
        .collect();
    json!({ "landscapes": list })
}

/// A hyperparameter's value as JSON.
fn value_json(v: HyperValue) -> Value {
    match v {
        HyperValue::Num(x) => json!(x),
        HyperValue::Int(n) => json!(n),
        HyperValue::Bool(b) => json!(b),
        HyperValue::Pair(a, b) => json!([a, b]),
    }
}

/// A range as `{min, max, min_included, max_included, integer}` (`null` for no bound).
fn range_json(range: Range) -> Value {
    let (min, min_in, max, max_in, integer): (Option<f64>, bool, Option<f64>, bool, bool) =
        match range {
            Range::Any => (None, false, None, false, false),
            Range::Positive => (Some(0.0), false, None, false, false),
            Range::NonNegative => (Some(0.0), true, None, false, false),
            Range::Unit => (Some(0.0), true, Some(1.0), false, false),
            Range::UnitClosed => (Some(0.0), true, Some(1.0), true, false),
            Range::AtLeast(m) => (Some(m as f64), true, None, false, true),
            Range::Between {
                lo,
                lo_incl,
                hi,
                hi_incl,
            } => (Some(lo), lo_incl, Some(hi), hi_incl, false),
        };
    json!({
        "min": min, "max": max, "min_included": min_in, "max_included": max_in, "integer": integer,
    })
}

/// Every optimizer of the registry with its hyperparameters' defaults and ranges.
pub fn optimizers_json() -> Value {
    let list: Vec<Value> = registry::catalog()
        .iter()
        .map(|info| {
            let keys: Vec<Value> = info
                .keys
                .iter()
                .map(|k| {
                    let kind = match k.default {
                        HyperValue::Num(_) => "number",
                        HyperValue::Int(_) => "integer",
                        HyperValue::Bool(_) => "bool",
                        HyperValue::Pair(..) => "pair",
                    };
                    json!({
                        "name": k.name,
                        "kind": kind,
                        "default": value_json(k.default),
                        "range": range_json(k.range),
                        "allowed": match k.default {
                            HyperValue::Bool(_) => "true or false".to_string(),
                            _ => k.range.describe(k.name),
                        },
                        "doc": k.doc,
                    })
                })
                .collect();
            json!({
                "name": info.name,
                "convention": info.convention,
                "formula": info.formula,
                "paper": info.paper,
                "hyperparameters": keys,
            })
        })
        .collect();
    json!({ "optimizers": list })
}

/// What the page draws of a landscape: formula, window, start, minima, contour lines.
pub fn landscape_json(landscape: &dyn Landscape) -> Result<Value, ApiError> {
    let w = landscape.window();
    let contours = contour_rings(landscape).map_err(|e| ApiError::bad(format!("function: {e}")))?;
    let (sx, sy) = landscape.start();
    Ok(json!({
        "name": landscape.name(),
        "formula": landscape.formula(),
        "window": [w.x_min, w.x_max, w.y_min, w.y_max],
        "start": [sx, sy],
        "minima": landscape.minima().iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>(),
        "steps": if landscape.name() == "article" { 30 } else { 100 },
        "quantum": CONTOUR_QUANTUM,
        "contours": contours,
    }))
}
