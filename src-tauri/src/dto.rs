//! The types the UI sees. Exported to `ui/src/bindings/` by ts-rs when
//! `cargo test -p yibao-app` runs; CI fails when the committed copies are stale.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub center_url: String,
    pub center_is_demo: bool,
    pub fixmedins_name: String,
    pub data_dir: String,
}

#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Supervisor,
    Finance,
    Admin,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SessionInfo {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
}

use money::{Fen, Price, Qty};

/// The patient as the cashier sees them (name masked per the hospital's setting).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PersonView {
    pub psn_no: String,
    pub name: String,
    pub cert_no_masked: String,
    pub insutype: String,
    pub insutype_label: String,
    /// The same name in English (one table: `nhsa::dict::INSUTYPES`).
    pub insutype_label_en: String,
    pub balc: Fen,
    pub insuplc_admdvs: String,
    /// 本地 / 省内异地 / 跨省异地
    pub region_label: String,
    /// `local` / `in_province` / `cross_province`
    pub region: String,
    /// What the cashier must know before charging: insurance suspended, care away
    /// from the insured region (and which policy applies). Empty for most patients.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CatalogItemView {
    pub code: String,
    pub name: String,
    pub spec: String,
    pub category_label: String,
    pub class_label: String,
    pub pric: Price,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BillLineView {
    pub code: String,
    pub name: String,
    pub category_label: String,
    pub class_label: String,
    pub cnt: Qty,
    pub pric: Price,
    pub amount: Fen,
}

/// Why the patient pays what they pay.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FallbackView {
    pub reason: String,
    /// The same in English (the screen shows the one of its language).
    pub reason_en: String,
    pub amount: Fen,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SplitView {
    pub medfee_sumamt: Fen,
    pub hifp_pay: Fen,
    /// Other funds (大额/大病/公务员/救助/企业补充/其他).
    pub other_fund_pay: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    /// What the cashier collects in cash or by card.
    pub psn_cash_pay: Fen,
    pub fulamt_ownpay_amt: Fen,
    pub overlmt_selfpay: Fen,
    pub preselfpay_amt: Fen,
    pub act_pay_dedc: Fen,
    pub balc_after: Fen,
    pub fallback: Vec<FallbackView>,
    /// Fields where the center's answer differs from the local estimate.
    pub discrepancies: Vec<String>,
    /// True when this split is a local estimate (offline), not the center's answer.
    pub estimate: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PaymentView {
    /// 现金 / 银行卡
    pub channel: String,
    /// The channel (the UI words it in its language).
    pub channel_code: ledger::PaymentChannel,
    pub amount: Fen,
    pub given: Option<Fen>,
    pub change: Option<Fen>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStage {
    /// Waiting for a code.
    Idle,
    /// Person known; the bill is being entered.
    Resolved,
    /// 2206 answered: the split is shown.
    PreSettled,
    /// The 2207 (or 2208) outcome is unknown: settling and collecting are refused
    /// until it is reversed or found.
    InDoubt,
    /// Settled but the figures are flagged: a supervisor accepts them or it is refunded.
    Held,
    /// 2207 committed: the rest is to be paid.
    Settled,
    /// Paid and on the books.
    Done,
    /// Offline: collected locally, the claim waits in the queue.
    Queued,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CheckoutView {
    pub stage: CheckoutStage,
    pub person: Option<PersonView>,
    pub lines: Vec<BillLineView>,
    pub total: Fen,
    pub acct_used: bool,
    pub split: Option<SplitView>,
    pub setl_id: Option<String>,
    /// Still to collect from the patient.
    pub due: Fen,
    pub payments: Vec<PaymentView>,
    pub queue_item: Option<String>,
    /// A line for the cashier (e.g. "收据已打印" / "打印失败，已加入补打队列").
    pub notice: Option<String>,
    /// 医疗类别: 11 普通门诊, 14 门诊慢特病.
    pub med_type: String,
    /// The visit 2201/2203 will send (the HIS's, or built in clinic mode).
    pub visit: Option<VisitView>,
    /// The person's 门诊慢特病 registrations (5301), for the 慢特病 choice.
    pub registrations: Vec<RegistrationView>,
    /// The HIS bill this checkout settles.
    pub his_bill_id: Option<String>,
    /// 事前事中 rule hits (3101), shown before F6.
    pub rule_hits: Vec<RuleHitView>,
    /// A supervisor let the blocking hits go, with a reason.
    pub rules_overridden: bool,
}

/// One 事前事中 rule hit: the rule, what it found, the amount at risk, what to do.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct RuleHitView {
    pub rule_name: String,
    pub vola_cont: String,
    pub vola_amt: Fen,
    /// 明确违规: the settlement waits for a supervisor.
    pub blocking: bool,
    pub advice: String,
}

/// The catalogue at this counter (设置 › 医保目录).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CatalogStatusView {
    /// The newest version synced ("" before the first sync).
    pub ver: String,
    pub items: u32,
    pub mapped: u32,
    /// What the last sync did, when this screen ran it.
    pub last: Option<String>,
}

/// The visit on the checkout screen: who saw the patient, where, with which diagnoses.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct VisitView {
    pub dr_name: String,
    pub atddr_no: String,
    pub dept_name: String,
    pub dept_code: String,
    pub caty: String,
    pub ipt_otp_no: String,
    /// "I10.x00 原发性高血压", the main one first.
    pub diagnoses: Vec<String>,
    /// The 慢特病 (code and name) of a med_type 14 visit.
    pub chronic: Option<String>,
}

