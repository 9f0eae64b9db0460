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

    /// Read the key file at `path`; a missing file is an error, and nothing is written
    /// (read-only commands). A wrapped key file needs the install secret
    /// ([`KeySecret::from_env`]).
    pub fn load(path: &Path) -> Result<LedgerKey> {
        let secret = KeySecret::from_env().map_err(|detail| Error::Key {
            path: path.to_path_buf(),
            detail,
        })?;
        LedgerKey::load_with(path, secret.as_ref())
    }

    /// [`LedgerKey::load`] with the secret given (None: none).
    pub fn load_with(path: &Path, secret: Option<&KeySecret>) -> Result<LedgerKey> {
        LedgerKey::read(path, secret, false)
    }

    /// Read a key file; `upgrade`: a plain one is wrapped in place when there is a secret.
    fn read(path: &Path, secret: Option<&KeySecret>, upgrade: bool) -> Result<LedgerKey> {
        let key_err = |detail: String| Error::Key {
            path: path.to_path_buf(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| key_err(e.to_string()))?;
        match KeyFile::parse(&text).map_err(key_err)? {
            KeyFile::Plain(key) => {
                if let Some(secret) = secret.filter(|_| upgrade) {
                    // Upgrade: the same key, wrapped (written beside, then renamed over).
                    let wrapped = key.wrap(secret);
                    let tmp = path.with_extension("key-wrapping");
                    let _ = std::fs::remove_file(&tmp);
                    write_private(&tmp, wrapped.as_bytes())
                        .and_then(|()| std::fs::rename(&tmp, path))
                        .map_err(|e| key_err(format!("wrapping the key: {e}")))?;
                }
                Ok(key)
            }
            KeyFile::Wrapped {
                salt,
                wrapped,
                check,
            } => {
                let Some(secret) = secret else {
                    return Err(key_err(
                        "this key is wrapped by the counter's install secret, which is not available here (YIBAO_KEY_SECRET_FILE)".into(),
                    ));
                };
                LedgerKey::unwrap_with(secret, &salt, &wrapped, &check).map_err(key_err)
            }
        }
    }

    /// Read the key file at `path`, or create it (mode 0600) with a new random key —
    /// wrapped by the install secret when there is one (a plain key file is wrapped in
    /// place then: a counter hardened after its installation).
    pub fn load_or_create(path: &Path) -> Result<LedgerKey> {
        let secret = KeySecret::from_env().map_err(|detail| Error::Key {
            path: path.to_path_buf(),
            detail,
        })?;
        LedgerKey::load_or_create_with(path, secret.as_ref())
    }

    /// [`LedgerKey::load_or_create`] with the secret given (None: none).
    pub fn load_or_create_with(path: &Path, secret: Option<&KeySecret>) -> Result<LedgerKey> {
        let key_err = |detail: String| Error::Key {
            path: path.to_path_buf(),
            detail,
        };
        match std::fs::metadata(path) {
            Ok(_) => LedgerKey::read(path, secret, true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = LedgerKey::generate();
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| key_err(e.to_string()))?;
                    }
                }
                let text = match secret {
                    Some(secret) => key.wrap(secret),
                    None => key.to_hex(),
                };
                write_private(path, text.as_bytes()).map_err(|e| key_err(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(key_err(e.to_string())),
        }
    }

    /// The key wrapped by `secret`: argon2id(secret, salt) → KEK; SM4(KEK, key); with the
    /// KEK's check value so that a wrong secret is told apart from a damaged file.
    pub fn wrap(&self, secret: &KeySecret) -> String {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let kek = secret.kek(&salt);
        let wrapped = sm_crypto::sm4::CryptSM4ECB::new(&kek.0).encrypt_ecb(&self.0);
        format!(
            "yibao-key-v2 wrapped\nsalt={}\nwrapped={}\ncheck={}\n",
            hex::encode(salt),
            hex::encode(&wrapped[..16]),
            kek.check_value()
        )
    }

    fn unwrap_with(
        secret: &KeySecret,
        salt: &[u8],
        wrapped: &[u8],
        check: &str,
    ) -> std::result::Result<LedgerKey, String> {
        let kek = secret.kek(salt);
        if kek.check_value() != check {
            return Err(
                "the install secret does not open this key (another counter's secret?)".into(),
            );
        }
        let mut block = wrapped.to_vec();
        // ECB of one block with PKCS#7: the encryptor added a full padding block; the
        // file keeps the first block only, so decrypt it raw.
        block.extend_from_slice(
            &sm_crypto::sm4::CryptSM4ECB::new(&kek.0).encrypt_ecb(&[16u8; 16])[..16],
        );
        let plain = std::panic::catch_unwind(|| {
            sm_crypto::sm4::CryptSM4ECB::new(&kek.0).decrypt_ecb(&block)
        })
        .map_err(|_| "the wrapped key is damaged".to_string())?;
        let arr: [u8; 16] = plain
            .get(..16)
            .and_then(|p| p.try_into().ok())
            .ok_or("the wrapped key is damaged")?;
        Ok(LedgerKey(arr))
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

/// The secret that wraps a counter's ledger key, set by IT at install and kept outside
/// the data folder (a file only the counter's service account can read, provisioned by
/// the installer; on Windows protected with DPAPI by the installer). A copy of the data
/// folder — ledger and key file, a backup, the folder on a stolen disk without the
/// secret's location — cannot be decrypted.
pub struct KeySecret(Vec<u8>);

impl KeySecret {
    pub fn new(bytes: &[u8]) -> KeySecret {
        KeySecret(bytes.to_vec())
    }

    /// `YIBAO_KEY_SECRET_FILE` (a path; its content, trimmed, is the secret). Unset: no
    /// secret (a demo or a counter not yet hardened: the key file is plain).
    pub fn from_env() -> std::result::Result<Option<KeySecret>, String> {
        let Some(path) = std::env::var_os("YIBAO_KEY_SECRET_FILE") else {
            return Ok(None);
        };
        let text = std::fs::read(&path).map_err(|e| {
            format!(
                "the install secret {} cannot be read: {e}",
                Path::new(&path).display()
            )
        })?;
        let trimmed = String::from_utf8_lossy(&text).trim().as_bytes().to_vec();
        if trimmed.len() < 16 {
            return Err("the install secret is shorter than 16 characters".into());
        }
        Ok(Some(KeySecret(trimmed)))
    }

    fn kek(&self, salt: &[u8]) -> LedgerKey {
        let mut out = [0u8; 16];
        argon2::Argon2::default()
            .hash_password_into(&self.0, salt, &mut out)
            .expect("argon2 with a 16-byte salt and output");
        LedgerKey(out)
    }
}

enum KeyFile {
    Plain(LedgerKey),
    Wrapped {
        salt: Vec<u8>,
        wrapped: Vec<u8>,
        check: String,
    },
}

impl KeyFile {
    fn parse(text: &str) -> std::result::Result<KeyFile, String> {
        if !text.starts_with("yibao-key-v2") {
            return LedgerKey::from_hex(text)
                .map(KeyFile::Plain)
                .map_err(|e| e.to_string());
        }
        let field = |name: &str| -> std::result::Result<&str, String> {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
                .map(str::trim)
                .ok_or_else(|| format!("the key file has no {name}"))
        };
        let hex_of = |name: &str, len: usize| -> std::result::Result<Vec<u8>, String> {
            let b = hex::decode(field(name)?).map_err(|e| format!("{name}: {e}"))?;
            if b.len() != len {
                return Err(format!("{name} must be {len} bytes"));
            }
            Ok(b)
        };
        Ok(KeyFile::Wrapped {
            salt: hex_of("salt", 16)?,
            wrapped: hex_of("wrapped", 16)?,
            check: field("check")?.to_string(),
        })
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
