//! Every captured response in the reference vectors parses; identities hold.
use nhsa::inspect::inspect;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference/vectors"
);

fn infno_of(file: &str) -> String {
    file.trim_start_matches("openhis_mock_")[..4].to_string()
}

#[test]
fn every_vector_parses() {
    let mut n = 0;
    for e in std::fs::read_dir(DIR).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let r = inspect(&infno_of(&name), &std::fs::read(&p).unwrap());
        assert!(r.is_ok(), "{name}: {:?}", r.err());
        n += 1;
    }
    assert!(n >= 20, "{n} vectors");
}

#[test]
fn a2_settlement_amounts_are_normalised_strings() {
    let r = inspect(
        "2207",
        &std::fs::read(format!("{DIR}/openhis_mock_2207.json")).unwrap(),
    )
    .unwrap();
    let s = &r.output["setlinfo"];
    assert_eq!(s["medfee_sumamt"], "4.52");
    assert_eq!(s["acct_pay"], "4.52");
    assert_eq!(s["psn_cash_pay"], "0.00");
    assert_eq!(s["balc"], "1373.63");
    assert_eq!(s["setl_id"], "400125241");
}

#[test]
fn the_regional_cancel_is_reported_not_guessed() {
    let r = inspect(
        "2305",
        &std::fs::read(format!("{DIR}/openhis_mock_2305.json")).unwrap(),
    )
    .unwrap();
    assert!(
        r.unchecked.iter().any(|u| u.contains("psn_pay")),
        "{:?}",
        r.unchecked
    );
}

#[test]
fn a_payment_code_is_the_wrong_code() {
    let r = inspect(
        "1162",
        &std::fs::read(format!("{DIR}/openhis_mock_1162.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r.error_kind.as_deref(), Some("wrong_code"));
    assert!(r.action_zh.unwrap().contains("医保码"));
    let ok = inspect(
        "1162",
        &std::fs::read(format!("{DIR}/openhis_mock_1162_alt1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        ok.output["data"]["ecToken"],
        "130000ecmecib288580f0f1a0a0000e7328251"
    );
}

#[test]
fn a_broken_identity_is_refused_with_the_reason() {
    let text = std::fs::read_to_string(format!("{DIR}/openhis_mock_2207.json")).unwrap();
    let broken = text.replacen("\"psn_cash_pay\": 0", "\"psn_cash_pay\": 1.5", 1);
    assert_ne!(text, broken, "fixture changed");
    let e = inspect("2207", broken.as_bytes()).unwrap_err();
    assert!(e.contains("psn_part_amt"), "{e}");
    assert!(inspect("2207", b"<html>502 Bad Gateway</html>").is_err());
    assert!(inspect("2207", br#"{"infcode":"abc"}"#).is_err());
}

#[test]
fn msgids_follow_the_rule_and_parse_back() {
    let t = chrono::NaiveDate::from_ymd_opt(2021, 11, 29)
        .unwrap()
        .and_hms_opt(18, 9, 52)
        .unwrap();
    let id = nhsa::format_msgid("H13110200026", t, 478);
    assert_eq!(id, "H13110200026202111291809520478");
    let p = nhsa::parse_msgid(&id).unwrap();
    assert_eq!(
        (p.prefix.as_str(), p.time, p.serial.as_str()),
        ("H13110200026", t, "0478")
    );
    let r = nhsa::parse_msgid("310000202309201823500002516630").unwrap();
    assert_eq!(
        (r.prefix.as_str(), r.serial.as_str()),
        ("310000", "0002516630")
    );
    assert!(nhsa::parse_msgid("240704161004-H41130200746-0056").is_none());
}

#[test]
fn error_messages_map_to_kinds_with_actions() {
    use nhsa::ErrorKind::*;
    for (msg, kind) in [
        ("该人员电子凭证未激活", NotActivated),
        ("请使用医保电子凭证二维码", WrongCode),
        ("个人账户余额不足", BalanceShort),
        ("超过单笔支付限额", PaymentLimit),
        ("参保地与就医地不符，异地就医未备案", RegionMismatch),
        ("参保人参保状态为暂停参保", Suspended),
        ("证件号码与姓名不符", DataMismatch),
        ("系统异常，请联系管理员", SystemFault),
    ] {
        let k = nhsa::classify(msg, None);
        assert_eq!(k, kind, "{msg}");
        assert!(!k.action_zh().is_empty());
    }
}
