//! `yibao split` as a hospital script would call it.

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference/examples"
);

mod common;
use common::{ok_json, yibao};

#[test]
fn split_prints_the_expected_json_for_b1a() {
    let out = yibao()
        .args(["split", &format!("{FIX}/bill-B1a.json")])
        .output()
        .unwrap();
    let got = ok_json(&out);
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIX}/bill-B1a.expected.json")).unwrap(),
    )
    .unwrap();
    for (k, v) in want.as_object().unwrap() {
        if k != "lines" {
            assert_eq!(&got[k], v, "{k}");
        }
    }
    for (i, l) in want["lines"].as_array().unwrap().iter().enumerate() {
        for (k, v) in l.as_object().unwrap() {
            assert_eq!(&got["lines"][i][k], v, "lines[{i}].{k}");
        }
    }
    assert!(got["fallback_zh"].to_string().contains("个人账户余额不足"));
}

#[test]
fn split_rejects_a_bad_line_naming_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(format!("{FIX}/bill-B1a.json"))
        .unwrap()
        .replacen(r#""chrgitm_lv": "02""#, r#""chrgitm_lv": "07""#, 1);
    let p = dir.path().join("bad.json");
    std::fs::write(&p, text).unwrap();
    let out = yibao().arg("split").arg(&p).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lines[1].chrgitm_lv"), "{err}");
}

#[test]
fn nhsa_parse_reads_every_vector_and_refuses_a_broken_one() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/reference/vectors"
    );
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let infno = &name["openhis_mock_".len().."openhis_mock_".len() + 4];
        let out = yibao()
            .args(["nhsa", "parse", "--infno", infno])
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    }
    let t = tempfile::tempdir().unwrap();
    let bad = t.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"infcode\":0,\"output\":{\"setlinfo\":{\"medfee_sumamt\":10,\"inscp_scp_amt\":9}}}",
    )
    .unwrap();
    let out = yibao()
        .args(["nhsa", "parse", "--infno", "2207"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("medfee_sumamt"));
}
