//! The checkout state machine: one pure function from (state, event) to the next
//! state or a refusal. Every async step of the engine asks it before it acts and
//! saves what it answers, so the rules live here and nowhere else.
//!
//! | from \ event | resolved | lines | presettled | settle_sent | settle_answered | settle_undone | hold_accepted | paid | refund_sent | refund_answered | refund_undone | offline_collected | replay_started | replay_failed | abandoned | adopted |
//! |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
//! | new | resolved/billed | new/resolved/billed | – | – | – | – | – | – | – | – | – | offline_queued/done | – | offline_queued | void | settling |
//! | resolved | resolved/billed | new/resolved/billed | – | – | – | – | – | – | – | – | – | offline_queued/done | – | offline_queued | void | – |
//! | billed | resolved/billed | new/resolved/billed | presettled | – | – | – | – | – | – | – | – | offline_queued/done | – | offline_queued | void | – |
//! | presettled | – | new/resolved/billed | presettled | settling | – | – | – | – | – | – | – | offline_queued/done | – | offline_queued | void | – |
//! | settling | – | – | – | – | settled/held/done | presettled/offline_queued | – | – | – | – | – | – | – | – | – | – |
//! | settled | – | – | – | – | – | – | – | done | refunding | – | – | – | – | – | – | – |
//! | held | – | – | – | – | – | – | settled/done | – | refunding | – | – | – | – | – | – | – |
//! | done | – | – | – | – | – | – | – | – | refunding | – | – | – | – | – | – | – |
//! | refunding | – | – | – | – | – | – | – | – | – | refunded | settled/held/done | – | – | – | – | – |
//! | offline_queued | – | – | – | – | – | – | – | – | – | – | – | – | new | offline_queued | – | – |
//! | refunded, void | – (final) |
//!
//! The invariant the table keeps: `settle_sent` is possible only from `presettled`,
//! and nothing leaves `settling` but the 2207's own outcome (answered, or undone by
//! a refusal or a 2601). So a second 2207 is never sent for a checkout while an
//! earlier one is unresolved.
use serde::{Deserialize, Serialize};

pub use ledger::{CheckoutMode, CheckoutState};

/// Where a refund that did not happen returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prior {
    Settled,
    Held,
    Done,
}

/// What happened to a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// 1101 answered; `has_lines`: the bill already has lines.
    Resolved { has_lines: bool },
    /// The bill's lines were replaced.
    LinesSet { has_person: bool, empty: bool },
    /// 2206 answered.
    Presettled,
    /// 2207 is about to be sent.
    SettleSent,
    /// 2207 answered with a settlement. `flagged`: it does not add up or differs from
    /// the pre-settlement or the catalogue; `cash_due`: the patient pays something;
    /// `offline`: the cash was collected offline before.
    SettleAnswered {
        cash_due: bool,
        flagged: bool,
        offline: bool,
    },
    /// The 2207 holds nothing at the center: refused, reversed by 2601, or never received.
    SettleUndone { offline: bool },
    /// A supervisor accepted a flagged settlement.
    HoldAccepted { cash_due: bool },
    /// The rest was collected.
    Paid,
    /// 2208 is about to be sent.
    RefundSent,
    /// 2208 answered: the settlement is cancelled.
    RefundAnswered,
    /// The 2208 holds nothing at the center: refused, reversed, or never received.
    RefundUndone { prior: Prior },
    /// Collected without the center; `queued`: the settlement waits in the queue.
    OfflineCollected { queued: bool },
    /// The queue replays an offline checkout through the online steps.
    ReplayStarted,
    /// A replay stopped before 2207: the checkout waits in the queue again.
    ReplayFailed,
    /// The cashier let the patient go before anything was settled.
    Abandoned,
    /// The center holds a settlement this ledger lacks (end of day, 5203): its
    /// answer is booked next, as for a 2207 (`settle_answered` with `offline`).
    Adopted,
}

