//! Exact decimal text parsing shared by the money types.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    Malformed(String),
    TooPrecise { text: String, places: u32 },
    OutOfRange(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty number"),
            ParseError::Malformed(s) => write!(f, "malformed number {s:?}"),
            ParseError::TooPrecise { text, places } => {
                write!(f, "number {text:?} has more than {places} decimal places")
            }
            ParseError::OutOfRange(s) => write!(f, "number {s:?} is out of range"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A parsed decimal: `digits × 10^-scale`, sign included in `digits`.
pub(crate) struct Decimal {
    digits: i128,
    scale: u32,
    text: String,
}

impl Decimal {
    pub(crate) fn parse(s: &str) -> Result<Decimal, ParseError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ParseError::Empty);
        }
        let bad = || ParseError::Malformed(s.to_string());
        let (neg, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // Drop trailing zeros of the fraction: they carry no value.
        let frac = frac.trim_end_matches('0');
        if int.len() + frac.len() > 30 {
            return Err(ParseError::OutOfRange(s.to_string()));
        }
        let mut digits: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            digits = digits * 10 + (b - b'0') as i128;
        }
        if neg {
            digits = -digits;
        }
        Ok(Decimal {
            digits,
            scale: frac.len() as u32,
            text: s.to_string(),
        })
    }

    fn fits(&self, v: i128) -> Result<i64, ParseError> {
        i64::try_from(v).map_err(|_| ParseError::OutOfRange(self.text.clone()))
    }

    /// The value in units of 10^-places, refusing anything finer.
    pub(crate) fn to_scale_exact(&self, places: u32) -> Result<i64, ParseError> {
        if self.scale > places {
            return Err(ParseError::TooPrecise {
                text: self.text.clone(),
                places,
            });
        }
        self.fits(self.digits * 10i128.pow(places - self.scale))
    }

    /// The value in units of 10^-places, rounded half-up.
    pub(crate) fn to_scale_round(&self, places: u32) -> Result<i64, ParseError> {
        if self.scale <= places {
            return self.to_scale_exact(places);
        }
        let den = 10i128.pow(self.scale - places);
        self.fits(super::div_round_half_up(self.digits, den))
    }
}

/// `v × 10^-scale` as text with at least `min_places` decimals and no needless zeros.
pub(crate) fn format_scaled(v: i128, scale: u32, min_places: u32) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let den = 10u128.pow(scale);
    let int = a / den;
    let mut frac = format!("{:0width$}", a % den, width = scale as usize);
    while frac.len() > min_places as usize && frac.ends_with('0') {
        frac.pop();
    }
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// The shortest decimal text of a JSON number read as `f64` (never exponent form).
pub(crate) fn f64_text(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('e') || s.contains('E') {
        // Rust's Display never uses exponents for f64, but keep this total.
        format!("{v:.6}")
    } else {
        s
    }
}
