//! `yibao checkout`, `yibao recover`, `yibao queue status|sync`: the same
//! state machine as the app, headless, printing JSON.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use checkout::{
    CheckoutError, CheckoutState, Engine, EngineConfig, ErrorCode, OfflineMode, Operator, Pay,
};
use money::Fen;
use serde_json::{json, Value};

use super::audit::open_ledger;

#[derive(clap::Args, Clone)]
pub struct CenterArgs {
    /// The center's base URL (the simulator or a regional gateway).
    #[arg(long)]
    pub center: String,
    /// The ledger database.
    #[arg(long)]
    pub db: PathBuf,
    /// The ledger's key file (default `<db>.key`).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// 定点医药机构编号.
    #[arg(long, default_value = "H44030300001")]
    pub fixmedins_code: String,
    #[arg(long, default_value = "深圳市演示人民医院")]
    pub fixmedins_name: String,
    /// 就医地医保区划.
    #[arg(long, default_value = "440300")]
    pub admdvs: String,
    /// Read timeout for one call, seconds.
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
    /// This counter's number (1–99) among the institution's counters (two digits of every
    /// msgid). Required once per ledger; kept in the ledger afterwards.
    #[arg(long, env = "YIBAO_COUNTER_NO")]
    pub terminal: Option<u8>,
    /// The CA certificate (PEM) of the center's TLS certificate, when the region runs its
    /// own CA; the certificate is always checked.
    #[arg(long)]
    pub center_ca: Option<PathBuf>,
    /// The operator's session (`yibao login`); required by every command that acts.
    #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
    pub session: Option<String>,
    /// The hospital's HIS: the base URL of its API (http(s)://…, crates/his/API.md) or
    /// the folder it drops bills into. Pending orders come from it; paid and refunded
    /// notices go to it through the queue. None: clinic mode.
    #[arg(long, env = "YIBAO_HIS")]
    pub his: Option<String>,
    /// The bearer token of the HIS API.
    #[arg(long, env = "YIBAO_HIS_TOKEN", hide_env_values = true)]
    pub his_token: Option<String>,
    /// The regional gateway's paasid (x-tif-paasid), when the region has one.
    #[arg(long, env = "YIBAO_PAASID")]
    pub paasid: Option<String>,
    /// The gateway's passtoken (signs x-tif-signature); best from the environment.
    #[arg(long, env = "YIBAO_PASSTOKEN", hide_env_values = true)]
    pub passtoken: Option<String>,
    /// 接收方系统代码 of the envelope.
    #[arg(long, default_value = "YBXT")]
    pub recer_sys_code: String,
    /// 交易验证信息 (cainfo) of the envelope, when the region requires one.
    #[arg(long, default_value = "")]
    pub cainfo: String,
}

#[derive(clap::Args)]
pub struct CheckoutArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    /// The cashier's account id (optional: the session names it; when given it must match).
    #[arg(long)]
    pub operator: Option<String>,
    /// The scanned text (a 医保码, or an 18-digit 身份证 number).
    #[arg(long)]
    pub qr: String,
    /// The bill: the HIS format (`med_type`, `visit`, `lines` with their orders) or,
    /// in clinic mode, lines only (then `--doctor` and `--diag` give the visit).
    /// Without it the bill is the patient's pending one at `--his`.
    #[arg(long, required_unless_present = "his")]
    pub bill: Option<PathBuf>,
    /// With `--his`: which pending bill (its bill_id); default the only one.
    #[arg(long)]
    pub his_bill: Option<String>,
    /// Clinic mode: the doctor's 医保医师编码 (from the institution's dictionary).
    #[arg(long)]
    pub doctor: Option<String>,
    /// Clinic mode: a diagnosis, `CODE` or `CODE 名称` (ICD-10 of the national
    /// dictionary); repeat for more, the first is the main one.
    #[arg(long)]
    pub diag: Vec<String>,
    /// Clinic mode: settle as 门诊慢特病 (med_type 14) under this registered 病种 code.
    #[arg(long)]
    pub chronic: Option<String>,
    #[arg(long, value_parser = ["cash", "card"])]
    pub pay: String,
    /// Do not use the personal account (acct_used_flag 0).
    #[arg(long)]
    pub no_account: bool,
    /// Cash handed over (default: exactly what is due).
    #[arg(long)]
    pub given: Option<String>,
    /// The card terminal's reference.
    #[arg(long, default_value = "POS-HEADLESS")]
    pub card_ref: String,
    /// Collect offline when the center cannot be reached (the cashier's choice, never
    /// automatic): the whole bill or the estimate is taken now and the settlement queued.
    #[arg(long)]
    pub offline: bool,
    /// Accept a settlement whose figures are flagged (does not add up, differs from the
    /// pre-settlement or the catalogue): the supervisor named here confirms with the
    /// password on standard input, and this reason goes into the audit log.
    #[arg(long, requires = "supervisor")]
    pub accept_discrepancy: Option<String>,
    #[arg(long)]
    pub supervisor: Option<String>,
    /// Let a settlement a 事前事中 rule (明确违规) stops go ahead: the supervisor named
    /// in `--supervisor` confirms with the password on standard input; this reason goes
    /// to the center (3102) and into the audit log.
    #[arg(long, requires = "supervisor")]
    pub override_rules: Option<String>,
    /// For `--offline`: the patient's 身份证 for the queued settlement.
    #[arg(long)]
    pub certno: Option<String>,
    #[arg(long, default_value = "")]
    pub name: String,
    /// What an offline checkout collects.
    #[arg(long, value_parser = ["self_pay_all", "estimate"], default_value = "self_pay_all")]
    pub offline_mode: String,
}

