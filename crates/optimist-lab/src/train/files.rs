//! The run's files: every loss and the summary as CSV, and the loss figure.

use super::config::TrainError;
use super::run::TrainResult;
use crate::output::{csv_field, shortest, write_set};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Every loss as CSV: `iteration`, then per optimizer its raw loss and its smoothed
/// loss (columns named by spec, e.g. `adam:lr=0.001` and `adam:lr=0.001 smoothed`).
pub fn loss_csv(result: &TrainResult) -> String {
    let smoothed: Vec<Vec<f64>> = result.runs.iter().map(|r| r.smoothed()).collect();
    let mut out = String::from("iteration");
    for r in &result.runs {
        let _ = write!(
            out,
            ",{},{}",
            csv_field(&r.spec.to_string()),
            csv_field(&format!("{} smoothed", r.spec))
        );
    }
    out.push('\n');
    for i in 0..result.config.iterations {
        let _ = write!(out, "{i}");
        for (r, s) in result.runs.iter().zip(&smoothed) {
            let _ = write!(out, ",{},{}", number(f64::from(r.losses[i])), number(s[i]));
        }
        out.push('\n');
    }
    out
}

/// Per optimizer: spec, label, final smoothed batch loss, training-set loss and
/// accuracy, evaluation accuracy, seconds, and the iteration it diverged at (empty if
/// it did not).
pub fn summary_csv(result: &TrainResult) -> String {
    let mut out = format!(
        "optimizer,label,final_smoothed_loss,train_loss,train_accuracy,{}_accuracy,seconds,diverged_at\n",
        result.eval_set.name().replace('-', "_")
    );
    for r in &result.runs {
        let smoothed = r.smoothed().last().copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            csv_field(&r.spec.to_string()),
            csv_field(&r.label),
            number(smoothed),
            number(r.train_loss),
            number(r.train_accuracy),
            number(r.accuracy),
            number(r.seconds),
            r.diverged_at.map_or(String::new(), |d| d.to_string())
        );
    }
    out
}

/// The files [`write_outputs`] writes, by name.
pub const OUTPUT_FILES: [&str; 4] = [
    "mnist-loss.csv",
    "mnist-summary.csv",
    "mnist-loss.png",
    "mnist-loss.svg",
];

/// Writes every loss ([`loss_csv`]), the accuracies and timings ([`summary_csv`]) and
/// the loss figure as PNG and SVG into `dir` (created if missing), each file whole or
/// not at all. Returns the paths written.
pub fn write_outputs(result: &TrainResult, dir: &Path) -> Result<Vec<PathBuf>, TrainError> {
    std::fs::create_dir_all(dir).map_err(|source| TrainError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let paths: Vec<PathBuf> = OUTPUT_FILES.iter().map(|f| dir.join(f)).collect();
    let figure = super::figure::LossFigure::new(result);
    let contents = [
        loss_csv(result).into_bytes(),
        summary_csv(result).into_bytes(),
        figure.png().map_err(|e| TrainError::Write {
            path: paths[2].clone(),
            source: std::io::Error::other(e),
        })?,
        figure
            .svg()
            .map_err(|e| TrainError::Write {
                path: paths[3].clone(),
                source: std::io::Error::other(e),
            })?
            .into_bytes(),
    ];
    let files: Vec<(&PathBuf, Vec<u8>)> = paths.iter().zip(contents).collect();
    write_set(&files).map_err(|e| TrainError::Write {
        path: e.path,
        source: e.source,
    })?;
    Ok(paths)
}

/// A number for CSV: shortest round-trip form; `NaN` for not-a-number.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        shortest(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(
            csv_field("adam:lr=0.1,beta1=0.8"),
            "\"adam:lr=0.1,beta1=0.8\""
        );
        assert_eq!(csv_field("sgd:lr=0.01"), "sgd:lr=0.01");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }
}
