//! The decoding pipeline: rqrr on the frame as it is, then on preprocessed
//! versions only when the cheaper stages found nothing. Each stage's gain and
//! cost is measured by the `decode_rate` test and the `decode` benchmark.

use image::{imageops, GrayImage, Luma};
use serde::Serialize;

/// One decoded code with its corners in frame pixels (for the preview outline).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    pub text: String,
    pub corners: Vec<(f32, f32)>,
    /// Which stage read it.
    pub stage: Stage,
}

/// The stages, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// rxing (the Rust port of ZXing: hybrid binarizer, try-harder, also inverted).
    Rxing,
    /// rqrr on the frame as it is.
    Plain,
    /// Dark-mode screens: the inverted image.
    Inverted,
    /// A global Otsu threshold (glare, low contrast).
    Otsu,
    /// A local mean threshold (uneven light, glare).
    Adaptive,
    /// Half size (blur, large noisy frames).
    Downscaled,
    /// Double size (small codes).
    Upscaled,
    /// rxing on a half-size frame (blur shrinks with the image).
    RxingHalf,
    /// rxing after an unsharp mask (blur, motion).
    RxingSharp,
    /// rxing after local contrast normalisation (glare, low contrast).
    RxingLocal,
}

impl Stage {
    /// The pipeline, cheapest and most productive first (measured on the public
    /// sets and counter-like frames; see crates/scan/README.md). Stages that read
    /// nothing the others miss (rqrr inverted, rqrr half size) are left out.
    pub const ALL: [Stage; 7] = [
        Stage::Rxing,
        Stage::RxingSharp,
        Stage::RxingLocal,
        Stage::RxingHalf,
        Stage::Plain,
        Stage::Adaptive,
        Stage::Upscaled,
    ];
    /// Every stage there is (for measuring each one's gain).
    pub const EXTENDED: [Stage; 10] = [
        Stage::Rxing,
        Stage::Plain,
        Stage::Inverted,
        Stage::Otsu,
        Stage::Adaptive,
        Stage::Downscaled,
        Stage::Upscaled,
        Stage::RxingHalf,
        Stage::RxingSharp,
        Stage::RxingLocal,
    ];
}

/// A decoder with a chosen list of stages and an optional time budget per
/// frame: a live camera gives a new frame every ~33 ms, so a frame that the
/// cheap stages cannot read is not worth more than the budget.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub stages: Vec<Stage>,
    pub budget: Option<std::time::Duration>,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder {
            stages: Stage::ALL.to_vec(),
            budget: Some(std::time::Duration::from_millis(25)),
        }
    }
}

/// The most pixels any stage works on. A camera frame (1920 × 1080, 2 MP) is well
/// inside; a larger image is shrunk to fit first, so that no single stage — which
/// cannot be interrupted once started — costs more than a bounded time and memory,
/// and the budget checked between stages holds. (A 20 000 × 20 000 image once took
/// 1.2 GB and, with every stage, more than 300 s.)
pub const MAX_WORK_PIXELS: u64 = 2048 * 2048;

/// The image the stages see, and the factor that maps its pixels back to `img`'s.
pub fn working_image(img: &GrayImage) -> (std::borrow::Cow<'_, GrayImage>, f32) {
    let (w, h) = img.dimensions();
    let px = u64::from(w) * u64::from(h);
    if px <= MAX_WORK_PIXELS {
        return (std::borrow::Cow::Borrowed(img), 1.0);
    }
    let k = (MAX_WORK_PIXELS as f64 / px as f64).sqrt();
    let (nw, nh) = (
        ((f64::from(w) * k) as u32).max(1),
        ((f64::from(h) * k) as u32).max(1),
    );
    let small = imageops::resize(img, nw, nh, imageops::FilterType::Triangle);
    (std::borrow::Cow::Owned(small), w as f32 / nw as f32)
}

