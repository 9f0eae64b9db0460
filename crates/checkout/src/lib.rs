//! One checkout from scan to paid, written to the ledger before each step is
//! acted on (docs/domain.md §0, §5.4, §5.5):
//!
//! `new → resolved → billed → presettled → settling → settled → done`,
//! with `refunding → refunded`, and offline `offline_queued → done`.
//!
//! * Every call to the center is recorded with its msgid before it is sent.
//! * A 2207/2208 whose answer is lost is reversed with 2601 at once, or
//!   queued for reversal; [`Engine::recover`] resolves whatever a crash left.
//! * Offline, the counter collects the whole bill (or the estimated self-pay
//!   part) and queues the settlement; [`Engine::sync_queue`] replays the queue
//!   in order, each item once, and turns differences into adjustments.

pub mod catalog;
mod code;
pub mod counter;
mod day;
pub mod dict;
pub mod fence;
mod flow;
mod his_link;
mod job;
pub mod machine;
mod offline;
mod receipt_data;
pub mod rules;
pub mod shift;
mod view;

use std::sync::Arc;

use billing::{Catalog, PolicyBook};
use chrono::NaiveDateTime;
use ledger::{CallState, CheckoutRecord, Ledger};
use nhsa::{
    CallError, Caller, Client, ClientConfig, ErrorKind, Infno, Institution, ResponseEnvelope,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use catalog::CatalogSync;
pub use code::ErrorCode;
pub use counter::{Counter, CounterEvent, Signed};
pub use day::{DayCounts, DayReport, GroupCheck, GroupResult};
pub use dict::{DiagnosisPick, DictKind};
pub use fence::{FenceFlag, FenceKind, FenceRules};
pub use flow::{Pay, Registration};
pub use job::Job;
pub use ledger::{CheckoutMode, CheckoutState};
pub use machine::{stage_of, Event, Stage};
pub use offline::{RecoverReport, SyncReport};
pub use rules::RuleHit;
pub use shift::{CashierPart, ShiftReport};
pub use view::{CheckoutView, LineView, PersonView, ReasonView, SplitView};

/// What an offline checkout collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OfflineMode {
    /// The whole bill as self-pay; the insurance claim is queued.
    #[default]
    SelfPayAll,
    /// The billing engine's estimate of the self-pay part; the settlement is queued.
    Estimate,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub institution: Institution,
    pub center_url: String,
    pub offline_mode: OfflineMode,
    /// Policy used for offline estimates (the center's answer is authoritative).
    pub policy: PolicyBook,
    pub catalog: Catalog,
    pub hosp_lv: u8,
    pub dept_name: String,
    /// The cashier desk's 医保科室编号 (1162 `officeId`).
    pub dept_code: String,
    pub connect_timeout: std::time::Duration,
    pub read_timeout: std::time::Duration,
    /// Where approvers type their passwords (lock-outs are counted per source).
    pub auth_source: ledger::AuthSource,
    /// 电子围栏 thresholds.
    pub fence: fence::FenceRules,
    /// The CA of the center's TLS certificate (PEM) when it is not a public one.
    pub center_ca: Option<Vec<u8>>,
    /// The hospital's HIS (pending orders in, paid and refunded notices out); `None`
    /// in clinic mode.
    pub his: his::His,
    /// The regional gateway's credentials (`x-tif-paasid` and the passtoken the
    /// `x-tif-signature` is made with), when the region puts one in front of the center.
    pub gateway: Option<Gateway>,
    /// 接收方系统代码 and 交易验证信息 of the envelope, as the region assigns them.
    pub recer_sys_code: String,
    pub cainfo: String,
}

/// The regional gateway's credentials. The passtoken never appears in logs.
#[derive(Clone)]
pub struct Gateway {
    pub paasid: String,
    pub passtoken: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("paasid", &self.paasid)
            .field("passtoken", &"…")
            .finish()
    }
}

