//! The HTTP/JSON API v1 client (see [`crate::api`]).
use std::time::Duration;

use serde::Serialize;

use crate::api::{
    self, ErrorBody, OkAnswer, PendingAnswer, API_HEADER, API_VERSION, MAX_ANSWER_BYTES,
};
use crate::{same_certno, HisError, Lookup, PaidNotice, PendingBill, RefundNotice};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// A HIS reached over the HTTP/JSON API v1 at `base`.
#[derive(Clone)]
pub struct HttpHis {
    base: String,
    token: Option<String>,
    /// The client, or why it could not be built (reported on every call).
    client: Result<reqwest::Client, String>,
}

impl std::fmt::Debug for HttpHis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHis")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl HttpHis {
    /// The API at `base` (e.g. `https://his.example.org/yibao`; a trailing `/` is
    /// dropped), with a bearer token if given.
    pub fn new(base: &str, token: Option<&str>) -> HttpHis {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            // A redirect would resend patient data to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("yibao-counter-his/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string());
        HttpHis {
            base: base.trim().trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            client,
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn pending(&self, who: &Lookup) -> Result<Vec<PendingBill>, HisError> {
        let (key, value) = match who {
            Lookup::Certno(c) => ("certno", c.trim()),
            Lookup::PsnNo(p) => ("psn_no", p.trim()),
        };
        let req = self
            .request(reqwest::Method::GET, api::PATH_PENDING)?
            .query(&[(key, value)]);
        let body = self.send(req).await?;
        let answer: PendingAnswer = serde_json::from_slice(&body)
            .map_err(|e| HisError::BadAnswer(format!("待缴费账单列表格式不对：{e}")))?;
        if answer.api != API_VERSION {
            return Err(HisError::BadAnswer(format!(
                "HIS 接口版本是 {}，柜台只支持版本 {API_VERSION}",
                answer.api
            )));
        }
        for b in &answer.bills {
            if b.bill_id.trim().is_empty() {
                return Err(HisError::BadAnswer("有账单没有账单号（bill_id）".into()));
            }
            if let Lookup::Certno(c) = who {
                if !same_certno(&b.certno, c) {
                    return Err(HisError::BadAnswer(format!(
                        "按身份证号查询时返回了其他患者的账单 {}，已全部拒收",
                        b.bill_id
                    )));
                }
            }
        }
        Ok(answer.bills)
    }

    pub async fn paid(&self, n: &PaidNotice) -> Result<(), HisError> {
        self.notify(api::PATH_PAID, n).await
    }

    pub async fn refunded(&self, n: &RefundNotice) -> Result<(), HisError> {
        self.notify(api::PATH_REFUNDED, n).await
    }

    async fn notify<T: Serialize>(&self, path: &str, notice: &T) -> Result<(), HisError> {
        let req = self.request(reqwest::Method::POST, path)?.json(notice);
        let body = self.send(req).await?;
        match serde_json::from_slice::<OkAnswer>(&body) {
            Ok(OkAnswer { ok: true }) => Ok(()),
            _ => Err(HisError::BadAnswer(format!(
                "HIS 没有确认收到通知（应答应为 {{\"ok\": true}}，实际为 {}）",
                excerpt(&body)
            ))),
        }
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, HisError> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| HisError::Unreachable(format!("无法创建 HTTP 客户端：{e}")))?;
        let url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|_| {
            HisError::Unreachable(format!("HIS 地址“{}”无效，请检查配置", self.base))
        })?;
        let mut req = client
            .request(method, url)
            .header(API_HEADER, API_VERSION.to_string())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        Ok(req)
    }

    /// Send, read at most [`MAX_ANSWER_BYTES`], and sort the status out: the body of
    /// a 2xx, or the error.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, HisError> {
        let mut resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(HisError::BadAnswer(format!(
                "应答过大（超过 {} MiB），已拒收",
                MAX_ANSWER_BYTES / 1024 / 1024
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(HisError::BadAnswer(format!(
                    "应答过大（超过 {} MiB），已拒收",
                    MAX_ANSWER_BYTES / 1024 / 1024
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let code = status.as_u16();
        if status.is_success() {
            return Ok(body);
        }
        if status.is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            return Err(HisError::Refused {
                status: code,
                message: format!(
                    "HIS 要求跳转到 {to}，柜台不跟随跳转；请把 HIS 地址配置为最终地址"
                ),
            });
        }
        let message = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) if !e.message.trim().is_empty() => e.message,
            Ok(e) => e.error,
            Err(_) if body.is_empty() => status.canonical_reason().unwrap_or("").to_string(),
            Err(_) => excerpt(&body),
        };
        if status.is_client_error() {
            Err(HisError::Refused {
                status: code,
                message,
            })
        } else if status.is_server_error() {
            Err(HisError::Unreachable(format!(
                "HIS 服务出错（HTTP {code}）：{message}"
            )))
        } else {
            Err(HisError::BadAnswer(format!("意外的 HTTP 状态 {code}")))
        }
    }

    fn transport(&self, e: reqwest::Error) -> HisError {
        if e.is_timeout() {
            HisError::Unreachable(format!(
                "等待 HIS（{}）应答超时（{} 秒）",
                self.base,
                TOTAL_TIMEOUT.as_secs()
            ))
        } else if e.is_connect() {
            HisError::Unreachable(format!("连接 HIS（{}）失败：{}", self.base, root(&e)))
        } else {
            HisError::Unreachable(format!("与 HIS（{}）通信出错：{}", self.base, root(&e)))
        }
    }
}

/// The innermost cause of a transport error (the useful part: "Connection refused").
fn root(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// At most 200 characters of an answer, for messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    let mut out: String = t.chars().take(200).collect();
    if t.chars().count() > 200 {
        out.push('…');
    }
    if out.is_empty() {
        out = "（空）".into();
    }
    out
}