impl Event {
    pub const fn name(self) -> &'static str {
        match self {
            Event::Resolved { .. } => "resolved",
            Event::LinesSet { .. } => "lines",
            Event::Presettled => "presettled",
            Event::SettleSent => "settle_sent",
            Event::SettleAnswered { .. } => "settle_answered",
            Event::SettleUndone { .. } => "settle_undone",
            Event::HoldAccepted { .. } => "hold_accepted",
            Event::Paid => "paid",
            Event::RefundSent => "refund_sent",
            Event::RefundAnswered => "refund_answered",
            Event::RefundUndone { .. } => "refund_undone",
            Event::OfflineCollected { .. } => "offline_collected",
            Event::ReplayStarted => "replay_started",
            Event::ReplayFailed => "replay_failed",
            Event::Abandoned => "abandoned",
            Event::Adopted => "adopted",
        }
    }
}

/// The event does not apply in this state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub state: CheckoutState,
    pub event: Event,
}

impl Refusal {
    pub fn message_zh(&self) -> String {
        format!("当前步骤（{}）不能进行此操作", self.state.label_zh())
    }
}

/// The next state, or a refusal.
pub fn transition(state: CheckoutState, event: Event) -> Result<CheckoutState, Refusal> {
    use CheckoutState as S;
    use Event as E;
    let refuse = Err(Refusal { state, event });
    let unsettled = matches!(state, S::New | S::Resolved | S::Billed | S::Presettled);
    Ok(match event {
        E::Resolved { has_lines } => match state {
            S::New | S::Resolved | S::Billed if has_lines => S::Billed,
            S::New | S::Resolved | S::Billed => S::Resolved,
            _ => return refuse,
        },
        E::LinesSet { has_person, empty } if unsettled => match (has_person, empty) {
            (true, false) => S::Billed,
            (true, true) => S::Resolved,
            (false, _) => S::New,
        },
        E::Presettled => match state {
            S::Billed | S::Presettled => S::Presettled,
            _ => return refuse,
        },
        E::SettleSent => match state {
            S::Presettled => S::Settling,
            _ => return refuse,
        },
        E::SettleAnswered {
            cash_due,
            flagged,
            offline,
        } => match state {
            S::Settling if flagged => S::Held,
            S::Settling if offline || !cash_due => S::Done,
            S::Settling => S::Settled,
            _ => return refuse,
        },
        E::SettleUndone { offline } => match state {
            S::Settling if offline => S::OfflineQueued,
            S::Settling => S::Presettled,
            _ => return refuse,
        },
        E::HoldAccepted { cash_due } => match state {
            S::Held if cash_due => S::Settled,
            S::Held => S::Done,
            _ => return refuse,
        },
        E::Paid => match state {
            S::Settled => S::Done,
            _ => return refuse,
        },
        E::RefundSent => match state {
            S::Settled | S::Held | S::Done => S::Refunding,
            _ => return refuse,
        },
        E::RefundAnswered => match state {
            S::Refunding => S::Refunded,
            _ => return refuse,
        },
        E::RefundUndone { prior } => match state {
            S::Refunding => match prior {
                Prior::Settled => S::Settled,
                Prior::Held => S::Held,
                Prior::Done => S::Done,
            },
            _ => return refuse,
        },
        E::OfflineCollected { queued } if unsettled => {
            if queued {
                S::OfflineQueued
            } else {
                S::Done
            }
        }
        E::ReplayStarted => match state {
            S::OfflineQueued => S::New,
            _ => return refuse,
        },
        E::ReplayFailed if unsettled || state == S::OfflineQueued => S::OfflineQueued,
        E::Abandoned if unsettled => S::Void,
        E::Adopted => match state {
            S::New => S::Settling,
            _ => return refuse,
        },
        E::LinesSet { .. } | E::OfflineCollected { .. } | E::ReplayFailed | E::Abandoned => {
            return refuse
        }
    })
}

/// The step the window shows for a state. Exhaustive on purpose: a new state
/// does not compile until it is given its screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Waiting for a code.
    Idle,
    /// Person known; the bill is being entered.
    Resolved,
    /// 2206 answered: the split is shown, F6 settles.
    PreSettled,
    /// 2207 or 2208 outcome unknown: nothing may be settled or collected until it
    /// is resolved (2601 or the center's answer).
    InDoubt,
    /// Settled but flagged: a supervisor must accept it or it is refunded.
    Held,
    /// Settled: the rest is to be paid.
    Settled,
    /// Paid and on the books (or refunded, or let go).
    Done,
    /// Offline: collected locally, the claim waits in the queue.
    Queued,
}

