//! Request (公共输入, §1.2) and response (公共输出, §1.3) envelopes.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The request envelope, written strictly: every field present, in the spec's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEnvelope {
    pub infno: String,
    pub msgid: String,
    pub mdtrtarea_admvs: String,
    #[serde(default)]
    pub insuplc_admdvs: String,
    pub recer_sys_code: String,
    #[serde(default)]
    pub dev_no: String,
    #[serde(default)]
    pub dev_safe_info: String,
    #[serde(default)]
    pub cainfo: String,
    #[serde(default)]
    pub signtype: String,
    pub infver: String,
    pub opter_type: String,
    pub opter: String,
    pub opter_name: String,
    pub inf_time: String,
    pub fixmedins_code: String,
    pub fixmedins_name: String,
    #[serde(default)]
    pub sign_no: String,
    pub input: Value,
}

/// The response envelope, read tolerantly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseEnvelope {
    /// 0 = success, anything else (usually −1) = failure.
    pub infcode: i64,
    pub inf_refmsgid: Option<String>,
    pub refmsg_time: Option<String>,
    pub respond_time: Option<String>,
    pub err_msg: Option<String>,
    pub warn_msg: Option<String>,
    /// The transaction output (a JSON object; `null` when there is none).
    pub output: Value,
}

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed center response: {0}")]
pub struct Malformed(pub String);

impl ResponseEnvelope {
    pub fn ok(output: Value, inf_refmsgid: String, now: NaiveDateTime) -> ResponseEnvelope {
        let t = now.format("%Y%m%d%H%M%S%3f").to_string();
        ResponseEnvelope {
            infcode: 0,
            inf_refmsgid: Some(inf_refmsgid),
            refmsg_time: Some(t.clone()),
            respond_time: Some(t),
            err_msg: None,
            warn_msg: None,
            output,
        }
    }

    pub fn fail(
        err_msg: impl Into<String>,
        inf_refmsgid: String,
        now: NaiveDateTime,
    ) -> ResponseEnvelope {
        let mut r = ResponseEnvelope::ok(Value::Null, inf_refmsgid, now);
        r.infcode = -1;
        r.err_msg = Some(err_msg.into());
        r
    }

    pub fn is_ok(&self) -> bool {
        self.infcode == 0
    }

    /// Parse a response body: an object with `infcode` (number or string);
    /// `output` may be an object, `null`, or an object double-encoded as a string.
    pub fn parse(body: &[u8]) -> Result<ResponseEnvelope, Malformed> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            let head = String::from_utf8_lossy(&body[..body.len().min(80)]).to_string();
            Malformed(format!("not JSON ({e}); starts with {head:?}"))
        })?;
        ResponseEnvelope::from_value(v)
    }

    pub fn from_value(v: Value) -> Result<ResponseEnvelope, Malformed> {
        let o = v
            .as_object()
            .ok_or_else(|| Malformed("the response is not a JSON object".into()))?;
        let infcode = match o.get("infcode") {
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| Malformed(format!("infcode {n} is not an integer")))?,
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| Malformed(format!("infcode {s:?} is not an integer")))?,
            Some(other) => return Err(Malformed(format!("infcode has the wrong type: {other}"))),
            None => return Err(Malformed("no infcode".into())),
        };
        let text = |k: &str| -> Option<String> {
            match o.get(k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }
        };
        let output = match o.get("output") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) if s.trim().is_empty() => Value::Null,
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(inner @ (Value::Object(_) | Value::Array(_))) => inner,
                // A plain text output (2601 returns one in some regions).
                _ => Value::String(s.clone()),
            },
            Some(other) => other.clone(),
        };
        Ok(ResponseEnvelope {
            infcode,
            inf_refmsgid: text("inf_refmsgid"),
            refmsg_time: text("refmsg_time"),
            respond_time: text("respond_time"),
            err_msg: text("err_msg"),
            warn_msg: text("warn_msg"),
            output,
        })
    }
}

/// Our msgid: fixmedins_code (12) + yyyyMMddHHmmss (14) + sequence (4).
pub fn format_msgid(fixmedins_code: &str, now: NaiveDateTime, seq: u32) -> String {
    format!(
        "{}{}{:04}",
        fixmedins_code,
        now.format("%Y%m%d%H%M%S"),
        seq % 10_000
    )
}

/// The parts of a conforming msgid (or receiver message id: area(6) + time(14) + serial(10)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgIdParts {
    pub prefix: String,
    pub time: NaiveDateTime,
    pub serial: String,
}

/// Parse `H13110200026202111291809520478` (12+14+4) or
/// `310000202309201823500002516630` (6+14+10). Others' ids that do not follow
/// the rule give `None` (be tolerant reading them).
pub fn parse_msgid(id: &str) -> Option<MsgIdParts> {
    if !id.is_ascii() {
        return None;
    }
    let split = match id.len() {
        30 if id.as_bytes()[0].is_ascii_uppercase() => 12,
        30 => 6,
        _ => return None,
    };
    let (prefix, rest) = id.split_at(split);
    let (time, serial) = rest.split_at(14);
    if !prefix
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || !serial.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let time = NaiveDateTime::parse_from_str(time, "%Y%m%d%H%M%S").ok()?;
    Some(MsgIdParts {
        prefix: prefix.into(),
        time,
        serial: serial.into(),
    })
}
