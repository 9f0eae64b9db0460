//! Shifts (交班): a cashier opens the counter's shift with a float, records cash in and
//! out, hands the counter to the next cashier, and closes with a blind count. The 交班单
//! adds up each channel (统筹, 个人账户, 共济, cash, card) per cashier from the ledger's
//! payments in the shift, the refunds, and the drawer: float + cash collected − cash
//! refunded + cash in − cash out, against the count.
use ledger::{Action, Shift, ShiftEvent, ShiftEventKind};
use money::Fen;
use serde::{Deserialize, Serialize};

use crate::counter::Counter;
use crate::{CheckoutError, Result};

/// One cashier's part of a shift.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierPart {
    pub operator_id: String,
    pub checkouts: i64,
    pub fund: Fen,
    pub account: Fen,
    pub mutual_aid: Fen,
    pub cash: Fen,
    pub card: Fen,
    pub refunds: i64,
    pub refunded: Fen,
}

/// The 交班单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftReport {
    pub shift_id: String,
    pub opened_by: String,
    pub opened_at: String,
    pub closed_at: String,
    pub float: Fen,
    pub cashiers: Vec<CashierPart>,
    pub fund: Fen,
    pub account: Fen,
    pub mutual_aid: Fen,
    pub cash: Fen,
    pub card: Fen,
    pub refunds: i64,
    pub cash_in: Fen,
    pub cash_out: Fen,
    /// float + cash − cash refunded + cash in − cash out.
    pub expected_cash: Fen,
    pub counted: Fen,
    /// counted − expected (negative: 短款).
    pub variance: Fen,
    pub handovers: Vec<String>,
}

impl ShiftReport {
    /// The 交班单 as a printable sheet (the window and `yibao shift close -o`).
    pub fn sheet(&self, institution: &str) -> receipt::Sheet {
        receipt::Sheet {
            institution: institution.into(),
            title: "收费员交班单".into(),
            lines: self.lines(),
            notes: self
                .handovers
                .iter()
                .map(|h| format!("交接：{h}"))
                .collect(),
        }
    }

    /// The 交班单 as label/amount lines (for the PDF and the screen).
    pub fn lines(&self) -> Vec<(String, String)> {
        let y = |f: Fen| format!("¥{f}");
        let mut v = vec![
            ("班次".into(), self.shift_id.clone()),
            (
                "开班".into(),
                format!("{} {}", self.opened_by, self.opened_at),
            ),
            ("交班".into(), self.closed_at.clone()),
            ("备用金".into(), y(self.float)),
        ];
        for c in &self.cashiers {
            v.push((
                format!("收费员 {}", c.operator_id),
                format!("{} 笔", c.checkouts),
            ));
            v.push(("  统筹基金".into(), y(c.fund)));
            v.push(("  个人账户".into(), y(c.account)));
            v.push(("  共济账户".into(), y(c.mutual_aid)));
            v.push(("  现金".into(), y(c.cash)));
            v.push(("  银行卡".into(), y(c.card)));
            v.push((format!("  退费 {} 笔", c.refunds), y(c.refunded)));
        }
        v.extend([
            ("统筹基金合计".into(), y(self.fund)),
            ("个人账户合计".into(), y(self.account)),
            ("共济账户合计".into(), y(self.mutual_aid)),
            ("现金合计".into(), y(self.cash)),
            ("银行卡合计".into(), y(self.card)),
            ("退费笔数".into(), self.refunds.to_string()),
            ("现金存入".into(), y(self.cash_in)),
            ("现金取出".into(), y(self.cash_out)),
            ("应有现金".into(), y(self.expected_cash)),
            ("实点现金".into(), y(self.counted)),
            (
                if self.variance.is_negative() {
                    "短款"
                } else if self.variance == Fen::ZERO {
                    "差额"
                } else {
                    "长款"
                }
                .into(),
                y(self.variance.abs()),
            ),
        ]);
        v
    }
}

/// The shift on the counter now, as the screen shows it: who opened it, who is on
/// duty, the float and its steps — never the expected cash (the close is blind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftStatus {
    pub shift: Shift,
    pub events: Vec<ShiftEvent>,
}

impl Counter {
    /// The open shift, if any.
    pub async fn shift_status(&self) -> Result<Option<ShiftStatus>> {
        self.require(Action::Checkout).await?;
        let e = self.engine();
        let Some(shift) = e.ledger.open_shift_now().await? else {
            return Ok(None);
        };
        let events = e.ledger.shift_events(&shift.id).await?;
        Ok(Some(ShiftStatus { shift, events }))
    }

    /// Open the counter's shift with a float (one shift at a time).
    pub async fn open_shift(&self, float: Fen) -> Result<Shift> {
        let s = self.require(Action::Checkout).await?;
        let e = self.engine();
        Ok(e.ledger.open_shift(&s.id, float, e.now()).await?)
    }

    async fn open_or_refuse(&self) -> Result<Shift> {
        self.engine()
            .ledger
            .open_shift_now()
            .await?
            .ok_or_else(|| CheckoutError::state("没有未交班的班次：请先开班"))
    }

    /// Cash put into (`in_`) or taken out of the drawer, with a note.
    pub async fn shift_cash(&self, in_: bool, amount: Fen, note: &str) -> Result<()> {
        let s = self.require(Action::Checkout).await?;
        if note.trim().is_empty() {
            return Err(CheckoutError::input("请写明现金存取的用途"));
        }
        let shift = self.open_or_refuse().await?;
        let kind = if in_ {
            ShiftEventKind::CashIn
        } else {
            ShiftEventKind::CashOut
        };
        let e = self.engine();
        Ok(e.ledger
            .shift_event(&shift.id, kind, amount, note.trim(), &s.id, None, e.now())
            .await?)
    }

