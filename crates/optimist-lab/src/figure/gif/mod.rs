//! The race as an animated GIF: every optimizer moving at once over one contour plot,
//! each trail in its own colour with a legend, like the animations of Ruder's overview
//! of gradient descent.
//!
//! The background (contour lines, axes, legend) is drawn once, anti-aliased, and mapped
//! to a 255-colour palette. Each frame then adds the new stretch of every trail and moves
//! the heads, in palette indices, and stores only the pixels that changed since the
//! previous frame: frames are cheap to make and to store.
//!
//! - [`layout`]: where the plot and legend go, and which steps become frames;
//! - [`background`]: everything that does not move, drawn once;
//! - [`frames`]: each frame's new trails, heads and statuses;
//! - [`palette`]: the colours and the GIF encoder.

pub mod background;
pub mod frames;
pub mod layout;
pub mod palette;

pub use self::frames::{animation, animation_until};
pub(crate) use self::layout::spread_steps;
pub use self::layout::{
    animation_layout, frame_delay, frame_steps, AnimationLayout, FIRST_DELAY, LAST_DELAY,
    MAX_FRAMES,
};
