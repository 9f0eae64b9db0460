//! Frame sources. The webcam (nokhwa) and recorded frames (a folder of
//! images played at a set rate) both yield grey frames to the same pipeline.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::GrayImage;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct Frame {
    pub image: GrayImage,
    /// Where it came from (file name or camera name), for logs.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No camera is connected (or none can be opened).
    #[error("no camera: {0}")]
    NoCamera(String),
    /// The camera stopped delivering frames (unplugged).
    #[error("camera lost: {0}")]
    Lost(String),
    #[error("frames: {0}")]
    Frames(String),
    #[error("bad camera setting {0:?} (use device:N, dir:/path, or none)")]
    BadSetting(String),
}

impl SourceError {
    /// For the cashier: what happened and what to do.
    pub fn message_zh(&self) -> (&'static str, &'static str) {
        match self {
            SourceError::NoCamera(_) => ("未检测到摄像头", "可用扫码枪扫码（任何时候直接扫即可），或按 F3 输入身份证号；接上摄像头后会自动恢复"),
            SourceError::Lost(_) => ("摄像头连接中断，正在重新连接…", "请检查摄像头USB线；期间可用扫码枪或 F3 输入身份证号"),
            SourceError::Frames(_) => ("录制画面读取失败", "请检查设置中的画面目录"),
            SourceError::BadSetting(_) => ("摄像头设置有误", "请在设置中重新选择摄像头"),
        }
    }
}

pub trait FrameSource: Send {
    /// The next frame; `Ok(None)` when a recording has ended.
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError>;
    fn name(&self) -> String;
}

/// Recorded frames: every image file of a folder (sorted by name), or a list
/// of files, played at `interval`, optionally looping.
pub struct DirSource {
    files: Vec<PathBuf>,
    pos: usize,
    pub interval: Duration,
    pub looping: bool,
    started: bool,
}

impl DirSource {
    pub fn open(dir: &Path, interval: Duration, looping: bool) -> Result<DirSource, SourceError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| SourceError::Frames(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension()
                        .and_then(|x| x.to_str())
                        .map(str::to_ascii_lowercase)
                        .as_deref(),
                    Some("png" | "jpg" | "jpeg")
                )
            })
            .collect();
        files.sort();
        Ok(DirSource::from_files(files, interval, looping))
    }

    pub fn from_files(files: Vec<PathBuf>, interval: Duration, looping: bool) -> DirSource {
        DirSource {
            files,
            pos: 0,
            interval,
            looping,
            started: false,
        }
    }
}

impl FrameSource for DirSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        if self.files.is_empty() {
            return Err(SourceError::Frames(
                "the folder has no .png/.jpg frames".into(),
            ));
        }
        if self.pos >= self.files.len() {
            if !self.looping {
                return Ok(None);
            }
            self.pos = 0;
        }
        if self.started {
            std::thread::sleep(self.interval);
        }
        self.started = true;
        let p = self.files[self.pos].clone();
        self.pos += 1;
        let img = crate::load_gray(&p)
            .map_err(|e| SourceError::Frames(format!("{}: {e}", p.display())))?;
        Ok(Some(Frame {
            image: img,
            origin: p.display().to_string(),
        }))
    }

    fn name(&self) -> String {
        "recorded frames".into()
    }
}

/// Frames made by a function (the demo camera: a phone showing the current
/// code of a demo person, rendered by the simulated center), at `interval`.
pub struct FnSource<F: FnMut() -> Result<Option<Frame>, SourceError> + Send> {
    pub make: F,
    pub interval: Duration,
    pub name: String,
    started: bool,
}

impl<F: FnMut() -> Result<Option<Frame>, SourceError> + Send> FnSource<F> {
    pub fn new(name: &str, interval: Duration, make: F) -> Self {
        FnSource {
            make,
            interval,
            name: name.into(),
            started: false,
        }
    }
}