pub fn stage_of(state: CheckoutState) -> Stage {
    use CheckoutState as S;
    match state {
        S::New => Stage::Idle,
        S::Resolved | S::Billed => Stage::Resolved,
        S::Presettled => Stage::PreSettled,
        S::Settling | S::Refunding => Stage::InDoubt,
        S::Held => Stage::Held,
        S::Settled => Stage::Settled,
        S::Done | S::Refunded | S::Void => Stage::Done,
        S::OfflineQueued => Stage::Queued,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CheckoutState as S;

    /// Every event with every value of its fields.
    fn all_events() -> Vec<Event> {
        let b = [false, true];
        let mut v = Vec::new();
        for x in b {
            v.push(Event::Resolved { has_lines: x });
            v.push(Event::SettleUndone { offline: x });
            v.push(Event::HoldAccepted { cash_due: x });
            v.push(Event::OfflineCollected { queued: x });
            for y in b {
                v.push(Event::LinesSet {
                    has_person: x,
                    empty: y,
                });
                for z in b {
                    v.push(Event::SettleAnswered {
                        cash_due: x,
                        flagged: y,
                        offline: z,
                    });
                }
            }
        }
        for p in [Prior::Settled, Prior::Held, Prior::Done] {
            v.push(Event::RefundUndone { prior: p });
        }
        v.extend([
            Event::Presettled,
            Event::SettleSent,
            Event::Paid,
            Event::RefundSent,
            Event::RefundAnswered,
            Event::ReplayStarted,
            Event::ReplayFailed,
            Event::Abandoned,
            Event::Adopted,
        ]);
        v
    }

    /// The table in the module's doc comment, as data: the states an event may lead
    /// to from a state (empty: refused).
    fn allowed(state: S, e: Event) -> &'static [S] {
        let unsettled = [S::New, S::Resolved, S::Billed, S::Presettled].contains(&state);
        match (e.name(), state) {
            ("resolved", S::New | S::Resolved | S::Billed) => &[S::Resolved, S::Billed],
            ("lines", _) if unsettled => &[S::New, S::Resolved, S::Billed],
            ("presettled", S::Billed | S::Presettled) => &[S::Presettled],
            ("settle_sent", S::Presettled) => &[S::Settling],
            ("settle_answered", S::Settling) => &[S::Settled, S::Held, S::Done],
            ("settle_undone", S::Settling) => &[S::Presettled, S::OfflineQueued],
            ("hold_accepted", S::Held) => &[S::Settled, S::Done],
            ("paid", S::Settled) => &[S::Done],
            ("refund_sent", S::Settled | S::Held | S::Done) => &[S::Refunding],
            ("refund_answered", S::Refunding) => &[S::Refunded],
            ("refund_undone", S::Refunding) => &[S::Settled, S::Held, S::Done],
            ("offline_collected", _) if unsettled => &[S::OfflineQueued, S::Done],
            ("replay_started", S::OfflineQueued) => &[S::New],
            ("replay_failed", _) if unsettled || state == S::OfflineQueued => &[S::OfflineQueued],
            ("abandoned", _) if unsettled => &[S::Void],
            ("adopted", S::New) => &[S::Settling],
            _ => &[],
        }
    }

    #[test]
    fn every_state_and_event_pair_follows_the_table() {
        let mut pairs = 0;
        for s in S::ALL {
            for e in all_events() {
                pairs += 1;
                let want = allowed(s, e);
                match transition(s, e) {
                    Ok(next) => assert!(
                        want.contains(&next),
                        "{s} + {e:?} gave {next}, the table allows {want:?}"
                    ),
                    Err(r) => {
                        assert!(
                            want.is_empty(),
                            "{s} + {e:?} refused, the table allows {want:?}"
                        );
                        assert_eq!(r.state, s);
                        assert!(r.message_zh().contains(s.label_zh()));
                    }
                }
            }
        }
        assert_eq!(pairs, S::ALL.len() * all_events().len());
    }

    #[test]
    fn the_fields_of_an_event_pick_the_state() {
        let answered = |cash_due, flagged, offline| {
            transition(
                S::Settling,
                Event::SettleAnswered {
                    cash_due,
                    flagged,
                    offline,
                },
            )
            .unwrap()
        };
        assert_eq!(answered(true, false, false), S::Settled);
        assert_eq!(answered(false, false, false), S::Done);
        assert_eq!(answered(true, false, true), S::Done);
        // A flagged answer holds the money whatever is due.
        assert_eq!(answered(true, true, false), S::Held);
        assert_eq!(answered(false, true, true), S::Held);
        assert_eq!(
            transition(S::Settling, Event::SettleUndone { offline: true }).unwrap(),
            S::OfflineQueued
        );
        assert_eq!(
            transition(S::Refunding, Event::RefundUndone { prior: Prior::Held }).unwrap(),
            S::Held
        );
    }

    #[test]
    fn final_states_refuse_everything_and_settling_waits_for_its_own_outcome() {
        for e in all_events() {
            assert!(transition(S::Refunded, e).is_err(), "{e:?}");
            assert!(transition(S::Void, e).is_err(), "{e:?}");
            let from_settling = transition(S::Settling, e);
            assert_eq!(
                from_settling.is_ok(),
                matches!(e, Event::SettleAnswered { .. } | Event::SettleUndone { .. }),
                "{e:?} from settling"
            );
        }
    }

    #[test]
    fn every_state_has_a_stage_and_in_doubt_states_show_as_in_doubt() {
        for s in S::ALL {
            assert_eq!(stage_of(s) == Stage::InDoubt, s.in_doubt(), "{s}");
        }
        assert_eq!(stage_of(S::OfflineQueued), Stage::Queued);
        assert_eq!(stage_of(S::Settling), Stage::InDoubt);
    }

    mod random_sequences {
        use super::*;
        use proptest::prelude::*;

        /// What can happen at the counter, including crashes and lost answers.
        #[derive(Debug, Clone)]
        enum Happening {
            Ev(Event),
            /// The 2207 reached the center but the answer was lost.
            AnswerLost,
            /// The process died; recovery then resolves the open 2207 (reverse).
            CrashAndRecover,
        }

        fn happening() -> impl Strategy<Value = Happening> {
            let evs = all_events();
            prop_oneof![
                8 => (0..evs.len()).prop_map(move |i| Happening::Ev(evs[i])),
                1 => Just(Happening::AnswerLost),
                1 => Just(Happening::CrashAndRecover),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
            /// A model of the center's books driven through the machine: however events,
            /// lost answers and crashes interleave, a checkout never has two valid
            /// settlements, and no 2207 is sent while an earlier one is unresolved.
            #[test]
            fn never_two_valid_settlements(seq in proptest::collection::vec(happening(), 1..60)) {
                let mut state = S::New;
                // 2207s the center holds valid for this checkout, and whether one is unresolved.
                let mut valid = 0u32;
                let mut open_2207 = false;
                for h in seq {
                    match h {
                        Happening::Ev(e) => {
                            let Ok(next) = transition(state, e) else { continue };
                            match e {
                                // An adopted checkout's settlement is one the center already holds.
                                Event::SettleSent | Event::Adopted => {
                                    prop_assert!(!open_2207, "a second 2207 while one is unresolved");
                                    open_2207 = true;
                                }
                                Event::SettleAnswered { .. } => {
                                    // The center answered: it holds one more settlement.
                                    prop_assert!(open_2207);
                                    open_2207 = false;
                                    valid += 1;
                                }
                                Event::SettleUndone { .. } => {
                                    open_2207 = false;
                                }
                                Event::RefundAnswered => {
                                    valid = valid.saturating_sub(1);
                                }
                                _ => {}
                            }
                            state = next;
                        }
                        Happening::AnswerLost if state == S::Settling && open_2207 => {
                            // The center settled; we do not know. Only a 2601 or the
                            // found answer may move the checkout on: model the 2601.
                            state = transition(state, Event::SettleUndone { offline: false }).unwrap();
                            open_2207 = false;
                        }
                        Happening::CrashAndRecover if state == S::Settling => {
                            state = transition(state, Event::SettleUndone { offline: false }).unwrap();
                            open_2207 = false;
                        }
                        _ => {}
                    }
                    prop_assert!(valid <= 1, "two valid settlements");
                }
            }
        }
    }
}
