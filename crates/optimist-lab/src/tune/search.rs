//! The learning rates a tuning tries (a log-spaced sweep, then a finer one around the
//! best) and how a trial is scored.

use super::error::{TuneError, MAX_TRIALS, MIN_RANGE_RATIO};
use crate::landscape::Landscape;

/// What a trial is scored by (lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// f at the last position.
    Loss,
    /// The distance from the last position to the nearest known minimum.
    Distance,
}

impl Score {
    /// Every score, in the order listed in messages.
    pub const ALL: [Score; 2] = [Score::Loss, Score::Distance];

    /// The name used on the command line: `loss` or `distance`.
    pub fn name(self) -> &'static str {
        match self {
            Score::Loss => "loss",
            Score::Distance => "distance",
        }
    }

    /// In words, for tables and figures.
    pub fn describe(self) -> &'static str {
        match self {
            Score::Loss => "final loss",
            Score::Distance => "final distance to the nearest minimum",
        }
    }

    /// Distance where the landscape's minima are known, else loss.
    pub fn default_for(landscape: &dyn Landscape) -> Score {
        if landscape.minima().is_empty() {
            Score::Loss
        } else {
            Score::Distance
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Score {
    type Err = String;

    /// `loss` or `distance`.
    fn from_str(text: &str) -> Result<Score, String> {
        Score::ALL
            .into_iter()
            .find(|s| s.name() == text.trim())
            .ok_or_else(|| format!("unknown score '{text}'; expected loss or distance"))
    }
}

/// Which learning rates are tried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// The smallest rate of the first sweep.
    pub lr_min: f64,
    /// The largest rate of the first sweep.
    pub lr_max: f64,
    /// Rates of the first sweep, log-spaced from `lr_min` to `lr_max` (at least 2).
    pub coarse: usize,
    /// Rates of the second sweep, log-spaced between the neighbours of the first
    /// sweep's best (0 for none).
    pub refine: usize,
}

impl Default for Search {
    /// 30 rates from 1e-6 to 10, then 20 around the best: 50 trials per optimizer.
    fn default() -> Search {
        Search {
            lr_min: 1e-6,
            lr_max: 10.0,
            coarse: 30,
            refine: 20,
        }
    }
}

impl Search {
    /// Trials per optimizer.
    pub fn trials(&self) -> usize {
        self.coarse + self.refine
    }

    /// Checks that the range is a finite, positive interval and the counts make sense.
    pub fn check(&self) -> Result<(), TuneError> {
        let ok = self.lr_min.is_finite()
            && self.lr_max.is_finite()
            && self.lr_min > 0.0
            && self.lr_min < self.lr_max;
        if !ok {
            return Err(TuneError::BadRange {
                min: self.lr_min,
                max: self.lr_max,
            });
        }
        // The rates are kept to four significant digits and plotted on a log axis: a
        // narrower range has no distinct rates to try.
        if self.lr_max < self.lr_min * MIN_RANGE_RATIO {
            return Err(TuneError::NarrowRange {
                min: self.lr_min,
                max: self.lr_max,
            });
        }
        if self.coarse < 2 || self.trials() > MAX_TRIALS {
            return Err(TuneError::BadCount {
                coarse: self.coarse,
                refine: self.refine,
            });
        }
        Ok(())
    }

    /// The first sweep's rates, from `lr_min` to `lr_max`, each a constant ratio
    /// ([`Search::ratio`]) above the last, to four significant digits.
    pub fn coarse_rates(&self) -> Vec<f64> {
        let ratio = self.ratio();
        (0..self.coarse)
            .map(|k| {
                if k == 0 {
                    self.lr_min
                } else if k + 1 == self.coarse {
                    self.lr_max
                } else {
                    round_rate(self.lr_min * ratio.powi(k as i32))
                }
            })
            .collect()
    }

    /// The ratio between neighbouring rates of the first sweep.
    pub fn ratio(&self) -> f64 {
        (self.lr_max / self.lr_min).powf(1.0 / (self.coarse - 1) as f64)
    }

    /// The second sweep's rates: log-spaced strictly between `best / ratio` and
    /// `best · ratio` (the first sweep's neighbours of its best), half below `best` and
    /// half above, to four significant digits.
    pub fn refine_rates(&self, best: f64) -> Vec<f64> {
        let ln = self.ratio().ln();
        let below = self.refine / 2;
        let above = self.refine - below;
        let down = (1..=below).rev().map(|k| -(k as f64) / (below + 1) as f64);
        let up = (1..=above).map(|k| k as f64 / (above + 1) as f64);
        down.chain(up)
            .map(|t| round_rate(best * (t * ln).exp()))
            .collect()
    }
}

/// `lr` to four significant digits: rates that read well in tables and titles, and
/// that the race runs exactly as tuned (also numbers in notes).
pub(super) fn round_rate(lr: f64) -> f64 {
    format!("{lr:.3e}").parse().unwrap_or(lr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_too_narrow_to_search_are_refused() {
        for (lo, hi) in [
            (1.0, 1.0000000000000002),
            (1e-4, 1.0001e-4),
            (1e10, 1.001e10),
        ] {
            let search = Search {
                lr_min: lo,
                lr_max: hi,
                ..Search::default()
            };
            let e = search.check().unwrap_err().to_string();
            assert!(e.contains("too close to search between"), "{e}");
        }
        let ok = Search {
            lr_min: 1.0,
            lr_max: 1.01,
            ..Search::default()
        };
        assert!(ok.check().is_ok());
    }

    #[test]
    fn rates_are_log_spaced_and_refined_around_the_best() {
        let s = Search::default();
        let rates = s.coarse_rates();
        assert_eq!(rates.len(), 30);
        assert_eq!((rates[0], rates[29]), (1e-6, 10.0));
        for pair in rates.windows(2) {
            assert!((pair[1] / pair[0] / s.ratio() - 1.0).abs() < 1e-3);
        }
        assert_eq!(rates[1], 1.743e-6, "four significant digits");
        let fine = s.refine_rates(rates[10]);
        assert_eq!(fine.len(), 20);
        assert!(fine.windows(2).all(|p| p[0] < p[1]));
        assert!(fine[0] > rates[9] && fine[19] < rates[11]);
        assert!(!fine.contains(&rates[10]));
        let odd = Search { refine: 3, ..s }.refine_rates(1.0);
        assert_eq!(odd.len(), 3);
        assert!(odd[0] < 1.0 && odd[1] > 1.0 && odd[2] > odd[1]);
        assert!(Search { coarse: 1, ..s }.check().is_err());
        assert!(Search { lr_min: 0.0, ..s }.check().is_err());
        assert!(Search {
            lr_min: 1.0,
            lr_max: 1.0,
            ..s
        }
        .check()
        .is_err());
        assert!(Search {
            lr_max: f64::INFINITY,
            ..s
        }
        .check()
        .is_err());
        assert!(Search {
            refine: MAX_TRIALS,
            ..s
        }
        .check()
        .is_err());
    }
}
