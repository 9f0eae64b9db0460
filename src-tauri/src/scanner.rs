//! The camera: a scanner thread whose frames, state and codes go to the
//! window as events (`scan://frame`, `scan://state`, `scan://code`).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tauri::{AppHandle, Emitter, Manager};

use crate::dto::{CameraState, FrameEvent};
use crate::state::AppState;

/// The camera's state as the window shows it; repeated now and then because the
/// window may attach its listeners after the first state event.
#[derive(Clone, Default)]
struct Status {
    last: Arc<Mutex<Option<CameraState>>>,
    /// The camera's name, for the "looking" message.
    name: Arc<Mutex<String>>,
}

impl Status {
    fn set(&self, h: &AppHandle, s: CameraState) {
        let _ = h.emit("scan://state", s.clone());
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }
    fn kind(&self) -> Option<String> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref().map(|s| s.kind.clone())
    }
    fn repeat(&self, h: &AppHandle) {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(s) = last {
            let _ = h.emit("scan://state", s);
        }
    }
    fn looking(&self, h: &AppHandle) {
        let name = self.name.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.set(
            h,
            CameraState {
                kind: "looking".into(),
                message: format!("请患者将医保码对准摄像头（{name}）"),
                action: None,
            },
        );
    }
    fn paused(&self, h: &AppHandle) {
        self.set(
            h,
            CameraState {
                kind: "paused".into(),
                message: "已识别患者；本笔收费结束后继续扫码".into(),
                action: None,
            },
        );
    }
    /// Follow the scanner's armed flag: it is disarmed while a patient is at the
    /// counter and armed again for the next one (or after a code was refused).
    fn follow(&self, h: &AppHandle, armed: bool) {
        match (self.kind().as_deref(), armed) {
            (Some("read" | "paused"), true) => self.looking(h),
            (Some("looking"), false) => self.paused(h),
            _ => {}
        }
    }
}

pub(crate) fn start(app: AppHandle) {
    let state = app.state::<AppState>();
    let setting = state.config().camera.clone();
    let handle = app.clone();
    let status = Status::default();
    let frames = std::sync::atomic::AtomicU64::new(0);
    let armed = state.scan_armed.clone();
    let armed_now = armed.clone();
    let on_event = move |ev| match ev {
        scan::ScannerEvent::Frame {
            preview,
            width,
            height,
            corners,
        } => {
            if frames
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .is_multiple_of(10)
            {
                status.follow(
                    &handle,
                    armed_now.load(std::sync::atomic::Ordering::Relaxed),
                );
                status.repeat(&handle);
            }
            let mut jpeg = std::io::Cursor::new(Vec::new());
            if image::DynamicImage::ImageLuma8(preview)
                .write_to(&mut jpeg, image::ImageFormat::Jpeg)
                .is_ok()
            {
                let _ = handle.emit(
                    "scan://frame",
                    FrameEvent {
                        jpeg_base64: base64::engine::general_purpose::STANDARD
                            .encode(jpeg.into_inner()),
                        width,
                        height,
                        corners,
                    },
                );
            }
        }
        scan::ScannerEvent::Code(text) => {
            status.set(
                &handle,
                CameraState {
                    kind: "read".into(),
                    message: "已读取医保码，正在向医保中心查询…".into(),
                    action: None,
                },
            );
            // The backend resolves the code itself (no dependence on the window being
            // ready to listen); the window is told the outcome.
            let h = handle.clone();
            let status = status.clone();
            tauri::async_runtime::spawn(async move {
                let state = h.state::<AppState>();
                match crate::commands::checkout::resolve_qr(&state, text).await {
                    Ok(v) => {
                        status.paused(&h);
                        let _ = h.emit("checkout://view", v);
                    }
                    Err(e) => {
                        // Refused: the scanner is armed again for the next code.
                        status.looking(&h);
                        let _ = h.emit("checkout://error", e);
                    }
                }
            });
        }
        scan::ScannerEvent::Looking(name) => {
            *status.name.lock().unwrap_or_else(|e| e.into_inner()) = name;
            status.looking(&handle);
        }
        scan::ScannerEvent::Error(e) => {
            let (message, action) = e.message_zh();
            let kind = match e {
                scan::SourceError::Lost(_) => "lost",
                scan::SourceError::NoCamera(_) => "no_camera",
                _ => "off",
            };
            status.set(
                &handle,
                CameraState {
                    kind: kind.into(),
                    message: message.into(),
                    action: Some(action.into()),
                },
            );
        }
    };
    let scanner = if setting.trim() == "demo" {
        let center = state.center_url.clone();
        scan::Scanner::start_with(move || demo_camera(&center), true, armed, on_event)
    } else {
        scan::Scanner::start(setting, armed, on_event)
    };
    *state.scanner.lock().unwrap_or_else(|e| e.into_inner()) = Some(scanner);
}

/// The demo camera: a phone showing the current 医保码 of one demo person of the
/// (built-in) simulated center at a time, the next person every 8 seconds,
/// through the same decoding pipeline as a webcam's frames.
fn demo_camera(center: &str) -> Result<Box<dyn scan::FrameSource>, scan::SourceError> {
    let base = center.trim_end_matches('/').to_string();
    let order = [
        "normal_employee",
        "low_balance",
        "resident",
        "family_member",
        "chronic_disease",
        "cross_province",
        "suspended",
        "not_activated",
    ];
    let fetch = {
        let base = base.clone();
        move |path: &str| -> Result<Vec<u8>, scan::SourceError> {
            let url = format!("{base}{path}");
            tauri::async_runtime::block_on(async move {
                let r = reqwest::get(&url)
                    .await
                    .map_err(|e| scan::SourceError::NoCamera(format!("demo camera: {e}")))?;
                if !r.status().is_success() {
                    return Err(scan::SourceError::NoCamera(format!(
                        "demo camera: {url} answered {}",
                        r.status()
                    )));
                }
                r.bytes()
                    .await
                    .map(|b| b.to_vec())
                    .map_err(|e| scan::SourceError::Lost(e.to_string()))
            })
        }
    };
    let list: Vec<serde_json::Value> = serde_json::from_slice(&fetch("/sim/persons")?)
        .map_err(|_| scan::SourceError::NoCamera("演示摄像头只能配合内置模拟中心使用".into()))?;
    let mut persons: Vec<String> = Vec::new();
    for sc in order {
        if let Some(p) = list.iter().find(|p| p["scenario"] == sc) {
            persons.extend(p["psn_no"].as_str().map(str::to_owned));
        }
    }
    let mut n = 0usize;
    Ok(Box::new(scan::FnSource::new(
        "演示摄像头（模拟患者手机）",
        std::time::Duration::from_millis(300),
        move || {
            let who = &persons[(n / 27) % persons.len().max(1)];
            n += 1;
            let png = fetch(&format!("/sim/persons/{who}/qr?format=png"))?;
            let img = image::load_from_memory(&png)
                .map_err(|e| scan::SourceError::Lost(e.to_string()))?;
            Ok(Some(scan::Frame {
                image: img.to_luma8(),
                origin: who.clone(),
            }))
        },
    )))
}