impl EngineConfig {
    pub fn demo(center_url: &str) -> EngineConfig {
        EngineConfig {
            institution: Institution {
                fixmedins_code: "H44030300001".into(),
                fixmedins_name: "深圳市演示人民医院".into(),
                mdtrtarea_admvs: "440300".into(),
            },
            center_url: center_url.into(),
            offline_mode: OfflineMode::SelfPayAll,
            policy: PolicyBook::demo(),
            catalog: Catalog::demo(),
            hosp_lv: 2,
            dept_name: "门诊收费处".into(),
            dept_code: "SF001".into(),
            connect_timeout: std::time::Duration::from_secs(3),
            read_timeout: std::time::Duration::from_secs(15),
            auth_source: ledger::AuthSource::Window,
            fence: fence::FenceRules::default(),
            center_ca: None,
            his: his::His::None,
            gateway: None,
            recer_sys_code: "YBXT".into(),
            cainfo: String::new(),
        }
    }
}

/// The cashier acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
}

/// Something the cashier must see: what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct CheckoutError {
    /// What kind of error (the window branches on it).
    pub kind: ErrorCode,
    pub message: String,
    pub action: String,
    /// The center's own words or the technical cause.
    pub detail: Option<String>,
}

impl CheckoutError {
    pub fn new(
        kind: ErrorCode,
        message: impl Into<String>,
        action: impl Into<String>,
    ) -> CheckoutError {
        CheckoutError {
            kind,
            message: message.into(),
            action: action.into(),
            detail: None,
        }
    }
    pub fn input(message: impl Into<String>) -> CheckoutError {
        CheckoutError::new(ErrorCode::Input, message, "请修改后重试")
    }
    pub fn state(message: impl Into<String>) -> CheckoutError {
        CheckoutError::new(ErrorCode::State, message, "请按当前步骤操作")
    }
    pub fn center(e: &CallError) -> CheckoutError {
        let k = e.kind();
        CheckoutError {
            kind: k.into(),
            message: k.message_zh().into(),
            action: k.action_zh().into(),
            detail: Some(e.detail()),
        }
    }
    pub fn with_detail(mut self, d: impl Into<String>) -> CheckoutError {
        self.detail = Some(d.into());
        self
    }
    pub fn is_network(&self) -> bool {
        self.kind == ErrorCode::Network
    }
}

impl From<ledger::Error> for CheckoutError {
    fn from(e: ledger::Error) -> CheckoutError {
        match &e {
            ledger::Error::Busy(_) => {
                return CheckoutError::new(
                    ErrorCode::Busy,
                    "这笔收费正在处理中（结算或冲正尚未返回）",
                    "请稍候，处理完成后再操作",
                )
                .with_detail(e.to_string())
            }
            ledger::Error::Auth(a) => {
                let (kind, action) = match a {
                    ledger::AuthError::NoSession => (
                        ErrorCode::NotSignedIn,
                        "请先登录（yibao login）或在收银台签到",
                    ),
                    ledger::AuthError::Forbidden { .. } | ledger::AuthError::NotSupervisor(_) => {
                        (ErrorCode::Forbidden, "请由有权限的人员操作")
                    }
                    ledger::AuthError::Locked { .. } => {
                        (ErrorCode::Auth, "请稍后再试，或请主管协助")
                    }
                    _ => (ErrorCode::Auth, "请重新输入；忘记密码请联系主管重置"),
                };
                return CheckoutError::new(kind, a.message_zh(), action);
            }
            ledger::Error::Invalid(m) => {
                return CheckoutError::new(ErrorCode::Validation, m.clone(), "请检查输入后重试")
            }
            ledger::Error::NoCounterNo => {
                return CheckoutError::new(
                    ErrorCode::Config,
                    "本机未设置收费终端编号（01–99），不能联机结算",
                    "请信息科在设置中填写本院唯一的终端编号（或由机构中心分配）",
                )
            }
            _ => {}
        }
        CheckoutError {
            kind: ErrorCode::Ledger,
            message: "本机账本写入失败，本步骤未执行".into(),
            action: "请检查磁盘空间后重试；如持续出现请联系信息科".into(),
            detail: Some(e.to_string()),
        }
    }
}

