//! The one error type of the library.

use crate::suggest::did_you_mean;
use crate::text::quoted;
use thiserror::Error;

/// What went wrong, worded for the person who has to fix it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter outside its allowed range.
    #[error("{optimizer}: {key} = {value} is out of range; allowed: {allowed}")]
    OutOfRange {
        /// The optimizer's name.
        optimizer: String,
        /// The hyperparameter's name.
        key: String,
        /// The value given, as written.
        value: String,
        /// The allowed range, e.g. `0 <= beta1 < 1`.
        allowed: String,
    },
    /// A hyperparameter value that does not parse as its type.
    #[error("{optimizer}: {key} = {} is not {expected}", quoted(value))]
    BadValue {
        /// The optimizer's name.
        optimizer: String,
        /// The hyperparameter's name.
        key: String,
        /// The text given.
        value: String,
        /// What was expected, e.g. `a finite number`.
        expected: String,
    },
    /// An optimizer name the registry does not know.
    #[error("unknown optimizer {}{}; known optimizers: {}", quoted(name), did_you_mean(name, known), known.join(", "))]
    UnknownOptimizer {
        /// The name given.
        name: String,
        /// Every known name.
        known: Vec<String>,
    },
    /// A hyperparameter name the optimizer does not have.
    #[error("{optimizer} has no hyperparameter {}{}; its hyperparameters: {}{}", quoted(key), did_you_mean(key, known), known.join(", "), in_convention(optimizer, key, elsewhere))]
    UnknownKey {
        /// The optimizer's name.
        optimizer: String,
        /// The key given.
        key: String,
        /// The optimizer's keys.
        known: Vec<String>,
        /// Another convention whose optimizer of the same name has the key, e.g.
        /// `pytorch` for `sgd:momentum=0.9` in the article's convention.
        elsewhere: Option<String>,
    },
    /// An optimizer spec that does not have the form `NAME[:KEY=VALUE[,KEY=VALUE...]]`.
    #[error("bad optimizer spec {}: {why}; expected NAME[:KEY=VALUE[,KEY=VALUE...]], e.g. adam:lr=0.3,beta1=0.9", quoted(spec))]
    BadSpec {
        /// The spec given.
        spec: String,
        /// What is wrong with it.
        why: String,
    },
    /// A tensor whose shape does not match its number of elements.
    #[error("shape {shape:?} needs {} elements, got {len}", needs(shape))]
    ShapeData {
        /// The shape.
        shape: Vec<usize>,
        /// The number of elements given.
        len: usize,
    },
    /// A shape whose number of elements (or of a state buffer's) does not fit in a
    /// `usize`.
    #[error("shape {shape:?} has more elements than this machine can address")]
    ShapeOverflow {
        /// The shape.
        shape: Vec<usize>,
    },
    /// Parameters and gradients that do not pair up.
    #[error("parameters and gradients do not match: {0}")]
    GradMismatch(String),
    /// A learning-rate schedule name that `optimist::schedule` does not know.
    #[error("unknown schedule {}{}; known schedules: {}", quoted(name), did_you_mean(name, known), known.join(", "))]
    UnknownSchedule {
        /// The name given.
        name: String,
        /// Every known name.
        known: Vec<String>,
    },
    /// A key that has no default and was not given, e.g. a schedule's `step_size`.
    #[error("{optimizer}: {key} is required; allowed: {allowed}")]
    MissingKey {
        /// The optimizer's, schedule's or clipping's name.
        optimizer: String,
        /// The key missing.
        key: String,
        /// What it may be, e.g. `step_size a whole number >= 1`.
        allowed: String,
    },
    /// Something an optimizer cannot do with the tensors or settings it was given, e.g.
    /// Muon with a tensor that is not 2-D.
    #[error("{optimizer}: {why}")]
    Unsupported {
        /// The optimizer's, schedule's or clipping's name.
        optimizer: String,
        /// What is not supported, and what is.
        why: String,
    },
    /// A step whose tensors differ from those the optimizer's state was created for.
    #[error("the parameters changed since the optimizer's state was created: {0}; use a new optimizer (or reset it) for other parameters")]
    StateMismatch(String),
    /// A gradient holding NaN or an infinity, under [`crate::NonFinite::Refuse`]: the
    /// step changed nothing.
    #[error("the gradient of '{tensor}' holds {value} at element {index} (index {position:?}); the step was refused and nothing changed; to skip such steps instead, set the optimizer's non-finite policy to skip")]
    NonFinite {
        /// The parameter's name.
        tensor: String,
        /// The first bad element's index in the flattened tensor.
        index: usize,
        /// The same element's index along each axis.
        position: Vec<usize>,
        /// The bad value: `NaN`, `inf` or `-inf`.
        value: String,
    },
    /// Saved optimizer state that cannot be loaded: not a state file, truncated,
    /// corrupt, or the state of another optimizer.
    #[error("cannot load the optimizer state{}: {why}", file.as_ref().map(|f| format!(" from '{f}'")).unwrap_or_default())]
    StateFile {
        /// The file read, if it came from one.
        file: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// A file that could not be read or written.
    #[error("cannot {action} '{path}': {source}")]
    Io {
        /// What was being done: `read`, `write`, ...
        action: String,
        /// The file.
        path: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A parameter group that cannot be built or used.
    #[error("parameter group {}: {why}", quoted(pattern))]
    Group {
        /// The group's pattern.
        pattern: String,
        /// What is wrong, and what is allowed.
        why: String,
    },
}

/// The hint that the `elsewhere` convention's `optimizer` has `key`, or nothing.
fn in_convention(optimizer: &str, key: &str, elsewhere: &Option<String>) -> String {
    elsewhere
        .as_ref()
        .map(|c| format!("; '{key}' is a hyperparameter of {optimizer} in the {c} convention (choose convention {c}, e.g. --convention {c})"))
        .unwrap_or_default()
}

/// The number of elements of `shape`, in words (it may not fit in a `usize`).
fn needs(shape: &[usize]) -> String {
    match shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        Some(n) => n.to_string(),
        None => "more".to_string(),
    }
}