#[derive(clap::Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    #[arg(long)]
    pub operator: Option<String>,
}

#[derive(clap::Args)]
pub struct QueueArgs {
    #[arg(value_parser = ["status", "sync"])]
    pub action: String,
    #[command(flatten)]
    pub center: CenterArgs,
    #[arg(long)]
    pub operator: Option<String>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The engine for the center, HIS and ledger of `c` (the other commands' shared set-up).
pub async fn engine_for(c: &CenterArgs) -> anyhow::Result<Engine> {
    engine(c, OfflineMode::SelfPayAll).await
}

async fn engine(c: &CenterArgs, offline: OfflineMode) -> anyhow::Result<Engine> {
    let ledger = open_ledger(&c.db, c.key.as_deref()).await?;
    if let Some(n) = c.terminal {
        if ledger.counter_no().await? != Some(n) {
            ledger.set_counter_no(n).await?;
        }
    }
    let mut cfg = EngineConfig::demo(&c.center);
    cfg.institution.fixmedins_code = c.fixmedins_code.clone();
    cfg.institution.fixmedins_name = c.fixmedins_name.clone();
    cfg.institution.mdtrtarea_admvs = c.admdvs.clone();
    cfg.read_timeout = std::time::Duration::from_secs(c.timeout.max(1));
    cfg.offline_mode = offline;
    cfg.auth_source = ledger::AuthSource::Cli;
    cfg.his = his::His::from_config(c.his.as_deref(), c.his_token.as_deref());
    cfg.gateway = c.paasid.clone().map(|paasid| checkout::Gateway {
        paasid,
        passtoken: c.passtoken.clone().unwrap_or_default(),
    });
    cfg.recer_sys_code = c.recer_sys_code.clone();
    cfg.cainfo = c.cainfo.clone();
    if let Some(p) = &c.center_ca {
        cfg.center_ca =
            Some(std::fs::read(p).with_context(|| format!("reading --center-ca {}", p.display()))?);
    }
    Engine::new(ledger, cfg).map_err(|e| anyhow::anyhow!(e.message))
}

/// The operator to act as: the one of the session (`--session`, `YIBAO_SESSION`),
/// allowed to do `action` — the counter session's own rules (`checkout::Counter`), as in
/// the window; `claimed` (`--operator`) must be that operator.
async fn operator(
    e: &Engine,
    c: &CenterArgs,
    claimed: Option<&str>,
    action: ledger::Action,
) -> anyhow::Result<Operator> {
    Ok(signed(e, c, claimed, action).await?.operator())
}

/// Like [`operator`], with the session's role (for a command some roles of `action`
/// may still not do).
pub async fn signed(
    e: &Engine,
    c: &CenterArgs,
    claimed: Option<&str>,
    action: ledger::Action,
) -> anyhow::Result<checkout::Signed> {
    use super::session::Denied;
    let token = super::session::token(c.session.as_deref())?;
    let denied = |e: CheckoutError| -> anyhow::Error {
        match e.kind {
            ErrorCode::NotSignedIn | ErrorCode::Forbidden | ErrorCode::Auth => {
                Denied(format!("{}（{}）", e.message, e.action)).into()
            }
            _ => anyhow::anyhow!("{}：{}", e.message, e.detail.unwrap_or_default()),
        }
    };
    let counter = checkout::Counter::new(e.clone(), ledger::AuthSource::Cli);
    let s = counter.sign_in_with_token(token).await.map_err(denied)?;
    super::session::check_claimed(claimed, &s.id)?;
    counter.require(action).await.map_err(denied)
}

fn print_err(e: &CheckoutError) {
    eprintln!(
        "{}：{}（{}）",
        e.message,
        e.action,
        e.detail.clone().unwrap_or_default()
    );
    println!("{}", json!({"error": e}));
}

/// Exit codes of `yibao checkout` (a contract with hospital scripts).
pub mod exit {
    /// Settled and paid (or queued offline with `--offline`: see the JSON's `stage`).
    pub const SETTLED: u8 = 0;
    /// Invalid input (bill, arguments) or a step refused locally: nothing was sent.
    pub const INVALID: u8 = 2;
    /// The center refused (or the center is unreachable and `--offline` was not given):
    /// nothing was settled, nothing was collected.
    pub const REFUSED: u8 = 3;
    /// The outcome is unknown (answer lost and not yet reversed): do not retry, run
    /// `yibao recover` when the center answers again.
    pub const IN_DOUBT: u8 = 4;
    /// Settled, but the figures are flagged: nothing collected, a supervisor decides
    /// (`--accept-discrepancy REASON --supervisor ID`, or a refund).
    pub const HELD: u8 = 6;
    /// Collected offline (`--offline`) and queued for settlement.
    pub const OFFLINE: u8 = 7;
}

/// Where the checkout's bill comes from.
enum BillSource {
    /// A file: its lines, and the HIS visit (with its 医疗类别) when it has one.
    File {
        lines: Vec<billing::BillLine>,
        visit: Option<Box<(String, nhsa::visit::Visit)>>,
    },
    /// The patient's pending bill at the HIS (`--his`).
    His,
}

/// Read a bill file: a HIS bill (with `visit`) or lines only. `Err`: the exit code,
/// the reason already printed; nothing was sent.
fn read_bill(path: &std::path::Path) -> anyhow::Result<Result<BillSource, ExitCode>> {
    let invalid = |msg: String| {
        eprintln!("invalid bill: {msg}");
        Ok(Err(ExitCode::from(exit::INVALID)))
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = match serde_json::from_str(billing::strip_bom(&text)) {
        Ok(v) => v,
        Err(e) => return invalid(format!("{} is not JSON ({e})", path.display())),
    };
    let Some(raw) = v.get("lines").and_then(Value::as_array) else {
        return invalid("the bill has no `lines` list".into());
    };
    let catalog = billing::Catalog::demo();
    let mut lines = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let mut line = match billing::parse_line(i, l) {
            Ok(l) => l,
            Err(e) => return invalid(e.to_string()),
        };
        if line.med_list_codg.is_none() {
            line.med_list_codg = catalog
                .items
                .iter()
                .find(|it| it.name == line.name)
                .map(|it| it.code.clone());
        }
        lines.push(line);
    }
    if let Err(e) = billing::check_bill(&lines) {
        return invalid(e.to_string());
    }
    // A HIS bill carries the visit (doctor, department, diagnoses): checked here,
    // before anything is sent, and sent as it is in 2201 and 2203.
    let visit = match v.get("visit") {
        None | Some(Value::Null) => None,
        Some(x) => match serde_json::from_value::<nhsa::visit::Visit>(x.clone()) {
            Ok(visit) => Some(visit),
            Err(e) => return invalid(format!("visit: {e}")),
        },
    };
    if let Some(missing) = visit
        .as_ref()
        .map(|v| v.missing())
        .filter(|m| !m.is_empty())
    {
        print_err(&CheckoutError::input(format!(
            "就诊信息不完整，不能上传医保：{}",
            missing.join("；")
        )));
        return Ok(Err(ExitCode::from(exit::INVALID)));
    }
    let med_type = v
        .get("med_type")
        .and_then(Value::as_str)
        .unwrap_or("11")
        .to_string();
    Ok(Ok(BillSource::File {
        lines,
        visit: visit.map(|v| Box::new((med_type, v))),
    }))
}

/// `--diag CODE [名称]`: the name from the national dictionary when only the code is given.
fn parse_diag(text: &str) -> Result<checkout::DiagnosisPick, CheckoutError> {
    let t = text.trim();
    let (code, name) = match t.split_once(char::is_whitespace) {
        Some((c, n)) => (c.trim().to_string(), n.trim().to_string()),
        None => (t.to_string(), String::new()),
    };
    let name = if name.is_empty() {
        nhsa::dict::DIAGNOSES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, n, _)| n.to_string())
            .ok_or_else(|| {
                CheckoutError::input(format!(
                    "--diag {code}：不在常用诊断字典中，请写出诊断名称（--diag \"{code} 名称\"）"
                ))
            })?
    } else {
        name
    };
    Ok(checkout::DiagnosisPick { code, name })
}

