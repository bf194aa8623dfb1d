//! Saved optimizer state: the file format of
//! [`Optimizer::save_state`](crate::Optimizer::save_state) and
//! [`Optimizer::load_state`](crate::Optimizer::load_state) (and
//! [`Optimizer::save`](crate::Optimizer::save), [`Optimizer::load`](crate::Optimizer::load)
//! for files).
//!
//! A run stopped after step k and resumed from its saved state takes bit-identical
//! steps to a run never stopped: the file holds everything a step reads (step count,
//! carried scalars, every state buffer, a schedule's position, the count of skipped
//! steps), numbers as their exact bits.
//!
//! # Format, version 2
//! Little-endian throughout. A file is one *envelope*:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `OPTIMIST` |
//! | 4 | format version (u32) |
//! | 8 | body length (u64) |
//! | body | the body (below) |
//! | 4 | CRC-32 (IEEE) of everything before it |
//!
//! Strings are a u32 byte count and UTF-8; lists a u32 count; float buffers a u64
//! count and the values in the optimizer's float type (4 bytes for f32, 8 for f64). The
//! body starts with its kind (a string), then:
//! - `optimizer` ([`crate::Elementwise`], [`crate::Tensorwise`]): name, convention,
//!   hyperparameters (key, then a tag 0 number f64 / 1 switch u8 / 2 pair f64 f64 /
//!   3 whole number u64), float type (`f32`, `f64`), steps taken (u64), steps skipped
//!   (u64), tensors (name, shape as u64 list, the tensor's own step count (u64), its
//!   carried scalars (f64 list, [`CarryState`]), state buffers);
//! - `scheduled` ([`crate::schedule::Scheduled`]): the schedule as its spec, the base
//!   learning rate (f64), the schedule's position (u64), the inner optimizer's envelope
//!   (u64 length and bytes);
//! - `clipped` ([`crate::clip::Clipped`]): the clipping as its spec, the inner envelope;
//! - `grouped` ([`crate::groups::Grouped`]): steps skipped, steps taken, the tensors
//!   seen (name and shape), each group's pattern and envelope, the base optimizer's
//!   envelope.
//!
//! Version 1, still read, had one step count and one list of carried scalars for all
//! tensors (after the steps skipped, before the tensors), and no step count in
//! `grouped`.
//!
//! Loading checks the envelope (magic, version, length, checksum), then that the state
//! is that of the same optimizer: kind, name, convention, hyperparameters, float type,
//! schedule or clipping, groups, and state buffers of the sizes the optimizer keeps for
//! each tensor; an optimizer that has state already must have it for the same tensor
//! names and shapes. The values must be ones a run can reach: counts at most
//! [`MAX_STEPS`], finite buffers, second moments and other squares >= 0, carried
//! scalars in their range. Any difference is an [`Error::StateFile`] naming it, and
//! leaves the optimizer as it was.

use crate::engine::state::{CarryState, State, TensorState, MAX_STEPS};
use crate::hyper::Configurable;
use crate::{Error, Float};

mod crc;
mod envelope;
mod file;

pub use crc::crc32;
pub(crate) use envelope::{bad, Reader, Writer, CLIPPED, GROUPED, OPTIMIZER, SCHEDULED};
pub use envelope::{MAGIC, OLDEST_VERSION, VERSION};
pub use file::MAX_FILE_BYTES;
pub(crate) use file::{load_file, write_file};

/// The state of an [`crate::Elementwise`] or [`crate::Tensorwise`] optimizer, as saved.
pub(crate) fn save_engine<F: Float, C: Configurable, K: CarryState>(
    config: &C,
    state: &State<F, K>,
    skipped: u64,
) -> Vec<u8> {
    let info = C::info();
    let mut w = Writer::new(OPTIMIZER);
    w.str(info.name);
    w.str(info.convention);
    let values = config.values();
    w.count(values.len());
    for (key, value) in values {
        w.str(key);
        w.value(value);
    }
    w.str(F::NAME);
    w.u64(state.t);
    w.u64(skipped);
    w.count(state.tensors.len());
    for s in &state.tensors {
        w.str(&s.name);
        w.shape(&s.shape);
        w.u64(s.step);
        let numbers = s.carry.to_numbers();
        w.count(numbers.len());
        for x in numbers {
            w.f64(x);
        }
        w.count(s.slots.len());
        for slot in &s.slots {
            w.floats(slot);
        }
    }
    w.finish()
}

