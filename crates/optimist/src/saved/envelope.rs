//! The envelope of every state file: magic, version, length, body, checksum
//! ([`super`] describes the format), and the [`Writer`] and [`Reader`] of its body.

use super::crc::crc32;
use crate::hyper::Value;
use crate::{Error, Float};

/// The first bytes of every state file.
pub const MAGIC: [u8; 8] = *b"OPTIMIST";

/// The format version this build writes; it reads this one and version 1.
pub const VERSION: u32 = 2;

/// The oldest format version this build reads.
pub const OLDEST_VERSION: u32 = 1;

/// Magic, version and body length.
pub(crate) const HEADER: usize = 8 + 4 + 8;

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
    pub(super) buf: Vec<u8>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
