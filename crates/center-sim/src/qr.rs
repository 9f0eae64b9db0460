//! 医保电子凭证 codes: a 28-digit string per person that changes every
//! period (60 s by default) and expires a grace time after its period ends.
//! Layout: 16 digits keyed by the person's secret and the period, the period
//! number mod 10⁶ (6 digits), the insured province (6 digits, e.g. 440000).

use image::{GrayImage, Luma};

pub fn slot_of(unix: i64, period: i64) -> i64 {
    unix.div_euclid(period.max(1))
}

fn keyed_digits(secret: &str, slot: i64, n: usize, salt: &str) -> String {
    let h = sm_crypto::sm3::sm3_hash(format!("{secret}|{slot}|{salt}").as_bytes());
    // Map hex nibbles to decimal digits deterministically.
    h.chars()
        .map(|c| char::from(b'0' + (c.to_digit(16).unwrap_or(0) % 10) as u8))
        .take(n)
        .collect()
}

/// The code shown at `slot`.
pub fn code_for(secret: &str, slot: i64, insuplc_admdvs: &str) -> String {
    let prov = format!("{}0000", &insuplc_admdvs[..2.min(insuplc_admdvs.len())]);
    format!(
        "{}{:06}{}",
        keyed_digits(secret, slot, 16, "qr"),
        slot.rem_euclid(1_000_000),
        prov
    )
}

/// The ecToken issued for a code: insured area + "ec" + 30 hex.
pub fn token_for(secret: &str, slot: i64, insuplc_admdvs: &str) -> String {
    let h = sm_crypto::sm3::sm3_hash(format!("{secret}|{slot}|token").as_bytes());
    format!(
        "{}ec{}",
        &insuplc_admdvs[..6.min(insuplc_admdvs.len())],
        &h[..30]
    )
}

/// The period a 28-digit code claims, nearest to `now_slot` (None if not that shape).
pub fn claimed_slot(code: &str, now_slot: i64) -> Option<i64> {
    if code.len() != 28 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let r: i64 = code[16..22].parse().ok()?;
    let base = now_slot - now_slot.rem_euclid(1_000_000);
    let mut best = base + r;
    if best > now_slot + 1 {
        best -= 1_000_000;
    }
    Some(best)
}

/// Is it a WeChat (18 digits, 10–15…) or Alipay (16–24 digits, 25–30…) payment code?
pub fn is_payment_code(code: &str) -> bool {
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    let p: u32 = code.get(..2).and_then(|s| s.parse().ok()).unwrap_or(0);
    digits
        && ((code.len() == 18 && (10..=15).contains(&p))
            || ((16..=24).contains(&code.len()) && (25..=30).contains(&p)))
}

/// Render text as a QR code PNG (black on white, quiet zone, `scale` px per module).
pub fn png(text: &str, scale: u32) -> Vec<u8> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .expect("short text always fits");
    let w = code.width() as u32;
    let quiet = 4;
    let size = (w + 2 * quiet) * scale;
    let colors = code.to_colors();
    let img = GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        if mx < quiet || my < quiet || mx >= w + quiet || my >= w + quiet {
            return Luma([255]);
        }
        let i = ((my - quiet) * w + (mx - quiet)) as usize;
        if colors[i] == qrcode::Color::Dark {
            Luma([0])
        } else {
            Luma([255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding to memory");
    out.into_inner()
}