pub fn run_checkout(a: CheckoutArgs) -> anyhow::Result<ExitCode> {
    let source = match &a.bill {
        Some(p) => match read_bill(p)? {
            Ok(s) => s,
            Err(code) => return Ok(code),
        },
        None => BillSource::His,
    };
    // Clinic mode needs the doctor and a diagnosis: refused here, before anything is sent.
    if let BillSource::File { visit: None, .. } = &source {
        if a.doctor.is_none() || a.diag.is_empty() {
            print_err(&CheckoutError::input(
                "账单没有就诊信息（visit）：诊所模式请用 --doctor 医保医师编码 和 --diag 诊断 给出就诊医生和诊断，或使用 HIS 账单",
            ));
            return Ok(ExitCode::from(exit::INVALID));
        }
    }
    let mut diags = Vec::new();
    for d in &a.diag {
        match parse_diag(d) {
            Ok(p) => diags.push(p),
            Err(e) => {
                print_err(&e);
                return Ok(ExitCode::from(exit::INVALID));
            }
        }
    }
    let supervisor_pw = match &a.supervisor {
        Some(_) if a.accept_discrepancy.is_some() || a.override_rules.is_some() => {
            let mut pw = String::new();
            std::io::stdin()
                .read_line(&mut pw)
                .context("reading the supervisor's password from standard input")?;
            Some(pw.trim_end_matches(['\r', '\n']).to_string())
        }
        _ => None,
    };
    let given = a
        .given
        .as_deref()
        .map(Fen::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--given: {e}"))?;
    let offline = if a.offline_mode == "estimate" {
        OfflineMode::Estimate
    } else {
        OfflineMode::SelfPayAll
    };
    runtime()?.block_on(async move {
        let e = engine(&a.center, offline).await?;
        let code = checkout_headless(&e, &a, source, diags, given, supervisor_pw).await;
        e.ledger.close().await;
        code
    })
}

async fn checkout_headless(
    e: &Engine,
    a: &CheckoutArgs,
    source: BillSource,
    diags: Vec<checkout::DiagnosisPick>,
    given: Option<Fen>,
    supervisor_pw: Option<String>,
) -> anyhow::Result<ExitCode> {
    let op = operator(
        e,
        &a.center,
        a.operator.as_deref(),
        ledger::Action::Checkout,
    )
    .await?;
    let pay_for = |due: Fen| -> Result<Pay, CheckoutError> {
        if a.pay == "card" {
            return Ok(Pay::Card {
                reference: a.card_ref.clone(),
            });
        }
        match given {
            Some(g) if g < due => Err(CheckoutError::input(format!(
                "--given {g} is less than the {due} due"
            ))),
            Some(g) => Ok(Pay::Cash { given: g }),
            None => Ok(Pay::Cash { given: due }),
        }
    };
    let c = e.start(&op).await.map_err(|x| anyhow::anyhow!(x.message))?;
    let id = c.id.clone();
    // The bill's visit is set before the patient is resolved, so that an offline
    // checkout keeps it (its replay registers the visit as it was).
    let mut lines = Vec::new();
    match &source {
        BillSource::File { lines: l, visit } => {
            lines = l.clone();
            let set = match visit {
                Some(mv) => {
                    let (med_type, v) = mv.as_ref();
                    e.set_visit(&op, &id, med_type, v.clone()).await.map(|_| ())
                }
                None if a.chronic.is_none() => e
                    .set_clinic_visit(&op, &id, a.doctor.as_deref().unwrap_or(""), &diags, None)
                    .await
                    .map(|_| ()),
                None => Ok(()),
            };
            if let Err(x) = set {
                print_err(&x);
                return Ok(ExitCode::from(exit::INVALID));
            }
        }
        BillSource::His => {}
    }
    let online = async {
        e.resolve_qr(&op, &id, &a.qr).await?;
        match &source {
            BillSource::His => {
                let pending = e.his_pending(&id).await?;
                let bill = match &a.his_bill {
                    Some(b) => pending
                        .into_iter()
                        .find(|p| &p.bill_id == b)
                        .ok_or_else(|| {
                            CheckoutError::input(format!("HIS 中没有该患者的待缴费账单 {b}"))
                        })?,
                    None if pending.len() == 1 => {
                        pending.into_iter().next().unwrap_or_else(|| unreachable!())
                    }
                    None if pending.is_empty() => {
                        return Err(CheckoutError::input("HIS 中没有该患者的待缴费医嘱"))
                    }
                    None => {
                        let ids: Vec<String> = pending.iter().map(|p| p.bill_id.clone()).collect();
                        return Err(CheckoutError::input(format!(
                            "该患者在 HIS 有 {} 张待缴费账单（{}），请用 --his-bill 选择",
                            ids.len(),
                            ids.join("、")
                        )));
                    }
                };
                e.take_his_bill(&op, &id, &bill).await?;
            }
            BillSource::File { visit: None, .. } if a.chronic.is_some() => {
                e.set_clinic_visit(
                    &op,
                    &id,
                    a.doctor.as_deref().unwrap_or(""),
                    &diags,
                    a.chronic.as_deref(),
                )
                .await?;
                e.set_lines(&op, &id, lines.clone()).await?;
            }
            BillSource::File { .. } => {
                e.set_lines(&op, &id, lines.clone()).await?;
            }
        }
        let pre = e.presettle(&op, &id, !a.no_account).await?;
        for h in &pre.rule_hits {
            eprintln!(
                "事前事中提示：{}（{}）{}；涉及金额 {} 元",
                h.rule_name,
                if h.blocking { "明确违规" } else { "可疑" },
                h.vola_cont,
                h.vola_amt
            );
        }
        if pre.rule_hits.iter().any(|h| h.blocking) {
            if let (Some(reason), Some(sup), Some(pw)) =
                (&a.override_rules, &a.supervisor, &supervisor_pw)
            {
                e.override_rules(&op, &id, sup, pw, reason).await?;
            }
        }
        let mut v = e.settle(&op, &id).await?;
        if v.state == CheckoutState::Held {
            let (Some(reason), Some(sup), Some(pw)) =
                (&a.accept_discrepancy, &a.supervisor, &supervisor_pw)
            else {
                return Ok(v);
            };
            v = e.accept_held(&op, &id, sup, pw, reason).await?;
        }
        if v.state == CheckoutState::Settled {
            v = e.pay(&op, &id, pay_for(v.due)?).await?;
        }
        // The HIS hears at once that its bill is paid (queued; resent while it is down).
        if let Err(x) = e.notify_his(&op).await {
            eprintln!("HIS 缴费通知未发出（已排队重发）：{}", x.message);
        }
        Ok(v)
    }
    .await;
    let view = match online {
        Ok(v) => v,
        // Offline only when the cashier chose it, and only when nothing can stand at
        // the center (the call never reached it, or it was refused as unreachable).
        Err(err) if a.offline && err.is_network() => {
            eprintln!(
                "医保中心不可达，按 --offline 离线收费：{}",
                err.detail.clone().unwrap_or_default()
            );
            let cur = e.view(&id).await.map_err(|x| anyhow::anyhow!(x.message))?;
            if cur.lines.is_empty() && lines.is_empty() {
                print_err(&CheckoutError::input(
                    "医保中心不可达时取不到 HIS 医嘱的患者身份：离线收费请用 --bill 账单文件",
                ));
                return Ok(ExitCode::from(exit::INVALID));
            }
            if cur.lines.is_empty() {
                if let Err(x) = e.set_lines(&op, &id, lines.clone()).await {
                    print_err(&x);
                    return Ok(ExitCode::from(exit::INVALID));
                }
            }
            let total: Fen = lines.iter().map(billing::BillLine::amount).sum();
            let estimate = e.estimate(&lines, "310").psn_cash_pay;
            let due = match e.cfg.offline_mode {
                OfflineMode::SelfPayAll => total,
                OfflineMode::Estimate if a.certno.is_some() => estimate,
                OfflineMode::Estimate => total,
            };
            let r = match pay_for(due) {
                Ok(p) => {
                    e.offline_collect(&op, &id, a.certno.as_deref().unwrap_or(""), &a.name, p)
                        .await
                }
                Err(x) => Err(x),
            };
            match r {
                Ok(v) => v,
                Err(x) => {
                    print_err(&x);
                    return Ok(ExitCode::from(exit::INVALID));
                }
            }
        }
        Err(err) => {
            print_err(&err);
            return Ok(ExitCode::from(match err.kind {
                ErrorCode::Input | ErrorCode::State | ErrorCode::Config => exit::INVALID,
                ErrorCode::InDoubt | ErrorCode::Busy => exit::IN_DOUBT,
                _ => exit::REFUSED,
            }));
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "checkout_id": view.id,
            "stage": view.state,
            "mode": view.mode,
            "setl_id": view.setl_id,
            "outbox_id": view.outbox_id,
            "person": view.person,
            "total": view.total,
            "split": view.split,
            "reasons": view.reasons,
            "payments": view.payments,
            "change": view.change,
            "discrepancies": view.discrepancies,
            "rule_hits": view.rule_hits,
        }))?
    );
    Ok(ExitCode::from(match view.state {
        CheckoutState::Held => {
            eprintln!("结算结果有差异，未收款：需主管核对（--accept-discrepancy 理由 --supervisor 工号），或退费");
            exit::HELD
        }
        CheckoutState::OfflineQueued => exit::OFFLINE,
        _ if view.mode == checkout::CheckoutMode::Offline => exit::OFFLINE,
        _ => exit::SETTLED,
    }))
}

