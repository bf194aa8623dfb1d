//! Reading a formula: characters to tokens, tokens to operations of a [`Graph`], by
//! recursive descent.

use super::graph::{Graph, Op, FUNCTIONS};

/// How deeply parentheses, unary signs and powers may nest.
pub(super) const MAX_DEPTH: usize = 100;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
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
    pub(super) fn describe(&self) -> String {
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
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) column: usize,
}

/// A problem at a column.
pub(super) type Located = (usize, String);

pub(super) const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

pub(super) fn lex(text: &str) -> Result<Vec<Token>, Located> {
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
pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) at: usize,
    pub(super) depth: usize,
    pub(super) graph: Graph,
}

pub(super) const OPERAND: &str = "a number, x, y, pi, e, a function such as sin(...) or '('";

impl Parser {
    pub(super) fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.tokens[self.at].clone();
        if t.kind != Kind::End {
            self.at += 1;
        }
        t
    }

    /// Guards against nesting deep enough to exhaust the stack.
    pub(super) fn deeper(&mut self) -> Result<(), Located> {
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
    pub(super) fn expression(&mut self) -> Result<usize, Located> {
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
    pub(super) fn term(&mut self) -> Result<usize, Located> {
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
    pub(super) fn signed(&mut self) -> Result<usize, Located> {
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
    pub(super) fn power(&mut self) -> Result<usize, Located> {
        let base = self.postfix()?;
        if self.peek().kind == Kind::Power {
            self.next();
            let exponent = self.signed()?;
            return Ok(self.graph.pow(base, exponent));
        }
        Ok(base)
    }

    /// postfix := primary superscript*
    pub(super) fn postfix(&mut self) -> Result<usize, Located> {
        let mut base = self.primary()?;
        while let Kind::Superscript(n) = self.peek().kind {
            self.next();
            let n = self.graph.konst(n);
            base = self.graph.pow(base, n);
        }
        Ok(base)
    }

    /// primary := number | x | y | pi | e | function '(' expression ')' | '(' expression ')'
    pub(super) fn primary(&mut self) -> Result<usize, Located> {
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

    pub(super) fn close(&mut self, opened_at: usize) -> Result<(), Located> {
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
pub(super) fn function_names() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}
