//! Cashier accounts (argon2id password hashes, roles, lock-out) and 9001 sign-ins.
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{AuthError, Error, Result};
use crate::{fmt_time, parse_time, Ledger};

/// Failed password attempts before an account is locked.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long a lock-out lasts.
pub const LOCKOUT_MINUTES: i64 = 15;

pub use crate::roles::{Action, AuthSource, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub failed_attempts: u32,
    pub locked_until: Option<NaiveDateTime>,
}

/// A 9001 sign-in of one operator on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub operator_id: String,
    pub day: NaiveDate,
    pub sign_no: String,
    pub sign_time: String,
    pub signed_out_at: Option<String>,
}

/// The operator columns, with each account's lock-out state over all sources.
pub(crate) const OPERATOR_SELECT: &str = "SELECT o.id, o.name_enc, o.role, o.active,
    COALESCE((SELECT MAX(f.failed) FROM auth_failures f WHERE f.operator_id = o.id), 0),
    (SELECT MAX(f.locked_until) FROM auth_failures f WHERE f.operator_id = o.id)
    FROM operators o";

/// A hash checked against when the id is unknown, so both cost the same.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("no-such-operator-dummy").expect("argon2"))
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("password hashing failed: {e}")))
}

fn password_matches(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn validate_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 20
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::Invalid(format!(
            "operator id must be 1–20 ASCII letters, digits, '-' or '_': {id:?}"
        )));
    }
    Ok(())
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Passwords people choose first; refused whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "11111111",
    "00000000",
    "88888888",
    "66666666",
    "12341234",
    "11223344",
    "123123123",
    "password",
    "password1",
    "passw0rd",
    "qwertyui",
    "qwerty123",
    "1qaz2wsx",
    "abc12345",
    "a1234567",
    "abcd1234",
    "iloveyou",
    "admin123",
    "admin888",
    "woaini1314",
    "5201314520",
    "aa123456",
    "zxcvbnm123",
];

/// Why a password is refused (None: accepted). The one rule for every shell: the
/// window, `yibao user add` and a password change all come here.
pub fn password_problem(id: &str, password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Some(format!(
            "密码至少 {MIN_PASSWORD_CHARS} 位（password must have at least {MIN_PASSWORD_CHARS} characters）"
        ));
    }
    if password.chars().any(char::is_control) || password.trim().is_empty() {
        return Some("密码不能只有空格或含控制字符".into());
    }
    let lower = password.to_lowercase();
    if lower == id.to_lowercase() || lower.contains(&id.to_lowercase()) && id.len() >= 4 {
        return Some("密码不能包含工号".into());
    }
    let first = lower.chars().next().unwrap_or(' ');
    if lower.chars().all(|c| c == first) || COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Some("密码过于常见，请换一个".into());
    }
    None
}

/// A new password's argon2id hash, for an account kept by the institution's hub (the
/// hub keeps and distributes only the hash; every counter verifies against it).
pub fn hash_new_password(id: &str, password: &str) -> Result<String> {
    validate_id(id)?;
    if let Some(why) = password_problem(id, password) {
        return Err(Error::Invalid(why));
    }
    hash_password(password)
}