impl Decoder {
    /// Decode: the first stage that reads anything wins. Stages run on
    /// [`working_image`]; the budget is checked before each stage.
    pub fn decode(&self, img: &GrayImage) -> Vec<Decoded> {
        let start = std::time::Instant::now();
        let (work, scale) = working_image(img);
        for &stage in &self.stages {
            if self.budget.is_some_and(|b| start.elapsed() > b) {
                break;
            }
            let mut found = run_stage(&work, stage);
            if !found.is_empty() {
                if scale != 1.0 {
                    for d in &mut found {
                        for c in &mut d.corners {
                            *c = (c.0 * scale, c.1 * scale);
                        }
                    }
                }
                return found;
            }
        }
        Vec::new()
    }
}

/// Decode with the default pipeline.
pub fn decode_gray(img: &GrayImage) -> Vec<Decoded> {
    Decoder::default().decode(img)
}

/// Run one stage on the image.
pub fn run_stage(img: &GrayImage, stage: Stage) -> Vec<Decoded> {
    match stage {
        Stage::Rxing => rxing_decode(img, 1.0, stage),
        Stage::RxingHalf => {
            if img.width() < 400 {
                return Vec::new();
            }
            let small = half(img);
            rxing_decode(&small, 2.0, stage)
        }
        Stage::RxingSharp => rxing_decode(&imageops::unsharpen(img, 2.0, 4), 1.0, stage),
        Stage::RxingLocal => rxing_decode(
            &local_normalise(img, (img.width().min(img.height()) / 12).max(8)),
            1.0,
            stage,
        ),
        Stage::Plain => rqrr_decode(img, 1.0, stage),
        Stage::Inverted => {
            let mut inv = img.clone();
            imageops::invert(&mut inv);
            rqrr_decode(&inv, 1.0, stage)
        }
        Stage::Otsu => {
            let t = otsu(img);
            let b = GrayImage::from_fn(img.width(), img.height(), |x, y| {
                Luma([if img.get_pixel(x, y)[0] > t { 255 } else { 0 }])
            });
            rqrr_either_polarity(b, stage)
        }
        Stage::Adaptive => {
            let b = adaptive(img, (img.width().min(img.height()) / 16).max(8), 7);
            rqrr_either_polarity(b, stage)
        }
        Stage::Downscaled => {
            if img.width() < 400 {
                return Vec::new();
            }
            let small = half(img);
            rqrr_decode(&small, 2.0, stage)
        }
        Stage::Upscaled => {
            // For small codes in small frames only (doubling is 4× the pixels).
            if img.width() > 1400 || u64::from(img.width()) * u64::from(img.height()) > 1_200_000 {
                return Vec::new();
            }
            let big = imageops::resize(
                img,
                img.width() * 2,
                img.height() * 2,
                imageops::FilterType::Triangle,
            );
            rqrr_decode(&big, 0.5, stage)
        }
    }
}

/// rqrr on a binarised image, then on its inverse (dark-mode screens).
fn rqrr_either_polarity(mut b: GrayImage, stage: Stage) -> Vec<Decoded> {
    let r = rqrr_decode(&b, 1.0, stage);
    if !r.is_empty() {
        return r;
    }
    imageops::invert(&mut b);
    rqrr_decode(&b, 1.0, stage)
}

fn half(img: &GrayImage) -> GrayImage {
    imageops::resize(
        img,
        img.width() / 2,
        img.height() / 2,
        imageops::FilterType::Triangle,
    )
}

