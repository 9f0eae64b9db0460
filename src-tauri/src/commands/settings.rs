//! Settings (hospital IT): center, institution, camera, printer, offline mode,
//! receipt layout, name masking. Saving needs a supervisor.

use tauri::{AppHandle, State};

use crate::config::AppConfig;
use crate::dto::{CameraInfoView, SettingsView};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub(crate) fn settings_view(state: &AppState) -> SettingsView {
    let (cameras, camera_note) = match scan::source::list_cameras() {
        Ok(list) if !list.is_empty() => (
            list.into_iter()
                .map(|c| CameraInfoView {
                    index: c.index,
                    name: c.name,
                })
                .collect(),
            None,
        ),
        Ok(_) => (
            Vec::new(),
            Some("未检测到摄像头：可使用扫码枪，或设置 dir:/画面目录 使用录制画面。".to_string()),
        ),
        Err(e) => (
            Vec::new(),
            Some(format!(
                "未检测到摄像头（{e}）：可使用扫码枪，或设置 dir:/画面目录 使用录制画面。"
            )),
        ),
    };
    let (printers, printer_note) = match receipt::list_printers() {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(format!("{}：{}", e.message_zh().0, e))),
    };
    SettingsView {
        config: state.config(),
        cameras,
        camera_note,
        printers,
        printer_note,
    }
}

pub async fn settings_get(state: State<'_, AppState>) -> AppResult<SettingsView> {
    super::signed(&state).await?;
    Ok(tokio::task::block_in_place(|| settings_view(&state)))
}

pub async fn settings_save(
    app: AppHandle,
    state: State<'_, AppState>,
    config: AppConfig,
) -> AppResult<SettingsView> {
    super::require(&state, ledger::Action::Settings).await?;
    if let Some(url) = &config.center_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::validation(
                "中心地址必须以 http:// 或 https:// 开头。",
            ));
        }
    }
    if !matches!(config.offline_mode.as_str(), "estimate" | "self_pay_all") {
        return Err(AppError::validation(
            "离线方式只能是 estimate 或 self_pay_all。",
        ));
    }
    if config.terminal_no > ledger::MAX_COUNTER_NO {
        return Err(AppError::validation("收费台编号只能是 1–99（全院唯一）。"));
    }
    if config.terminal_no > 0 {
        state
            .ledger
            .set_counter_no(config.terminal_no)
            .await
            .map_err(super::ledger_error)?;
    }
    let camera_changed = config.camera != state.config().camera;
    config.save(&state.data_dir).map_err(AppError::storage)?;
    state.set_config(config);
    if camera_changed {
        // Stop the old scanner before starting the new one.
        let old = state
            .scanner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(old);
        crate::scanner::start(app);
    }
    Ok(tokio::task::block_in_place(|| settings_view(&state)))
}

/// A test page: the sample receipt, marked as such, on the chosen printer.
pub async fn settings_print_test_page(state: State<'_, AppState>) -> AppResult<String> {
    super::signed(&state).await?;
    let mut r = receipt::sample();
    r.institution = format!("{}（打印测试页）", state.config().fixmedins_name);
    let pdf = receipt::render_pdf(&r, receipt::Layout::Roll80).map_err(AppError::system)?;
    let path = state.data_dir.join("test-page.pdf");
    std::fs::write(&path, pdf).map_err(AppError::storage)?;
    let printer = state.config().printer.clone();
    let res = tokio::task::spawn_blocking(move || {
        receipt::print_pdf(&path, printer.as_deref(), "yibao-test-page")
    })
    .await
    .map_err(AppError::system)?;
    match res {
        Ok(job) => Ok(format!("已发送测试页（{job}）")),
        Err(e) => {
            let (m, a) = e.message_zh();
            Err(AppError::new(
                ::checkout::ErrorCode::NoPrinter,
                format!("{m}（{e}）"),
                a,
            ))
        }
    }
}
