//! `optimist list`: every optimizer, as the registry describes it.

use crate::Failure;
use optimist::hyper::Value;
use optimist::{registry, Convention};

/// Options of `optimist list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the optimizers of this convention: article, pytorch or optax.
    #[arg(long, value_parser = crate::parse_convention)]
    convention: Option<Convention>,
}

/// Prints the catalog.
pub fn run(args: Args) -> Result<(), Failure> {
    let mut out = String::new();
    for info in registry::catalog() {
        if args.convention.is_some_and(|c| c.name() != info.convention) {
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
    print!("{out}");
    Ok(())
}