    /// Hand the counter to the next cashier, who confirms with their password; the
    /// outgoing cashier's count of the drawer is kept with the handover.
    pub async fn hand_over(&self, to_id: &str, to_password: &str, counted: Fen) -> Result<()> {
        self.hand_over_inner(to_id, to_password, counted)
            .await
            .map(|_| ())
    }

    /// The window's handover: as [`Counter::hand_over`], then the outgoing cashier is
    /// signed out and the next one, whose password was just checked, is signed in. A
    /// patient still on the counter is finished first.
    pub async fn hand_over_and_take(
        &self,
        to_id: &str,
        to_password: &str,
        counted: Fen,
    ) -> Result<crate::counter::Signed> {
        if let Some(id) = self.current().await {
            let r = self.engine().ledger.checkout(&id).await?;
            if r.is_some_and(|r| {
                !matches!(
                    r.state,
                    ledger::CheckoutState::New
                        | ledger::CheckoutState::Done
                        | ledger::CheckoutState::Void
                        | ledger::CheckoutState::Refunded
                )
            }) {
                return Err(CheckoutError::new(
                    crate::ErrorCode::State,
                    "收费台上还有未完成的病人",
                    "请先收完或撤销当前病人，再交接",
                ));
            }
        }
        let next = self.hand_over_inner(to_id, to_password, counted).await?;
        self.sign_out().await?;
        let s = crate::counter::Signed::from_ledger(next);
        self.begin(s.clone()).await;
        Ok(s)
    }

    async fn hand_over_inner(
        &self,
        to_id: &str,
        to_password: &str,
        counted: Fen,
    ) -> Result<ledger::Operator> {
        let s = self.require(Action::Checkout).await?;
        let e = self.engine();
        let next = e
            .ledger
            .verify_password_at(to_id, to_password, e.cfg.auth_source, e.now())
            .await
            .map_err(|x| match x {
                ledger::Error::Auth(a) => CheckoutError::new(
                    crate::ErrorCode::Auth,
                    a.message_zh(),
                    "接班收费员请输入自己的工号和密码",
                ),
                other => other.into(),
            })?;
        if !next.role.may(Action::Checkout) {
            return Err(CheckoutError::new(
                crate::ErrorCode::Forbidden,
                "接班人员不能收费",
                "请由收费员或主管接班",
            ));
        }
        let shift = self.open_or_refuse().await?;
        e.ledger
            .shift_event(
                &shift.id,
                ShiftEventKind::Handover,
                counted,
                "交接",
                &s.id,
                Some(&next.id),
                e.now(),
            )
            .await?;
        Ok(next)
    }

    /// Close the shift with the blind count: the 交班单.
    pub async fn close_shift(&self, counted: Fen) -> Result<ShiftReport> {
        let s = self.require(Action::Checkout).await?;
        let shift = self.open_or_refuse().await?;
        let e = self.engine();
        let now = e.now();
        let closed_at =
            ledger::chrono::NaiveDateTime::format(&now, "%Y-%m-%d %H:%M:%S%.3f").to_string();
        let totals = e
            .ledger
            .channel_totals(&shift.opened_at, &closed_at)
            .await?;
        let events = e.ledger.shift_events(&shift.id).await?;
        let mut cashiers: Vec<CashierPart> = Vec::new();
        for t in &totals {
            let c = match cashiers
                .iter_mut()
                .position(|c| c.operator_id == t.operator_id)
            {
                Some(i) => &mut cashiers[i],
                None => {
                    cashiers.push(CashierPart {
                        operator_id: t.operator_id.clone(),
                        ..Default::default()
                    });
                    cashiers.last_mut().unwrap_or_else(|| unreachable!())
                }
            };
            let net = t.collected - t.refunded;
            match t.channel.as_str() {
                "fund" => {
                    c.fund += net;
                    c.checkouts += t.count - t.refunds;
                }
                "account" => c.account += net,
                "mutual_aid" => c.mutual_aid += net,
                "cash" => c.cash += net,
                "card" => c.card += net,
                _ => {}
            }
            c.refunds += t.refunds;
            c.refunded += t.refunded;
        }
        let sum = |f: fn(&CashierPart) -> Fen| cashiers.iter().map(f).sum::<Fen>();
        let ev = |k: &str| {
            events
                .iter()
                .filter(|x| x.kind == k)
                .map(|x| x.amount)
                .sum::<Fen>()
        };
        let (cash_in, cash_out) = (ev("cash_in"), ev("cash_out"));
        let cash = sum(|c| c.cash);
        let expected = shift.float + cash + cash_in - cash_out;
        let report = ShiftReport {
            shift_id: shift.id.clone(),
            opened_by: shift.opened_by.clone(),
            opened_at: shift.opened_at.chars().take(19).collect(),
            closed_at: closed_at.chars().take(19).collect(),
            float: shift.float,
            fund: sum(|c| c.fund),
            account: sum(|c| c.account),
            mutual_aid: sum(|c| c.mutual_aid),
            cash,
            card: sum(|c| c.card),
            refunds: cashiers.iter().map(|c| c.refunds).sum(),
            cash_in,
            cash_out,
            expected_cash: expected,
            counted,
            variance: counted - expected,
            handovers: events
                .iter()
                .filter(|x| x.kind == "handover")
                .map(|x| {
                    format!(
                        "{} {} → {}（点钞 ¥{}）",
                        &x.at[..19.min(x.at.len())],
                        x.by,
                        x.to.clone().unwrap_or_default(),
                        x.amount
                    )
                })
                .collect(),
            cashiers,
        };
        e.ledger
            .close_shift(&shift.id, &s.id, counted, &serde_json::json!(report), now)
            .await?;
        Ok(report)
    }
}