/// rxing, guarded like rqrr.
fn rxing_decode(img: &GrayImage, scale: f32, stage: Stage) -> Vec<Decoded> {
    let (w, h) = img.dimensions();
    let luma = img.as_raw().clone();
    let r = std::panic::catch_unwind(move || {
        let mut hints = rxing::DecodeHints {
            TryHarder: Some(true),
            AlsoInverted: Some(true),
            ..Default::default()
        };
        rxing::helpers::detect_in_luma_with_hints(
            luma,
            w,
            h,
            Some(rxing::BarcodeFormat::QR_CODE),
            &mut hints,
        )
        .ok()
    });
    match r {
        Ok(Some(res)) => {
            let text = if res.getText().is_empty() && !res.getRawBytes().is_empty() {
                bytes_to_text(res.getRawBytes())
            } else {
                res.getText().to_string()
            };
            let corners = res
                .getPoints()
                .iter()
                .map(|p| (p.x * scale, p.y * scale))
                .collect();
            vec![Decoded {
                text,
                corners,
                stage,
            }]
        }
        _ => Vec::new(),
    }
}

/// rqrr, guarded: it panics on some images (an assertion in its geometry code).
fn rqrr_decode(img: &GrayImage, scale: f32, stage: Stage) -> Vec<Decoded> {
    let img = img.clone();
    let found = std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        let mut out = Vec::new();
        for g in grids {
            let mut bytes = Vec::new();
            if g.decode_to(&mut bytes).is_ok() {
                let text = bytes_to_text(&bytes);
                let corners = g
                    .bounds
                    .iter()
                    .map(|p| (p.x as f32 * scale, p.y as f32 * scale))
                    .collect();
                out.push((text, corners));
            }
        }
        out
    });
    found
        .unwrap_or_default()
        .into_iter()
        .map(|(text, corners)| Decoded {
            text,
            corners,
            stage,
        })
        .collect()
}

/// Payload bytes as text: UTF-8; else Shift_JIS or GB18030 when the bytes are
/// valid in it (both occur in the wild); else ISO-8859-1 (the QR default).
pub fn bytes_to_text(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    for enc in [encoding_rs::SHIFT_JIS, encoding_rs::GB18030] {
        let (s, had_errors) = enc.decode_without_bom_handling(bytes);
        if !had_errors {
            return s.into_owned();
        }
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Stretch each pixel against the min/max of its neighbourhood (box filtered),
/// which flattens glare and lifts low contrast.
pub fn local_normalise(img: &GrayImage, r: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    let mean = imageops::blur(img, r as f32 / 2.0);
    GrayImage::from_fn(w, h, |x, y| {
        let v = img.get_pixel(x, y)[0] as i32;
        let m = mean.get_pixel(x, y)[0] as i32;
        Luma([(128 + (v - m) * 3).clamp(0, 255) as u8])
    })
}

/// Otsu's global threshold.
pub fn otsu(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p[0] as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: u64 = hist.iter().enumerate().map(|(i, &h)| i as u64 * h).sum();
    let (mut sum_b, mut w_b, mut best, mut best_t) = (0u64, 0u64, 0f64, 127u8);
    for (t, &h) in hist.iter().enumerate() {
        w_b += h;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as u64 * h;
        let m_b = sum_b as f64 / w_b as f64;
        let m_f = (sum_all - sum_b) as f64 / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f).powi(2);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Local mean threshold over a (2r+1)² window with an integral image.
pub fn adaptive(img: &GrayImage, r: u32, c: i32) -> GrayImage {
    let (w, h) = img.dimensions();
    let mut integral = vec![0u64; ((w + 1) * (h + 1)) as usize];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += img.get_pixel(x, y)[0] as u64;
            integral[((y + 1) * (w + 1) + x + 1) as usize] =
                integral[(y * (w + 1) + x + 1) as usize] + row;
        }
    }
    GrayImage::from_fn(w, h, |x, y| {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(w), (y + r + 1).min(h));
        let at = |xx: u32, yy: u32| integral[(yy * (w + 1) + xx) as usize];
        let sum = at(x1, y1) + at(x0, y0) - at(x1, y0) - at(x0, y1);
        let n = ((x1 - x0) * (y1 - y0)) as u64;
        let mean = (sum / n) as i32;
        Luma([if (img.get_pixel(x, y)[0] as i32) > mean - c {
            255
        } else {
            0
        }])
    })
}
