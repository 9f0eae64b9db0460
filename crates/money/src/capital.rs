//! 人民币大写 — the amount in Chinese capitals, by the People's Bank rules
//! (docs/domain.md §4.6) with the canonical choices of §6.C:
//! * 零 after 元 when the 元 digit is 0 and 角 is not;
//! * no 零 when only the tail of a higher group (e.g. the 万 digit) is 0: 壹拾万柒仟;
//! * 整 only when the amount ends at 元.

use crate::Fen;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const IN_GROUP: [&str; 4] = ["", "拾", "佰", "仟"];
const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

/// The amount in capitals with the 人民币 prefix, e.g. `人民币壹仟零伍元整`.
/// Negative amounts (refunds) read `人民币负…`.
pub fn capital(amount: Fen) -> String {
    let mut out = String::from("人民币");
    if amount.0 < 0 {
        out.push('负');
    }
    let a = amount.0.unsigned_abs();
    let yuan = a / 100;
    let jiao = (a / 10 % 10) as usize;
    let fen = (a % 10) as usize;

    if yuan > 0 {
        out.push_str(&integer_words(yuan));
        out.push('元');
    }
    match (yuan > 0, jiao, fen) {
        (false, 0, 0) => out.push_str("零元整"),
        (true, 0, 0) => out.push('整'),
        (_, 0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (_, j, f) => {
            if yuan > 0 && yuan.is_multiple_of(10) {
                out.push('零');
            }
            out.push(DIGITS[j]);
            out.push('角');
            if f > 0 {
                out.push(DIGITS[f]);
                out.push('分');
            }
        }
    }
    out
}

/// Words for a positive whole number of yuan (without 元).
fn integer_words(n: u64) -> String {
    // Split into groups of four digits, lowest first.
    let mut groups = Vec::new();
    let mut m = n;
    while m > 0 {
        groups.push((m % 10_000) as usize);
        m /= 10_000;
    }
    let mut out = String::new();
    let mut need_zero = false; // a zero run waits to be written before the next digit
    for (gi, &g) in groups.iter().enumerate().rev() {
        let higher_written = !out.is_empty();
        if g == 0 {
            if higher_written {
                need_zero = true;
            }
            continue;
        }
        let digits = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
        let mut started = false;
        for (pos, &d) in digits.iter().enumerate() {
            let unit = 3 - pos;
            if d == 0 {
                // Leading zeros of a lower group and zeros inside a group both ask
                // for one 零 before the next digit; trailing zeros of a group do not.
                if started || higher_written {
                    need_zero = true;
                }
                continue;
            }
            if need_zero {
                out.push('零');
                need_zero = false;
            }
            out.push(DIGITS[d]);
            out.push_str(IN_GROUP[unit]);
            started = true;
        }
        // Trailing zeros of this group are absorbed by its group unit.
        need_zero = false;
        out.push_str(GROUPS[gi]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &str) -> String {
        capital(Fen::parse(s).unwrap())
    }

    /// Every row of docs/domain.md §6.C.
    #[test]
    fn domain_table_6c() {
        let rows = [
            ("1409.50", "人民币壹仟肆佰零玖元伍角"),
            ("6007.14", "人民币陆仟零柒元壹角肆分"),
            ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
            ("107000.53", "人民币壹拾万柒仟元零伍角叁分"),
            ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
            ("325.04", "人民币叁佰贰拾伍元零肆分"),
            ("1005.00", "人民币壹仟零伍元整"),
            ("354.00", "人民币叁佰伍拾肆元整"),
            ("284.70", "人民币贰佰捌拾肆元柒角"),
            ("4.52", "人民币肆元伍角贰分"),
            ("0.05", "人民币伍分"),
            ("0.00", "人民币零元整"),
            ("100500.00", "人民币壹拾万零伍佰元整"),
            ("1000000.01", "人民币壹佰万元零壹分"),
            ("23442.46", "人民币贰万叁仟肆佰肆拾贰元肆角陆分"),
        ];
        for (amount, words) in rows {
            assert_eq!(cap(amount), words, "{amount}");
        }
    }

    #[test]
    fn more_shapes() {
        assert_eq!(cap("10"), "人民币壹拾元整");
        assert_eq!(cap("1000.50"), "人民币壹仟元零伍角");
        assert_eq!(cap("0.5"), "人民币伍角");
        assert_eq!(cap("0.51"), "人民币伍角壹分");
        assert_eq!(cap("10010"), "人民币壹万零壹拾元整");
        assert_eq!(cap("100000000"), "人民币壹亿元整");
        assert_eq!(cap("100000005"), "人民币壹亿零伍元整");
        assert_eq!(cap("-25.10"), "人民币负贰拾伍元壹角");
    }
}