pub fn run_recover(a: RecoverArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let e = engine(&a.center, OfflineMode::SelfPayAll).await?;
        let r: anyhow::Result<ExitCode> = async {
            let op = operator(
                &e,
                &a.center,
                a.operator.as_deref(),
                ledger::Action::Checkout,
            )
            .await?;
            match e.recover(&op).await {
                Ok(r) => {
                    println!("{}", serde_json::to_string_pretty(&r)?);
                    Ok(
                        if r.still_in_doubt.is_empty()
                            && r.failed.is_empty()
                            && r.in_flight.is_empty()
                        {
                            ExitCode::SUCCESS
                        } else {
                            ExitCode::from(4)
                        },
                    )
                }
                Err(x) => {
                    print_err(&x);
                    Ok(ExitCode::from(2))
                }
            }
        }
        .await;
        e.ledger.close().await;
        r
    })
}

pub fn run_queue(a: QueueArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let e = engine(&a.center, OfflineMode::SelfPayAll).await?;
        let r: anyhow::Result<ExitCode> = async {
            if a.action == "status" {
                let items = e.ledger.outbox(true).await?;
                let adj = e.ledger.adjustments(true).await?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"items": items, "open_adjustments": adj})
                    )?
                );
                return Ok(ExitCode::SUCCESS);
            }
            let op = operator(
                &e,
                &a.center,
                a.operator.as_deref(),
                ledger::Action::Checkout,
            )
            .await?;
            let _ = e.recover(&op).await;
            match e.sync_queue(&op, true).await {
                Ok(r) => {
                    println!("{}", serde_json::to_string_pretty(&r)?);
                    Ok(if r.deferred.is_some() {
                        ExitCode::from(4)
                    } else {
                        ExitCode::SUCCESS
                    })
                }
                Err(x) => {
                    print_err(&x);
                    Ok(ExitCode::from(2))
                }
            }
        }
        .await;
        e.ledger.close().await;
        r
    })
}

