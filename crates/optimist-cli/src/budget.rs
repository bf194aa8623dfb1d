//! Memory a run may take, estimated before it starts: a run that would need more than
//! the budget (half this machine's memory, or `--memory-limit`) is refused, saying which
//! product of the settings is too large. The estimates and the refusal are the lab's
//! (`optimist_lab::budget`), shared with Python's `memory_limit=`; this file adds the
//! option and the names of the flags that lower a run.

use crate::Failure;
use optimist_lab::budget::{self as lab, parse_size, Limit};
use optimist_lab::train::TrainConfig;

/// `--memory-limit`.
#[derive(Debug, Clone, clap::Args)]
pub struct BudgetArgs {
    /// The most memory the run may take, e.g. 8G, 512M (K, M, G, T in powers of 1024)
    /// [default: half this machine's memory]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<u64>,
}

/// A run's memory, estimated (the lab's estimate), with the options that lower it.
pub struct Estimate {
    /// Bytes, and the product they come from.
    pub estimate: lab::Estimate,
    /// Which options lower it.
    pub lower: &'static str,
}

/// What a race of `optimizers` × `steps` holds.
pub fn race_memory(optimizers: usize, steps: usize) -> Estimate {
    Estimate {
        estimate: lab::race_memory(optimizers, steps),
        lower: "--steps or the number of optimizers",
    }
}

/// What training `config` on images of `inputs` pixels holds.
pub fn network_memory(config: &TrainConfig, inputs: usize) -> Estimate {
    Estimate {
        estimate: lab::network_memory(config, inputs),
        lower: "--hidden, --batch-size or the number of optimizers",
    }
}

impl BudgetArgs {
    /// The budget and where it comes from.
    fn limit(&self) -> Limit {
        match self.memory_limit {
            Some(b) => Limit::given(b, "--memory-limit"),
            None => Limit::default_for_machine(),
        }
    }

    /// Refuses a run whose estimate exceeds the budget.
    pub fn check(&self, estimate: &Estimate) -> Result<(), Failure> {
        self.limit()
            .check(&estimate.estimate, estimate.lower, "--memory-limit SIZE")
            .map_err(Failure::usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_over_the_limit_names_its_product_and_the_limit() {
        let args = BudgetArgs {
            memory_limit: Some(1 << 30),
        };
        let e = args
            .check(&Estimate {
                estimate: lab::Estimate {
                    bytes: 6.4e9,
                    product: "8 optimizers × 10000001 points × 80 bytes".into(),
                },
                lower: "--steps",
            })
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "this run would take about 6.4 GB (8 optimizers × 10000001 points × 80 bytes), more than the limit of 1.1 GB (--memory-limit); lower --steps, or raise the limit with --memory-limit SIZE"
        );
        assert!(args
            .check(&Estimate {
                estimate: lab::Estimate {
                    bytes: 1e9,
                    product: String::new(),
                },
                lower: ""
            })
            .is_ok());
    }
}