impl<F: FnMut() -> Result<Option<Frame>, SourceError> + Send> FrameSource for FnSource<F> {
    fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        if self.started {
            std::thread::sleep(self.interval);
        }
        self.started = true;
        (self.make)()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CameraInfo {
    pub index: u32,
    pub name: String,
}

/// The cameras the system offers (empty, with the reason, when there are none).
pub fn list_cameras() -> Result<Vec<CameraInfo>, SourceError> {
    #[cfg(feature = "camera")]
    {
        camera::list()
    }
    #[cfg(not(feature = "camera"))]
    {
        Err(SourceError::NoCamera("built without camera support".into()))
    }
}

/// Open a source from the setting: `device:N`, `dir:/path` (looping at 5 fps), `none`.
pub fn open_source(setting: &str) -> Result<Box<dyn FrameSource>, SourceError> {
    let s = setting.trim();
    if let Some(dir) = s.strip_prefix("dir:") {
        return Ok(Box::new(DirSource::open(
            Path::new(dir),
            Duration::from_millis(200),
            true,
        )?));
    }
    if s == "none" || s.is_empty() {
        return Err(SourceError::NoCamera(
            "the camera is switched off in the settings".into(),
        ));
    }
    let idx: u32 = s
        .strip_prefix("device:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| SourceError::BadSetting(s.into()))?;
    #[cfg(feature = "camera")]
    {
        Ok(Box::new(camera::CameraSource::open(idx)?))
    }
    #[cfg(not(feature = "camera"))]
    {
        let _ = idx;
        Err(SourceError::NoCamera("built without camera support".into()))
    }
}

#[cfg(feature = "camera")]
mod camera {
    //! The webcam through nokhwa: MJPEG or YUYV as the device offers, decoded
    //! to grey; a camera that stops delivering reports `Lost` (the scanner
    //! then re-opens it).
    use nokhwa::pixel_format::LumaFormat;
    use nokhwa::utils::{ApiBackend, CameraIndex, RequestedFormat, RequestedFormatType};
    use nokhwa::Camera;

    use super::{CameraInfo, Frame, FrameSource, SourceError};

    pub fn list() -> Result<Vec<CameraInfo>, SourceError> {
        let cams =
            nokhwa::query(ApiBackend::Auto).map_err(|e| SourceError::NoCamera(e.to_string()))?;
        Ok(cams
            .iter()
            .enumerate()
            .map(|(i, c)| CameraInfo {
                index: c.index().as_index().unwrap_or(i as u32),
                name: c.human_name(),
            })
            .collect())
    }

    pub struct CameraSource {
        cam: Camera,
        name: String,
    }

    // nokhwa's Camera holds raw device handles; it is only ever used from the scanner thread.
    unsafe impl Send for CameraSource {}

    impl CameraSource {
        pub fn open(index: u32) -> Result<CameraSource, SourceError> {
            let cams = list()?;
            if cams.is_empty() {
                return Err(SourceError::NoCamera("no video device".into()));
            }
            let req =
                RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestResolution);
            let mut cam = Camera::new(CameraIndex::Index(index), req)
                .map_err(|e| SourceError::NoCamera(e.to_string()))?;
            cam.open_stream()
                .map_err(|e| SourceError::NoCamera(e.to_string()))?;
            let name = cam.info().human_name();
            Ok(CameraSource { cam, name })
        }
    }

    impl FrameSource for CameraSource {
        fn next_frame(&mut self) -> Result<Option<Frame>, SourceError> {
            let buf = self
                .cam
                .frame()
                .map_err(|e| SourceError::Lost(e.to_string()))?;
            let img = buf
                .decode_image::<LumaFormat>()
                .map_err(|e| SourceError::Lost(e.to_string()))?;
            let (w, h) = (img.width(), img.height());
            let gray = image::GrayImage::from_raw(w, h, img.into_raw())
                .ok_or_else(|| SourceError::Lost("bad frame".into()))?;
            Ok(Some(Frame {
                image: gray,
                origin: self.name.clone(),
            }))
        }
        fn name(&self) -> String {
            self.name.clone()
        }
    }
}

pub use self::list_cameras as cameras;
