//! Saved optimizer state: the file format of [`Optimizer::save_state`] and
//! [`Optimizer::load_state`] (and [`Optimizer::save`], [`Optimizer::load`] for files).
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

use crate::engine::{Guard, State, TensorState, MAX_STEPS};
use crate::hyper::{Configurable, Value};
use crate::optim::{optax::ScheduleFreeCarry, pytorch::NAdamCarry};
use crate::{Error, Float, Optimizer};
use std::fmt;
use std::path::Path;

/// The first bytes of every state file.
pub const MAGIC: [u8; 8] = *b"OPTIMIST";

/// The format version this build writes; it reads this one and version 1.
pub const VERSION: u32 = 2;

/// The oldest format version this build reads.
pub const OLDEST_VERSION: u32 = 1;

/// The largest state file [`Optimizer::load`] reads: 64 GiB.
pub const MAX_FILE_BYTES: u64 = 64 << 30;

/// Magic, version and body length.
const HEADER: usize = 8 + 4 + 8;

/// Scalar state carried between steps ([`crate::Rule::Carry`],
/// [`crate::TensorRule::Carry`]), kept per tensor and saved as a list of numbers.
pub trait CarryState: Copy + Default + PartialEq + fmt::Debug + Send + Sync {
    /// The numbers' names, in the order of [`Self::to_numbers`] (torch's or optax's
    /// names, e.g. `mu_product`).
    const NAMES: &'static [&'static str];
    /// The state as numbers, in a fixed order.
    fn to_numbers(&self) -> Vec<f64>;
    /// The state from the numbers [`Self::to_numbers`] gave; `None` if there are not
    /// as many as it holds, or if they are not values the state can take (e.g. NaN).
    fn from_numbers(numbers: &[f64]) -> Option<Self>;
}

impl CarryState for () {
    const NAMES: &'static [&'static str] = &[];
    fn to_numbers(&self) -> Vec<f64> {
        Vec::new()
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        numbers.is_empty().then_some(())
    }
}

impl CarryState for NAdamCarry {
    const NAMES: &'static [&'static str] = &["mu_product"];
    fn to_numbers(&self) -> Vec<f64> {
        vec![self.mu_product]
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        match *numbers {
            // A product of coefficients in [0, 1).
            [mu_product] if (0.0..=1.0).contains(&mu_product) => Some(NAdamCarry { mu_product }),
            _ => None,
        }
    }
}

impl CarryState for ScheduleFreeCarry {
    const NAMES: &'static [&'static str] = &["max_lr", "weight_sum"];
    fn to_numbers(&self) -> Vec<f64> {
        vec![self.max_lr, self.weight_sum]
    }
    fn from_numbers(numbers: &[f64]) -> Option<Self> {
        match *numbers {
            [max_lr, weight_sum]
                if max_lr.is_finite()
                    && max_lr >= 0.0
                    && weight_sum.is_finite()
                    && weight_sum >= 0.0 =>
            {
                Some(ScheduleFreeCarry { max_lr, weight_sum })
            }
            _ => None,
        }
    }
}

/// The error for a state that cannot be loaded.
pub(crate) fn bad(why: impl Into<String>) -> Error {
    Error::StateFile {
        file: None,
        why: why.into(),
    }
}

/// The kinds of body, and how errors name them.
pub(crate) const OPTIMIZER: &str = "optimizer";
pub(crate) const SCHEDULED: &str = "scheduled";
pub(crate) const CLIPPED: &str = "clipped";
pub(crate) const GROUPED: &str = "grouped";

fn kind_words(kind: &str) -> String {
    match kind {
        OPTIMIZER => "an optimizer without schedule, clipping or groups".to_string(),
        SCHEDULED => "an optimizer with a learning-rate schedule".to_string(),
        CLIPPED => "an optimizer with gradient clipping".to_string(),
        GROUPED => "an optimizer with parameter groups".to_string(),
        other => format!("an unknown kind of optimizer ('{other}')"),
    }
}

