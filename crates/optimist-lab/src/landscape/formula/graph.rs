//! The graph of operations a formula and its derivatives share: every distinct
//! subexpression once, derivatives built by the chain rule on the graph itself.

use std::collections::HashMap;

/// A function of the grammar (and the sign function that derivatives of `abs` use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Log,
    Sqrt,
    Abs,
    Tanh,
    Sign,
}

/// Every function a formula may call, with its names.
pub(super) const FUNCTIONS: [(&str, Func); 9] = [
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("exp", Func::Exp),
    ("log", Func::Log),
    ("ln", Func::Log),
    ("sqrt", Func::Sqrt),
    ("abs", Func::Abs),
    ("tanh", Func::Tanh),
];

impl Func {
    pub(super) fn apply(self, a: f64) -> f64 {
        match self {
            Func::Sin => a.sin(),
            Func::Cos => a.cos(),
            Func::Tan => a.tan(),
            Func::Exp => a.exp(),
            Func::Log => a.ln(),
            Func::Sqrt => a.sqrt(),
            Func::Abs => a.abs(),
            Func::Tanh => a.tanh(),
            // 0 at 0: the subgradient of |a| that points nowhere.
            Func::Sign => {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    a * 0.0
                }
            }
        }
    }
}

/// One operation of the graph; operands are indices of earlier operations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Const(f64),
    X,
    Y,
    Neg(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Pow(usize, usize),
    Call(Func, usize),
}

/// An [`Op`] made hashable (a constant by its bits), to find a subexpression built before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Const(u64),
    X,
    Y,
    Neg(usize),
    Add(usize, usize),
    Sub(usize, usize),
    Mul(usize, usize),
    Div(usize, usize),
    Pow(usize, usize),
    Call(Func, usize),
}

impl From<Op> for Key {
    fn from(op: Op) -> Key {
        match op {
            Op::Const(c) => Key::Const(c.to_bits()),
            Op::X => Key::X,
            Op::Y => Key::Y,
            Op::Neg(a) => Key::Neg(a),
            Op::Add(a, b) => Key::Add(a, b),
            Op::Sub(a, b) => Key::Sub(a, b),
            Op::Mul(a, b) => Key::Mul(a, b),
            Op::Div(a, b) => Key::Div(a, b),
            Op::Pow(a, b) => Key::Pow(a, b),
            Op::Call(f, a) => Key::Call(f, a),
        }
    }
}

/// Operations in the order built (operands first), each distinct one once, folding
/// constants and the identities 0 + a, 1·a, 0·a, a¹, a⁰ as they are built.
#[derive(Default)]
pub(super) struct Graph {
    pub(super) ops: Vec<Op>,
    pub(super) seen: HashMap<Key, usize>,
}

impl Graph {
    pub(super) fn push(&mut self, op: Op) -> usize {
        let key = Key::from(op);
        if let Some(&i) = self.seen.get(&key) {
            return i;
        }
        self.ops.push(op);
        self.seen.insert(key, self.ops.len() - 1);
        self.ops.len() - 1
    }

    pub(super) fn konst(&mut self, c: f64) -> usize {
        self.push(Op::Const(c))
    }

    pub(super) fn constant(&self, i: usize) -> Option<f64> {
        match self.ops[i] {
            Op::Const(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn is(&self, i: usize, c: f64) -> bool {
        self.constant(i) == Some(c)
    }

    /// `op` folded to its value if every operand is a constant, else pushed.
    pub(super) fn fold(&mut self, op: Op, operands: &[usize]) -> usize {
        if operands.iter().all(|&i| self.constant(i).is_some()) {
            let mut values = [0.0; 2];
            for (v, &i) in values.iter_mut().zip(operands) {
                *v = self.constant(i).unwrap_or(f64::NAN);
            }
            let [a, b] = values;
            let value = match op {
                Op::Neg(_) => -a,
                Op::Add(..) => a + b,
                Op::Sub(..) => a - b,
                Op::Mul(..) => a * b,
                Op::Div(..) => a / b,
                Op::Pow(..) => a.powf(b),
                Op::Call(f, _) => f.apply(a),
                Op::Const(c) => c,
                Op::X | Op::Y => return self.push(op),
            };
            return self.konst(value);
        }
        self.push(op)
    }

    pub(super) fn neg(&mut self, a: usize) -> usize {
        match self.ops[a] {
            Op::Neg(inner) => inner,
            _ => self.fold(Op::Neg(a), &[a]),
        }
    }

    pub(super) fn add(&mut self, a: usize, b: usize) -> usize {
        if self.is(a, 0.0) {
            b
        } else if self.is(b, 0.0) {
            a
        } else {
            self.fold(Op::Add(a, b), &[a, b])
        }
    }

    pub(super) fn sub(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 0.0) {
            a
        } else if self.is(a, 0.0) {
            self.neg(b)
        } else {
            self.fold(Op::Sub(a, b), &[a, b])
        }
    }

    pub(super) fn mul(&mut self, a: usize, b: usize) -> usize {
        // 0·a is 0 even where a is not finite: the derivative of x + √y along x is 1
        // at y = 0, not NaN.
        if self.is(a, 0.0) || self.is(b, 0.0) {
            self.konst(0.0)
        } else if self.is(a, 1.0) {
            b
        } else if self.is(b, 1.0) {
            a
        } else if self.is(a, -1.0) {
            self.neg(b)
        } else if self.is(b, -1.0) {
            self.neg(a)
        } else {
            self.fold(Op::Mul(a, b), &[a, b])
        }
    }

    pub(super) fn div(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 1.0) {
            a
        } else if self.is(a, 0.0) && self.constant(b).is_none() {
            self.konst(0.0)
        } else {
            self.fold(Op::Div(a, b), &[a, b])
        }
    }

    pub(super) fn pow(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 1.0) {
            a
        } else if self.is(b, 0.0) {
            self.konst(1.0)
        } else {
            self.fold(Op::Pow(a, b), &[a, b])
        }
    }

