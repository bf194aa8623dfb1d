//! Typed landscapes: a formula in x and y such as `x^2/20 + y^2`, parsed, differentiated
//! exactly (symbolically), and evaluated as a [`Landscape`](super::Landscape).
//!
//! The grammar: numbers (`3`, `0.5`, `1e-3`), `x`, `y`, the constants `pi` (`π`) and
//! `e`, the operators `+ - * / ^` (also `**`, `·`, `×`, `−` and superscripts `x²`),
//! unary minus, parentheses, implicit multiplication (`2x`, `3(x + y)`), and the
//! functions `sin cos tan exp log sqrt abs tanh` (`ln` for `log`). `^` binds tighter
//! than unary minus and groups to the right: `-x^2` is −(x²), `2^3^2` is 2⁹.
//!
//! The formula and its two partial derivatives share one graph of operations in which
//! every distinct subexpression appears once, so a gradient costs about one pass over
//! the formula's operations and the derivative's.

mod expression;
mod graph;
mod parse;

pub use self::expression::{Formula, FormulaError, DEFAULT_WINDOW, MAX_LENGTH};
