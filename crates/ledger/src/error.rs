use std::path::PathBuf;

use chrono::NaiveDateTime;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a cashier could not sign in or confirm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("unknown operator {0}")]
    UnknownOperator(String),
    #[error("unknown operator or wrong password ({remaining} attempts left before lock-out)")]
    WrongPassword { remaining: u32 },
    #[error("account locked until {until}")]
    Locked { until: NaiveDateTime },
    #[error("operator {0} is not a supervisor")]
    NotSupervisor(String),
    #[error("operator {0} is disabled")]
    Disabled(String),
    #[error("no valid session (missing, ended or expired)")]
    NoSession,
    #[error("operator {operator} ({role}) may not {action}")]
    Forbidden {
        operator: String,
        role: &'static str,
        action: &'static str,
    },
}

impl AuthError {
    /// Stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::UnknownOperator(_) => "unknown_operator",
            AuthError::WrongPassword { .. } => "wrong_password",
            AuthError::Locked { .. } => "locked",
            AuthError::NotSupervisor(_) => "not_supervisor",
            AuthError::Disabled(_) => "disabled",
            AuthError::NoSession => "no_session",
            AuthError::Forbidden { .. } => "forbidden",
        }
    }
    /// Message for the cashier.
    pub fn message_zh(&self) -> String {
        match self {
            AuthError::UnknownOperator(id) => format!("操作员 {id} 不存在"),
            AuthError::WrongPassword { remaining } => {
                format!("工号或密码不正确，还可尝试 {remaining} 次")
            }
            AuthError::Locked { until } => {
                format!("账户已锁定，请于 {} 后再试", until.format("%H:%M"))
            }
            AuthError::NotSupervisor(id) => format!("操作员 {id} 不是主管，无权确认退费"),
            AuthError::Disabled(id) => format!("操作员 {id} 已停用"),
            AuthError::NoSession => "没有有效的登录（未登录、已退出或已过期）".into(),
            AuthError::Forbidden { operator, role, .. } => {
                format!("操作员 {operator}（{role}）无权执行此操作")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path} is not a Yibao ledger (not an SQLite database); it was left untouched")]
    NotSqlite { path: PathBuf },
    #[error(
        "the ledger {path} is damaged ({detail}); it was left untouched — restore it from a backup"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("the ledger key does not match this ledger (wrong key file?)")]
    WrongKey,
    #[error("ledger key file {path}: {detail}")]
    Key { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(String),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("decryption of personal data failed (wrong key or damaged value)")]
    Decrypt,
    #[error(
        "this counter has no counter number (1–99): it cannot call the center until IT sets one"
    )]
    NoCounterNo,
    #[error("checkout {0} is being worked on by another step right now")]
    Busy(String),
    #[error("the ledger {path} is open in another program (pid {holder}); close it first")]
    InUse { path: PathBuf, holder: String },
    #[error("{path}: no such ledger (nothing was created)")]
    Missing { path: PathBuf },
}

impl Error {
    /// Stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotSqlite { .. } => "ledger_not_sqlite",
            Error::Corrupt { .. } => "ledger_corrupt",
            Error::WrongKey => "ledger_wrong_key",
            Error::Key { .. } => "ledger_key",
            Error::Io { .. } => "ledger_io",
            Error::Db(_) | Error::Migrate(_) => "ledger_db",
            Error::Auth(a) => a.code(),
            Error::NotFound(_) => "not_found",
            Error::Invalid(_) => "validation",
            Error::Conflict(_) => "conflict",
            Error::Decrypt => "ledger_decrypt",
            Error::NoCounterNo => "config",
            Error::Busy(_) => "busy",
            Error::InUse { .. } => "ledger_in_use",
            Error::Missing { .. } => "ledger_missing",
        }
    }

    /// Message for the cashier.
    pub fn message_zh(&self) -> String {
        match self {
            Error::NotSqlite { path } => {
                format!("文件 {} 不是收银台账本，未做任何修改", path.display())
            }
            Error::Corrupt { path, .. } => {
                format!("账本 {} 已损坏，未做任何修改，请从备份恢复", path.display())
            }
            Error::WrongKey => "账本密钥不匹配，请检查密钥文件".into(),
            Error::Key { .. } => "账本密钥文件无法读取或创建".into(),
            Error::Io { .. } => "账本文件无法读取".into(),
            Error::Db(_) | Error::Migrate(_) => "账本数据库错误".into(),
            Error::Auth(a) => a.message_zh(),
            Error::NotFound(what) => format!("未找到：{what}"),
            Error::Invalid(what) => format!("数据无效：{what}"),
            Error::Conflict(what) => format!("状态冲突：{what}"),
            Error::Decrypt => "个人信息解密失败（密钥错误或数据损坏）".into(),
            Error::NoCounterNo => "本机未设置收费终端编号（01–99），不能联机结算".into(),
            Error::Busy(_) => "这笔收费正在处理中，请稍候".into(),
            Error::InUse { path, holder } => format!(
                "账本 {} 正被另一个程序使用（进程 {holder}），请先关闭它",
                path.display()
            ),
            Error::Missing { path } => format!("没有账本 {}（未创建任何文件）", path.display()),
        }
    }
}