    pub(super) fn call(&mut self, f: Func, a: usize) -> usize {
        self.fold(Op::Call(f, a), &[a])
    }

    /// The derivative of every operation below `count` along x (`along_x`) or y:
    /// operands come first, so one pass in order sees each operand's derivative ready.
    pub(super) fn derivatives(&mut self, count: usize, along_x: bool) -> Vec<usize> {
        let mut d: Vec<usize> = Vec::with_capacity(count);
        for i in 0..count {
            let di = match self.ops[i] {
                Op::Const(_) => self.konst(0.0),
                Op::X => self.konst(if along_x { 1.0 } else { 0.0 }),
                Op::Y => self.konst(if along_x { 0.0 } else { 1.0 }),
                Op::Neg(a) => self.neg(d[a]),
                Op::Add(a, b) => self.add(d[a], d[b]),
                Op::Sub(a, b) => self.sub(d[a], d[b]),
                Op::Mul(a, b) => {
                    let (l, r) = (self.mul(d[a], b), self.mul(a, d[b]));
                    self.add(l, r)
                }
                // (a/b)' = a'/b − (a/b)·(b'/b): no b², which would overflow first.
                Op::Div(a, b) => {
                    let l = self.div(d[a], b);
                    let q = self.div(d[b], b);
                    let r = self.mul(i, q);
                    self.sub(l, r)
                }
                Op::Pow(a, b) => match (self.constant(a), self.constant(b)) {
                    (_, Some(c)) => {
                        let c1 = self.konst(c - 1.0);
                        let p = self.pow(a, c1);
                        let k = self.konst(c);
                        let kp = self.mul(k, p);
                        self.mul(kp, d[a])
                    }
                    (Some(base), None) => {
                        let ln = self.konst(base.ln());
                        let s = self.mul(ln, d[b]);
                        self.mul(i, s)
                    }
                    // (aᵇ)' = aᵇ·(b'·ln a + b·a'/a)
                    (None, None) => {
                        let ln = self.call(Func::Log, a);
                        let l = self.mul(d[b], ln);
                        let ba = self.mul(b, d[a]);
                        let r = self.div(ba, a);
                        let s = self.add(l, r);
                        self.mul(i, s)
                    }
                },
                Op::Call(f, a) => {
                    let outer = match f {
                        Func::Sin => self.call(Func::Cos, a),
                        Func::Cos => {
                            let s = self.call(Func::Sin, a);
                            self.neg(s)
                        }
                        // 1 + tan², from the tan already computed.
                        Func::Tan => {
                            let one = self.konst(1.0);
                            let t2 = self.mul(i, i);
                            self.add(one, t2)
                        }
                        Func::Exp => i,
                        Func::Log => {
                            let one = self.konst(1.0);
                            self.div(one, a)
                        }
                        Func::Sqrt => {
                            let half = self.konst(0.5);
                            self.div(half, i)
                        }
                        Func::Abs => self.call(Func::Sign, a),
                        Func::Tanh => {
                            let one = self.konst(1.0);
                            let t2 = self.mul(i, i);
                            self.sub(one, t2)
                        }
                        Func::Sign => self.konst(0.0),
                    };
                    self.mul(outer, d[a])
                }
            };
            d.push(di);
        }
        d
    }
}
