//! HTTP transport. One POST per transaction to `base_url + path`; connect and
//! read timeouts; a money-moving call is never retried here (the caller
//! reverses it with 2601 when its outcome is in doubt, §5.4).

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::envelope::{RequestEnvelope, ResponseEnvelope};
use crate::errors::{classify, ErrorKind};
use crate::secure::Layer;
use crate::tx::Infno;

/// The designated institution (定点医药机构) the counter belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Institution {
    pub fixmedins_code: String,
    pub fixmedins_name: String,
    /// 就医地医保区划 (the hospital's area).
    pub mdtrtarea_admvs: String,
}

#[derive(Clone)]
pub struct ClientConfig {
    /// The center (or regional gateway) base URL, e.g. `http://127.0.0.1:8900`.
    pub base_url: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub infver: String,
    pub layers: Vec<Arc<dyn Layer>>,
    /// The certificate authority of the center's TLS certificate (PEM), when it is not
    /// one of the public roots (regional platforms often run their own CA). The center's
    /// certificate is always checked: there is no switch to accept any certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// 接收方系统代码 (`recer_sys_code`) and 交易验证信息 (`cainfo`) as the region
    /// assigns them.
    pub recer_sys_code: String,
    pub cainfo: String,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(15),
            infver: "V1.0".into(),
            layers: Vec::new(),
            ca_pem: None,
            recer_sys_code: "YBXT".into(),
            cainfo: String::new(),
        }
    }
}

/// Why a call did not give an answer we can use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The request surely did not reach the center (connection refused, DNS).
    #[error("center unreachable: {0}")]
    NotSent(String),
    /// The request may have reached the center: timeout after sending, reset,
    /// a gateway error. For 2207/2208 the outcome is unknown.
    #[error("no answer from the center: {0}")]
    InDoubt(String),
    /// The answer could not be read.
    #[error("malformed center response: {0}")]
    Malformed(String),
    /// The center refused the transaction (infcode ≠ 0).
    #[error("center refused ({infcode}): {err_msg}")]
    Business {
        infcode: i64,
        err_msg: String,
        kind: ErrorKind,
    },
}

impl CallError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CallError::NotSent(_) | CallError::InDoubt(_) => ErrorKind::Network,
            CallError::Malformed(_) => ErrorKind::SystemFault,
            CallError::Business { kind, .. } => *kind,
        }
    }
    /// May the center have acted on the request?
    pub fn in_doubt(&self) -> bool {
        matches!(self, CallError::InDoubt(_) | CallError::Malformed(_))
    }
    pub fn is_network(&self) -> bool {
        matches!(self, CallError::NotSent(_) | CallError::InDoubt(_))
    }
    /// The center's own words (for business errors) or a technical reason.
    pub fn detail(&self) -> String {
        match self {
            CallError::Business { err_msg, .. } => err_msg.clone(),
            other => other.to_string(),
        }
    }
}

/// Who is calling (经办人) and their sign-in.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub opter: String,
    pub opter_name: String,
    /// From 9001 (empty before sign-in).
    pub sign_no: String,
    /// From 1101 (required whenever the input carries a psn_no).
    pub insuplc_admdvs: String,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: ClientConfig,
    pub institution: Institution,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.cfg.base_url)
            .finish()
    }
}

/// The largest answer read from the center (the biggest real answers, 1101 with many
/// insurance rows or a 5203 list, are tens of kilobytes; catalogues come as files).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