/// Builds one envelope.
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An envelope whose body is of `kind`.
    pub(crate) fn new(kind: &str) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        buf.extend_from_slice(&0u64.to_le_bytes());
        let mut w = Writer { buf };
        w.str(kind);
        w
    }

    pub(crate) fn u8(&mut self, x: u8) {
        self.buf.push(x);
    }

    pub(crate) fn u32(&mut self, x: u32) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, x: u64) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, x: f64) {
        self.buf.extend_from_slice(&x.to_le_bytes());
    }

    /// A list's length; lists never approach 2³² items.
    pub(crate) fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("fewer than 2^32 items"));
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.count(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A nested envelope, or any bytes.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn shape(&mut self, shape: &[usize]) {
        self.count(shape.len());
        for &n in shape {
            self.u64(n as u64);
        }
    }

    pub(crate) fn value(&mut self, v: Value) {
        match v {
            Value::Num(x) => {
                self.u8(0);
                self.f64(x);
            }
            Value::Bool(b) => {
                self.u8(1);
                self.u8(b as u8);
            }
            Value::Pair(a, b) => {
                self.u8(2);
                self.f64(a);
                self.f64(b);
            }
            Value::Int(n) => {
                self.u8(3);
                self.u64(n);
            }
        }
    }

    pub(crate) fn floats<F: Float>(&mut self, xs: &[F]) {
        self.u64(xs.len() as u64);
        self.buf.reserve(size_of_val(xs));
        // Through f64, which holds every f32 exactly.
        if size_of::<F>() == 4 {
            for x in xs {
                self.buf
                    .extend_from_slice(&(x.to_f64() as f32).to_le_bytes());
            }
        } else {
            for x in xs {
                self.buf.extend_from_slice(&x.to_f64().to_le_bytes());
            }
        }
    }

    /// The envelope: length and checksum filled in.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let len = (self.buf.len() - HEADER) as u64;
        self.buf[12..HEADER].copy_from_slice(&len.to_le_bytes());
        let crc = crc32(&self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

/// Reads one envelope's body, each read checked against its end.
pub(crate) struct Reader<'a> {
    body: &'a [u8],
    at: usize,
    version: u32,
}

impl<'a> Reader<'a> {
    /// The body of the envelope `bytes`, after checking magic, version, length,
    /// checksum and that its body is of `kind`.
    pub(crate) fn open(bytes: &'a [u8], kind: &str) -> Result<Self, Error> {
        let n = bytes.len();
        if bytes[..n.min(8)] != MAGIC[..n.min(8)] {
            return Err(bad(
                "it is not an optimist state file (its first bytes are not 'OPTIMIST')",
            ));
        }
        if n < HEADER + 4 {
            return Err(bad(format!(
                "it is truncated: {n} bytes, fewer than the {} of an empty state",
                HEADER + 4
            )));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(bad(format!(
                "it is in format version {version}; this build reads versions {OLDEST_VERSION} to {VERSION}"
            )));
        }
        let len = u64::from_le_bytes(bytes[12..HEADER].try_into().expect("8 bytes"));
        let want = (HEADER as u64 + 4).saturating_add(len);
        if (n as u64) < want {
            return Err(bad(format!(
                "it is truncated: {n} bytes, its header announces {want}"
            )));
        }
        if (n as u64) > want {
            return Err(bad(format!(
                "it has {} bytes after its end (its header announces {want})",
                n as u64 - want
            )));
        }
        let end = n - 4;
        let stored = u32::from_le_bytes(bytes[end..].try_into().expect("4 bytes"));
        if crc32(&bytes[..end]) != stored {
            return Err(bad(
                "it is corrupt: its checksum does not match its content",
            ));
        }
        let mut r = Reader {
            body: &bytes[HEADER..end],
            at: 0,
            version,
        };
        let found = r.str()?;
        if found != kind {
            return Err(bad(format!(
                "it holds the state of {}, and this is {}",
                kind_words(&found),
                kind_words(kind)
            )));
        }
        Ok(r)
    }

    /// The format version of the envelope.
    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], Error> {
        let left = (self.body.len() - self.at) as u64;
        if n > left {
            return Err(bad(format!(
                "it is truncated: its content ends {} bytes early",
                n - left
            )));
        }
        let s = &self.body[self.at..self.at + n as usize];
        self.at += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self.take(N as u64)?.try_into().expect("N bytes"))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    pub(crate) fn count(&mut self) -> Result<usize, Error> {
        Ok(self.u32()? as usize)
    }

    pub(crate) fn str(&mut self) -> Result<String, Error> {
        let n = self.u32()?;
        let b = self.take(u64::from(n))?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("it holds a name that is not UTF-8"))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u64()?;
        self.take(n)
    }

    pub(crate) fn shape(&mut self) -> Result<Vec<usize>, Error> {
        let n = self.count()?;
        (0..n)
            .map(|_| {
                let d = self.u64()?;
                usize::try_from(d).map_err(|_| bad(format!("it holds a dimension {d}")))
            })
            .collect()
    }

    pub(crate) fn value(&mut self) -> Result<Value, Error> {
        Ok(match self.u8()? {
            0 => Value::Num(self.f64()?),
            1 => Value::Bool(self.u8()? != 0),
            2 => Value::Pair(self.f64()?, self.f64()?),
            3 => Value::Int(self.u64()?),
            t => return Err(bad(format!("it holds a value of unknown type {t}"))),
        })
    }

    pub(crate) fn floats<F: Float>(&mut self) -> Result<Vec<F>, Error> {
        let n = self.u64()?;
        let bytes = self.take(n.saturating_mul(size_of::<F>() as u64))?;
        Ok(if size_of::<F>() == 4 {
            bytes
                .chunks_exact(4)
                .map(|b| F::from_f64(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64))
                .collect()
        } else {
            bytes
                .chunks_exact(8)
                .map(|b| F::from_f64(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
                .collect()
        })
    }

    /// Checks that the whole body was read.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.at == self.body.len() {
            Ok(())
        } else {
            Err(bad(format!(
                "it holds {} bytes more than this optimizer's state",
                self.body.len() - self.at
            )))
        }
    }
}