/// The state of an engine optimizer, read and checked.
pub(crate) struct Loaded<F, K> {
    pub(crate) state: State<F, K>,
    pub(crate) skipped: u64,
}

/// Reads a count, checked against [`MAX_STEPS`].
pub(crate) fn count_of(r: &mut Reader<'_>, what: &str) -> Result<u64, Error> {
    let n = r.u64()?;
    if n > MAX_STEPS {
        return Err(bad(format!(
            "its {what} is {n}, more than the {MAX_STEPS} allowed"
        )));
    }
    Ok(n)
}

/// Reads carried scalars, checked by `K`.
fn carry_of<K: CarryState>(r: &mut Reader<'_>, name: &str, whose: &str) -> Result<K, Error> {
    let numbers = (0..r.count()?)
        .map(|_| r.f64())
        .collect::<Result<Vec<_>, _>>()?;
    K::from_numbers(&numbers).ok_or_else(|| {
        if numbers.len() == K::NAMES.len() {
            bad(format!(
                "{whose} carries {} = {numbers:?}, which {name} cannot reach",
                K::NAMES.join(", ")
            ))
        } else {
            bad(format!(
                "{whose} carries {} scalar(s) from step to step, and {name} carries {}",
                numbers.len(),
                K::NAMES.len()
            ))
        }
    })
}

/// Reads the state [`save_engine`] wrote, checking it against the optimizer configured
/// by `config`, whose state is `current` and which keeps for each tensor the buffers
/// `sizes` gives, named by `names`.
pub(crate) fn load_engine<F: Float, C: Configurable, K: CarryState>(
    bytes: &[u8],
    config: &C,
    current: &State<F, K>,
    sizes: impl Fn(&str, &[usize]) -> Result<Vec<usize>, Error>,
    names: impl Fn(&[usize]) -> Vec<&'static str>,
) -> Result<Loaded<F, K>, Error> {
    let info = C::info();
    let mut r = Reader::open(bytes, OPTIMIZER)?;
    let (name, convention) = (r.str()?, r.str()?);
    if name != info.name || convention != info.convention {
        return Err(bad(format!(
            "it holds the state of {name} ({convention}), and this optimizer is {} ({})",
            info.name, info.convention
        )));
    }
    let mut saved = Vec::new();
    for _ in 0..r.count()? {
        saved.push((r.str()?, r.value()?));
    }
    let ours = config.values();
    let keys = |v: &mut dyn Iterator<Item = &str>| v.collect::<Vec<_>>().join(", ");
    if saved.len() != ours.len() || saved.iter().zip(&ours).any(|((a, _), (b, _))| a != b) {
        return Err(bad(format!(
            "its {name} has the hyperparameters {}, and this one {}",
            keys(&mut saved.iter().map(|(k, _)| k.as_str())),
            keys(&mut ours.iter().map(|(k, _)| *k))
        )));
    }
    for ((key, a), (_, b)) in saved.iter().zip(&ours) {
        if !a.same(b) {
            return Err(bad(format!(
                "its {name} has {key} = {a}, and this one {key} = {b}"
            )));
        }
    }
    let float = r.str()?;
    if float != F::NAME {
        return Err(bad(format!(
            "it holds {float} numbers, and this optimizer computes in {}",
            F::NAME
        )));
    }
    let t = count_of(&mut r, "step count")?;
    let skipped = count_of(&mut r, "count of skipped steps")?;
    // Version 1 kept one step count and one carry for all tensors.
    let shared: Option<K> = match r.version() {
        1 => Some(carry_of(&mut r, &name, "it")?),
        _ => None,
    };
    let mut tensors: Vec<TensorState<F, K>> = Vec::new();
    for _ in 0..r.count()? {
        let tensor = r.str()?;
        let shape = r.shape()?;
        let (step, carry) = match shared {
            Some(carry) => (t, carry),
            None => {
                let step = count_of(&mut r, &format!("tensor '{tensor}''s step count"))?;
                let whose = format!("its tensor '{tensor}'");
                (step, carry_of(&mut r, &name, &whose)?)
            }
        };
        let slots = (0..r.count()?)
            .map(|_| r.floats::<F>())
            .collect::<Result<Vec<_>, _>>()?;
        if tensors.iter().any(|s| s.name == tensor) {
            return Err(bad(format!("it holds tensor '{tensor}' twice")));
        }
        let want = sizes(&tensor, &shape).map_err(|e| {
            bad(format!(
                "its tensor '{tensor}' of shape {shape:?} is not one this optimizer updates: {e}"
            ))
        })?;
        let got: Vec<usize> = slots.iter().map(Vec::len).collect();
        if got != want {
            return Err(bad(format!(
                "its tensor '{tensor}' of shape {shape:?} has state buffers of lengths {got:?}, and {} keeps {want:?}",
                info.name
            )));
        }
        for (slot, xs) in names(&shape).into_iter().zip(&slots) {
            crate::engine::state::check_buffer(&tensor, slot, xs)?;
        }
        tensors.push(TensorState {
            name: tensor,
            shape,
            step,
            carry,
            slots,
        });
    }
    r.finish()?;
    same_tensors(&tensors, &current.tensors)?;
    Ok(Loaded {
        state: State { t, tensors },
        skipped,
    })
}