#[derive(clap::Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    #[arg(long)]
    pub operator: Option<String>,
    /// The day (yyyy-mm-dd); default today.
    #[arg(long)]
    pub date: Option<String>,
    /// Count refunds/cancellations (refd_setl_flag 1).
    #[arg(long)]
    pub refunds: bool,
    /// The drawer's opening cash (备用金).
    #[arg(long, default_value = "0")]
    pub float: String,
    /// Cash counted in the drawer.
    #[arg(long)]
    pub cash_counted: Option<String>,
    /// The card terminal's day total.
    #[arg(long)]
    pub card_total: Option<String>,
    /// Also write the report for finance as CSV (UTF-8 with BOM; Excel/WPS open it).
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
}

pub fn run_reconcile(a: ReconcileArgs) -> anyhow::Result<ExitCode> {
    let f = |s: &Option<String>, what: &str| -> anyhow::Result<Option<Fen>> {
        s.as_deref()
            .map(Fen::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--{what}: {e}"))
    };
    let (cash, card) = (
        f(&a.cash_counted, "cash-counted")?,
        f(&a.card_total, "card-total")?,
    );
    let float = Fen::parse(&a.float).map_err(|e| anyhow::anyhow!("--float: {e}"))?;
    runtime()?.block_on(async move {
        let e = engine(&a.center, OfflineMode::SelfPayAll).await?;
        let r: anyhow::Result<ExitCode> = async {
            let op = operator(
                &e,
                &a.center,
                a.operator.as_deref(),
                ledger::Action::Reconcile,
            )
            .await?;
            let day = a
                .date
                .clone()
                .unwrap_or_else(|| chrono::Local::now().format("%Y-%m-%d").to_string());
            match e
                .reconcile_day(&op, &day, a.refunds, float, cash, card)
                .await
            {
                Ok(r) => {
                    if let Some(path) = &a.csv {
                        let text = r.to_csv(
                            &e.cfg.institution.fixmedins_name,
                            &op.id,
                            &chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
                        );
                        std::fs::write(path, text)
                            .map_err(|x| anyhow::anyhow!("--csv {}: {x}", path.display()))?;
                    }
                    println!("{}", serde_json::to_string_pretty(&r)?);
                    let drawer_ok = r.drawer.cash_variance.is_none_or(|v| v == Fen::ZERO)
                        && r.drawer.card_variance.is_none_or(|v| v == Fen::ZERO);
                    Ok(if r.center_balanced && drawer_ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(5)
                    })
                }
                Err(x) => {
                    print_err(&x);
                    Ok(ExitCode::from(2))
                }
            }
        }
        .await;
        e.ledger.close().await;
        r
    })
}

