//! What a scanned string is, before anything is sent to the center
//! (docs/domain.md §2): the content of a 医保电子凭证 is opaque and must be
//! resolved online (1162 → 1101), so this only recognises what it surely is
//! not — a WeChat or Alipay payment code, a URL, a 身份证 number typed by a
//! scanner — and gives the cashier the right words.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scanned {
    /// Possibly a 医保电子凭证: resolve it through the center.
    MedicalQr { code: String },
    /// A WeChat Pay payment code (18 digits, 10–15…).
    WeChatPay,
    /// An Alipay payment code (16–24 digits, 25–30…).
    AlipayPay,
    /// A valid 18-digit 居民身份证 number (e.g. read by a scanner): use it as type 02.
    IdCard { number: String },
    /// Something else (a URL, a product barcode, garbage).
    Other { reason: String },
}

impl Scanned {
    /// A line for the cashier when the string cannot be a 医保码.
    pub fn message_zh(&self) -> Option<&'static str> {
        match self {
            Scanned::MedicalQr { .. } | Scanned::IdCard { .. } => None,
            Scanned::WeChatPay => Some("扫到的是微信付款码，请患者打开医保电子凭证（医保码）"),
            Scanned::AlipayPay => Some("扫到的是支付宝付款码，请患者打开医保电子凭证（医保码）"),
            Scanned::Other { .. } => {
                Some("这不是医保电子凭证，请患者出示医保码；也可按 F3 输入身份证号")
            }
        }
    }
}

/// Classify a scanned or typed string.
pub fn classify(raw: &str) -> Scanned {
    let s = raw.trim().trim_matches(|c: char| c.is_control());
    if s.is_empty() {
        return Scanned::Other {
            reason: "empty".into(),
        };
    }
    let digits = s.bytes().all(|b| b.is_ascii_digit());
    let p: u32 = s.get(..2).and_then(|x| x.parse().ok()).unwrap_or(0);
    // A WeChat code has the shape of a 身份证 number from 北京…内蒙古 (11–15) one time
    // in eleven by its check digit alone: it is taken as an ID only when its birth
    // date is a real date too, and never with the prefix 10 (no such region).
    if digits && s.len() == 18 && (10..=15).contains(&p) && !id_plausible(s) {
        return Scanned::WeChatPay;
    }
    if digits && (16..=24).contains(&s.len()) && (25..=30).contains(&p) {
        return Scanned::AlipayPay;
    }
    if s.len() == 18 && id_plausible(s) {
        return Scanned::IdCard {
            number: s.to_uppercase(),
        };
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("weixin://")
        || lower.starts_with("alipays://")
    {
        return Scanned::Other {
            reason: "a link, not a 医保码".into(),
        };
    }
    if digits && matches!(s.len(), 8 | 12 | 13) {
        return Scanned::Other {
            reason: "a product barcode".into(),
        };
    }
    if s.len() > 512 || s.chars().any(|c| c.is_control()) {
        return Scanned::Other {
            reason: "too long or not text".into(),
        };
    }
    Scanned::MedicalQr {
        code: s.to_string(),
    }
}

/// A 居民身份证 number that can exist: the check digit, a region whose first digit is
/// 1–8, and a birth date (yyyymmdd at 7–14) that is a real day from 1900 on.
pub fn id_plausible(id: &str) -> bool {
    if !id_checksum_ok(id) || !matches!(id.as_bytes()[0], b'1'..=b'8') {
        return false;
    }
    let num = |r: std::ops::Range<usize>| id[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    (1900..=2100).contains(&y) && d >= 1 && d <= days
}

/// GB 11643 check digit of an 18-character 居民身份证 number.
pub fn id_checksum_ok(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    C[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

/// Mask a name for receipts and screens: 张伟 → 张*, 欧阳娜娜 → 欧***.
pub fn mask_name(name: &str) -> String {
    let mut it = name.chars();
    match it.next() {
        Some(first) => std::iter::once(first).chain(it.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// Mask an ID number: keep the first 6 and last 4.
pub fn mask_id(id: &str) -> String {
    let n = id.chars().count();
    if n <= 10 {
        return "*".repeat(n);
    }
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wechat_code_with_a_valid_check_digit_is_still_a_wechat_code() {
        // Valid GB 11643 check digit, but "9988-77-66" is no birth date.
        assert!(id_checksum_ok("134567998877665547"));
        assert_eq!(classify("134567998877665547"), Scanned::WeChatPay);
        // A real-looking number from 北京 is still an ID.
        assert!(id_plausible("110101199003074477") || !id_checksum_ok("110101199003074477"));
        assert!(!id_plausible("100101199003070000"));
    }

    #[test]
    fn classifies_what_a_counter_scans() {
        assert_eq!(classify("134567890123456789"), Scanned::WeChatPay);
        assert_eq!(classify("286512345678901234"), Scanned::AlipayPay);
        assert!(matches!(
            classify("4243754826492874240001130000"),
            Scanned::MedicalQr { .. }
        ));
        assert!(matches!(
            classify("https://u.wechat.com/abc"),
            Scanned::Other { .. }
        ));
        assert!(matches!(classify("6901234567892"), Scanned::Other { .. }));
        assert_eq!(
            classify("44030519850312001x"),
            Scanned::IdCard {
                number: "44030519850312001X".into()
            }
        );
        assert!(classify("").message_zh().is_some());
        assert!(classify("134567890123456789")
            .message_zh()
            .unwrap()
            .contains("微信"));
    }

    #[test]
    fn id_numbers_and_masks() {
        assert!(id_checksum_ok("11010519491231002X"));
        assert!(!id_checksum_ok("110105194912310021"));
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_id("44030519850312001X"), "440305********001X");
    }
}
