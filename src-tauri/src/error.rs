//! The one error type that crosses to the UI: a stable `code` the front end
//! branches on, a Chinese `message` saying what happened, and an `action`
//! saying what the cashier does next. The UI never parses message text.

use checkout::ErrorCode;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[ts(export)]
#[error("{code}: {message}")]
pub struct AppError {
    /// The one error code (`checkout::ErrorCode`, a union in TypeScript).
    pub code: ErrorCode,
    pub message: String,
    pub action: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>, action: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            action: action.into(),
        }
    }
    pub fn validation(message: impl Into<String>) -> AppError {
        AppError::new(
            checkout::ErrorCode::Validation,
            message,
            "请检查输入后重试。",
        )
    }
    pub fn not_signed_in() -> AppError {
        AppError::new(
            checkout::ErrorCode::NotSignedIn,
            "尚未签到。",
            "请先用工号和密码签到。",
        )
    }
    pub fn storage(e: impl std::fmt::Display) -> AppError {
        AppError::new(
            checkout::ErrorCode::Storage,
            format!("本地数据库出错：{e}"),
            "请勿关闭程序；联系信息科检查磁盘和数据库文件。已完成的结算不会丢失。",
        )
    }
    pub fn system(e: impl std::fmt::Display) -> AppError {
        AppError::new(
            checkout::ErrorCode::SystemFault,
            format!("系统故障：{e}"),
            "请重试；如仍失败请联系信息科。",
        )
    }
}

pub type AppResult<T> = Result<T, AppError>;
