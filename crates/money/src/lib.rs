//! Money for the counter: integer fen end to end, never `f64`.
//!
//! * [`Fen`]   — an amount of money in fen (1/100 yuan), `i64`.
//! * [`Ratio`] — an exact decimal ratio (e.g. `0.05`, `0.70`) in millionths.
//! * [`Qty`]   — a quantity with up to four decimals (`cnt`, 16,4 in the interface).
//! * [`Price`] — a unit price with up to six decimals (`pric`, 16,6 in the interface).
//! * [`capital`] — the amount in Chinese capitals (人民币大写).
//!
//! Rounding is half-up (half away from zero) to the fen wherever a rule rounds.
//! Decimal text is parsed exactly; JSON numbers are read through their shortest
//! decimal text, so `4.52` reads as 452 fen, never as 451.9999….

mod capital;
mod decimal;

pub use capital::capital;
pub use decimal::ParseError;

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Divide `num` by `den` (> 0), rounding half away from zero.
fn div_round_half_up(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// An amount of money in fen (分). The only money type of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fen(pub i64);

/// The largest amount any input or answer may carry: 1 000 亿元 (10^13 fen). Every
/// amount that enters the program (bill text, a center's answer, the CLI) is read
/// through [`Fen::parse`] or serde, which refuse anything larger; so a sum of fewer
/// than 900 000 such amounts cannot overflow `i64`, and the release build keeps
/// overflow checks on for whatever would.
pub const MAX_FEN: i64 = 10_000_000_000_000;
/// The largest quantity on a line (`cnt`): one million units.
pub const MAX_QTY_UNITS: i64 = 1_000_000;
/// The largest unit price (`pric`): 1 亿元.
pub const MAX_PRICE_YUAN: i64 = 100_000_000;

fn bounded(v: i64, max: i64, what: &str, text: &str) -> Result<i64, ParseError> {
    if v.unsigned_abs() > max as u64 {
        Err(ParseError::OutOfRange(format!(
            "{what} {text} is beyond the limit"
        )))
    } else {
        Ok(v)
    }
}

impl Fen {
    pub const ZERO: Fen = Fen(0);
    pub const MAX: Fen = Fen(MAX_FEN);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }
    /// Whole yuan.
    pub const fn yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }
    pub const fn get(self) -> i64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    pub fn abs(self) -> Fen {
        Fen(self.0.abs())
    }
    pub fn min(self, other: Fen) -> Fen {
        Fen(self.0.min(other.0))
    }
    pub fn max(self, other: Fen) -> Fen {
        Fen(self.0.max(other.0))
    }
    /// `max(self, 0)`.
    pub fn clamp_zero(self) -> Fen {
        Fen(self.0.max(0))
    }
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// Parse decimal yuan text exactly: `"12.3"`, `"-0.05"`, `"100"`, `"1e2"` is refused.
    /// More than two decimals are accepted only when the extra digits are zeros.
    pub fn parse(s: &str) -> Result<Fen, ParseError> {
        let d = decimal::Decimal::parse(s)?;
        bounded(d.to_scale_exact(2)?, MAX_FEN, "amount", s).map(Fen)
    }

    /// Parse decimal yuan text and round half-up to the fen (for tolerant reading).
    pub fn parse_round(s: &str) -> Result<Fen, ParseError> {
        let d = decimal::Decimal::parse(s)?;
        bounded(d.to_scale_round(2)?, MAX_FEN, "amount", s).map(Fen)
    }

    /// Whether the amount is within [`MAX_FEN`] either way.
    pub fn in_range(self) -> bool {
        self.0.unsigned_abs() <= MAX_FEN as u64
    }

    /// The sum of amounts, `None` when it leaves the range.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(it: I) -> Option<Fen> {
        let mut acc = Fen::ZERO;
        for f in it {
            acc = acc.checked_add(f).filter(|a| a.in_range())?;
        }
        Some(acc)
    }

    /// `self × ratio`, rounded half-up to the fen.
    pub fn mul_ratio(self, r: Ratio) -> Fen {
        Fen(div_round_half_up(self.0 as i128 * r.0 as i128, Ratio::SCALE as i128) as i64)
    }

    /// Text with two decimals, e.g. `"12.30"`, `"-0.05"`.
    pub fn to_yuan_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}
impl Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}
impl AddAssign for Fen {
    fn add_assign(&mut self, o: Fen) {
        self.0 += o.0
    }
}
impl SubAssign for Fen {
    fn sub_assign(&mut self, o: Fen) {
        self.0 -= o.0
    }
}
impl Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}
impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(it: I) -> Fen {
        it.fold(Fen::ZERO, Add::add)
    }
}
impl<'a> Sum<&'a Fen> for Fen {
    fn sum<I: Iterator<Item = &'a Fen>>(it: I) -> Fen {
        it.copied().sum()
    }
}

/// An exact decimal ratio in millionths: `0.05` is `Ratio(50_000)`, `1` is `Ratio(1_000_000)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ratio(pub i64);

