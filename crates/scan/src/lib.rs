//! Scanning the 医保码: frame sources (the webcam through nokhwa, or recorded
//! frames from a folder, through the same pipeline), the decoding pipeline,
//! and de-duplication of repeated reads.

pub mod decode;
pub mod pipeline;
pub mod source;

pub use decode::{decode_gray, Decoded, Decoder, Stage};
pub use pipeline::{Deduper, Scanner, ScannerEvent};
pub use source::{open_source, CameraInfo, DirSource, FnSource, Frame, FrameSource, SourceError};
