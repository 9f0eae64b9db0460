//! SM4 encryption of personal data under a key kept outside the database.
use std::path::Path;

use rand::RngCore;

use crate::error::{Error, Result};

/// The 128-bit SM4 key that protects personal data in the ledger.
#[derive(Clone)]
pub struct LedgerKey([u8; 16]);

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerKey(..)")
    }
}

impl LedgerKey {
    /// A fresh random key.
    pub fn generate() -> LedgerKey {
        let mut k = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut k);
        LedgerKey(k)
    }

    /// From 32 hex digits.
    pub fn from_hex(s: &str) -> Result<LedgerKey> {
        let bytes = hex::decode(s.trim()).map_err(|e| Error::Key {
            path: Default::default(),
            detail: format!("not hex: {e}"),
        })?;
        let arr: [u8; 16] = bytes.try_into().map_err(|_| Error::Key {
            path: Default::default(),
            detail: "an SM4 key is 16 bytes (32 hex digits)".into(),
        })?;
        Ok(LedgerKey(arr))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Read the key file at `path`; a missing file is an error (nothing is created).
    pub fn load(path: &Path) -> Result<LedgerKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Key {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        LedgerKey::from_hex(&text).map_err(|e| Error::Key {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    }

    /// Read the key file at `path`, or create it (mode 0600) with a new random key.
    pub fn load_or_create(path: &Path) -> Result<LedgerKey> {
        let key_err = |detail: String| Error::Key {
            path: path.to_path_buf(),
            detail,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => LedgerKey::from_hex(&text).map_err(|e| key_err(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = LedgerKey::generate();
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| key_err(e.to_string()))?;
                    }
                }
                write_private(path, key.to_hex().as_bytes()).map_err(|e| key_err(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(key_err(e.to_string())),
        }
    }

    /// The conventional key file beside a ledger: `<db>.key`.
    pub fn default_path_for(db: &Path) -> std::path::PathBuf {
        let mut p = db.as_os_str().to_owned();
        p.push(".key");
        p.into()
    }

    /// The key of the audit chain's HMAC-SM3, derived from this key (so it is never in
    /// the ledger file): SM3("yibao-audit-v1" ‖ key).
    pub(crate) fn audit_key(&self) -> [u8; 32] {
        let mut m = b"yibao-audit-v1".to_vec();
        m.extend_from_slice(&self.0);
        let h = hex::decode(sm_crypto::sm3::sm3_hash(&m)).expect("sm3 gives hex");
        let mut k = [0u8; 32];
        k.copy_from_slice(&h);
        k
    }

    /// Key check value: SM4-ECB of a zero block, recorded in the ledger.
    pub(crate) fn check_value(&self) -> String {
        let c = sm_crypto::sm4::CryptSM4ECB::new(&self.0);
        let out = c.encrypt_ecb(&[0u8; 16]);
        hex::encode(&out[..8])
    }

    /// SM4-CBC with a random IV; hex(iv ‖ ciphertext).
    pub(crate) fn seal(&self, plain: &str) -> String {
        let mut iv = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut iv);
        let c = sm_crypto::sm4::CryptSM4CBC::new(&self.0, &iv);
        let ct = c.encrypt_cbc(plain.as_bytes());
        let mut out = iv.to_vec();
        out.extend_from_slice(&ct);
        hex::encode(out)
    }

    /// A stored text sealed with [`LedgerKey::seal`], marked so that rows written before
    /// columns were sealed (plain JSON) still read.
    pub(crate) fn seal_text(&self, plain: &str) -> String {
        format!("{SEALED_PREFIX}{}", self.seal(plain))
    }

    /// The plain text of a stored column: sealed (`sm4:` + hex) or, in older rows, plain.
    pub(crate) fn open_text(&self, stored: &str) -> Result<String> {
        match stored.strip_prefix(SEALED_PREFIX) {
            Some(hex) => self.open(hex),
            None => Ok(stored.to_string()),
        }
    }

    pub(crate) fn open(&self, sealed: &str) -> Result<String> {
        let bytes = hex::decode(sealed).map_err(|_| Error::Decrypt)?;
        if bytes.len() < 32 || bytes.len() % 16 != 0 {
            return Err(Error::Decrypt);
        }
        let (iv, ct) = bytes.split_at(16);
        // sm-crypto panics on bad padding: contain it.
        let key = self.0;
        let iv = iv.to_vec();
        let ct = ct.to_vec();
        let plain = std::panic::catch_unwind(move || {
            sm_crypto::sm4::CryptSM4CBC::new(&key, &iv).decrypt_cbc(&ct)
        })
        .map_err(|_| Error::Decrypt)?;
        String::from_utf8(plain).map_err(|_| Error::Decrypt)
    }
}

/// Marks a sealed column value.
const SEALED_PREFIX: &str = "sm4:";

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_differ_each_time() {
        let k = LedgerKey::generate();
        let a = k.seal("张三 440301199001011234");
        let b = k.seal("张三 440301199001011234");
        assert_ne!(a, b, "random IV");
        assert!(!a.contains("张三"));
        assert_eq!(k.open(&a).unwrap(), "张三 440301199001011234");
        let other = LedgerKey::generate();
        assert!(other.open(&a).is_err() || other.open(&a).unwrap() != "张三 440301199001011234");
        assert!(k.open("zz").is_err());
    }
}