/// Errors are equal when they are the same kind of error with the same message; an
/// I/O error's source compares by its kind and message (`std::io::Error` has no `==`).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        if std::mem::discriminant(self) != std::mem::discriminant(other) {
            return false;
        }
        if let (Error::Io { source: a, .. }, Error::Io { source: b, .. }) = (self, other) {
            if a.kind() != b.kind() {
                return false;
            }
        }
        self.to_string() == other.to_string()
    }
}

/// A copy; an I/O error is copied as its kind and message (`std::io::Error` is not
/// `Clone`).
impl Clone for Error {
    fn clone(&self) -> Self {
        use Error::*;
        match self {
            OutOfRange {
                optimizer,
                key,
                value,
                allowed,
            } => OutOfRange {
                optimizer: optimizer.clone(),
                key: key.clone(),
                value: value.clone(),
                allowed: allowed.clone(),
            },
            BadValue {
                optimizer,
                key,
                value,
                expected,
            } => BadValue {
                optimizer: optimizer.clone(),
                key: key.clone(),
                value: value.clone(),
                expected: expected.clone(),
            },
            UnknownOptimizer { name, known } => UnknownOptimizer {
                name: name.clone(),
                known: known.clone(),
            },
            UnknownKey {
                optimizer,
                key,
                known,
                elsewhere,
            } => UnknownKey {
                optimizer: optimizer.clone(),
                key: key.clone(),
                known: known.clone(),
                elsewhere: elsewhere.clone(),
            },
            BadSpec { spec, why } => BadSpec {
                spec: spec.clone(),
                why: why.clone(),
            },
            ShapeData { shape, len } => ShapeData {
                shape: shape.clone(),
                len: *len,
            },
            ShapeOverflow { shape } => ShapeOverflow {
                shape: shape.clone(),
            },
            GradMismatch(why) => GradMismatch(why.clone()),
            UnknownSchedule { name, known } => UnknownSchedule {
                name: name.clone(),
                known: known.clone(),
            },
            MissingKey {
                optimizer,
                key,
                allowed,
            } => MissingKey {
                optimizer: optimizer.clone(),
                key: key.clone(),
                allowed: allowed.clone(),
            },
            Unsupported { optimizer, why } => Unsupported {
                optimizer: optimizer.clone(),
                why: why.clone(),
            },
            StateMismatch(why) => StateMismatch(why.clone()),
            NonFinite {
                tensor,
                index,
                position,
                value,
            } => NonFinite {
                tensor: tensor.clone(),
                index: *index,
                position: position.clone(),
                value: value.clone(),
            },
            StateFile { file, why } => StateFile {
                file: file.clone(),
                why: why.clone(),
            },
            Io {
                action,
                path,
                source,
            } => Io {
                action: action.clone(),
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Group { pattern, why } => Group {
                pattern: pattern.clone(),
                why: why.clone(),
            },
        }
    }
}
