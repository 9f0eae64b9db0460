//! Gateway layers: the regional `x-tif-*` headers (§1.1) and the SM2/SM4
//! secure envelope of the mobile-payment centre (§2.5).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::sm;

/// Something that adds headers to every request (regional gateway auth).
pub trait Layer: Send + Sync {
    fn headers(&self, body: &[u8]) -> Vec<(String, String)>;
}

/// TIF gateway: `x-tif-paasid`, `x-tif-timestamp`, `x-tif-nonce`,
/// `x-tif-signature = SHA256hex(timestamp + token + nonce + timestamp)`.
pub struct TifLayer {
    pub paasid: String,
    pub token: String,
}

impl TifLayer {
    pub fn signature(timestamp: &str, token: &str, nonce: &str) -> String {
        let mut h = Sha256::new();
        h.update(format!("{timestamp}{token}{nonce}{timestamp}"));
        hex::encode(h.finalize())
    }
}

impl Layer for TifLayer {
    fn headers(&self, _body: &[u8]) -> Vec<(String, String)> {
        let ts = chrono::Utc::now().timestamp().to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        vec![
            ("x-tif-paasid".into(), self.paasid.clone()),
            (
                "x-tif-signature".into(),
                TifLayer::signature(&ts, &self.token, &nonce),
            ),
            ("x-tif-timestamp".into(), ts),
            ("x-tif-nonce".into(), nonce),
        ]
    }
}

/// The mobile-payment secure envelope: `encData` (SM4-ECB under a key derived
/// from appId/appSecret) and `signData` (SM3withSM2, raw r‖s, base64).
pub struct SecureEnvelope {
    pub app_id: String,
    pub app_secret: String,
    /// Our SM2 private key (hex).
    pub private_key: String,
    /// The platform's SM2 public key (hex, uncompressed 04…).
    pub platform_public_key: String,
    /// SM2 user id (open question §7.7: appSecret vs the default).
    pub sm2_id: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("signature does not verify")]
    BadSignature,
    #[error("cannot decrypt encData: {0}")]
    Decrypt(String),
    #[error("malformed envelope: {0}")]
    Malformed(String),
}

impl SecureEnvelope {
    pub fn sec_key(&self) -> [u8; 16] {
        sm::derive_sec_key(&self.app_id, &self.app_secret)
    }

    /// Wrap business `data` into the request body.
    pub fn seal(&self, data: &Value, timestamp: &str, version: &str) -> Value {
        let plain = serde_json::to_string(data).unwrap_or_default();
        let enc = hex::encode_upper(sm::sm4_ecb_encrypt(&self.sec_key(), plain.as_bytes()));
        let mut params = Map::new();
        params.insert("appId".into(), Value::String(self.app_id.clone()));
        params.insert("encType".into(), "SM4".into());
        params.insert("signType".into(), "SM2".into());
        params.insert("timestamp".into(), Value::String(timestamp.into()));
        params.insert("version".into(), Value::String(version.into()));
        let text = sign_text(&params, data, &self.app_secret);
        let sig = sm::sm2_sign_raw(&self.private_key, &self.sm2_id, text.as_bytes());
        params.insert("encData".into(), Value::String(enc));
        params.insert(
            "signData".into(),
            Value::String(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                sig,
            )),
        );
        Value::Object(params)
    }

    /// Verify (with the platform's key) and decrypt a response or request body.
    pub fn open(&self, body: &Value, verify_with: &str) -> Result<Value, EnvelopeError> {
        let o = body
            .as_object()
            .ok_or_else(|| EnvelopeError::Malformed("not an object".into()))?;
        let enc = o
            .get("encData")
            .and_then(Value::as_str)
            .ok_or_else(|| EnvelopeError::Malformed("no encData".into()))?;
        let bytes = hex::decode(enc).map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
        let plain = sm::sm4_ecb_decrypt(&self.sec_key(), &bytes)
            .ok_or_else(|| EnvelopeError::Decrypt("bad padding".into()))?;
        let data: Value =
            serde_json::from_slice(&plain).map_err(|e| EnvelopeError::Decrypt(e.to_string()))?;
        let sig_b64 = o
            .get("signData")
            .and_then(Value::as_str)
            .ok_or_else(|| EnvelopeError::Malformed("no signData".into()))?;
        let sig = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig_b64)
            .map_err(|_| EnvelopeError::BadSignature)?;
        let mut params = o.clone();
        params.remove("encData");
        params.remove("signData");
        params.remove("extra");
        let text = sign_text(&params, &data, &self.app_secret);
        if sm::sm2_verify_raw(verify_with, &self.sm2_id, text.as_bytes(), &sig) {
            Ok(data)
        } else {
            Err(EnvelopeError::BadSignature)
        }
    }
}

/// The sign string: params (without signData/encData/extra) plus the plain
/// `data`, empties dropped, keys sorted, nested objects sorted, `k=v` joined
/// by `&`, then `&key=<appSecret>`.
pub fn sign_text(params: &Map<String, Value>, data: &Value, app_secret: &str) -> String {
    let mut all: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "signData" | "encData" | "extra" | "data"))
        .filter_map(|(k, v)| text_of(v).map(|t| (k.clone(), t)))
        .collect();
    if let Some(t) = text_of(data) {
        all.push(("data".into(), t));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut s = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    s.push_str("&key=");
    s.push_str(app_secret);
    s
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(_) | Value::Array(_) => {
            Some(serde_json::to_string(&sorted(v)).unwrap_or_default())
        }
        other => Some(other.to_string()),
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let x = &m[k];
                if x.is_null() || x.as_str() == Some("") {
                    continue;
                }
                out.insert(k.clone(), sorted(x));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
