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
    let scanner = scan::Scanner::start(setting, armed, move |ev| match ev {
        scan::ScannerEvent::Frame {
            preview,
            width,
            height,
            corners,
        } => {
            if frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 10 == 0 {
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
    });
    *state.scanner.lock().unwrap_or_else(|e| e.into_inner()) = Some(scanner);
}
