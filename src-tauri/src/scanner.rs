//! The camera: a scanner thread whose frames, state and codes go to the
//! window as events (`scan://frame`, `scan://state`, `scan://code`).

use base64::Engine as _;
use tauri::{AppHandle, Emitter, Manager};

use crate::dto::{CameraState, FrameEvent};
use crate::state::AppState;

pub(crate) fn start(app: AppHandle) {
    let state = app.state::<AppState>();
    let setting = state.config().camera.clone();
    let handle = app.clone();
    // The window may attach its listeners after the first state event: repeat the state now and then.
    let last_state: std::sync::Mutex<Option<CameraState>> = std::sync::Mutex::new(None);
    let frames = std::sync::atomic::AtomicU64::new(0);
    let remember =
        move |h: &AppHandle, s: CameraState, last: &std::sync::Mutex<Option<CameraState>>| {
            let _ = h.emit("scan://state", s.clone());
            *last.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
        };
    let armed = state.scan_armed.clone();
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
                if let Some(s) = last_state.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    let _ = handle.emit("scan://state", s);
                }
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
            remember(
                &handle,
                CameraState {
                    kind: "read".into(),
                    message: "已读取医保码，正在向医保中心查询…".into(),
                    action: None,
                },
                &last_state,
            );
            // The backend resolves the code itself (no dependence on the window being
            // ready to listen); the window is told the outcome.
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                let state = h.state::<AppState>();
                match crate::counter::resolve_qr(&state, text).await {
                    Ok(v) => {
                        let _ = h.emit("checkout://view", v);
                    }
                    Err(e) => {
                        let _ = h.emit("checkout://error", e);
                    }
                }
            });
        }
        scan::ScannerEvent::Looking(name) => {
            remember(
                &handle,
                CameraState {
                    kind: "looking".into(),
                    message: format!("请患者将医保码对准摄像头（{name}）"),
                    action: None,
                },
                &last_state,
            );
        }
        scan::ScannerEvent::Error(e) => {
            let (message, action) = e.message_zh();
            let kind = match e {
                scan::SourceError::Lost(_) => "lost",
                scan::SourceError::NoCamera(_) => "no_camera",
                _ => "off",
            };
            remember(
                &handle,
                CameraState {
                    kind: kind.into(),
                    message: message.into(),
                    action: Some(action.into()),
                },
                &last_state,
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
