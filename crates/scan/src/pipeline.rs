//! The scanner: a thread that pulls frames, decodes them, de-duplicates
//! repeated reads, and reports to a callback. It re-opens a lost camera.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::GrayImage;

use crate::decode::{Decoded, Decoder};
use crate::source::{open_source, FrameSource, SourceError};

/// What the scanner reports.
#[derive(Debug, Clone)]
pub enum ScannerEvent {
    /// A downscaled preview with the corners of any code found (frame pixels).
    Frame {
        preview: GrayImage,
        width: u32,
        height: u32,
        corners: Vec<(f32, f32)>,
    },
    /// A new code (reported once while it stays in view).
    Code(String),
    /// Looking for a code.
    Looking(String),
    /// No camera / lost / bad setting.
    Error(SourceError),
}

/// Reports a code once; the same code again only after it was out of view for `quiet`.
pub struct Deduper {
    last: Option<(String, Instant)>,
    pub quiet: Duration,
}

impl Deduper {
    pub fn new(quiet: Duration) -> Deduper {
        Deduper { last: None, quiet }
    }
    /// Forget the last code (it will be reported again when seen).
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// `Some(text)` when this read should be reported.
    pub fn accept(&mut self, text: &str, now: Instant) -> Option<String> {
        match &mut self.last {
            Some((t, seen)) if t == text => {
                let fresh = now.duration_since(*seen) > self.quiet;
                *seen = now;
                fresh.then(|| text.to_string())
            }
            _ => {
                self.last = Some((text.to_string(), now));
                Some(text.to_string())
            }
        }
    }
}

/// A running scanner thread; stops when dropped.
pub struct Scanner {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Scanner {
    /// Start scanning from `setting` (`device:N`, `dir:/path`, `none`). Codes are
    /// reported only while `armed` is set (the counter is waiting for a patient);
    /// a code read while disarmed is not consumed.
    pub fn start(
        setting: String,
        armed: Arc<AtomicBool>,
        on_event: impl Fn(ScannerEvent) + Send + 'static,
    ) -> Scanner {
        let retry = setting.trim() != "none";
        Scanner::start_with(move || open_source(&setting), retry, armed, on_event)
    }

    /// Start scanning frames from sources made by `open` (re-called after a
    /// source is lost when `retry` is set).
    pub fn start_with(
        open: impl Fn() -> Result<Box<dyn FrameSource>, SourceError> + Send + 'static,
        retry: bool,
        armed: Arc<AtomicBool>,
        on_event: impl Fn(ScannerEvent) + Send + 'static,
    ) -> Scanner {
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("scanner".into())
            .spawn(move || run(open, retry, s2, armed, on_event))
            .expect("spawn scanner thread");
        Scanner {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(
    open: impl Fn() -> Result<Box<dyn FrameSource>, SourceError>,
    can_retry: bool,
    stop: Arc<AtomicBool>,
    armed: Arc<AtomicBool>,
    on_event: impl Fn(ScannerEvent),
) {
    let decoder = Decoder::default();
    let mut dedup = Deduper::new(Duration::from_secs(3));
    while !stop.load(Ordering::Relaxed) {
        let mut src = match open() {
            Ok(s) => s,
            Err(e) => {
                let retry =
                    matches!(e, SourceError::NoCamera(_) | SourceError::Lost(_)) && can_retry;
                on_event(ScannerEvent::Error(e));
                if !retry {
                    return;
                }
                sleep_unless(&stop, Duration::from_secs(3));
                continue;
            }
        };
        on_event(ScannerEvent::Looking(src.name()));
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match src.next_frame() {
                Ok(Some(frame)) => {
                    let found: Vec<Decoded> = decoder.decode(&frame.image);
                    let corners = found.first().map(|d| d.corners.clone()).unwrap_or_default();
                    let (w, h) = frame.image.dimensions();
                    let scale = (w as f32 / 480.0).max(1.0);
                    let preview = image::imageops::resize(
                        &frame.image,
                        (w as f32 / scale) as u32,
                        (h as f32 / scale) as u32,
                        image::imageops::FilterType::Triangle,
                    );
                    let corners = corners
                        .into_iter()
                        .map(|(x, y)| (x / scale, y / scale))
                        .collect();
                    let (pw, ph) = preview.dimensions();
                    on_event(ScannerEvent::Frame {
                        preview,
                        width: pw,
                        height: ph,
                        corners,
                    });
                    if !armed.load(Ordering::Relaxed) {
                        dedup.reset();
                        continue;
                    }
                    for d in found {
                        if let Some(t) = dedup.accept(&d.text, Instant::now()) {
                            on_event(ScannerEvent::Code(t));
                        }
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    on_event(ScannerEvent::Error(e));
                    sleep_unless(&stop, Duration::from_secs(2));
                    break; // re-open
                }
            }
        }
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
}
