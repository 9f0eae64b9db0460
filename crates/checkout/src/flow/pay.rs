//! Collecting the rest: cash with change, or card.

use super::*;
use crate::machine::Event;
use crate::view::CheckoutView;
use crate::{Engine, Operator, Result};

impl Engine {
    /// Collect the rest: cash with change, or card with the terminal's reference.
    pub async fn pay(&self, op: &Operator, id: &str, pay: Pay) -> Result<CheckoutView> {
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::Paid)?;
        let v = self.view(id).await?;
        let due = v.due;
        let p = pay.payment(id, rec.setl_id.clone(), due, None)?;
        advance(&mut rec, Event::Paid)?;
        self.ledger
            .record_payment(&p, Some(&rec), &op.id, self.now())
            .await?;
        self.view(id).await
    }
}