impl Ratio {
    pub const SCALE: i64 = 1_000_000;
    pub const ZERO: Ratio = Ratio(0);
    pub const ONE: Ratio = Ratio(Ratio::SCALE);

    /// Parse exact decimal text (up to six decimals), e.g. `"0.70"`.
    pub fn parse(s: &str) -> Result<Ratio, ParseError> {
        decimal::Decimal::parse(s)?.to_scale_exact(6).map(Ratio)
    }
    /// `1 - self`.
    pub fn complement(self) -> Ratio {
        Ratio(Self::SCALE - self.0)
    }
    pub fn is_within_unit(self) -> bool {
        (0..=Self::SCALE).contains(&self.0)
    }
}

impl fmt::Display for Ratio {
    /// Shortest exact text with at least two decimals: `0.05`, `0.70`, `1.00`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decimal::format_scaled(self.0 as i128, 6, 2))
    }
}

/// A quantity (`cnt`) with up to four decimals, in ten-thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Qty(pub i64);

impl Qty {
    pub const SCALE: i64 = 10_000;
    pub fn parse(s: &str) -> Result<Qty, ParseError> {
        let v = decimal::Decimal::parse(s)?.to_scale_exact(4)?;
        bounded(v, MAX_QTY_UNITS * Self::SCALE, "quantity", s).map(Qty)
    }
    pub const fn units(n: i64) -> Qty {
        Qty(n * Self::SCALE)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decimal::format_scaled(self.0 as i128, 4, 0))
    }
}

/// A unit price (`pric`) with up to six decimals, in millionths of a yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(pub i64);

impl Price {
    pub const SCALE: i64 = 1_000_000;
    pub fn parse(s: &str) -> Result<Price, ParseError> {
        let v = decimal::Decimal::parse(s)?.to_scale_exact(6)?;
        bounded(v, MAX_PRICE_YUAN * Self::SCALE, "price", s).map(Price)
    }
    pub const fn from_fen(f: Fen) -> Price {
        Price(f.0 * 10_000)
    }
    /// `cnt × self`, rounded half-up to the fen (the line amount rule); `None` when
    /// the product is beyond [`MAX_FEN`].
    pub fn checked_times(self, cnt: Qty) -> Option<Fen> {
        let v = self.0 as i128 * cnt.0 as i128; // in 1e-10 yuan, cannot overflow i128
        let f = div_round_half_up(v, 100_000_000);
        (f.unsigned_abs() <= MAX_FEN as u128).then_some(Fen(f as i64))
    }

    /// `cnt × self`, rounded half-up to the fen. Never wraps: a product beyond
    /// [`MAX_FEN`] saturates to one fen past it, which every bill check refuses
    /// (`billing::check_bill` runs before anything is split or sent).
    pub fn times(self, cnt: Qty) -> Fen {
        let past = if (self.0 < 0) != (cnt.0 < 0) {
            Fen(-MAX_FEN - 1)
        } else {
            Fen(MAX_FEN + 1)
        };
        self.checked_times(cnt).unwrap_or(past)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decimal::format_scaled(self.0 as i128, 6, 2))
    }
}