/// Checks that the tensors of a saved state are those of an optimizer's state
/// `current`, unless it has none yet.
pub(crate) fn same_tensors<F, K, L>(
    saved: &[TensorState<F, K>],
    current: &[TensorState<F, L>],
) -> Result<(), Error> {
    let same = saved.len() == current.len()
        && current
            .iter()
            .all(|c| saved.iter().any(|s| s.name == c.name && s.shape == c.shape));
    if current.is_empty() || same {
        return Ok(());
    }
    let list = |ts: &mut dyn Iterator<Item = (&String, &Vec<usize>)>| {
        ts.map(|(n, s)| format!("'{n}' {s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(bad(format!(
        "its state is for the tensors {}, and this optimizer's for {} (reset it to load another's)",
        list(&mut saved.iter().map(|s| (&s.name, &s.shape))),
        list(&mut current.iter().map(|s| (&s.name, &s.shape)))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;

    use crate::optim::pytorch::NAdam;
    use crate::{Elementwise, Param};

    /// One tensor of a hand-written engine state: name, shape, own step count,
    /// carried numbers, buffers.
    type Saved<'a> = (&'a str, &'a [usize], u64, &'a [f64], Vec<Vec<f64>>);

    /// The state of `nadam` (f64) as a file of `version` would hold it, written by
    /// hand; version 1 has one count and carry for all tensors (the first tensor's).
    fn nadam_state(version: u32, t: u64, skipped: u64, tensors: &[Saved<'_>]) -> Vec<u8> {
        let config = NAdam::default();
        let mut w = Writer::new(OPTIMIZER);
        w.str("nadam");
        w.str("pytorch");
        let values = config.values();
        w.count(values.len());
        for (k, v) in values {
            w.str(k);
            w.value(v);
        }
        w.str("f64");
        w.u64(t);
        w.u64(skipped);
        if version == 1 {
            w.count(1);
            w.f64(tensors[0].3[0]);
        }
        w.count(tensors.len());
        for (name, shape, step, carry, slots) in tensors {
            w.str(name);
            w.shape(shape);
            if version != 1 {
                w.u64(*step);
                w.count(carry.len());
                for &x in *carry {
                    w.f64(x);
                }
            }
            w.count(slots.len());
            for s in slots {
                w.floats(s);
            }
        }
        w.buf[8..12].copy_from_slice(&version.to_le_bytes());
        w.finish()
    }

    fn loads(bytes: &[u8]) -> Result<Elementwise<f64, NAdam>, Error> {
        let mut opt = Elementwise::new(NAdam::default())?;
        opt.load_state(bytes)?;
        Ok(opt)
    }

    #[test]
    fn version_1_files_still_load_with_their_count_and_carry_for_every_tensor() {
        let slots = vec![vec![0.5, -0.25], vec![0.125, 0.0625]];
        let bytes = nadam_state(
            1,
            3,
            1,
            &[
                ("w", &[2], 3, &[0.5], slots.clone()),
                ("b", &[2], 3, &[0.5], slots.clone()),
            ],
        );
        let opt = loads(&bytes).unwrap();
        assert_eq!(opt.steps(), 3);
        assert_eq!(opt.skipped_steps(), 1);
        for s in &opt.state().tensors {
            assert_eq!((s.step, s.carry.mu_product), (3, 0.5));
            assert_eq!(s.slots, slots);
        }
        // Saved again, it is in this build's version, and loads back the same.
        let again = loads(&opt.save_state().unwrap()).unwrap();
        assert_eq!(again.state(), opt.state());
    }

    #[test]
    fn values_a_run_cannot_reach_are_refused() {
        let ok = |v: f64| vec![vec![0.5, v], vec![0.125, 0.0625]];
        let err = |bytes: Vec<u8>| match loads(&bytes) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("loaded"),
        };
        let fine = nadam_state(2, 3, 0, &[("w", &[2], 3, &[0.5], ok(-0.25))]);
        loads(&fine).unwrap();
        let e = err(nadam_state(
            2,
            u64::MAX,
            0,
            &[("w", &[2], 3, &[0.5], ok(1.0))],
        ));
        assert!(
            e.contains(
                "its step count is 18446744073709551615, more than the 9007199254740992 allowed"
            ),
            "{e}"
        );
        let e = err(nadam_state(
            2,
            3,
            u64::MAX,
            &[("w", &[2], 3, &[0.5], ok(1.0))],
        ));
        assert!(
            e.contains("its count of skipped steps is 18446744073709551615"),
            "{e}"
        );
        let e = err(nadam_state(
            2,
            3,
            0,
            &[("w", &[2], u64::MAX, &[0.5], ok(1.0))],
        ));
        assert!(e.contains("its tensor 'w''s step count is"), "{e}");
        let e = err(nadam_state(
            2,
            3,
            0,
            &[("w", &[2], 3, &[f64::NAN], ok(1.0))],
        ));
        assert!(
            e.contains("carries mu_product = [NaN], which nadam cannot reach"),
            "{e}"
        );
        let e = err(nadam_state(
            2,
            3,
            0,
            &[("w", &[2], 3, &[0.5], ok(f64::NAN))],
        ));
        assert!(
            e.contains("its tensor 'w' holds NaN in exp_avg[1]; allowed: finite numbers"),
            "{e}"
        );
        let e = err(nadam_state(
            2,
            3,
            0,
            &[("w", &[2], 3, &[0.5], ok(f64::INFINITY))],
        ));
        assert!(e.contains("holds inf in exp_avg[1]"), "{e}");
        let bad_v = vec![vec![0.5, 0.5], vec![0.125, -0.0625]];
        let e = err(nadam_state(2, 3, 0, &[("w", &[2], 3, &[0.5], bad_v)]));
        assert!(
            e.contains("holds -0.0625 in exp_avg_sq[1]; allowed: finite numbers >= 0"),
            "{e}"
        );
    }

    /// A count at its bound is refused a step rather than wrapped to 0 (which made every
    /// parameter NaN); the refused step changes nothing.
    #[test]
    fn counts_never_wrap() {
        let at_bound = nadam_state(
            2,
            MAX_STEPS,
            0,
            &[("w", &[2], MAX_STEPS, &[0.5], vec![vec![0.0; 2]; 2])],
        );
        let mut opt = loads(&at_bound).unwrap();
        let (mut p, g) = ([1.0, 2.0], [0.5, 0.5]);
        let e = opt
            .step(&mut [Param {
                name: "w",
                shape: &[2],
                value: &mut p,
                grad: &g,
            }])
            .unwrap_err();
        assert!(e.to_string().contains("the step count would pass"), "{e}");
        assert_eq!(p, [1.0, 2.0]);
        assert_eq!(opt.save_state().unwrap(), at_bound);
    }
}
