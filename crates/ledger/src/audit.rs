//! The append-only audit log, chained by SM3:
//! `hash = SM3(prev_hash ‖ canonical entry)`, the first `prev_hash` being 64 zeros.
//! The head (last seq and hash) is also kept in `meta`, so deleting the newest
//! entries is detected too.
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::error::Result;
use crate::{fmt_time, Ledger};

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// One break in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditProblem {
    pub seq: i64,
    /// `edited` (hash does not match the content), `broken_link` (prev_hash does not
    /// match the previous entry: an entry before it was deleted or edited),
    /// `gap` (sequence numbers missing), `truncated` (newest entries deleted).
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub entries: i64,
    pub ok: bool,
    pub head_hash: String,
    pub problems: Vec<AuditProblem>,
}

/// JSON with object keys sorted, no whitespace: the same bytes whatever map order.
pub(crate) fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).expect("string"));
                    out.push(':');
                    write(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

pub(crate) fn entry_hash(
    prev_hash: &str,
    seq: i64,
    time: &str,
    actor: &str,
    action: &str,
    detail: &Value,
) -> String {
    let canonical = canonical_json(&serde_json::json!({
        "seq": seq, "time": time, "actor": actor, "action": action, "detail": detail,
    }));
    let mut msg = Vec::with_capacity(prev_hash.len() + canonical.len());
    msg.extend_from_slice(prev_hash.as_bytes());
    msg.extend_from_slice(canonical.as_bytes());
    sm_crypto::sm3::sm3_hash(&msg)
}

/// Append inside an open write transaction (so the entry commits with the change it records).
pub(crate) async fn append_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    actor: &str,
    action: &str,
    detail: &Value,
    now: NaiveDateTime,
) -> Result<i64> {
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (prev_seq, prev_hash) = match last {
        Some(r) => (r.get::<i64, _>(0), r.get::<String, _>(1)),
        None => (0, GENESIS.to_string()),
    };
    let seq = prev_seq + 1;
    let time = fmt_time(now);
    let hash = entry_hash(&prev_hash, seq, &time, actor, action, detail);
    sqlx::query(
        "INSERT INTO audit_log (seq, time, actor, action, detail_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(seq)
    .bind(&time)
    .bind(actor)
    .bind(action)
    .bind(canonical_json(detail))
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .bind(format!("{seq}:{hash}"))
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

impl Ledger {
    /// Append an audit entry; returns its sequence number.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        detail: &Value,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let seq = append_in(&mut tx, actor, action, detail, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The audit entries with `seq > after`, oldest first (at most `limit`).
    pub async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, time, actor, action, detail_json, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(row_to_entry).collect())
    }

    /// Walk the whole chain and report every edited, deleted or re-linked entry.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let rows = sqlx::query(
            "SELECT seq, time, actor, action, detail_json, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let head: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'audit_head'")
                .fetch_optional(self.pool())
                .await?;
        let mut problems = Vec::new();
        let mut prev_hash = GENESIS.to_string();
        let mut prev_seq = 0i64;
        for r in &rows {
            let e = row_to_entry(r);
            if e.seq != prev_seq + 1 {
                problems.push(AuditProblem {
                    seq: e.seq,
                    kind: "gap".into(),
                    detail: format!("entries {}..{} are missing", prev_seq + 1, e.seq - 1),
                });
            }
            if e.prev_hash != prev_hash {
                problems.push(AuditProblem {
                    seq: e.seq,
                    kind: "broken_link".into(),
                    detail: "prev_hash does not match the previous entry".into(),
                });
            }
            let expect = entry_hash(&e.prev_hash, e.seq, &e.time, &e.actor, &e.action, &e.detail);
            // The stored detail text must also be exactly the canonical form.
            let stored_detail: String = r.get(4);
            if expect != e.hash || canonical_json(&e.detail) != stored_detail {
                problems.push(AuditProblem {
                    seq: e.seq,
                    kind: "edited".into(),
                    detail: "content does not match its hash".into(),
                });
            }
            prev_hash = e.hash.clone();
            prev_seq = e.seq;
        }
        if let Some(h) = head {
            let expected = format!("{prev_seq}:{prev_hash}");
            if h != expected {
                let head_seq: i64 = h
                    .split(':')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                problems.push(AuditProblem {
                    seq: head_seq,
                    kind: "truncated".into(),
                    detail: format!(
                        "the recorded head is entry {head_seq}, the log ends at {prev_seq}"
                    ),
                });
            }
        } else if !rows.is_empty() {
            problems.push(AuditProblem {
                seq: 0,
                kind: "truncated".into(),
                detail: "the recorded head is missing".into(),
            });
        }
        Ok(AuditReport {
            entries: rows.len() as i64,
            ok: problems.is_empty(),
            head_hash: prev_hash,
            problems,
        })
    }
}

fn row_to_entry(r: &sqlx::sqlite::SqliteRow) -> AuditEntry {
    let detail_text: String = r.get(4);
    AuditEntry {
        seq: r.get(0),
        time: r.get(1),
        actor: r.get(2),
        action: r.get(3),
        detail: serde_json::from_str(&detail_text).unwrap_or(Value::String(detail_text)),
        prev_hash: r.get(5),
        hash: r.get(6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_recursively() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":1,"y":"是"}],"c":null}}"#).unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"d":[1,{"y":"是","z":1}]},"b":1}"#
        );
    }

    #[test]
    fn sm3_known_vector() {
        assert_eq!(
            sm_crypto::sm3::sm3_hash(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