impl Ledger {
    /// Take an account as the institution's hub holds it (created, renamed, its password
    /// changed or the account locked at the hub): upserted with the hub's hash, audited
    /// as `operator.hub`. A changed password clears the local failed attempts.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_hub_operator(
        &self,
        id: &str,
        name: &str,
        role: Role,
        password_hash: &str,
        active: bool,
        now: NaiveDateTime,
    ) -> Result<()> {
        validate_id(id)?;
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(Error::Invalid(format!("operator {id}: bad name")));
        }
        if PasswordHash::new(password_hash).is_err() {
            return Err(Error::Invalid(format!(
                "operator {id}: the hub's password hash is not a PHC string"
            )));
        }
        let mut tx = self.write_tx().await?;
        let old: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM operators WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if old.as_deref() != Some(password_hash) {
            sqlx::query("DELETE FROM auth_failures WHERE operator_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO operators (id, name_enc, role, password_hash, created_at, active) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET name_enc = excluded.name_enc, role = excluded.role,
             password_hash = excluded.password_hash, active = excluded.active",
        )
        .bind(id)
        .bind(self.key().seal(name.trim()))
        .bind(role.as_str())
        .bind(password_hash)
        .bind(fmt_time(now))
        .bind(active)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            self.key(),
            "hub",
            "operator.hub",
            &serde_json::json!({"operator": id, "role": role.as_str(), "active": active,
                "password_changed": old.as_deref() != Some(password_hash)}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Create a cashier account. The password is stored only as an argon2id hash.
    pub async fn create_operator(
        &self,
        id: &str,
        name: &str,
        role: Role,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        validate_id(id)?;
        if let Some(why) = password_problem(id, password) {
            return Err(Error::Invalid(why));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::Invalid(
                "operator name has control characters".into(),
            ));
        }
        if name.trim().is_empty() {
            return Err(Error::Invalid("operator name is empty".into()));
        }
        let hash = hash_password(password)?;
        let mut tx = self.write_tx().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM operators WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(Error::Conflict(format!("operator {id} already exists")));
        }
        sqlx::query(
            "INSERT INTO operators (id, name_enc, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(self.key().seal(name))
        .bind(role.as_str())
        .bind(&hash)
        .bind(fmt_time(now))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            self.key(),
            id,
            "operator.create",
            &serde_json::json!({"operator": id, "role": role.as_str()}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Operator {
            id: id.into(),
            name: name.into(),
            role,
            active: true,
            failed_attempts: 0,
            locked_until: None,
        })
    }

    /// Add an account as `by` (the signed-in operator of the window, or the session
    /// of the command line). Without anyone signed in only the first account of an
    /// empty ledger may be made, and it must be a supervisor or an admin; otherwise
    /// `by`'s role decides which roles it may create ([`Role::may_create`]).
    pub async fn add_operator(
        &self,
        by: Option<&Operator>,
        id: &str,
        name: &str,
        role: Role,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        match by {
            None => {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators")
                    .fetch_one(self.pool())
                    .await?;
                if n > 0 {
                    return Err(AuthError::NoSession.into());
                }
                if !matches!(role, Role::Supervisor | Role::Admin) {
                    return Err(Error::Invalid(
                        "the first account of a ledger must be a supervisor or an admin".into(),
                    ));
                }
            }
            Some(actor) if !actor.role.may_create(role) => {
                return Err(AuthError::Forbidden {
                    operator: actor.id.clone(),
                    role: actor.role.as_str(),
                    action: "create this account",
                }
                .into());
            }
            Some(_) => {}
        }
        let op = self.create_operator(id, name, role, password, now).await?;
        if let Some(actor) = by {
            self.audit(
                &actor.id,
                "operator.add",
                &serde_json::json!({"operator": id, "role": role.as_str(), "by": actor.id}),
                now,
            )
            .await?;
        }
        Ok(op)
    }

    /// Change a password (audited).
    pub async fn set_password(&self, id: &str, password: &str, now: NaiveDateTime) -> Result<()> {
        if let Some(why) = password_problem(id, password) {
            return Err(Error::Invalid(why));
        }
        let hash = hash_password(password)?;
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM auth_failures WHERE operator_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("UPDATE operators SET password_hash = ? WHERE id = ?")
            .bind(&hash)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(AuthError::UnknownOperator(id.into()).into());
        }
        append_in(
            &mut tx,
            self.key(),
            id,
            "operator.password",
            &serde_json::json!({"operator": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn operator(&self, id: &str) -> Result<Option<Operator>> {
        let row = sqlx::query(&format!("{OPERATOR_SELECT} WHERE o.id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| self.row_to_operator(&r)).transpose()
    }

    pub async fn operators(&self) -> Result<Vec<Operator>> {
        let rows = sqlx::query(&format!("{OPERATOR_SELECT} ORDER BY o.id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| self.row_to_operator(r)).collect()
    }

    pub(crate) fn row_to_operator(&self, r: &sqlx::sqlite::SqliteRow) -> Result<Operator> {
        let locked: Option<String> = r.get(5);
        Ok(Operator {
            id: r.get(0),
            name: self.key().open(&r.get::<String, _>(1))?,
            role: Role::parse(&r.get::<String, _>(2))?,
            active: r.get::<i64, _>(3) != 0,
            failed_attempts: r.get::<i64, _>(4) as u32,
            locked_until: locked.map(|s| parse_time(&s)).transpose()?,
        })
    }

    /// Check a password typed in the counter's window (see [`Ledger::verify_password_at`]).
    pub async fn verify_password(
        &self,
        id: &str,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        self.verify_password_at(id, password, AuthSource::Window, now)
            .await
    }

    /// Check a password. After [`MAX_FAILED_ATTEMPTS`] wrong passwords in a row from
    /// one source the account is locked there for [`LOCKOUT_MINUTES`]; a correct
    /// password resets that source's count. An unknown id is handled exactly like a
    /// wrong password — same hashing work, same count, same message — so neither the
    /// answer nor its timing tells whether an id exists. Every outcome is audited.
    pub async fn verify_password_at(
        &self,
        id: &str,
        password: &str,
        source: AuthSource,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        let hash: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM operators WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        // Hash outside the write lock (argon2 is deliberately slow); an unknown id
        // costs the same as a known one.
        let good = match &hash {
            Some(h) => password_matches(h, password),
            None => {
                let _ = password_matches(dummy_hash(), password);
                false
            }
        };
        let mut tx = self.write_tx().await?;
        let op = match hash {
            Some(_) => {
                let r = sqlx::query(&format!("{OPERATOR_SELECT} WHERE o.id = ?"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                Some(self.row_to_operator(&r)?)
            }
            None => None,
        };
        let (failed, locked): (i64, Option<String>) = sqlx::query_as(
            "SELECT failed, locked_until FROM auth_failures WHERE operator_id = ? AND source = ?",
        )
        .bind(id)
        .bind(source.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or((0, None));
        let locked = locked.map(|s| parse_time(&s)).transpose()?;
        let detail = serde_json::json!({"operator": id, "source": source.as_str()});
        if let Some(until) = locked.filter(|u| *u > now) {
            append_in(&mut tx, self.key(), id, "auth.locked", &detail, now).await?;
            tx.commit().await?;
            return Err(AuthError::Locked { until }.into());
        }
        if let (true, Some(op)) = (good, op.as_ref()) {
            if !op.active {
                append_in(&mut tx, self.key(), id, "auth.disabled", &detail, now).await?;
                tx.commit().await?;
                return Err(AuthError::Disabled(id.into()).into());
            }
            sqlx::query("DELETE FROM auth_failures WHERE operator_id = ? AND source = ?")
                .bind(id)
                .bind(source.as_str())
                .execute(&mut *tx)
                .await?;
            append_in(&mut tx, self.key(), id, "auth.ok", &detail, now).await?;
            tx.commit().await?;
            return Ok(Operator {
                failed_attempts: 0,
                locked_until: None,
                ..op.clone()
            });
        }
        // A lock that expired starts a fresh count.
        let failed = if locked.is_some() {
            1
        } else {
            failed as u32 + 1
        };
        let locked_until = (failed >= MAX_FAILED_ATTEMPTS)
            .then(|| now + chrono::Duration::minutes(LOCKOUT_MINUTES));
        sqlx::query(
            "INSERT INTO auth_failures (operator_id, source, failed, locked_until) VALUES (?, ?, ?, ?)
             ON CONFLICT(operator_id, source) DO UPDATE SET failed = excluded.failed,
               locked_until = excluded.locked_until",
        )
        .bind(id)
        .bind(source.as_str())
        .bind(if locked_until.is_some() { 0 } else { failed as i64 })
        .bind(locked_until.map(fmt_time))
        .execute(&mut *tx)
        .await?;
        let what = match (&op, locked_until) {
            (_, Some(_)) => "auth.lockout",
            (None, None) => "auth.unknown",
            (Some(_), None) => "auth.fail",
        };
        let mut detail = detail;
        detail["failed"] = failed.into();
        append_in(&mut tx, self.key(), id, what, &detail, now).await?;
        tx.commit().await?;
        match locked_until {
            Some(until) => Err(AuthError::Locked { until }.into()),
            None => Err(AuthError::WrongPassword {
                remaining: MAX_FAILED_ATTEMPTS - failed,
            }
            .into()),
        }
    }

    /// A supervisor's confirmation (refunds, overrides): the password must match
    /// and the role must allow approving.
    pub async fn confirm_supervisor(
        &self,
        id: &str,
        password: &str,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        self.confirm_supervisor_at(id, password, AuthSource::Window, now)
            .await
    }

    pub async fn confirm_supervisor_at(
        &self,
        id: &str,
        password: &str,
        source: AuthSource,
        now: NaiveDateTime,
    ) -> Result<Operator> {
        let op = self.verify_password_at(id, password, source, now).await?;
        if !op.role.may(Action::ApproveRefund) {
            return Err(AuthError::NotSupervisor(id.into()).into());
        }
        Ok(op)
    }

    /// The 9001 sign-in of `operator` on `day`, if any.
    pub async fn sign_in_for(&self, operator: &str, day: NaiveDate) -> Result<Option<SignIn>> {
        let row = sqlx::query(
            "SELECT operator_id, day, sign_no, sign_time, signed_out_at FROM sign_ins WHERE operator_id = ? AND day = ?",
        )
        .bind(operator)
        .bind(day.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| SignIn {
            operator_id: r.get(0),
            day,
            sign_no: r.get(2),
            sign_time: r.get(3),
            signed_out_at: r.get(4),
        }))
    }

    /// Record the sign_no of a 9001 answer (one per operator and day; a second
    /// sign-in the same day replaces it, e.g. after a sign-out).
    pub async fn record_sign_in(
        &self,
        operator: &str,
        day: NaiveDate,
        sign_no: &str,
        sign_time: &str,
        now: NaiveDateTime,
    ) -> Result<SignIn> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sign_ins (operator_id, day, sign_no, sign_time) VALUES (?, ?, ?, ?)
             ON CONFLICT(operator_id, day) DO UPDATE SET sign_no = excluded.sign_no,
               sign_time = excluded.sign_time, signed_out_at = NULL",
        )
        .bind(operator)
        .bind(day.to_string())
        .bind(sign_no)
        .bind(sign_time)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => {
                Error::Auth(AuthError::UnknownOperator(operator.into()))
            }
            other => Error::Db(other),
        })?;
        append_in(
            &mut tx,
            self.key(),
            operator,
            "signin.9001",
            &serde_json::json!({"day": day.to_string(), "sign_no": sign_no}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SignIn {
            operator_id: operator.into(),
            day,
            sign_no: sign_no.into(),
            sign_time: sign_time.into(),
            signed_out_at: None,
        })
    }

    /// Mark the day's sign-in as signed out (the 9002 itself may be queued).
    pub async fn record_sign_out(
        &self,
        operator: &str,
        day: NaiveDate,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE sign_ins SET signed_out_at = ? WHERE operator_id = ? AND day = ? AND signed_out_at IS NULL",
        )
        .bind(fmt_time(now))
        .bind(operator)
        .bind(day.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!(
                "open sign-in of {operator} on {day}"
            )));
        }
        append_in(
            &mut tx,
            self.key(),
            operator,
            "signout",
            &serde_json::json!({"day": day.to_string()}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
