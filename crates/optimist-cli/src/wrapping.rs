//! `--schedule` and `--clip`: what wraps every optimizer of `compare`, `tune` and
//! `train`.

use optimist::clip::Clip;
use optimist::schedule::Schedule;
use optimist_lab::race::Wrapping;

/// Options that wrap every optimizer.
#[derive(Debug, Clone, clap::Args)]
pub struct WrappingArgs {
    /// A learning-rate schedule for every optimizer, stepped after each update, with
    /// torch's names: e.g. cosineannealinglr:T_max=30, steplr:step_size=10,gamma=0.5,
    /// onecyclelr:max_lr=0.5,total_steps=30; any but onecyclelr may add warmup_steps=N
    #[arg(long, value_name = "SCHEDULE", value_parser = parse_schedule)]
    schedule: Option<Schedule>,

    /// Clip the gradients before every update: clip_grad_norm:max_norm=X (their global
    /// L2 norm, as torch's clip_grad_norm_) or clip_grad_value:clip_value=X
    #[arg(long, value_name = "CLIP", value_parser = parse_clip)]
    clip: Option<Clip>,
}

impl WrappingArgs {
    /// The wrapping these options ask for.
    pub fn wrapping(&self) -> Wrapping {
        Wrapping {
            schedule: self.schedule.clone(),
            clip: self.clip,
        }
    }
}

fn parse_schedule(text: &str) -> Result<Schedule, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}

fn parse_clip(text: &str) -> Result<Clip, String> {
    text.parse().map_err(|e: optimist::Error| e.to_string())
}