impl Client {
    pub fn new(cfg: ClientConfig, institution: Institution) -> Result<Client, CallError> {
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &cfg.ca_pem {
            let ca = reqwest::Certificate::from_pem(pem)
                .map_err(|e| CallError::NotSent(format!("the center's CA certificate: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        let http = builder
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.read_timeout)
            .no_proxy()
            // A redirect would re-send the whole envelope (ID number, token, sign_no)
            // to another host: never follow one (a 3xx is an answer we cannot read).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CallError::NotSent(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            cfg,
            institution,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.cfg.base_url
    }

    /// Build the envelope for one call.
    pub fn envelope(
        &self,
        infno: Infno,
        msgid: &str,
        caller: &Caller,
        now: NaiveDateTime,
        input: Value,
    ) -> RequestEnvelope {
        RequestEnvelope {
            infno: infno.code().into(),
            msgid: msgid.into(),
            mdtrtarea_admvs: self.institution.mdtrtarea_admvs.clone(),
            insuplc_admdvs: caller.insuplc_admdvs.clone(),
            recer_sys_code: self.cfg.recer_sys_code.clone(),
            dev_no: String::new(),
            dev_safe_info: String::new(),
            cainfo: self.cfg.cainfo.clone(),
            signtype: String::new(),
            infver: self.cfg.infver.clone(),
            opter_type: "1".into(),
            opter: caller.opter.clone(),
            opter_name: caller.opter_name.clone(),
            inf_time: now.format("%Y-%m-%d %H:%M:%S").to_string(),
            fixmedins_code: self.institution.fixmedins_code.clone(),
            fixmedins_name: self.institution.fixmedins_name.clone(),
            sign_no: caller.sign_no.clone(),
            input,
        }
    }

    /// Send a 9102 whose answer is a file (a catalogue download) and stream it to
    /// `dest` — never through memory — up to `max_bytes`; the number of bytes. An
    /// answer that is a JSON envelope is the center's refusal.
    pub async fn download_to(
        &self,
        env: &RequestEnvelope,
        dest: &std::path::Path,
        max_bytes: u64,
    ) -> Result<u64, CallError> {
        use tokio::io::AsyncWriteExt;
        let body = serde_json::to_vec(env).map_err(|e| CallError::NotSent(e.to_string()))?;
        let mut req = self
            .http
            .post(format!(
                "{}{}",
                self.cfg.base_url,
                Infno::FileDownload.path()
            ))
            .header("content-type", "application/json;charset=utf-8");
        for layer in &self.cfg.layers {
            for (k, v) in layer.headers(&body) {
                req = req.header(k, v);
            }
        }
        let mut resp = req.body(body).send().await.map_err(|e| {
            if e.is_connect() && !e.is_timeout() {
                CallError::NotSent(e.to_string())
            } else {
                CallError::InDoubt(e.to_string())
            }
        })?;
        let status = resp.status();
        let json = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        if json || !status.is_success() {
            let mut bytes = Vec::new();
            while let Some(c) = resp
                .chunk()
                .await
                .map_err(|e| CallError::InDoubt(format!("reading the answer: {e}")))?
            {
                if bytes.len() + c.len() > MAX_ANSWER_BYTES {
                    break;
                }
                bytes.extend_from_slice(&c);
            }
            let r = ResponseEnvelope::parse(&bytes)
                .map_err(|e| CallError::Malformed(format!("HTTP {status}: {}", e.0)))?;
            let msg = r
                .err_msg
                .clone()
                .unwrap_or_else(|| "（中心未给出原因）".into());
            return Err(CallError::Business {
                infcode: r.infcode,
                kind: classify(&msg, None),
                err_msg: msg,
            });
        }
        let mut f = tokio::fs::File::create(dest)
            .await
            .map_err(|e| CallError::NotSent(format!("{}: {e}", dest.display())))?;
        let mut n: u64 = 0;
        while let Some(c) = resp
            .chunk()
            .await
            .map_err(|e| CallError::InDoubt(format!("reading the file: {e}")))?
        {
            n += c.len() as u64;
            if n > max_bytes {
                return Err(CallError::Malformed(format!(
                    "file longer than {max_bytes} bytes refused"
                )));
            }
            f.write_all(&c)
                .await
                .map_err(|e| CallError::Malformed(format!("{}: {e}", dest.display())))?;
        }
        f.flush()
            .await
            .map_err(|e| CallError::Malformed(format!("{}: {e}", dest.display())))?;
        Ok(n)
    }

    /// Send one envelope and read the answer. `Ok` only for infcode 0.
    pub async fn send(&self, env: &RequestEnvelope) -> Result<ResponseEnvelope, CallError> {
        let infno = Infno::parse(&env.infno)
            .ok_or_else(|| CallError::NotSent(format!("unknown transaction {}", env.infno)))?;
        let body = serde_json::to_vec(env).map_err(|e| CallError::NotSent(e.to_string()))?;
        let mut req = self
            .http
            .post(format!("{}{}", self.cfg.base_url, infno.path()))
            .header("content-type", "application/json;charset=utf-8");
        for layer in &self.cfg.layers {
            for (k, v) in layer.headers(&body) {
                req = req.header(k, v);
            }
        }
        let resp = req.body(body).send().await.map_err(|e| {
            // The whole chain: "error sending request" alone hides the reason (a
            // certificate the counter does not trust, a reset, …).
            let mut why = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                why = format!("{why}: {s}");
                src = s.source();
            }
            if (e.is_connect() && !e.is_timeout()) || e.is_builder() {
                CallError::NotSent(why)
            } else {
                CallError::InDoubt(why)
            }
        })?;
        let status = resp.status();
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(CallError::InDoubt(format!(
                "HTTP {status}: answer of {} bytes refused (limit {MAX_ANSWER_BYTES})",
                resp.content_length().unwrap_or(0)
            )));
        }
        // Read at most the limit, whatever the headers claim.
        let mut resp = resp;
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| CallError::InDoubt(format!("reading the answer: {e}")))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CallError::InDoubt(format!(
                    "HTTP {status}: answer longer than {MAX_ANSWER_BYTES} bytes refused"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).to_string();
            return Err(CallError::InDoubt(format!("HTTP {status}: {head}")));
        }
        let r = ResponseEnvelope::parse(&bytes).map_err(|e| CallError::Malformed(e.0))?;
        if r.is_ok() {
            Ok(r)
        } else {
            let msg = r
                .err_msg
                .clone()
                .unwrap_or_else(|| "（中心未给出原因）".into());
            Err(CallError::Business {
                infcode: r.infcode,
                kind: classify(&msg, None),
                err_msg: msg,
            })
        }
    }
}