/// One 门诊慢特病 registration of the person.
#[derive(Debug, Clone, Serialize, serde::Deserialize, TS)]
#[ts(export)]
pub struct RegistrationView {
    pub code: String,
    pub name: String,
}

/// A diagnosis of the national dictionary (picked in clinic mode).
#[derive(Debug, Clone, Serialize, serde::Deserialize, TS)]
#[ts(export)]
pub struct DiagnosisView {
    pub code: String,
    pub name: String,
}

/// A doctor of the institution's dictionary, with their department.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DoctorView {
    pub code: String,
    pub name: String,
    pub dept_code: String,
    pub dept_name: String,
}

/// A department of the institution's dictionary.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
    pub caty: String,
}

/// The dictionaries (设置 › 科室与医生).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DictView {
    pub departments: Vec<DepartmentView>,
    pub doctors: Vec<DoctorView>,
    /// The HIS in use: `none` (clinic mode), `http`, `folder`.
    pub his: String,
}

/// A pending bill at the HIS, to pick from after the scan.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PendingBillView {
    pub bill_id: String,
    pub med_type: String,
    pub dr_name: String,
    pub dept_name: String,
    pub diagnoses: Vec<String>,
    pub items: Vec<String>,
    pub total: Fen,
}

/// The camera's state as the cashier sees it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CameraState {
    /// `looking` | `read` | `paused` (a patient is at the counter) | `no_camera` | `lost` | `off`
    pub kind: String,
    pub message: String,
    pub action: Option<String>,
}

/// A downscaled preview frame, with the last detected code's corners (frame pixels).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FrameEvent {
    pub jpeg_base64: String,
    pub width: u32,
    pub height: u32,
    pub corners: Vec<(f32, f32)>,
}

/// One settled (or queued) checkout in the day's history.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HistoryItemView {
    pub checkout_id: String,
    pub time: String,
    pub patient: String,
    pub total: Fen,
    pub cash_part: Fen,
    pub setl_id: Option<String>,
    /// 已完成 / 已退费 / 离线待结算 / …
    pub state_label: String,
    /// The checkout's state.
    pub state: ledger::CheckoutState,
    /// `adopted`: booked at end of day from the center's records (to be reviewed).
    pub mode: ledger::CheckoutMode,
    /// The patient's part is still to be collected: 继续收款 puts it back on the counter.
    pub resumable: bool,
    /// `printed` / `failed` / none.
    pub print_state: Option<String>,
    pub refundable: bool,
    pub print_status: Option<String>,
    /// The bill's lines (name × quantity), for choosing what a partial refund keeps.
    pub lines: Vec<String>,
}

