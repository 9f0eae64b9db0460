//! The append-only audit log, chained and keyed:
//! `hash = HMAC-SM3(audit key, prev_hash ‖ canonical entry)`, the first `prev_hash`
//! being 64 zeros. The audit key is derived from the ledger key, which is not in the
//! ledger file: someone with the file alone can edit it but cannot recompute the chain.
//! (Entries written before the chain was keyed — ledgers of 2026-11-25 and earlier —
//! are plain SM3; where the keyed part starts is itself sealed by the key.)
//! The head (last seq and hash) is kept in `meta` and printed on the day's report, so an
//! anchored head catches deleted newest entries; [`Ledger::verify_audit`] also checks the
//! money tables against the entries that recorded them (an emptied log fails).
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::error::Result;
use crate::{fmt_time, Ledger, LedgerKey};

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
    /// `seq:hash` of the newest entry: print it on the day's report, give it back to
    /// `yibao audit verify --head` to prove nothing after it was removed.
    #[serde(default)]
    pub head: String,
    pub head_hash: String,
    pub problems: Vec<AuditProblem>,
}

/// JSON with object keys sorted, no whitespace: the same bytes whatever map order.
pub fn canonical_json(v: &Value) -> String {
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

/// HMAC (RFC 2104) over SM3, hex.
pub fn hmac_sm3(key: &[u8], msg: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let h = hex::decode(sm_crypto::sm3::sm3_hash(key)).expect("hex");
        k[..h.len()].copy_from_slice(&h);
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let ih = hex::decode(sm_crypto::sm3::sm3_hash(&inner)).expect("hex");
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&ih);
    sm_crypto::sm3::sm3_hash(&outer)
}

/// The chained hash of one entry: keyed (HMAC-SM3) when `key` is given, plain SM3 for
/// the entries of ledgers written before the chain was keyed.
pub(crate) fn entry_hash(
    key: Option<&[u8; 32]>,
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
    match key {
        Some(k) => hmac_sm3(k, &msg),
        None => sm_crypto::sm3::sm3_hash(&msg),
    }
}

/// From which entry on the chain is keyed, as recorded (sealed by the key, so it cannot
/// be moved without it). A ledger that has none gets one the first time it is written.
async fn keyed_from(
    conn: &mut sqlx::SqliteConnection,
    key: &LedgerKey,
) -> Result<Option<Result<i64, String>>> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'audit_keyed_from'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(v.map(|v| {
        let (seq, mac) = v.split_once(':').unwrap_or((&v, ""));
        match seq.parse::<i64>() {
            Ok(n) if hmac_sm3(&key.audit_key(), format!("keyed_from:{n}").as_bytes()) == mac => {
                Ok(n)
            }
            _ => Err(format!(
                "the recorded start of the keyed chain ({v}) is not sealed by this ledger's key"
            )),
        }
    }))
}

