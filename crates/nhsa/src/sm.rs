//! SM2/SM3/SM4 through sm-crypto, with the conventions the platform uses
//! (SM4-ECB with PKCS#7 padding, SM2 signatures as raw r‖s).

use sm_crypto::{sm2, sm3, sm4};

/// SM3 digest, lower-case hex.
pub fn sm3_hex(data: &[u8]) -> String {
    sm3::sm3_hash(data)
}

/// SM4-ECB with PKCS#7 padding.
pub fn sm4_ecb_encrypt(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    sm4::CryptSM4ECB::new(key).encrypt_ecb(plain)
}

/// SM4-ECB decryption; `None` when the input is not whole blocks or the padding is wrong.
pub fn sm4_ecb_decrypt(key: &[u8; 16], cipher: &[u8]) -> Option<Vec<u8>> {
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return None;
    }
    // sm-crypto panics on bad padding; keep a hostile input from taking the process down.
    let key = *key;
    let cipher = cipher.to_vec();
    std::panic::catch_unwind(move || sm4::CryptSM4ECB::new(&key).decrypt_ecb(&cipher)).ok()
}

/// One raw 16-byte SM4 block (no padding), for the standard test vector.
pub fn sm4_encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let out = sm4_ecb_encrypt(key, block);
    let mut b = [0u8; 16];
    b.copy_from_slice(&out[..16]);
    b
}

/// `secKey` of §2.5: SM4-ECB-PKCS7(key = first 16 bytes of appId, appSecret),
/// upper-case hex, its first 16 characters as bytes.
pub fn derive_sec_key(app_id: &str, app_secret: &str) -> [u8; 16] {
    let mut k = [0u8; 16];
    let id = app_id.as_bytes();
    k[..id.len().min(16)].copy_from_slice(&id[..id.len().min(16)]);
    let hexed = hex::encode_upper(sm4_ecb_encrypt(&k, app_secret.as_bytes()));
    let mut out = [0u8; 16];
    out.copy_from_slice(&hexed.as_bytes()[..16]);
    out
}

/// A new SM2 key pair (private hex, public hex `04…`).
pub fn sm2_keypair() -> (String, String) {
    sm2::gen_keypair()
}

/// SM3withSM2 signature as raw r‖s (64 bytes).
pub fn sm2_sign_raw(private_key_hex: &str, id: &[u8], msg: &[u8]) -> Vec<u8> {
    let der = sm2::Sign::new_with_id(id, private_key_hex).sign_der(msg, true);
    der_to_raw(&der).unwrap_or_default()
}

/// SM3withSM2 signature in DER (for tools like OpenSSL).
pub fn sm2_sign_der(private_key_hex: &str, id: &[u8], msg: &[u8]) -> Vec<u8> {
    sm2::Sign::new_with_id(id, private_key_hex).sign_der(msg, true)
}

pub fn sm2_verify_raw(public_key_hex: &str, id: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    if sig.len() != 64 || !sm2::pubkey_valid(public_key_hex) {
        return false;
    }
    let der = raw_to_der(sig);
    // sm-crypto 0.1.9's `Verify::new_with_id` does not strip the `04` prefix
    // (only `Verify::new` does), which makes Z wrong; found by the OpenSSL
    // cross-check. Strip it here.
    let pk = match public_key_hex.len() {
        130 if public_key_hex.starts_with("04") => public_key_hex[2..].to_string(),
        _ => public_key_hex.to_string(),
    };
    let id = id.to_vec();
    let msg = msg.to_vec();
    std::panic::catch_unwind(move || {
        sm2::Verify::new_with_id(&id, &pk).verify_der(&msg, &der, true)
    })
    .unwrap_or(false)
}

pub fn sm2_verify_der(public_key_hex: &str, id: &[u8], msg: &[u8], der: &[u8]) -> bool {
    match der_to_raw(der) {
        Some(raw) => sm2_verify_raw(public_key_hex, id, msg, &raw),
        None => false,
    }
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` → 64-byte r‖s.
pub fn der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let (tag, body, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (t1, r, rest) = tlv(body)?;
    let (t2, s, _) = tlv(rest)?;
    if t1 != 2 || t2 != 2 {
        return None;
    }
    let mut out = vec![0u8; 64];
    for (i, src) in [r, s].into_iter().enumerate() {
        let src: Vec<u8> = src.iter().copied().skip_while(|b| *b == 0).collect();
        if src.len() > 32 {
            return None;
        }
        let end = 32 * (i + 1);
        out[end - src.len()..end].copy_from_slice(&src);
    }
    Some(out)
}

fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let l0 = *b.get(1)? as usize;
    let (len, start) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 2 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let body = b.get(start..start + len)?;
    Some((tag, body, &b[start + len..]))
}

/// 64-byte r‖s → DER.
pub fn raw_to_der(raw: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let mut v: Vec<u8> = x.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![2u8, v.len() as u8];
        out.extend(v);
        out
    };
    let mut body = int(&raw[..32]);
    body.extend(int(&raw[32..64]));
    let mut out = vec![0x30u8, body.len() as u8];
    out.extend(body);
    out
}