/// One item of the offline queue.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct QueueItemView {
    pub id: String,
    /// `settle` / `reverse` / `signout` (the UI words it in its language)
    pub kind: String,
    pub kind_label: String,
    pub created_at: String,
    pub state: ledger::OutboxState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct CameraInfoView {
    pub index: u32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SettingsView {
    pub config: crate::config::AppConfig,
    pub cameras: Vec<CameraInfoView>,
    /// Why the camera list is empty, if it is.
    pub camera_note: Option<String>,
    pub printers: Vec<String>,
    pub printer_note: Option<String>,
}

/// One 3201 group of the end-of-day reconciliation.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ReconcileGroupView {
    pub insutype: String,
    pub clr_type: String,
    pub setl_optins: String,
    pub count: i64,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub balanced: bool,
    pub center_says: String,
    /// The center's rows that do not match (3202), as text.
    pub differences: Vec<String>,
}

/// The end-of-day screen: the ledger against the center, the drawer and the card terminal.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ReconcileView {
    pub day: String,
    pub center_balanced: bool,
    pub groups: Vec<ReconcileGroupView>,
    pub settlements: i64,
    pub refunds: i64,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub psn_cash_pay: Fen,
    pub cash_expected: Fen,
    pub cash_counted: Option<Fen>,
    pub cash_variance: Option<Fen>,
    pub card_expected: Fen,
    pub card_terminal: Option<Fen>,
    pub card_variance: Option<Fen>,
    pub queued: u32,
    pub open_adjustments: Vec<String>,
}

/// A cashier account as the supervisor sees it (never the password hash).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct OperatorView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub locked: bool,
}

/// A difference between what an offline checkout collected and its later settlement.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AdjustmentView {
    pub id: i64,
    pub checkout_id: String,
    /// > 0: collect this from the patient; < 0: give this back.
    pub amount: Fen,
    pub reason: String,
    pub created_at: String,
}

/// One 电子围栏 flag, for supervisors (see `checkout::fence`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FenceFlagView {
    pub kind: checkout::FenceKind,
    pub kind_label: String,
    pub checkout_id: String,
    pub operator: String,
    pub time: String,
    pub detail: String,
}

/// One step of the open shift (cash in/out, a handover).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ShiftEventView {
    /// `cash_in`, `cash_out`, `handover`
    pub kind: String,
    pub amount: Fen,
    pub note: String,
    pub by: String,
    pub to: Option<String>,
    pub at: String,
}

/// The counter's open shift. No expected cash: the close is a blind count.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ShiftView {
    pub shift_id: String,
    pub opened_by: String,
    pub opened_at: String,
    pub float: Fen,
    pub on_duty: String,
    pub events: Vec<ShiftEventView>,
}

/// A line of a printed sheet (label, value).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SheetLineView {
    pub label: String,
    pub value: String,
}

/// The 交班单 after the close: its lines, the variance, where its PDF is and whether
/// it printed.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ShiftReportView {
    pub shift_id: String,
    pub lines: Vec<SheetLineView>,
    pub expected_cash: Fen,
    pub counted: Fen,
    /// counted − expected (negative: 短款).
    pub variance: Fen,
    pub handovers: Vec<String>,
    pub pdf_path: String,
    /// `printed:<job>` or the reason it did not.
    pub print_status: String,
}

/// One counter's part of the day (the finance screen).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FinanceCounterView {
    pub counter: String,
    pub checkouts: i64,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    pub cash: Fen,
    pub card: Fen,
}

/// Settlements in one hour of the day.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FinanceHourView {
    /// 0–23
    pub hour: u8,
    pub checkouts: i64,
    pub medfee_sumamt: Fen,
}

/// The finance screen: the institution's day from the hub (or this counter's own when
/// there is no hub or it cannot be reached — `source` says which).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct FinanceView {
    pub day: String,
    /// `hub` or `counter`.
    pub source: String,
    /// Why the figures are this counter's only (the hub's error), if so.
    pub source_note: Option<String>,
    pub totals: FinanceCounterView,
    pub counters: Vec<FinanceCounterView>,
    pub hours: Vec<FinanceHourView>,
}
