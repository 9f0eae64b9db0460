//! Collecting the rest: cash with change, or card.

use ledger::{NewPayment, PaymentChannel};

use super::*;
use crate::machine::Event;
use crate::view::CheckoutView;
use crate::{CheckoutError, Engine, Operator, Result};

impl Engine {
    /// Collect the rest: cash with change, or card with the terminal's reference.
    pub async fn pay(&self, op: &Operator, id: &str, pay: Pay) -> Result<CheckoutView> {
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::Paid)?;
        let v = self.view(id).await?;
        let due = v.due;
        let p = match pay {
            Pay::Cash { given } => {
                if given < due {
                    return Err(CheckoutError::input(format!(
                        "实收 {given} 元少于应收 {due} 元"
                    )));
                }
                NewPayment {
                    checkout_id: id.into(),
                    setl_id: rec.setl_id.clone(),
                    channel: PaymentChannel::Cash,
                    amount: due,
                    given: Some(given),
                    change: Some(given - due),
                    reference: None,
                    note: None,
                }
            }
            Pay::Card { reference } => {
                let reference = reference.trim().to_string();
                if reference.is_empty() {
                    return Err(CheckoutError::input("请输入刷卡终端的参考号"));
                }
                NewPayment {
                    checkout_id: id.into(),
                    setl_id: rec.setl_id.clone(),
                    channel: PaymentChannel::Card,
                    amount: due,
                    given: None,
                    change: None,
                    reference: Some(reference),
                    note: None,
                }
            }
        };
        advance(&mut rec, Event::Paid)?;
        self.ledger
            .record_payment(&p, Some(&rec), &op.id, self.now())
            .await?;
        self.view(id).await
    }
}