#[derive(clap::Args)]
pub struct RefundArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    /// The cashier doing the refund (optional: the session names it).
    #[arg(long)]
    pub operator: Option<String>,
    #[arg(long)]
    pub setl_id: String,
    /// The confirming supervisor; the password is read from standard input.
    #[arg(long)]
    pub supervisor: String,
    /// Partial refund: the line numbers (0-based) the patient keeps, e.g. `0,2`.
    #[arg(long, value_delimiter = ',')]
    pub keep: Vec<usize>,
}

pub fn run_refund(a: RefundArgs) -> anyhow::Result<ExitCode> {
    let mut pw = String::new();
    std::io::stdin()
        .read_line(&mut pw)
        .context("reading the supervisor's password from standard input")?;
    let pw = pw.trim_end_matches(['\r', '\n']).to_string();
    runtime()?.block_on(async move {
        let e = engine(&a.center, OfflineMode::SelfPayAll).await?;
        let r: anyhow::Result<ExitCode> = async {
        let op = operator(&e, &a.center, a.operator.as_deref(), ledger::Action::Checkout).await?;
        let s = e.ledger.settlement(&a.setl_id).await?.with_context(|| format!("no settlement {}", a.setl_id))?;
        let r = if a.keep.is_empty() {
            e.refund(&op, &s.checkout_id, &a.supervisor, &pw, "退费").await
        } else {
            e.partial_refund(&op, &s.checkout_id, &a.keep, &a.supervisor, &pw).await
        };
        match r {
            Ok(v) => {
                // The HIS hears of the refund at once (queued; resent while it is down).
                if let Err(x) = e.notify_his(&op).await {
                    eprintln!("HIS 退费通知未发出（已排队重发）：{}", x.message);
                }
                println!("{}", serde_json::to_string_pretty(&json!({"checkout_id": v.id, "stage": v.state, "setl_id": v.setl_id, "refund_setl_id": v.refund_setl_id, "split": v.split, "due": v.due, "payments": v.payments}))?);
                Ok(ExitCode::SUCCESS)
            }
            Err(x) => {
                print_err(&x);
                Ok(ExitCode::from(2))
            }
        }
        }
        .await;
        e.ledger.close().await;
        r
    })
}
