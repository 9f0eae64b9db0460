//! Scanning the 医保码: frame sources (the webcam through nokhwa, or recorded
//! frames from a folder, through the same pipeline), the decoding pipeline,
//! and de-duplication of repeated reads.

pub mod decode;
pub mod pipeline;
pub mod source;

pub use decode::{decode_gray, working_image, Decoded, Decoder, Stage, MAX_WORK_PIXELS};
pub use pipeline::{Deduper, Scanner, ScannerEvent};
pub use source::{open_source, CameraInfo, DirSource, FnSource, Frame, FrameSource, SourceError};

/// The largest image decoded (a counter frame is 1–2 megapixels; a phone photo 12–50).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The largest image file read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Load an image file as grey, refusing what would hang or exhaust memory: anything
/// but a regular file (a FIFO blocks forever), files over [`MAX_FILE_BYTES`], and
/// images over [`MAX_PIXELS`] — checked from the header, before anything is decoded.
pub fn load_gray(path: &std::path::Path) -> Result<image::GrayImage, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "file of {} bytes is over the limit of {MAX_FILE_BYTES}",
            meta.len()
        ));
    }
    let reader = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "{w}×{h} image is over the limit of {MAX_PIXELS} pixels"
        ));
    }
    let mut reader = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    Ok(reader.decode().map_err(|e| e.to_string())?.to_luma8())
}
