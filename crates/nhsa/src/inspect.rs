//! `yibao nhsa parse`: read a response, check the identities, normalise.

use serde::Serialize;
use serde_json::Value;

use crate::envelope::ResponseEnvelope;
use crate::errors::classify;
use crate::types::{normalise_amounts, FeeResult, PsnInfo, SettleOutput, SignInOut};

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub infno: String,
    pub infcode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub err_msg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inf_refmsgid: Option<String>,
    /// Identities that could not be checked, and fields this reader cannot map.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
    pub output: Value,
}

/// Read a response for transaction `infno`. `Err` when it is malformed or an
/// identity of §1.5 is broken.
pub fn inspect(infno: &str, body: &[u8]) -> Result<Inspection, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    // The 1162 decode service answers with its own wrapper {code, message, data}.
    let env = if v.get("infcode").is_none() && v.get("code").is_some() {
        let code = v["code"]
            .as_i64()
            .or_else(|| v["code"].as_str().and_then(|s| s.parse().ok()))
            .ok_or("the decode answer's code is not a number")?;
        let data = match &v["data"] {
            Value::String(s) => serde_json::from_str(s)
                .map_err(|e| format!("data is a string but not JSON: {e}"))?,
            other => other.clone(),
        };
        let msg = v["message"].as_str().unwrap_or("").to_string();
        ResponseEnvelope {
            infcode: if code == 0 { 0 } else { -1 },
            inf_refmsgid: None,
            refmsg_time: None,
            respond_time: None,
            err_msg: (code != 0).then(|| msg.clone()),
            warn_msg: None,
            output: if code == 0 {
                serde_json::json!({ "data": data })
            } else {
                Value::Null
            },
        }
        .with_code(code)
    } else {
        (ResponseEnvelope::from_value(v).map_err(|e| e.0)?, None)
    };
    let (env, code) = env;
    let mut out = Inspection {
        infno: infno.into(),
        infcode: env.infcode,
        err_msg: env.err_msg.clone(),
        error_kind: None,
        error_zh: None,
        action_zh: None,
        inf_refmsgid: env.inf_refmsgid.clone(),
        unchecked: Vec::new(),
        output: env.output.clone(),
    };
    if !env.is_ok() {
        let k = classify(env.err_msg.as_deref().unwrap_or(""), code);
        out.error_kind = Some(k.code().into());
        out.error_zh = Some(k.message_zh().into());
        out.action_zh = Some(k.action_zh().into());
        return Ok(out);
    }
    let o = &env.output;
    match infno {
        "9001" | "9002" => {
            let s: SignInOut = serde_json::from_value(o["signinoutb"].clone())
                .map_err(|e| format!("signinoutb: {e}"))?;
            if infno == "9001" && s.sign_no.is_none() {
                return Err("signinoutb.sign_no is missing".into());
            }
        }
        "1101" | "1161" => {
            let p: PsnInfo =
                serde_json::from_value(o.clone()).map_err(|e| format!("output: {e}"))?;
            if p.baseinfo.psn_no.is_none() {
                return Err("baseinfo.psn_no is missing".into());
            }
        }
        "2204" | "2301" | "5204" => {
            let rows = o
                .get("result")
                .or_else(|| o.get("feedetail"))
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            let rows: Vec<FeeResult> =
                serde_json::from_value(rows).map_err(|e| format!("result: {e}"))?;
            for r in &rows {
                r.check_identity()?;
            }
        }
        _ => {}
    }
    if o.get("setlinfo").is_some_and(|s| s.is_object()) {
        let s: SettleOutput =
            serde_json::from_value(o.clone()).map_err(|e| format!("setlinfo: {e}"))?;
        out.unchecked = s.setlinfo.check_identities(&o["setlinfo"])?;
    }
    normalise_amounts(&mut out.output, "output")?;
    Ok(out)
}

trait WithCode {
    fn with_code(self, code: i64) -> (ResponseEnvelope, Option<i64>);
}
impl WithCode for ResponseEnvelope {
    fn with_code(self, code: i64) -> (ResponseEnvelope, Option<i64>) {
        (self, Some(code))
    }
}