pub type Result<T, E = CheckoutError> = std::result::Result<T, E>;

type Clock = Arc<dyn Fn() -> NaiveDateTime + Send + Sync>;

/// The counter's engine: ledger + center client + configuration.
#[derive(Clone)]
pub struct Engine {
    pub ledger: Ledger,
    client: Client,
    pub cfg: Arc<EngineConfig>,
    clock: Clock,
}

/// The outcome of one recorded call.
pub(crate) enum Sent {
    Ok(ResponseEnvelope),
    Err(CallError),
}

impl Engine {
    pub fn new(ledger: Ledger, cfg: EngineConfig) -> Result<Engine> {
        let mut cc = ClientConfig::new(cfg.center_url.clone());
        cc.connect_timeout = cfg.connect_timeout;
        cc.read_timeout = cfg.read_timeout;
        cc.ca_pem = cfg.center_ca.clone();
        cc.recer_sys_code = cfg.recer_sys_code.clone();
        cc.cainfo = cfg.cainfo.clone();
        if let Some(g) = cfg.gateway.as_ref().filter(|g| !g.paasid.is_empty()) {
            cc.layers.push(Arc::new(nhsa::secure::TifLayer {
                paasid: g.paasid.clone(),
                token: g.passtoken.clone(),
            }));
        }
        let client =
            Client::new(cc, cfg.institution.clone()).map_err(|e| CheckoutError::center(&e))?;
        Ok(Engine {
            ledger,
            client,
            cfg: Arc::new(cfg),
            clock: Arc::new(|| chrono::Local::now().naive_local()),
        })
    }

