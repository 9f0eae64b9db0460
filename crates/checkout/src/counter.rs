//! The counter session: who is signed in, which patient is on the counter, what may
//! be done next, and the background recovery and queue replay. Plain Rust, used by
//! the window (src-tauri) and the command line alike, tested without either.
//!
//! Rules kept here (and nowhere else):
//! - every action is checked against the signed-in operator's role
//!   ([`ledger::Role::may`]); no operator, no action;
//! - one patient at a time: another checkout is put on the counter only when the
//!   current one is finished or was never started ([`Counter::ensure_free`]);
//! - after a restart the cashier's unfinished checkout comes back at sign-in
//!   ([`Counter::sign_in`]);
//! - a checkout whose insurance money moved (or may have) cannot be abandoned
//!   ([`Counter::reset`]);
//! - the replay loop always acts as the cashier signed in *now* and stops at
//!   sign-out; sign-out leaves nothing of the cashier on the counter.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ledger::{Action, AuthSource, CheckoutMode, CheckoutState, Role};
use tokio::sync::{broadcast, Mutex};

use crate::{CheckoutError, DayReport, Engine, ErrorCode, Event, Operator, RecoverReport, Result};

/// The signed-in operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub id: String,
    pub name: String,
    pub role: Role,
}

impl Signed {
    pub fn operator(&self) -> Operator {
        Operator {
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }
    pub(crate) fn from_ledger(o: ledger::Operator) -> Signed {
        Signed {
            id: o.id,
            name: o.name,
            role: o.role,
        }
    }
}

/// What the background work tells the shell (the window redraws on it).
#[derive(Debug, Clone)]
pub enum CounterEvent {
    /// The checkout on the counter changed outside a command (recovery rewound it).
    CheckoutChanged(String),
    /// Recovery after sign-in found and resolved interrupted calls.
    Recovered(RecoverReport),
    /// One pass of the queue replay ran, as this operator.
    Replayed { operator: String },
    /// The signed-in operator was signed out because their account was locked (at the
    /// institution's hub) or removed while they were signed in.
    SessionEnded { operator: String, reason: String },
}

struct Inner {
    engine: Engine,
    source: AuthSource,
    session: Mutex<Option<Signed>>,
    current: Mutex<Option<String>>,
    last_report: Mutex<Option<DayReport>>,
    replaying: AtomicBool,
    replay_every: Duration,
    events: broadcast::Sender<CounterEvent>,
}

/// One counter: its engine and its session. Cheap to clone (shared).
#[derive(Clone)]
pub struct Counter {
    inner: Arc<Inner>,
}

fn not_signed_in() -> CheckoutError {
    CheckoutError::new(
        ErrorCode::NotSignedIn,
        "请先签到。",
        "请输入工号和密码签到。",
    )
}

fn forbidden(s: &Signed, action: Action) -> CheckoutError {
    let (what, who) = match action {
        Action::Checkout => ("收费", "请收费员或主管签到后操作。"),
        Action::ApproveRefund | Action::ApproveOverride => ("审批", "请主管确认。"),
        Action::Reconcile => ("日结对账", "请收费员、主管或财务签到后操作。"),
        Action::ManageUsers => ("管理账户", "请主管或系统管理员操作。"),
        Action::Settings => ("修改设置", "请主管或系统管理员操作。"),
        Action::ReadAudit => ("查看审计日志", "请主管、财务或系统管理员操作。"),
        Action::InstitutionReport => ("查看全院财务报表", "请财务或主管签到后操作。"),
    };
    CheckoutError::new(
        ErrorCode::Forbidden,
        format!("{}（{}）无权{what}。", s.id, s.role.label_zh()),
        who,
    )
}

/// A checkout in one of these states is finished (or was never started): the
/// counter is free for the next patient.
pub fn is_finished(state: CheckoutState) -> bool {
    use CheckoutState::*;
    match state {
        New | Done | Refunded | Void | OfflineQueued => true,
        Resolved | Billed | Presettled | Settling | Settled | Held | Refunding => false,
    }
}

/// The insurance money of a checkout in these states has moved, or may have: it
/// cannot be abandoned, only finished (collect the patient's part) or resolved.
pub fn money_moved(state: CheckoutState) -> bool {
    use CheckoutState::*;
    match state {
        Settling | Settled | Held | Refunding => true,
        New | Resolved | Billed | Presettled | Done | Refunded | Void | OfflineQueued => false,
    }
}

/// Whether the patient's part of a checkout in this state is still to be collected
/// (继续收款 brings it back on the counter).
pub fn resumable(state: CheckoutState) -> bool {
    money_moved(state) && state != CheckoutState::Refunding
}

/// Whether a settlement in this state can be refunded (2208) now.
pub fn refundable(state: CheckoutState, mode: CheckoutMode, has_setl_id: bool) -> bool {
    has_setl_id
        && mode != CheckoutMode::Offline
        && crate::machine::transition(state, Event::RefundSent).is_ok()
}

impl Counter {
    /// A counter whose passwords are typed at `source` (the window, or a shell).
    pub fn new(engine: Engine, source: AuthSource) -> Counter {
        Counter::with_replay_every(engine, source, Duration::from_secs(30))
    }

