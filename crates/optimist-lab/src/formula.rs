//! Typed landscapes: a formula in x and y such as `x^2/20 + y^2`, parsed, differentiated
//! exactly (symbolically), and evaluated as a [`Landscape`].
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

use crate::landscape::{Landscape, Window};
use std::collections::HashMap;

/// The window a typed formula is shown in unless another is given: [−5, 5]².
pub const DEFAULT_WINDOW: Window = Window {
    x_min: -5.0,
    x_max: 5.0,
    y_min: -5.0,
    y_max: 5.0,
};

/// The longest formula read, in characters: bounds the work of differentiating it.
pub const MAX_LENGTH: usize = 2000;
/// How deeply parentheses, unary signs and powers may nest.
const MAX_DEPTH: usize = 100;

/// Why a formula could not be read: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (column {column})\n{}", crate::text::pointed(formula, *column))]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// Where the problem is: 1 for the first character; one past the end when the
    /// formula stops too early.
    pub column: usize,
    /// What is wrong, and what was expected there.
    pub message: String,
}

/// A function of the grammar (and the sign function that derivatives of `abs` use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Func {
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
const FUNCTIONS: [(&str, Func); 9] = [
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
    fn apply(self, a: f64) -> f64 {
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
enum Op {
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
enum Key {
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
struct Graph {
    ops: Vec<Op>,
    seen: HashMap<Key, usize>,
}

impl Graph {
    fn push(&mut self, op: Op) -> usize {
        let key = Key::from(op);
        if let Some(&i) = self.seen.get(&key) {
            return i;
        }
        self.ops.push(op);
        self.seen.insert(key, self.ops.len() - 1);
        self.ops.len() - 1
    }

    fn konst(&mut self, c: f64) -> usize {
        self.push(Op::Const(c))
    }

    fn constant(&self, i: usize) -> Option<f64> {
        match self.ops[i] {
            Op::Const(c) => Some(c),
            _ => None,
        }
    }

    fn is(&self, i: usize, c: f64) -> bool {
        self.constant(i) == Some(c)
    }

    /// `op` folded to its value if every operand is a constant, else pushed.
    fn fold(&mut self, op: Op, operands: &[usize]) -> usize {
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

    fn neg(&mut self, a: usize) -> usize {
        match self.ops[a] {
            Op::Neg(inner) => inner,
            _ => self.fold(Op::Neg(a), &[a]),
        }
    }

    fn add(&mut self, a: usize, b: usize) -> usize {
        if self.is(a, 0.0) {
            b
        } else if self.is(b, 0.0) {
            a
        } else {
            self.fold(Op::Add(a, b), &[a, b])
        }
    }

    fn sub(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 0.0) {
            a
        } else if self.is(a, 0.0) {
            self.neg(b)
        } else {
            self.fold(Op::Sub(a, b), &[a, b])
        }
    }

    fn mul(&mut self, a: usize, b: usize) -> usize {
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

    fn div(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 1.0) {
            a
        } else if self.is(a, 0.0) && self.constant(b).is_none() {
            self.konst(0.0)
        } else {
            self.fold(Op::Div(a, b), &[a, b])
        }
    }

    fn pow(&mut self, a: usize, b: usize) -> usize {
        if self.is(b, 1.0) {
            a
        } else if self.is(b, 0.0) {
            self.konst(1.0)
        } else {
            self.fold(Op::Pow(a, b), &[a, b])
        }
    }

    fn call(&mut self, f: Func, a: usize) -> usize {
        self.fold(Op::Call(f, a), &[a])
    }

    /// The derivative of every operation below `count` along x (`along_x`) or y:
    /// operands come first, so one pass in order sees each operand's derivative ready.
    fn derivatives(&mut self, count: usize, along_x: bool) -> Vec<usize> {
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

/// A parsed formula in x and y with its exact gradient, shown in a window: a
/// [`Landscape`] whose minima are unknown.
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    /// The operations f needs, then those only the gradient needs.
    ops: Vec<Op>,
    /// How many of `ops` f needs.
    value_ops: usize,
    value: usize,
    dx: usize,
    dy: usize,
    window: Window,
}

impl Formula {
    /// Parses `text` and differentiates it; an error names the column where reading
    /// stopped and what was expected there.
    ///
    /// ```
    /// use optimist_lab::{formula::Formula, landscape::Landscape};
    ///
    /// let f = Formula::parse("x^2/20 + y^2")?;
    /// assert_eq!(f.value(-7.0, 2.0), 6.45);
    /// assert_eq!(f.gradient(-7.0, 2.0), (-0.7, 4.0));
    /// let e = Formula::parse("x^2 + * y").unwrap_err();
    /// assert_eq!(e.column, 7);
    /// # Ok::<(), optimist_lab::formula::FormulaError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let trimmed = text.trim();
        let fail = |column: usize, message: String| FormulaError {
            formula: trimmed.to_string(),
            column,
            message,
        };
        let length = trimmed.chars().count();
        if length == 0 {
            return Err(fail(
                1,
                "the formula is empty; write one in x and y, e.g. x^2/20 + y^2".into(),
            ));
        }
        if length > MAX_LENGTH {
            return Err(fail(
                MAX_LENGTH + 1,
                format!("the formula is {length} characters long; at most {MAX_LENGTH} are read"),
            ));
        }
        let tokens = lex(trimmed).map_err(|(c, m)| fail(c, m))?;
        let mut parser = Parser {
            tokens,
            at: 0,
            depth: 0,
            graph: Graph::default(),
        };
        let root = parser.expression().map_err(|(c, m)| fail(c, m))?;
        let next = parser.peek();
        if next.kind != Kind::End {
            let message = match next.kind {
                Kind::Close => "this ')' has no '(' to close".to_string(),
                _ => format!(
                    "expected an operator (+ - * / ^) or the end of the formula, found {}",
                    next.kind.describe()
                ),
            };
            return Err(fail(next.column, message));
        }
        let mut graph = parser.graph;
        let count = graph.ops.len();
        let dx = graph.derivatives(count, true)[root];
        let dy = graph.derivatives(count, false)[root];
        Ok(compact(trimmed, graph.ops, root, dx, dy))
    }

    /// The formula as typed (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The same formula shown in `window`.
    pub fn with_window(self, window: Window) -> Formula {
        Formula { window, ..self }
    }

    /// Runs the first `count` operations at (x, y) and hands their values to `read`.
    fn run<T>(&self, x: f64, y: f64, count: usize, read: impl Fn(&[f64]) -> T) -> T {
        // Most formulas fit on the stack; long ones take the heap.
        let mut stack = [0.0f64; 96];
        let mut heap = Vec::new();
        let values: &mut [f64] = if count <= stack.len() {
            &mut stack[..count]
        } else {
            heap.resize(count, 0.0);
            &mut heap
        };
        for (i, op) in self.ops[..count].iter().enumerate() {
            values[i] = match *op {
                Op::Const(c) => c,
                Op::X => x,
                Op::Y => y,
                Op::Neg(a) => -values[a],
                Op::Add(a, b) => values[a] + values[b],
                Op::Sub(a, b) => values[a] - values[b],
                Op::Mul(a, b) => values[a] * values[b],
                Op::Div(a, b) => values[a] / values[b],
                Op::Pow(a, b) => values[a].powf(values[b]),
                Op::Call(f, a) => f.apply(values[a]),
            };
        }
        read(values)
    }
}

/// The formula's graph cut down to what f and its gradient use, in an order where f's
/// operations come first (so f alone runs a prefix) and operands precede their users.
fn compact(text: &str, ops: Vec<Op>, value: usize, dx: usize, dy: usize) -> Formula {
    let operands = |op: &Op| -> [Option<usize>; 2] {
        match *op {
            Op::Const(_) | Op::X | Op::Y => [None, None],
            Op::Neg(a) | Op::Call(_, a) => [Some(a), None],
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => {
                [Some(a), Some(b)]
            }
        }
    };
    // Operands have smaller indices than their users: one backward sweep marks all.
    let mark = |roots: &[usize]| {
        let mut used = vec![false; ops.len()];
        for &r in roots {
            used[r] = true;
        }
        for i in (0..ops.len()).rev() {
            if used[i] {
                for a in operands(&ops[i]).into_iter().flatten() {
                    used[a] = true;
                }
            }
        }
        used
    };
    let for_value = mark(&[value]);
    let for_any = mark(&[value, dx, dy]);
    let order: Vec<usize> = (0..ops.len())
        .filter(|&i| for_value[i])
        .chain((0..ops.len()).filter(|&i| for_any[i] && !for_value[i]))
        .collect();
    let mut new_index = vec![usize::MAX; ops.len()];
    for (k, &i) in order.iter().enumerate() {
        new_index[i] = k;
    }
    let m = |i: usize| new_index[i];
    let remapped = order
        .iter()
        .map(|&i| match ops[i] {
            Op::Neg(a) => Op::Neg(m(a)),
            Op::Add(a, b) => Op::Add(m(a), m(b)),
            Op::Sub(a, b) => Op::Sub(m(a), m(b)),
            Op::Mul(a, b) => Op::Mul(m(a), m(b)),
            Op::Div(a, b) => Op::Div(m(a), m(b)),
            Op::Pow(a, b) => Op::Pow(m(a), m(b)),
            Op::Call(f, a) => Op::Call(f, m(a)),
            leaf => leaf,
        })
        .collect();
    Formula {
        text: text.to_string(),
        ops: remapped,
        value_ops: for_value.iter().filter(|&&u| u).count(),
        value: m(value),
        dx: m(dx),
        dy: m(dy),
        window: DEFAULT_WINDOW,
    }
}

impl Landscape for Formula {
    fn name(&self) -> &str {
        "formula"
    }
    fn formula(&self) -> &str {
        &self.text
    }
    fn value(&self, x: f64, y: f64) -> f64 {
        self.run(x, y, self.value_ops, |v| v[self.value])
    }
    fn gradient(&self, x: f64, y: f64) -> (f64, f64) {
        self.run(x, y, self.ops.len(), |v| (v[self.dx], v[self.dy]))
    }
    fn window(&self) -> Window {
        self.window
    }
    fn minima(&self) -> Vec<(f64, f64)> {
        Vec::new()
    }
    /// 15% of the way across the window from its left edge and 60% of the way up: on
    /// the article's window [−10, 10]², its start (−7, 2).
    fn start(&self) -> (f64, f64) {
        let w = self.window;
        (
            w.x_min + 0.15 * (w.x_max - w.x_min),
            w.y_min + 0.6 * (w.y_max - w.y_min),
        )
    }
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Number(f64),
    Name(String),
    Plus,
    Minus,
    Times,
    Divide,
    Power,
    /// A superscript exponent such as `²`.
    Superscript(f64),
    Open,
    Close,
    End,
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Number(n) => format!("the number {n}"),
            Kind::Name(s) => format!("'{s}'"),
            Kind::Plus => "'+'".into(),
            Kind::Minus => "'-'".into(),
            Kind::Times => "'*'".into(),
            Kind::Divide => "'/'".into(),
            Kind::Power => "'^'".into(),
            Kind::Superscript(_) => "a superscript exponent".into(),
            Kind::Open => "'('".into(),
            Kind::Close => "')'".into(),
            Kind::End => "the end of the formula".into(),
        }
    }
}

/// A token and the column of its first character.
#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

/// A problem at a column.
type Located = (usize, String);

const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

fn lex(text: &str) -> Result<Vec<Token>, Located> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let single = match c {
            '+' => Some(Kind::Plus),
            '-' | '−' => Some(Kind::Minus),
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                Some(Kind::Power)
            }
            '*' | '·' | '×' => Some(Kind::Times),
            '/' | '÷' => Some(Kind::Divide),
            '^' => Some(Kind::Power),
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            'π' => Some(Kind::Name("pi".into())),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token { kind, column });
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if chars.get(i) == Some(&'.') {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            // An exponent only when digits follow: `2e` is 2·e, `2e3` is 2000.
            if matches!(chars.get(i), Some('e' | 'E')) {
                let mut j = i + 1;
                if matches!(chars.get(j), Some('+' | '-')) {
                    j += 1;
                }
                if chars.get(j).is_some_and(char::is_ascii_digit) {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let literal: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'.') {
                return Err((
                    i + 1,
                    format!("a number cannot have a second '.' (after {literal})"),
                ));
            }
            let value: f64 = literal
                .parse()
                .map_err(|_| (column, format!("'{literal}' is not a number")))?;
            tokens.push(Token {
                kind: Kind::Number(value),
                column,
            });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Name(chars[start..i].iter().collect()),
                column,
            });
        } else if let Some(d) = SUPERSCRIPTS.iter().position(|&s| s == c) {
            let mut value = d as f64;
            i += 1;
            while let Some(d) = chars
                .get(i)
                .and_then(|c| SUPERSCRIPTS.iter().position(|s| s == c))
            {
                value = value * 10.0 + d as f64;
                i += 1;
            }
            tokens.push(Token {
                kind: Kind::Superscript(value),
                column,
            });
        } else {
            return Err((
                column,
                format!("unexpected character '{}'; a formula uses numbers, x, y, + - * / ^, parentheses and functions", c.escape_debug()),
            ));
        }
    }
    tokens.push(Token {
        kind: Kind::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// Recursive descent, one function per precedence level, building the graph as it goes.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    graph: Graph,
}

const OPERAND: &str = "a number, x, y, pi, e, a function such as sin(...) or '('";

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.at].clone();
        if t.kind != Kind::End {
            self.at += 1;
        }
        t
    }

    /// Guards against nesting deep enough to exhaust the stack.
    fn deeper(&mut self) -> Result<(), Located> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err((
                self.peek().column,
                format!("the formula nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    /// expression := term (('+' | '-') term)*
    fn expression(&mut self) -> Result<usize, Located> {
        let mut left = self.term()?;
        loop {
            match self.peek().kind {
                Kind::Plus => {
                    self.next();
                    let right = self.term()?;
                    left = self.graph.add(left, right);
                }
                Kind::Minus => {
                    self.next();
                    let right = self.term()?;
                    left = self.graph.sub(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    /// term := signed (('*' | '/') signed | power)*, the last being implicit
    /// multiplication by a name or a parenthesis: `2x`, `3(x + 1)`.
    fn term(&mut self) -> Result<usize, Located> {
        let mut left = self.signed()?;
        loop {
            match self.peek().kind {
                Kind::Times => {
                    self.next();
                    let right = self.signed()?;
                    left = self.graph.mul(left, right);
                }
                Kind::Divide => {
                    self.next();
                    let right = self.signed()?;
                    left = self.graph.div(left, right);
                }
                Kind::Name(_) | Kind::Open => {
                    let right = self.power()?;
                    left = self.graph.mul(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    /// signed := ('-' | '+') signed | power
    fn signed(&mut self) -> Result<usize, Located> {
        self.deeper()?;
        let result = match self.peek().kind {
            Kind::Minus => {
                self.next();
                let a = self.signed()?;
                Ok(self.graph.neg(a))
            }
            Kind::Plus => {
                self.next();
                self.signed()
            }
            _ => self.power(),
        };
        self.depth -= 1;
        result
    }

    /// power := postfix ('^' signed)?, so `2^3^2` is 2^(3^2) and `x^-1` is 1/x.
    fn power(&mut self) -> Result<usize, Located> {
        let base = self.postfix()?;
        if self.peek().kind == Kind::Power {
            self.next();
            let exponent = self.signed()?;
            return Ok(self.graph.pow(base, exponent));
        }
        Ok(base)
    }

    /// postfix := primary superscript*
    fn postfix(&mut self) -> Result<usize, Located> {
        let mut base = self.primary()?;
        while let Kind::Superscript(n) = self.peek().kind {
            self.next();
            let n = self.graph.konst(n);
            base = self.graph.pow(base, n);
        }
        Ok(base)
    }

    /// primary := number | x | y | pi | e | function '(' expression ')' | '(' expression ')'
    fn primary(&mut self) -> Result<usize, Located> {
        let token = self.next();
        match token.kind {
            Kind::Number(n) => Ok(self.graph.konst(n)),
            Kind::Open => {
                let inner = self.expression()?;
                self.close(token.column)?;
                Ok(inner)
            }
            Kind::Name(name) => {
                let lower = name.to_lowercase();
                match lower.as_str() {
                    "x" => return Ok(self.graph.push(Op::X)),
                    "y" => return Ok(self.graph.push(Op::Y)),
                    "pi" => return Ok(self.graph.konst(std::f64::consts::PI)),
                    "e" => return Ok(self.graph.konst(std::f64::consts::E)),
                    _ => {}
                }
                let Some(&(_, f)) = FUNCTIONS.iter().find(|(n, _)| *n == lower) else {
                    // `xy` reads as one name: say how to write the product.
                    let hint = if lower.len() > 1 && lower.chars().all(|c| c == 'x' || c == 'y') {
                        format!(
                            " (for a product write {})",
                            lower
                                .chars()
                                .map(String::from)
                                .collect::<Vec<_>>()
                                .join("*")
                        )
                    } else {
                        String::new()
                    };
                    return Err((
                        token.column,
                        format!(
                            "unknown name '{name}'{hint}; a formula knows x, y, pi, e and the functions {}",
                            function_names()
                        ),
                    ));
                };
                let open = self.next();
                if open.kind != Kind::Open {
                    return Err((
                        open.column,
                        format!(
                            "{lower} needs its argument in parentheses, e.g. {lower}(x); found {}",
                            open.kind.describe()
                        ),
                    ));
                }
                let argument = self.expression()?;
                self.close(open.column)?;
                Ok(self.graph.call(f, argument))
            }
            Kind::Close => Err((token.column, format!("expected {OPERAND} before this ')'"))),
            other => Err((
                token.column,
                format!("expected {OPERAND}, found {}", other.describe()),
            )),
        }
    }

    fn close(&mut self, opened_at: usize) -> Result<(), Located> {
        let token = self.next();
        if token.kind == Kind::Close {
            return Ok(());
        }
        Err((
            token.column,
            format!(
                "expected ')' to close the '(' at column {opened_at}, found {}",
                token.kind.describe()
            ),
        ))
    }
}

/// `sin, cos, ...`, for messages.
fn function_names() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::landscape::builtins;

    fn f(text: &str) -> Formula {
        Formula::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn points() -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for i in 0..7 {
            for j in 0..7 {
                pts.push((-2.9 + 0.93 * i as f64, -2.7 + 0.87 * j as f64));
            }
        }
        pts
    }

    #[test]
    fn operators_bind_as_in_mathematics() {
        let at = |text: &str, x: f64, y: f64| f(text).value(x, y);
        assert_eq!(at("-x^2", 3.0, 0.0), -9.0);
        assert_eq!(at("-2^2", 0.0, 0.0), -4.0);
        assert_eq!(at("2^3^2", 0.0, 0.0), 512.0);
        assert_eq!(at("2**3", 0.0, 0.0), 8.0);
        assert_eq!(at("x^-1", 4.0, 0.0), 0.25);
        assert_eq!(at("1 - 2 - 3", 0.0, 0.0), -4.0);
        assert_eq!(at("12 / 3 / 2", 0.0, 0.0), 2.0);
        assert_eq!(at("2*-3", 0.0, 0.0), -6.0);
        assert_eq!(at("2x + 3(y - 1)", 1.5, 2.0), 6.0);
        assert_eq!(at("2x^2", 3.0, 0.0), 18.0);
        assert_eq!(at("(x)(y)", 3.0, 5.0), 15.0);
        assert_eq!(at("x²/20 + y²", -7.0, 2.0), 6.45);
        assert_eq!(at("x³ − 3x·y²", 1.0, 0.5), 0.25);
        assert_eq!(at("sin(x)²", 0.5, 0.0), 0.5f64.sin().powf(2.0));
        assert_eq!(at("2e", 0.0, 0.0), 2.0 * std::f64::consts::E);
        assert_eq!(at("1e-3x", 5.0, 0.0), 0.005);
        assert_eq!(at("2.5E+2", 0.0, 0.0), 250.0);
        assert_eq!(at(".5 + pi - π", 0.0, 0.0), 0.5);
        assert_eq!(at("LN(e) + Sqrt(16)", 0.0, 0.0), 5.0);
        assert!(at("log(x)", -1.0, 0.0).is_nan());
    }

    #[test]
    fn every_function_and_its_derivative() {
        type Case = (&'static str, fn(f64, f64) -> f64);
        let cases: [Case; 12] = [
            ("sin(x*y)", |x, y| (x * y).sin()),
            ("cos(x - y)", |x, y| (x - y).cos()),
            ("tan(x/4)", |x, _| (x / 4.0).tan()),
            ("exp(-x^2 - y^2)", |x, y| (-x * x - y * y).exp()),
            ("log(1 + x^2) + ln(3 + y)", |x, y| {
                (1.0 + x * x).ln() + (3.0 + y).ln()
            }),
            ("sqrt(x^2 + y^2 + 1)", |x, y| (x * x + y * y + 1.0).sqrt()),
            ("abs(x) + abs(y - 0.1)", |x, y| x.abs() + (y - 0.1).abs()),
            ("tanh(x) * y", |x, y| x.tanh() * y),
            ("(x^2 + 1)^(y/3)", |x, y| (x * x + 1.0).powf(y / 3.0)),
            ("2^(x + y)", |x, y| 2f64.powf(x + y)),
            ("x / (y^2 + 1)", |x, y| x / (y * y + 1.0)),
            ("(x - y)^3 / 7", |x, y| (x - y).powi(3) / 7.0),
        ];
        for (text, g) in cases {
            let formula = f(text);
            for (x, y) in points() {
                let v = formula.value(x, y);
                assert!(
                    (v - g(x, y)).abs() <= 1e-12 * (1.0 + v.abs()),
                    "{text} at ({x}, {y})"
                );
                let (gx, gy) = formula.gradient(x, y);
                let h = 1e-6;
                let nx = (g(x + h, y) - g(x - h, y)) / (2.0 * h);
                let ny = (g(x, y + h) - g(x, y - h)) / (2.0 * h);
                let scale = 1.0 + v.abs().max(gx.abs()).max(gy.abs());
                assert!(
                    (gx - nx).abs() <= 1e-6 * scale && (gy - ny).abs() <= 1e-6 * scale,
                    "{text} at ({x}, {y}): exact ({gx}, {gy}) vs numeric ({nx}, {ny})"
                );
            }
        }
        // |x| has the subgradient 0 at its kink; √y's x-derivative is 0, not NaN.
        assert_eq!(f("abs(x)").gradient(0.0, 0.0), (0.0, 0.0));
        assert_eq!(f("x + sqrt(y)").gradient(1.0, 0.0), (1.0, f64::INFINITY));
    }

    /// Each built-in landscape typed as a formula: the same values and gradients.
    #[test]
    fn every_builtin_typed_as_a_formula() {
        let typed = [
            ("article", "x^2/20 + y^2"),
            ("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2"),
            ("beale", "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2"),
            ("himmelblau", "(x² + y − 11)² + (x + y² − 7)²"),
            ("rastrigin", "20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y)"),
            (
                "ackley",
                "-20 exp(-0.2 sqrt(0.5 (x^2 + y^2))) - exp(0.5 (cos(2 pi x) + cos(2 pi y))) + e + 20",
            ),
            ("booth", "(x + 2y - 7)^2 + (2x + y - 5)^2"),
            (
                "goldstein-price",
                "(1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6x y + 3y^2)) * (30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36x y + 27y^2))",
            ),
            ("styblinski-tang", "((x^4 - 16x^2 + 5x) + (y^4 - 16y^2 + 5y))/2"),
            ("saddle", "x^2 - y^2"),
            ("monkey-saddle", "x^3 - 3x y^2"),
        ];
        assert_eq!(typed.len(), builtins().len());
        for (b, (name, text)) in builtins().iter().zip(typed) {
            assert_eq!(b.name(), name);
            let formula = f(text);
            let w = b.window();
            for i in 0..9 {
                for j in 0..9 {
                    let x = w.x_min + (i as f64 + 0.37) / 9.0 * (w.x_max - w.x_min);
                    let y = w.y_min + (j as f64 + 0.61) / 9.0 * (w.y_max - w.y_min);
                    let (v, want) = (formula.value(x, y), b.value(x, y));
                    assert!(
                        (v - want).abs() <= 1e-12 * (1.0 + want.abs()),
                        "{name} at ({x}, {y}): {v} vs {want}"
                    );
                    let (gx, gy) = formula.gradient(x, y);
                    let (wx, wy) = b.gradient(x, y);
                    let scale = 1e-11 * (1.0 + want.abs().max(wx.abs()).max(wy.abs()));
                    assert!(
                        (gx - wx).abs() <= scale && (gy - wy).abs() <= scale,
                        "{name} at ({x}, {y}): ({gx}, {gy}) vs ({wx}, {wy})"
                    );
                }
            }
        }
    }

    #[test]
    fn shared_subexpressions_are_computed_once() {
        // Rosenbrock: f needs 1, x, 1 − x, 2, (1 − x)², 100, x², y, y − x², its square,
        // the product and the sum; the gradient reuses all of those.
        let r = f("(1 - x)^2 + 100 (y - x^2)^2");
        assert_eq!(r.value_ops, 12);
        assert!(r.ops.len() < 30, "{}", r.ops.len());
        let same = f("x*x + x*x");
        assert_eq!(same.value_ops, 3, "x, x·x, their sum");
        assert_eq!(f("2*3 + x*0").value_ops, 1, "folds to the constant 6");
        assert_eq!(f("2*3 + x*0").value(1.0, 1.0), 6.0);
    }

    fn error(text: &str) -> FormulaError {
        match Formula::parse(text) {
            Ok(_) => panic!("{text} parsed"),
            Err(e) => e,
        }
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases: [(&str, usize, &str); 15] = [
            ("x^2 + * y", 7, "expected a number, x, y"),
            ("(x + y", 7, "expected ')' to close the '(' at column 1"),
            ("x + y)", 6, "this ')' has no '('"),
            ("sin x", 5, "sin needs its argument in parentheses"),
            ("z + 1", 1, "unknown name 'z'"),
            ("1.2.3", 4, "second '.'"),
            ("", 1, "the formula is empty"),
            ("   ", 1, "the formula is empty"),
            ("x $ y", 3, "unexpected character '$'"),
            ("2 3", 3, "expected an operator"),
            ("x^", 3, "found the end of the formula"),
            ("x + ()", 6, "before this ')'"),
            ("cos(x", 6, "expected ')' to close the '(' at column 4"),
            ("x2 + y", 1, "unknown name 'x2'"),
            ("2 xy", 3, "unknown name 'xy' (for a product write x*y)"),
        ];
        for (text, column, message) in cases {
            let e = error(text);
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(message), "{text}: {e}");
        }
        let e = error("x^2 + * y");
        assert_eq!(
            e.to_string(),
            "expected a number, x, y, pi, e, a function such as sin(...) or '(', found '*' (column 7)\n  x^2 + * y\n        ^"
        );
        assert!(error("z")
            .message
            .contains("sin, cos, tan, exp, log, ln, sqrt, abs, tanh"));
        // Deep nesting and great length are errors, not a stack overflow.
        let deep = format!("{}x{}", "(".repeat(500), ")".repeat(500));
        assert!(error(&deep).message.contains("nests more than 100"));
        let minus = format!("{}x", "-".repeat(1000));
        assert!(error(&minus).message.contains("nests more than 100"));
        let long = "x + ".repeat(600) + "y";
        assert!(error(&long).message.contains("at most 2000"));
        // Long but shallow is fine: 499 additions.
        let sum = "x + ".repeat(499) + "y";
        assert_eq!(f(&sum).gradient(1.0, 1.0), (499.0, 1.0));
    }

    #[test]
    fn a_landscape_in_its_window() {
        let g = f("x^2/20 + y^2");
        assert_eq!(g.window(), DEFAULT_WINDOW);
        assert_eq!(g.formula(), "x^2/20 + y^2");
        assert!(g.minima().is_empty());
        let w = Window::new(-10.0, 10.0, -10.0, 10.0).unwrap();
        let g = g.with_window(w);
        assert_eq!(g.window(), w);
        assert_eq!(g.start(), (-7.0, 2.0));
    }
}