    /// Use another clock (tests).
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> NaiveDateTime + Send + Sync + 'static,
    ) -> Engine {
        self.clock = Arc::new(clock);
        self
    }

    pub fn now(&self) -> NaiveDateTime {
        (self.clock)()
    }

    /// The day's 9001 sign_no for this operator (signing in when needed).
    pub async fn sign_no(&self, op: &Operator) -> Result<String> {
        let now = self.now();
        if let Some(s) = self.ledger.sign_in_for(&op.id, now.date()).await? {
            if s.signed_out_at.is_none() {
                return Ok(s.sign_no);
            }
        }
        self.sign_in(op).await
    }

    /// Call 9001 now and record the sign_no.
    pub async fn sign_in(&self, op: &Operator) -> Result<String> {
        let now = self.now();
        let input = nhsa::inputs::sign_in(&op.id, "00-00-00-00-00-00", "127.0.0.1");
        let caller = Caller {
            opter: op.id.clone(),
            opter_name: op.name.clone(),
            ..Default::default()
        };
        match self
            .send_recorded(op, &caller, None, None, Infno::SignIn, None, input)
            .await?
        {
            (_, Sent::Ok(r)) => {
                let sign_no = r.output["signinoutb"]["sign_no"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                if sign_no.is_empty() {
                    return Err(CheckoutError::new(
                        ErrorCode::SystemFault,
                        "签到失败：中心未返回签到流水号",
                        "请稍后重试",
                    ));
                }
                let time = r.output["signinoutb"]["sign_time"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                self.ledger
                    .record_sign_in(&op.id, now.date(), &sign_no, &time, now)
                    .await?;
                Ok(sign_no)
            }
            (_, Sent::Err(e)) => Err(CheckoutError::center(&e)),
        }
    }

    /// Record, send, record the outcome. Returns the msgid and what happened.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_recorded(
        &self,
        op: &Operator,
        caller: &Caller,
        checkout_id: Option<&str>,
        outbox_id: Option<&str>,
        infno: Infno,
        omsgid: Option<&str>,
        input: Value,
    ) -> Result<(String, Sent)> {
        let now = self.now();
        let code = &self.cfg.institution.fixmedins_code;
        let msgid = self
            .ledger
            .begin_call(
                code,
                checkout_id,
                outbox_id,
                infno.code(),
                omsgid,
                &input,
                &op.id,
                now,
            )
            .await?;
        let env = self.client.envelope(infno, &msgid, caller, now, input);
        let r = self.client.send(&env).await;
        let now = self.now();
        // From here the call has reached the center (or may have): a failure to write
        // its outcome down (a full disk) must not read as "nothing happened". The call
        // stays open in the ledger, so recovery resolves it after a restart.
        let unrecorded = |e: ledger::Error| -> CheckoutError {
            CheckoutError::new(
                ErrorCode::InDoubt,
                format!("已发送到医保中心（{}），但本机账本未能记下结果", infno.code()),
                "请勿重复操作，也先不要收款；释放磁盘空间后重启本程序（或运行 yibao recover），将自动补记或冲正",
            )
            .with_detail(e.to_string())
        };
        match &r {
            Ok(resp) => {
                let v = serde_json::to_value(resp).unwrap_or(Value::Null);
                self.ledger
                    .finish_call(&msgid, CallState::Ok, Some(&v), None, None, &op.id, now)
                    .await
                    .map_err(unrecorded)?;
            }
            Err(e) => {
                let state = if e.in_doubt() {
                    CallState::InDoubt
                } else {
                    CallState::Failed
                };
                let code = match e {
                    CallError::Business { infcode, .. } => infcode.to_string(),
                    CallError::NotSent(_) => "not_sent".into(),
                    CallError::InDoubt(_) => "in_doubt".into(),
                    CallError::Malformed(_) => "malformed".into(),
                };
                self.ledger
                    .finish_call(
                        &msgid,
                        state,
                        None,
                        Some(&code),
                        Some(&e.detail()),
                        &op.id,
                        now,
                    )
                    .await
                    .map_err(unrecorded)?;
            }
        }
        Ok((
            msgid,
            match r {
                Ok(x) => Sent::Ok(x),
                Err(e) => Sent::Err(e),
            },
        ))
    }

    /// A call on behalf of a checkout with the operator's sign-in; a refusal
    /// because the sign-in is stale signs in again once and retries.
    pub(crate) async fn call(
        &self,
        op: &Operator,
        checkout_id: Option<&str>,
        outbox_id: Option<&str>,
        insuplc: &str,
        infno: Infno,
        input: Value,
    ) -> Result<(String, Sent)> {
        let mut caller = Caller {
            opter: op.id.clone(),
            opter_name: op.name.clone(),
            sign_no: self.sign_no(op).await?,
            insuplc_admdvs: insuplc.into(),
        };
        let (msgid, sent) = self
            .send_recorded(
                op,
                &caller,
                checkout_id,
                outbox_id,
                infno,
                None,
                input.clone(),
            )
            .await?;
        if let Sent::Err(CallError::Business {
            kind: ErrorKind::SignInStale,
            ..
        }) = &sent
        {
            caller.sign_no = self.sign_in(op).await?;
            return self
                .send_recorded(op, &caller, checkout_id, outbox_id, infno, None, input)
                .await;
        }
        Ok((msgid, sent))
    }

    /// Like [`Engine::call`] but an error is returned as a [`CheckoutError`].
    pub(crate) async fn call_ok(
        &self,
        op: &Operator,
        checkout_id: Option<&str>,
        insuplc: &str,
        infno: Infno,
        input: Value,
    ) -> Result<ResponseEnvelope> {
        match self
            .call(op, checkout_id, None, insuplc, infno, input)
            .await?
        {
            (_, Sent::Ok(r)) => Ok(r),
            (_, Sent::Err(e)) => Err(CheckoutError::center(&e)),
        }
    }

    /// 2601 for an in-doubt call. `Ok(true)`: the center holds nothing now
    /// (reversed, or it never had it); `Ok(false)`: still unknown (network).
    pub(crate) async fn reverse(
        &self,
        op: &Operator,
        omsgid: &str,
        oinfno: &str,
        psn_no: &str,
        insuplc: &str,
    ) -> Result<bool> {
        let caller = Caller {
            opter: op.id.clone(),
            opter_name: op.name.clone(),
            sign_no: match self.sign_no(op).await {
                Ok(s) => s,
                Err(e) if e.is_network() => return Ok(false),
                Err(e) => return Err(e),
            },
            insuplc_admdvs: insuplc.into(),
        };
        let input = nhsa::inputs::reverse(psn_no, omsgid, oinfno);
        let (_, sent) = self
            .send_recorded(op, &caller, None, None, Infno::Reverse, Some(omsgid), input)
            .await?;
        let now = self.now();
        match sent {
            Sent::Ok(_) => {
                self.ledger
                    .resolve_call(omsgid, CallState::Reversed, "2601 冲正成功", &op.id, now)
                    .await?;
                Ok(true)
            }
            Sent::Err(CallError::Business {
                kind: ErrorKind::NoSuchTransaction,
                ..
            }) => {
                self.ledger
                    .resolve_call(
                        omsgid,
                        CallState::Reversed,
                        "中心无此交易（未受理）",
                        &op.id,
                        now,
                    )
                    .await?;
                Ok(true)
            }
            Sent::Err(CallError::Business {
                kind: ErrorKind::AlreadyReversed,
                ..
            }) => {
                self.ledger
                    .resolve_call(omsgid, CallState::Reversed, "此前已冲正", &op.id, now)
                    .await?;
                Ok(true)
            }
            Sent::Err(e) if e.is_network() || e.in_doubt() => Ok(false),
            Sent::Err(e) => Err(CheckoutError::center(&e)),
        }
    }

    pub async fn load(&self, id: &str) -> Result<CheckoutRecord> {
        self.ledger
            .checkout(id)
            .await?
            .ok_or_else(|| CheckoutError::input(format!("没有这笔收费记录：{id}")))
    }

    /// The bill's lines as entered (for editing them before upload).
    pub async fn lines(&self, id: &str) -> Result<Vec<billing::BillLine>> {
        Ok(view::lines_of(&self.load(id).await?))
    }

    /// Put a job in the queue (written before anything else is tried).
    pub(crate) async fn enqueue(
        &self,
        op: &Operator,
        job: &Job,
        rec: Option<&CheckoutRecord>,
    ) -> Result<ledger::OutboxItem> {
        Ok(self
            .ledger
            .enqueue(job.kind(), rec, &job.payload(), &op.id, self.now())
            .await?)
    }

    pub(crate) async fn save(&self, op: &Operator, rec: &mut CheckoutRecord) -> Result<()> {
        self.ledger.save_checkout(rec, &op.id, self.now()).await?;
        Ok(())
    }
}

/// A value kept in the checkout's context, read as `T` (None when absent or of another shape).
pub(crate) fn ctx_of<T: serde::de::DeserializeOwned>(rec: &CheckoutRecord, k: &str) -> Option<T> {
    rec.ctx
        .get(k)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub(crate) fn ctx_str(rec: &CheckoutRecord, k: &str) -> String {
    rec.ctx
        .get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub(crate) fn person_str(rec: &CheckoutRecord, k: &str) -> String {
    rec.person
        .as_ref()
        .and_then(|p| p.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

pub(crate) fn set_ctx(rec: &mut CheckoutRecord, k: &str, v: Value) {
    if !rec.ctx.is_object() {
        rec.ctx = Value::Object(Default::default());
    }
    rec.ctx[k] = v;
}