    pub fn with_replay_every(engine: Engine, source: AuthSource, every: Duration) -> Counter {
        Counter {
            inner: Arc::new(Inner {
                engine,
                source,
                session: Mutex::new(None),
                current: Mutex::new(None),
                last_report: Mutex::new(None),
                replaying: AtomicBool::new(false),
                replay_every: every,
                events: broadcast::channel(64).0,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CounterEvent> {
        self.inner.events.subscribe()
    }

    /// No account yet: the first start asks for a supervisor.
    pub async fn needs_first_account(&self) -> Result<bool> {
        Ok(self.engine().ledger.operators().await?.is_empty())
    }

    /// Create the first account of an empty ledger (a supervisor) and sign it in.
    pub async fn create_first_supervisor(
        &self,
        id: &str,
        name: &str,
        password: &str,
    ) -> Result<Signed> {
        let e = self.engine();
        e.ledger
            .add_operator(
                None,
                id.trim(),
                name.trim(),
                Role::Supervisor,
                password,
                e.now(),
            )
            .await
            .map_err(|e| match e {
                ledger::Error::Auth(ledger::AuthError::NoSession) => CheckoutError::new(
                    ErrorCode::Forbidden,
                    "本机已有账户，不能再创建首个主管。",
                    "请用已有账户签到；新账户由主管在设置中添加。",
                ),
                other => other.into(),
            })?;
        self.sign_in(id.trim(), password).await
    }

    /// Sign in with a password: the cashier's unfinished checkout (if any) comes back
    /// on the counter, and the background recovery and replay start.
    pub async fn sign_in(&self, id: &str, password: &str) -> Result<Signed> {
        let e = self.engine();
        let op = e
            .ledger
            .verify_password_at(id, password, self.inner.source, e.now())
            .await?;
        let s = Signed::from_ledger(op);
        self.begin(s.clone()).await;
        Ok(s)
    }

    /// Sign in with a command-line session token (`yibao login`). No background work:
    /// each command line is one step.
    pub async fn sign_in_with_token(&self, token: &str) -> Result<Signed> {
        let e = self.engine();
        let session = e.ledger.session(token, e.now()).await?;
        let s = Signed::from_ledger(session.operator);
        *self.inner.session.lock().await = Some(s.clone());
        Ok(s)
    }

    pub(crate) async fn begin(&self, s: Signed) {
        *self.inner.session.lock().await = Some(s.clone());
        {
            let mut cur = self.inner.current.lock().await;
            if cur.is_none() && s.role.may(Action::Checkout) {
                *cur = self.unfinished_checkout(&s.id).await;
            }
        }
        if s.role.may(Action::Checkout) {
            self.start_background(s.operator());
        }
    }

    /// The newest unfinished checkout of this cashier, to put back on the screen after
    /// a restart. Insurance money already moved (or may have) — always; a patient not
    /// yet settled — only from the last 12 hours.
    async fn unfinished_checkout(&self, operator_id: &str) -> Option<String> {
        use CheckoutState::*;
        let e = self.engine();
        let recs = e
            .ledger
            .checkouts(&[Settling, Settled, Held, Presettled, Billed, Resolved], 50)
            .await
            .ok()?;
        let since = (e.now() - chrono::Duration::hours(12))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        recs.into_iter()
            .filter(|r| r.operator_id == operator_id)
            .find(|r| money_moved(r.state) || r.created_at >= since)
            .map(|r| r.id)
    }

    /// Recovery once after each sign-in (2601 for what a crash left in doubt), then
    /// the queue replay every `replay_every` — one loop per counter, acting each time
    /// as whoever is signed in then, ending when nobody is.
    fn start_background(&self, op: Operator) {
        let me = self.clone();
        tokio::spawn(async move {
            match me.engine().recover(&op).await {
                Ok(r) => {
                    if !(r.reversed.is_empty()
                        && r.adopted.is_empty()
                        && r.still_in_doubt.is_empty())
                    {
                        tracing::warn!(?r, "recovered interrupted calls");
                    }
                    let _ = me.inner.events.send(CounterEvent::Recovered(r));
                }
                Err(e) => tracing::warn!("recovery: {}", e.message),
            }
            if let Some(id) = me.current().await {
                let _ = me.inner.events.send(CounterEvent::CheckoutChanged(id));
            }
            if me.inner.replaying.swap(true, Ordering::SeqCst) {
                return;
            }
            loop {
                let Some(s) = me.signed().await else {
                    me.inner.replaying.store(false, Ordering::SeqCst);
                    break;
                };
                if let Err(e) = me.engine().sync_queue(&s.operator(), false).await {
                    tracing::warn!("queue: {}", e.message);
                }
                let _ = me.inner.events.send(CounterEvent::Replayed {
                    operator: s.id.clone(),
                });
                if let Err(e) = me.engine().ledger.checkpoint().await {
                    tracing::warn!("checkpoint: {e}");
                }
                tokio::time::sleep(me.inner.replay_every).await;
            }
        });
    }

    /// Sign out: 9002 is queued (sent in the background), and nothing of this
    /// cashier stays on the counter for the next one — not the patient on the screen
    /// (resumed at their next sign-in), not the last end-of-day result.
    pub async fn sign_out(&self) -> Result<()> {
        let signed = self.inner.session.lock().await.take();
        if let Some(s) = signed {
            let op = s.operator();
            if let Err(e) = self.engine().sign_out(&op).await {
                tracing::warn!("sign-out: {}", e.message);
            }
            let engine = self.engine().clone();
            tokio::spawn(async move {
                let _ = engine.send_sign_outs(&op).await;
            });
        }
        *self.inner.current.lock().await = None;
        *self.inner.last_report.lock().await = None;
        Ok(())
    }

    /// Sign the operator out if their account is no longer active (locked at the
    /// institution's hub after they signed in): a lock reaches the counter where the
    /// cashier is signed in now, not only the next sign-in. The operator signed out, if so.
    pub async fn end_if_locked(&self) -> Result<Option<String>> {
        let Some(s) = self.signed().await else {
            return Ok(None);
        };
        let active = self
            .engine()
            .ledger
            .operator(&s.id)
            .await?
            .is_some_and(|o| o.active);
        if active {
            return Ok(None);
        }
        tracing::warn!(operator = %s.id, "account locked: signed out");
        self.sign_out().await?;
        let _ = self.inner.events.send(CounterEvent::SessionEnded {
            operator: s.id.clone(),
            reason: format!("账户 {} 已被停用，已签退", s.id),
        });
        Ok(Some(s.id))
    }

    pub async fn signed(&self) -> Option<Signed> {
        self.inner.session.lock().await.clone()
    }

    /// The signed-in operator, if their role allows `action`.
    pub async fn require(&self, action: Action) -> Result<Signed> {
        let s = self.signed().await.ok_or_else(not_signed_in)?;
        if !s.role.may(action) {
            return Err(forbidden(&s, action));
        }
        Ok(s)
    }

    /// The checkout on the counter now.
    pub async fn current(&self) -> Option<String> {
        self.inner.current.lock().await.clone()
    }

    /// The checkout on the counter, starting one when there is none.
    pub async fn current_or_start(&self) -> Result<String> {
        let s = self.require(Action::Checkout).await?;
        let mut cur = self.inner.current.lock().await;
        if let Some(id) = cur.clone() {
            return Ok(id);
        }
        let v = self.engine().start(&s.operator()).await?;
        *cur = Some(v.id.clone());
        Ok(v.id)
    }

    /// Refuse to put another checkout on the counter while a patient is in progress.
    pub async fn ensure_free(&self, then: &str) -> Result<()> {
        let cur = self.current().await;
        self.free_or_refuse(cur.as_deref(), then).await
    }

    async fn free_or_refuse(&self, current: Option<&str>, then: &str) -> Result<()> {
        let Some(id) = current else {
            return Ok(());
        };
        let v = self.engine().view(id).await?;
        if is_finished(v.state) {
            return Ok(());
        }
        Err(CheckoutError::new(
            ErrorCode::Validation,
            "收费台上还有未完成的患者。",
            format!("请先完成或取消当前患者，{then}。"),
        ))
    }

    /// Put `id` on the counter (a new checkout made by a step such as a partial
    /// refund), after checking the counter is free.
    pub async fn put_on_counter(&self, id: &str, then: &str) -> Result<()> {
        let mut cur = self.inner.current.lock().await;
        if cur.as_deref() != Some(id) {
            self.free_or_refuse(cur.as_deref(), then).await?;
        }
        *cur = Some(id.to_string());
        Ok(())
    }

    /// Bring back a checkout whose patient's part is still to be collected (after a
    /// crash, or left by a cashier who has gone).
    pub async fn resume(&self, id: &str) -> Result<()> {
        self.require(Action::Checkout).await?;
        let v = self.engine().view(id).await?;
        if !resumable(v.state) {
            return Err(CheckoutError::new(
                ErrorCode::Validation,
                "这一笔不需要继续收款。",
                "请在收费页面办理下一位患者。",
            ));
        }
        self.put_on_counter(id, "再继续这一笔").await
    }

    /// Clear the counter for the next patient. Refused while insurance money of the
    /// current checkout has moved (or may have).
    pub async fn reset(&self) -> Result<()> {
        self.require(Action::Checkout).await?;
        let mut cur = self.inner.current.lock().await;
        if let Some(id) = cur.clone() {
            let v = self.engine().view(&id).await?;
            if money_moved(v.state) {
                return Err(CheckoutError::new(
                    ErrorCode::Validation,
                    "本笔已结算（或结算结果未知），不能直接放弃。",
                    "请先收取个人现金部分；结算结果未知时等待自动冲正。",
                ));
            }
        }
        *cur = None;
        Ok(())
    }

    /// Whether the counter has no patient in progress (the camera is armed then).
    pub async fn is_idle(&self) -> bool {
        match self.current().await {
            None => true,
            Some(id) => self
                .engine()
                .view(&id)
                .await
                .map(|v| is_finished(v.state))
                .unwrap_or(false),
        }
    }

    /// Add an account as the signed-in operator (their role decides which roles).
    pub async fn add_operator(
        &self,
        id: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<ledger::Operator> {
        let s = self.require(Action::ManageUsers).await?;
        let e = self.engine();
        let by = e.ledger.operator(&s.id).await?.ok_or_else(not_signed_in)?;
        Ok(e.ledger
            .add_operator(Some(&by), id.trim(), name.trim(), role, password, e.now())
            .await?)
    }

    pub async fn set_last_report(&self, r: DayReport) {
        *self.inner.last_report.lock().await = Some(r);
    }

    pub async fn last_report(&self) -> Option<DayReport> {
        self.inner.last_report.lock().await.clone()
    }
}