/// The lookup tables of CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), eight
/// of them to process eight bytes per step.
const CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 8 {
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][(t[k - 1][i] & 0xff) as usize];
            k += 1;
        }
        i += 1;
    }
    t
}

/// CRC-32 (IEEE), as zlib and PNG compute it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut c = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for b in &mut chunks {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) ^ c;
        let hi = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        c = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The state of an [`crate::Elementwise`] or [`crate::Tensorwise`] optimizer, as saved.
pub(crate) fn save_engine<F: Float, C: Configurable, K: CarryState>(
    config: &C,
    state: &State<F, K>,
    guard: &Guard,
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
    w.u64(guard.skipped);
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

/// The names of state buffers whose values the math keeps >= 0 (second moments,
/// accumulated squares, step sizes), across conventions.
pub(crate) const NON_NEGATIVE: [&str; 11] = [
    "exp_avg_sq",
    "max_exp_avg_sq",
    "square_avg",
    "acc_delta",
    "sum",
    "exp_inf",
    "step_size",
    "nu",
    "row_var",
    "col_var",
    "variance",
];

/// Checks that a state buffer named `slot` holds values the optimizer can reach:
/// finite, and >= 0 where the math says so.
pub(crate) fn check_buffer<F: Float>(tensor: &str, slot: &str, xs: &[F]) -> Result<(), Error> {
    let nonneg = NON_NEGATIVE.contains(&slot);
    let bad_at = xs
        .iter()
        .position(|x| !x.is_finite() || (nonneg && x.to_f64() < 0.0));
    match bad_at {
        None => Ok(()),
        Some(i) => Err(bad(format!(
            "its tensor '{tensor}' holds {} in {slot}[{i}]; allowed: finite numbers{}",
            xs[i],
            if nonneg { " >= 0" } else { "" }
        ))),
    }
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
            check_buffer(&tensor, slot, xs)?;
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

/// Writes `bytes` to `path` through a temporary file in the same folder (created
/// exclusively, with a random name, never through a link) renamed over it, so that a
/// crash leaves the old file or the new one, never half of one, and concurrent saves
/// to one path each write a whole file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let io = |action: &str, p: &Path, e: std::io::Error| Error::Io {
        action: action.to_string(),
        path: p.display().to_string(),
        source: e,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".optimist-state.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| io("write", tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| io("write", tmp.path(), e))?;
    // On an error the temporary file is removed when dropped.
    tmp.persist(path)
        .map_err(|e| io("rename a temporary file to", path, e.error))?;
    Ok(())
}

/// Reads a state file: a regular file (not a folder, FIFO or device, which could
/// block or never end) of at most [`MAX_FILE_BYTES`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |e: std::io::Error| Error::Io {
        action: "read".to_string(),
        path: path.display().to_string(),
        source: e,
    };
    let not = |what: String| Error::StateFile {
        file: Some(path.display().to_string()),
        why: what,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(not(format!("it is {kind}; a state file is a regular file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(not(format!(
            "it holds {} bytes, more than the {MAX_FILE_BYTES} allowed",
            meta.len()
        )));
    }
    // Opened without blocking, then checked again: the path may have changed since.
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not("it is not a regular file".to_string()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(not(format!(
            "it holds more than the {MAX_FILE_BYTES} bytes allowed"
        )));
    }
    Ok(bytes)
}

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK (Linux's value): opening a FIFO swapped in after the check does not wait for a writer.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Loads `opt`'s state from `path`, naming the file in any error.
pub(crate) fn load_file<F: Float>(
    opt: &mut (impl Optimizer<F> + ?Sized),
    path: &Path,
) -> Result<(), Error> {
    let bytes = read_file(path)?;
    opt.load_state(&bytes).map_err(|e| match e {
        Error::StateFile { file: None, why } => Error::StateFile {
            file: Some(path.display().to_string()),
            why,
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // Every length around the 8-byte steps agrees with the bytewise definition.
        let data: Vec<u8> = (0..40u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..data.len() {
            let mut c = !0u32;
            for &b in &data[..n] {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            assert_eq!(crc32(&data[..n]), !c, "{n} bytes");
        }
    }

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

    #[test]
    fn envelopes_read_back_and_name_their_damage() {
        let mut w = Writer::new(CLIPPED);
        w.str("tensor");
        w.floats(&[1.5f32, -0.0, f32::MIN_POSITIVE]);
        w.value(Value::Pair(0.9, 0.999));
        let bytes = w.finish();
        let mut r = Reader::open(&bytes, CLIPPED).unwrap();
        assert_eq!(r.str().unwrap(), "tensor");
        let xs = r.floats::<f32>().unwrap();
        assert_eq!(
            xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            [1.5f32, -0.0, f32::MIN_POSITIVE].map(f32::to_bits)
        );
        assert_eq!(r.value().unwrap(), Value::Pair(0.9, 0.999));
        r.finish().unwrap();

        let err = |b: &[u8], kind: &str| match Reader::open(b, kind) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("opened"),
        };
        assert!(err(&bytes, SCHEDULED).contains(
            "it holds the state of an optimizer with gradient clipping, and this is an optimizer with a learning-rate schedule"
        ));
        assert!(err(b"PK\x03\x04", CLIPPED).contains("not an optimist state file"));
        assert!(err(&bytes[..bytes.len() - 1], CLIPPED).contains("it is truncated"));
        assert!(err(&bytes[..5], CLIPPED).contains("it is truncated: 5 bytes"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(err(&longer, CLIPPED).contains("1 bytes after its end"));
        let mut v3 = bytes.clone();
        v3[8] = 3;
        assert!(err(&v3, CLIPPED).contains("format version 3; this build reads versions 1 to 2"));
        for at in HEADER..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(err(&flipped, CLIPPED).contains("it is corrupt"), "{at}");
        }
    }
}
