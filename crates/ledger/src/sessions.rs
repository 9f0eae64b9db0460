//! Sessions of the command line: `yibao login` checks a password once and hands out
//! a random token valid for one shift; every command that acts as an operator
//! presents it. Only the token's SM3 hash is stored, so the ledger file does not
//! hold a usable token.
use chrono::NaiveDateTime;
use rand::RngCore;

use crate::audit::append_in;
use crate::error::{AuthError, Result};
use crate::operators::{Operator, OPERATOR_SELECT};
use crate::roles::{AuthSource, Role};
use crate::{fmt_time, parse_time, Ledger};

/// How long a session lasts: one shift.
pub const SESSION_HOURS: i64 = 12;

/// An authenticated operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub operator: Operator,
    pub expires_at: NaiveDateTime,
}

impl Session {
    pub fn role(&self) -> Role {
        self.operator.role
    }
}

fn token_hash(token: &str) -> String {
    sm_crypto::sm3::sm3_hash(token.trim().as_bytes())
}

impl Ledger {
    /// Check the password and open a session; returns the token (shown once).
    pub async fn open_session(
        &self,
        id: &str,
        password: &str,
        source: AuthSource,
        now: NaiveDateTime,
    ) -> Result<(String, Session)> {
        let operator = self.verify_password_at(id, password, source, now).await?;
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = format!("ybs1.{}", hex::encode(raw));
        let expires_at = now + chrono::Duration::hours(SESSION_HOURS);
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, operator_id, source, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash(&token))
        .bind(id)
        .bind(source.as_str())
        .bind(fmt_time(now))
        .bind(fmt_time(expires_at))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            self.key(),
            id,
            "session.open",
            &serde_json::json!({"operator": id, "source": source.as_str(), "expires_at": fmt_time(expires_at)}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok((
            token,
            Session {
                operator,
                expires_at,
            },
        ))
    }

    /// The session a token stands for: refused when unknown, ended, expired, or when
    /// the account has since been disabled or locked.
    pub async fn session(&self, token: &str, now: NaiveDateTime) -> Result<Session> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT operator_id, expires_at, ended_at FROM sessions WHERE token_hash = ?",
        )
        .bind(token_hash(token))
        .fetch_optional(self.pool())
        .await?;
        let Some((id, expires, ended)) = row else {
            return Err(AuthError::NoSession.into());
        };
        let expires_at = parse_time(&expires)?;
        if ended.is_some() || expires_at <= now {
            return Err(AuthError::NoSession.into());
        }
        let r = sqlx::query(&format!("{OPERATOR_SELECT} WHERE o.id = ?"))
            .bind(&id)
            .fetch_one(self.pool())
            .await?;
        let operator = self.row_to_operator(&r)?;
        if !operator.active {
            return Err(AuthError::Disabled(id).into());
        }
        Ok(Session {
            operator,
            expires_at,
        })
    }

    /// End a session (`yibao logout`); ending an unknown token is not an error.
    pub async fn end_session(&self, token: &str, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL RETURNING operator_id",
        )
        .bind(fmt_time(now))
        .bind(token_hash(token))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            append_in(
                &mut tx,
                self.key(),
                &id,
                "session.end",
                &serde_json::json!({"operator": id}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
