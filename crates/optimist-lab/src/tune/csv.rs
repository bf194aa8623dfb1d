//! Every trial of a tuning as CSV.

use super::run::Tuning;
use crate::output::shortest;
use std::fmt::Write as _;

/// Every trial as CSV: `optimizer,lr,score,final_x,final_y,final_loss,final_distance,
/// diverged_at,outside,best`, the optimizer as [`Tuned::label`](super::Tuned::label), an empty field where
/// there is no value.
pub fn tuning_csv(tuning: &Tuning) -> String {
    let mut out = String::from(
        "optimizer,lr,score,final_x,final_y,final_loss,final_distance,diverged_at,outside,best\n",
    );
    for tuned in &tuning.results {
        // The label may hold commas (rmsprop:lr=...,decay_rate=...): quoted.
        let label = crate::output::csv_field(&tuned.label());
        for (i, t) in tuned.trials.iter().enumerate() {
            let _ = writeln!(
                out,
                "{label},{},{},{},{},{},{},{},{},{}",
                shortest(t.lr),
                shortest(t.score),
                shortest(t.last.x),
                shortest(t.last.y),
                shortest(t.last.loss),
                t.distance.map(shortest).unwrap_or_default(),
                t.diverged_at.map(|k| k.to_string()).unwrap_or_default(),
                t.outside,
                i == tuned.best
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::article;
    use crate::tune::{tune, Search, Tune};
    use optimist::Spec;

    fn specs(names: &[&str]) -> Vec<Spec> {
        names.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn the_csv_has_a_row_per_trial() {
        let f = article();
        let config = Tune {
            search: Search {
                coarse: 4,
                refine: 2,
                ..Search::default()
            },
            ..Tune::new(&f, 5)
        };
        let tuning = tune(
            &f,
            &specs(&["sgd", "adam:beta1=0.8,beta2=0.99"]),
            &config,
            &|| {},
        )
        .unwrap();
        let csv = tuning_csv(&tuning);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + 12);
        assert!(lines[1].starts_with("sgd,1e-6,"), "{}", lines[1]);
        assert!(lines[7].starts_with("\"adam:beta1=0.8,beta2=0.99\",1e-6,"));
        assert!(lines[2].starts_with("sgd,"), "sgd:lr=... is labelled sgd");
        assert_eq!(lines.iter().filter(|l| l.ends_with(",true")).count(), 2);
        // lr = 10 multiplies y by −19 each step: finite after 5 steps, but far outside
        // the window, so it fails (score +∞) with its distance still written.
        let last = lines[6].split(',').collect::<Vec<_>>();
        assert_eq!(last[1], "10.0");
        assert_eq!((last[2], last[7], last[8]), ("inf", "", "true"));
        assert!(last[6].parse::<f64>().unwrap() > 1e5);
    }
}
