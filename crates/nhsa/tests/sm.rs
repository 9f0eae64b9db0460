//! SM2/SM3/SM4 against the standard vectors and against an independent
//! implementation (OpenSSL 3 from Debian).
use std::process::Command;

use nhsa::sm;

fn openssl(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn sm3_standard_vector() {
    assert_eq!(
        sm::sm3_hex(b"abc"),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn sm4_standard_vector() {
    let k: [u8; 16] = hex::decode("0123456789abcdeffedcba9876543210")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        hex::encode(sm::sm4_encrypt_block(&k, &k)),
        "681edf34d206965e86b3e94f536e4246"
    );
    let c = sm::sm4_ecb_encrypt(&k, "医保收银台".as_bytes());
    assert_eq!(
        sm::sm4_ecb_decrypt(&k, &c).unwrap(),
        "医保收银台".as_bytes()
    );
    assert!(sm::sm4_ecb_decrypt(&k, &c[..15]).is_none());
    let mut bad = c.clone();
    *bad.last_mut().unwrap() ^= 0x55;
    let _ = sm::sm4_ecb_decrypt(&k, &bad); // never panics
}

#[test]
fn sm3_and_sm4_agree_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let msg = "门诊结算 2207 medfee_sumamt=354.00".repeat(7);
    std::fs::write(dir.path().join("m.txt"), &msg).unwrap();
    let out = openssl(&["dgst", "-sm3", "-r", "m.txt"], dir.path());
    let theirs = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(theirs, sm::sm3_hex(msg.as_bytes()));

    let key_hex = "8a1c3d5e7f90214365879abcdef01234";
    let key: [u8; 16] = hex::decode(key_hex).unwrap().try_into().unwrap();
    openssl(
        &[
            "enc", "-sm4-ecb", "-K", key_hex, "-in", "m.txt", "-out", "c.bin",
        ],
        dir.path(),
    );
    let theirs = std::fs::read(dir.path().join("c.bin")).unwrap();
    assert_eq!(theirs, sm::sm4_ecb_encrypt(&key, msg.as_bytes()));
}

fn hex_after(text: &str, label: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(label)).skip(1);
    let mut out = String::new();
    for l in lines.by_ref() {
        if !l.starts_with(' ') {
            break;
        }
        out.push_str(&l.trim().replace(':', ""));
    }
    out
}

#[test]
fn sm2_signatures_verify_both_ways_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let id = "1234567812345678";
    let msg =
        "appId=43AF&encType=SM4&signType=SM2&timestamp=20200207175759&version=2.0.1&key=secret";
    std::fs::write(dir.path().join("m.txt"), msg).unwrap();
    openssl(
        &["genpkey", "-algorithm", "SM2", "-out", "k.pem"],
        dir.path(),
    );
    openssl(
        &["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"],
        dir.path(),
    );
    let text =
        String::from_utf8(openssl(&["pkey", "-in", "k.pem", "-text", "-noout"], dir.path()).stdout)
            .unwrap();
    let mut sk = hex_after(&text, "priv:");
    while sk.len() > 64 && sk.starts_with("00") {
        sk.drain(..2);
    }
    let pk = hex_after(&text, "pub:");
    assert_eq!(pk.len(), 130, "{text}");

    // OpenSSL signs, we verify.
    openssl(
        &[
            "dgst",
            "-sm3",
            "-sign",
            "k.pem",
            "-sigopt",
            &format!("distid:{id}"),
            "-out",
            "theirs.der",
            "m.txt",
        ],
        dir.path(),
    );
    let theirs = std::fs::read(dir.path().join("theirs.der")).unwrap();
    assert!(sm::sm2_verify_der(
        &pk,
        id.as_bytes(),
        msg.as_bytes(),
        &theirs
    ));
    assert!(!sm::sm2_verify_der(
        &pk,
        id.as_bytes(),
        b"tampered",
        &theirs
    ));

    // We sign, OpenSSL verifies.
    let ours = sm::sm2_sign_der(&sk, id.as_bytes(), msg.as_bytes());
    std::fs::write(dir.path().join("ours.der"), &ours).unwrap();
    let out = openssl(
        &[
            "dgst",
            "-sm3",
            "-verify",
            "pub.pem",
            "-sigopt",
            &format!("distid:{id}"),
            "-signature",
            "ours.der",
            "m.txt",
        ],
        dir.path(),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
    // Raw r‖s round trip (the platform's format).
    let raw = sm::sm2_sign_raw(&sk, id.as_bytes(), msg.as_bytes());
    assert_eq!(raw.len(), 64);
    assert!(sm::sm2_verify_raw(&pk, id.as_bytes(), msg.as_bytes(), &raw));
}

#[test]
fn secure_envelope_round_trip_and_tamper() {
    use nhsa::secure::SecureEnvelope;
    let (sk, pk) = sm::sm2_keypair();
    let env = SecureEnvelope {
        app_id: "43AF047BBA47FC8A1AE8EFB232BDBBCB".into(),
        app_secret: "4117E877F5FA0A0188891283E4B617D5".into(),
        private_key: sk,
        platform_public_key: pk.clone(),
        sm2_id: b"4117E877F5FA0A0188891283E4B617D5".to_vec(),
    };
    let data = serde_json::json!({"payOrdId": "ORD1", "ownPayAmt": "12.30", "empty": ""});
    let body = env.seal(&data, "20200207175759", "2.0.1");
    assert_eq!(env.open(&body, &pk).unwrap(), data);
    let mut bad = body.clone();
    bad["timestamp"] = "20200207175800".into();
    assert!(env.open(&bad, &pk).is_err());
}

#[test]
fn tif_signature_is_sha256_of_the_documented_string() {
    let s = nhsa::secure::TifLayer::signature("1700000000", "tok", "n1");
    assert_eq!(s.len(), 64);
    assert_eq!(
        s,
        nhsa::secure::TifLayer::signature("1700000000", "tok", "n1")
    );
}
