//! `optimist list`: every optimizer, as the registry describes it, and every built-in
//! landscape.

use crate::Failure;
use optimist::hyper::Value;
use optimist::{registry, Convention};
use optimist_lab::landscape::{builtins, Landscape};

/// What `optimist list` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// The optimizers only.
    Optimizers,
    /// The built-in landscapes only.
    Landscapes,
    /// The problems of `optimist bench` only.
    Problems,
}

/// Options of `optimist list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to list: optimizers or landscapes [default: both]
    #[arg(value_enum)]
    what: Option<What>,

    /// Only the optimizers of this convention: article, pytorch or optax.
    #[arg(long, value_parser = crate::parse_convention)]
    convention: Option<Convention>,
}

/// Prints the catalog.
pub fn run(args: Args) -> Result<(), Failure> {
    let mut out = String::new();
    if args.what.is_none() || args.what == Some(What::Optimizers) {
        out.push_str(&optimizers(args.convention));
    }
    if args.what.is_none() || args.what == Some(What::Landscapes) {
        out.push_str(&landscapes());
    }
    if args.what.is_none() || args.what == Some(What::Problems) {
        out.push_str(&problems());
    }
    crate::stdio::print(&out)
}

/// Every problem of `optimist bench`: its name, what it is, budget, metric and target.
fn problems() -> String {
    let mut out = String::from(
        "Problems (optimist bench --problem NAME[:KEY=VALUE,...]; every landscape with a known minimum, with gradient noise)\n\n",
    );
    for p in optimist_lab::bench::problems::registry() {
        let goal = match p.goal() {
            optimist_lab::bench::Goal::Minimize => "lower",
            optimist_lab::bench::Goal::Maximize => "higher",
        };
        out.push_str(&format!("{}\n  {}\n", p.spec, p.describe()));
        out.push_str(&format!(
            "  budget {} steps; metric: {} ({goal} is better); target {}\n",
            p.budget,
            p.metric(),
            p.target
        ));
        out.push_str(&format!(
            "  keys: {}\n\n",
            optimist_lab::bench::problems::keys(p.spec.as_str()).join(", ")
        ));
    }
    out
}

/// Every built-in landscape: its name, formula, window, minima and classic start.
fn landscapes() -> String {
    let mut out = String::from(
        "Landscapes (--function NAME; or a formula in x and y, e.g. --function \"x^2/20 + y^2\")\n\n",
    );
    let point = |(x, y): (f64, f64)| format!("({x}, {y})");
    for f in builtins() {
        let minima: Vec<String> = f.minima().into_iter().map(point).collect();
        out.push_str(&format!("{}\n", f.name()));
        out.push_str(&format!("  f(x, y) = {}\n", f.formula()));
        out.push_str(&format!("  window:  {}\n", f.window()));
        out.push_str(&format!(
            "  minima:  {}\n",
            if minima.is_empty() {
                "none (unbounded below)".to_string()
            } else {
                minima.join(", ")
            }
        ));
        out.push_str(&format!("  start:   {}\n\n", point(f.start())));
    }
    out
}

/// Every optimizer of `convention` (all if `None`).
fn optimizers(convention: Option<Convention>) -> String {
    let mut out = String::new();
    for info in registry::catalog() {
        if convention.is_some_and(|c| c.name() != info.convention) {
            continue;
        }
        out.push_str(&format!("{} ({})\n", info.name, info.convention));
        out.push_str(&format!("  update: {}\n", info.formula));
        out.push_str(&format!("  paper:  {}\n", info.paper));
        let rows: Vec<[String; 4]> = info
            .keys
            .iter()
            .map(|k| {
                let range = match k.default {
                    Value::Bool(_) => "true or false".to_string(),
                    _ => k.range.describe(k.name),
                };
                [
                    k.name.to_string(),
                    format!("default {}", k.default),
                    range,
                    k.doc.to_string(),
                ]
            })
            .collect();
        let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
        let (w0, w1, w2) = (width(0), width(1), width(2));
        for [name, default, range, doc] in &rows {
            out.push_str(&format!(
                "  {name:w0$}  {default:w1$}  {range:w2$}  {doc}\n"
            ));
        }
        out.push('\n');
    }
    out
}