/// Append inside an open write transaction (so the entry commits with the change it records).
pub(crate) async fn append_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    key: &LedgerKey,
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
    let from = match keyed_from(tx, key).await? {
        Some(Ok(n)) => n,
        // Tampered with: keep keying (verification reports it).
        Some(Err(_)) => 1,
        None => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ('audit_keyed_from', ?)")
                .bind(format!(
                    "{seq}:{}",
                    hmac_sm3(&key.audit_key(), format!("keyed_from:{seq}").as_bytes())
                ))
                .execute(&mut **tx)
                .await?;
            seq
        }
    };
    let time = fmt_time(now);
    let ak = key.audit_key();
    let hash = entry_hash(
        (seq >= from).then_some(&ak),
        &prev_hash,
        seq,
        &time,
        actor,
        action,
        detail,
    );
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
        let seq = append_in(&mut tx, self.key(), actor, action, detail, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// The newest entry as `seq:hash` (what a report prints to anchor the log).
    pub async fn audit_head(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'audit_head'")
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Check the log against a head anchored outside the ledger (a report's `seq:hash`):
    /// the entry at that seq must be there with that hash.
    pub async fn verify_anchor(&self, anchor: &str) -> Result<Option<AuditProblem>> {
        let (seq, hash) = anchor.split_once(':').unwrap_or((anchor, ""));
        let seq: i64 = seq.trim().parse().unwrap_or(-1);
        let stored: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = ?")
            .bind(seq)
            .fetch_optional(self.pool())
            .await?;
        Ok(match stored {
            Some(h) if h == hash.trim() => None,
            Some(_) => Some(AuditProblem {
                seq,
                kind: "edited".into(),
                detail: format!("entry {seq} is not the one anchored ({anchor})"),
            }),
            None => Some(AuditProblem {
                seq,
                kind: "truncated".into(),
                detail: format!("the anchored entry {seq} is gone: the log was cut back"),
            }),
        })
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
        let mut conn = self.pool().acquire().await?;
        let from = match keyed_from(&mut conn, self.key()).await? {
            Some(Ok(n)) => n,
            Some(Err(why)) => {
                problems.push(AuditProblem {
                    seq: 0,
                    kind: "edited".into(),
                    detail: why,
                });
                1
            }
            None if rows.is_empty() => 1,
            None => {
                problems.push(AuditProblem {
                    seq: 0,
                    kind: "edited".into(),
                    detail: "the start of the keyed chain is not recorded".into(),
                });
                1
            }
        };
        drop(conn);
        let ak = self.key().audit_key();
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
            let expect = entry_hash(
                (e.seq >= from).then_some(&ak),
                &e.prev_hash,
                e.seq,
                &e.time,
                &e.actor,
                &e.action,
                &e.detail,
            );
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
        let entries: Vec<AuditEntry> = rows.iter().map(row_to_entry).collect();
        problems.extend(self.money_against_audit(&entries).await?);
        Ok(AuditReport {
            entries: rows.len() as i64,
            ok: problems.is_empty(),
            head: format!("{prev_seq}:{prev_hash}"),
            head_hash: prev_hash,
            problems,
        })
    }

    /// Every settlement and every cash or card payment in the money tables must be the
    /// one an audit entry recorded, amounts included (an edited amount, or a log emptied
    /// under a ledger full of money, fails).
    async fn money_against_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditProblem>> {
        let mut problems = Vec::new();
        let mut settled = std::collections::HashMap::new();
        let mut paid: Vec<(String, String, i64)> = Vec::new();
        for e in entries {
            let d = &e.detail;
            let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let fen = |k: &str| {
                d.get(k)
                    .and_then(|v| serde_json::from_value::<money::Fen>(v.clone()).ok())
                    .map(|f| f.0)
            };
            match e.action.as_str() {
                "settlement.settle" | "settlement.cancel" => {
                    settled.insert(
                        s("setl_id"),
                        (fen("medfee_sumamt"), fen("psn_cash_pay"), e.seq),
                    );
                }
                "payment.collect" | "payment.refund" | "adjustment.resolve" => {
                    paid.push((
                        s("checkout"),
                        s("channel"),
                        fen("amount").unwrap_or(i64::MIN),
                    ));
                }
                _ => {}
            }
        }
        let rows = sqlx::query("SELECT setl_id, medfee_sumamt, psn_cash_pay FROM settlements")
            .fetch_all(self.pool())
            .await?;
        for r in &rows {
            let id: String = r.get(0);
            match settled.get(&id) {
                Some((m, c, _)) if *m == Some(r.get(1)) && *c == Some(r.get(2)) => {}
                Some((_, _, seq)) => problems.push(AuditProblem {
                    seq: *seq,
                    kind: "money_mismatch".into(),
                    detail: format!("settlement {id}: its amounts differ from the audit entry"),
                }),
                None => problems.push(AuditProblem {
                    seq: 0,
                    kind: "money_unrecorded".into(),
                    detail: format!("settlement {id} has no audit entry"),
                }),
            }
        }
        // Cash and card as collected or paid back; refunds booked with a cancellation
        // are covered by its settlement entry.
        let pays = sqlx::query(
            "SELECT p.checkout_id, p.channel, p.amount, s.kind FROM payments p LEFT JOIN settlements s ON s.setl_id = p.setl_id WHERE p.channel IN ('cash', 'card') ORDER BY p.id",
        )
        .fetch_all(self.pool())
        .await?;
        for r in &pays {
            let (ck, ch, amt): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
            let kind: Option<String> = r.get(3);
            if amt < 0 && kind.as_deref() == Some("cancel") {
                continue;
            }
            match paid
                .iter()
                .position(|p| (p.0 == ck || p.0.is_empty()) && p.1 == ch && p.2 == amt)
            {
                Some(i) => {
                    paid.swap_remove(i);
                }
                None => problems.push(AuditProblem {
                    seq: 0,
                    kind: "money_unrecorded".into(),
                    detail: format!(
                        "a {ch} payment of {} for checkout {ck} matches no audit entry",
                        money::Fen(amt)
                    ),
                }),
            }
        }
        Ok(problems)
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
