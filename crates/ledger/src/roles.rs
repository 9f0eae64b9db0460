//! Who may do what. The roles and the actions they allow are decided here, once,
//! and checked where the action happens (the engine, the ledger), so the window and
//! the command line obey the same rules.
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes patients: checkouts, payments, the offline queue, the counter's own end of day.
    Cashier,
    /// A cashier who also approves refunds and overrides and manages cashier accounts.
    Supervisor,
    /// Closes the day and reads reports and the audit log; moves no patient's money.
    Finance,
    /// Hospital IT: accounts and settings, the audit log; moves no money and approves nothing.
    Admin,
}

/// What an operator asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Resolve a patient, bill, settle, collect, print (and the offline queue, recovery).
    Checkout,
    /// Approve a refund or a partial refund (as the second person).
    ApproveRefund,
    /// Accept a settlement whose figures do not add up, or override a blocking rule.
    ApproveOverride,
    /// End of day against the center, the drawer and the card terminal.
    Reconcile,
    /// Create accounts (cashiers; supervisors and other roles need a supervisor or admin).
    ManageUsers,
    /// The counter's settings (center, printer, camera).
    Settings,
    /// Read and verify the audit log.
    ReadAudit,
    /// The institution's day (every counter's figures, from the hub) and its export.
    InstitutionReport,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Cashier, Role::Supervisor, Role::Finance, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Supervisor => "supervisor",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "role must be cashier, supervisor, finance or admin, not {s:?}"
                ))
            })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Cashier => "收费员",
            Role::Supervisor => "主管",
            Role::Finance => "财务",
            Role::Admin => "系统管理员",
        }
    }

    /// The one table of permissions.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Cashier => matches!(action, Checkout | Reconcile),
            Role::Supervisor => matches!(
                action,
                Checkout
                    | ApproveRefund
                    | ApproveOverride
                    | Reconcile
                    | ManageUsers
                    | Settings
                    | ReadAudit
                    | InstitutionReport
            ),
            Role::Finance => matches!(action, Reconcile | ReadAudit | InstitutionReport),
            Role::Admin => matches!(action, ManageUsers | Settings | ReadAudit),
        }
    }

    /// Which roles this role may create: a supervisor creates cashiers (and other
    /// supervisors); an admin creates any role; nobody else creates accounts.
    pub fn may_create(self, new: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Supervisor => matches!(new, Role::Cashier | Role::Supervisor),
            Role::Cashier | Role::Finance => false,
        }
    }
}

/// Where a password was typed. Failures are counted and lock-outs applied per
/// source, so that wrong passwords typed at a shell cannot lock a supervisor out
/// of the counter's window (and the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthSource {
    Window,
    Cli,
}

impl AuthSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthSource::Window => "window",
            AuthSource::Cli => "cli",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_but_supervisors_approves_and_only_money_roles_take_patients() {
        for r in Role::ALL {
            assert_eq!(r.may(Action::ApproveRefund), r == Role::Supervisor, "{r:?}");
            assert_eq!(
                r.may(Action::Checkout),
                matches!(r, Role::Cashier | Role::Supervisor),
                "{r:?}"
            );
            assert_eq!(
                r.may(Action::InstitutionReport),
                matches!(r, Role::Finance | Role::Supervisor),
                "a cashier sees their own counter's day, not the institution's: {r:?}"
            );
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(!Role::Cashier.may_create(Role::Cashier));
        assert!(!Role::Supervisor.may_create(Role::Admin));
        assert!(Role::Admin.may_create(Role::Finance));
    }
}