macro_rules! serde_as_decimal_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            /// Tolerant reading: a decimal string or a JSON number.
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a decimal number or decimal string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        <$t>::parse(v.trim()).map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::parse(&v.to_string()).map_err(E::custom)
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$t, E> {
                        <$t>::parse(&v.to_string()).map_err(E::custom)
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$t, E> {
                        // Rust prints the shortest text that round-trips: 4.52 -> "4.52".
                        <$t>::parse(&decimal::f64_text(v)).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
serde_as_decimal_text!(Fen);
serde_as_decimal_text!(Ratio);
serde_as_decimal_text!(Qty);
serde_as_decimal_text!(Price);

#[cfg(feature = "ts-rs")]
mod ts {
    //! All four types cross to TypeScript as decimal strings.
    macro_rules! ts_string {
        ($t:ty) => {
            impl ts_rs::TS for $t {
                type WithoutGenerics = Self;
                fn name() -> String {
                    "string".into()
                }
                fn inline() -> String {
                    "string".into()
                }
                fn inline_flattened() -> String {
                    panic!("a decimal string cannot be flattened")
                }
                fn decl() -> String {
                    panic!("a decimal string has no declaration")
                }
                fn decl_concrete() -> String {
                    panic!("a decimal string has no declaration")
                }
            }
        };
    }
    ts_string!(super::Fen);
    ts_string!(super::Ratio);
    ts_string!(super::Qty);
    ts_string!(super::Price);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_fen() {
        assert_eq!(Fen::parse("354").unwrap(), Fen(35400));
        assert_eq!(Fen::parse("4.52").unwrap(), Fen(452));
        assert_eq!(Fen::parse("-25.1").unwrap(), Fen(-2510));
        assert_eq!(Fen::parse("0.230000").unwrap(), Fen(23));
        assert!(Fen::parse("0.226").is_err());
        assert_eq!(Fen::parse_round("0.226").unwrap(), Fen(23));
        assert_eq!(Fen::parse_round("-0.225").unwrap(), Fen(-23));
        assert!(Fen::parse("abc").is_err());
        assert!(Fen::parse("").is_err());
        assert!(Fen::parse("1.2.3").is_err());
        assert!(Fen::parse("1e3").is_err());
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(35400).to_string(), "354.00");
    }

    #[test]
    fn json_numbers_read_exactly() {
        let f: Fen = serde_json::from_str("4.52").unwrap();
        assert_eq!(f, Fen(452));
        let f: Fen = serde_json::from_str("1378.15").unwrap();
        assert_eq!(f, Fen(137815));
        let f: Fen = serde_json::from_str("\"-3379.26\"").unwrap();
        assert_eq!(f, Fen(-337926));
        let f: Fen = serde_json::from_str("999999").unwrap();
        assert_eq!(f, Fen(99999900));
        assert_eq!(serde_json::to_string(&Fen(452)).unwrap(), "\"4.52\"");
        let r: Ratio = serde_json::from_str("0.05").unwrap();
        assert_eq!(r, Ratio(50_000));
    }

    #[test]
    fn half_up_rounding() {
        // A1: 4.52 × 0.05 = 0.226 → 0.23
        assert_eq!(Fen(452).mul_ratio(Ratio::parse("0.05").unwrap()), Fen(23));
        assert_eq!(
            Fen(9900).mul_ratio(Ratio::parse("0.70").unwrap()),
            Fen(6930)
        );
        assert_eq!(Fen(5).mul_ratio(Ratio::parse("0.5").unwrap()), Fen(3));
        assert_eq!(Fen(-5).mul_ratio(Ratio::parse("0.5").unwrap()), Fen(-3));
        let p = Price::parse("4.52").unwrap();
        assert_eq!(p.times(Qty::parse("1").unwrap()), Fen(452));
        let p = Price::parse("0.333333").unwrap();
        assert_eq!(p.times(Qty::parse("3").unwrap()), Fen(100));
        assert_eq!(
            Price::parse("12.5")
                .unwrap()
                .times(Qty::parse("0.5").unwrap()),
            Fen(625)
        );
    }

    #[test]
    fn displays_ratios_and_quantities() {
        assert_eq!(Ratio::parse("0.7").unwrap().to_string(), "0.70");
        assert_eq!(Ratio::parse("0.125").unwrap().to_string(), "0.125");
        assert_eq!(Qty::parse("2").unwrap().to_string(), "2");
        assert_eq!(Qty::parse("1.5").unwrap().to_string(), "1.5");
        assert_eq!(Price::parse("25").unwrap().to_string(), "25.00");
    }

    #[test]
    fn amounts_beyond_the_limits_are_refused_and_products_never_wrap() {
        assert!(Fen::parse("100000000000").is_ok());
        assert!(matches!(
            Fen::parse("100000000000.01"),
            Err(ParseError::OutOfRange(_))
        ));
        assert!(serde_json::from_str::<Fen>("\"99999999999999999\"").is_err());
        assert!(serde_json::from_str::<Fen>("1e30").is_err());
        assert!(Qty::parse("1000000").is_ok() && Qty::parse("1000000.0001").is_err());
        assert!(Price::parse("100000000").is_ok() && Price::parse("100000001").is_err());
        // The adversarial line: 21 151 units at a huge price used to wrap to 1.01.
        let p = Price::parse("100000000").unwrap();
        let q = Qty::parse("21151").unwrap();
        assert_eq!(p.checked_times(q), None);
        assert!(p.times(q) > Fen::MAX);
        assert!(p.times(Qty::parse("-21151").unwrap()) < -Fen::MAX);
        assert_eq!(Fen::checked_sum([Fen::MAX, Fen(1)]), None);
        assert_eq!(Fen::checked_sum([Fen(1), Fen(2)]), Some(Fen(3)));
    }

    proptest::proptest! {
        #[test]
        fn products_are_exact_or_refused(p in -MAX_PRICE_YUAN * Price::SCALE..=MAX_PRICE_YUAN * Price::SCALE,
                                         q in -MAX_QTY_UNITS * Qty::SCALE..=MAX_QTY_UNITS * Qty::SCALE) {
            let exact = (p as i128 * q as i128) as f64 / 1e10;
            match Price(p).checked_times(Qty(q)) {
                Some(f) => proptest::prop_assert!((f.0 as f64 / 100.0 - exact).abs() <= 0.005 + exact.abs() * 1e-12),
                None => proptest::prop_assert!(exact.abs() * 100.0 > MAX_FEN as f64 - 1.0),
            }
        }

        #[test]
        fn fen_text_round_trips(v in -10_000_000_000i64..10_000_000_000) {
            let f = Fen(v);
            proptest::prop_assert_eq!(Fen::parse(&f.to_string()).unwrap(), f);
        }
    }
}
