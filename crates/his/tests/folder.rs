//! The folder adapter on real files.
use std::path::Path;

use his::sim::{seed_bills, SimPatient};
use his::{His, HisError, Lookup, PaidNotice, PendingBill, RefundNotice};

const CERTNO: &str = "44030519850312001X";

fn bills() -> Vec<PendingBill> {
    seed_bills(&[
        SimPatient {
            certno: CERTNO.into(),
            psn_name: "张三".into(),
            chronic: Some(("M03900".into(), "高血压".into())),
        },
        SimPatient {
            certno: "440305199001010011".into(),
            psn_name: "李四".into(),
            chronic: None,
        },
    ])
}

/// The HIS drops the bill files (and one corrupt file, one half-written temporary).
fn drop_bills(dir: &Path) -> Vec<PendingBill> {
    let pending = dir.join("pending");
    std::fs::create_dir_all(&pending).unwrap();
    let bills = bills();
    for b in &bills {
        let text = serde_json::to_string_pretty(b).unwrap();
        // The first one as Notepad saves it: with a byte-order mark.
        let text = if b.bill_id == "HIS-1" {
            format!("\u{feff}{text}")
        } else {
            text
        };
        std::fs::write(pending.join(format!("{}.json", b.bill_id)), text).unwrap();
    }
    std::fs::write(pending.join("HIS-9.json"), "{\"bill_id\": \"HIS-9\", ").unwrap();
    std::fs::write(pending.join(".HIS-8.json"), "{").unwrap();
    bills
}

fn notice(notice_id: &str, bill_id: &str, setl_id: &str) -> PaidNotice {
    PaidNotice {
        notice_id: notice_id.into(),
        bill_id: bill_id.into(),
        setl_id: setl_id.into(),
        mdtrt_id: "M0001".into(),
        psn_no: "44000000000000000001".into(),
        medfee_sumamt: "70.00".into(),
        fund_pay_sumamt: "49.00".into(),
        psn_cash_pay: "21.00".into(),
        paid_at: "2026-12-01 09:02:11".into(),
    }
}

fn refund(bill_id: &str, setl_id: &str) -> RefundNotice {
    RefundNotice {
        notice_id: "R1".into(),
        bill_id: bill_id.into(),
        setl_id: setl_id.into(),
        refunded_at: "2026-12-01 10:15:00".into(),
    }
}

fn status(r: Result<(), HisError>) -> u16 {
    match r {
        Err(HisError::Refused { status, .. }) => status,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn no_temp_files(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn pending_files_are_read_and_paid_moves_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let all = drop_bills(dir);
    let his = His::from_config(Some(dir.to_str().unwrap()), None);
    assert_eq!(his.kind(), "folder");

    // The corrupt file is skipped; the patient's two bills are found, whole.
    let mine = his.pending(&Lookup::Certno(CERTNO.into())).await.unwrap();
    assert_eq!(mine, all[..2].to_vec());
    assert!(mine[0].visit.missing().is_empty());
    assert!(his
        .pending(&Lookup::PsnNo("44000000000000000001".into()))
        .await
        .unwrap()
        .is_empty());

    let n = notice("N1", "HIS-1", "S1");
    his.paid(&n).await.unwrap();
    let written: PaidNotice =
        serde_json::from_slice(&std::fs::read(dir.join("paid/HIS-1.json")).unwrap()).unwrap();
    assert_eq!(written, n);
    assert!(!dir.join("pending/HIS-1.json").exists());
    let mine = his.pending(&Lookup::Certno(CERTNO.into())).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].bill_id, "HIS-1-MT");

    // Idempotent; another settlement id is refused; an unsafe bill id too.
    his.paid(&n).await.unwrap();
    his.paid(&notice("N1-again", "HIS-1", "S1")).await.unwrap();
    assert_eq!(status(his.paid(&notice("N2", "HIS-1", "S2")).await), 409);
    assert_eq!(status(his.paid(&notice("N3", "../x", "S3")).await), 400);
    no_temp_files(&dir.join("paid"));

    // A folder that is not there is an error, not "no bills".
    let gone = His::from_config(Some(dir.join("missing").to_str().unwrap()), None);
    let e = gone
        .pending(&Lookup::Certno(CERTNO.into()))
        .await
        .unwrap_err();
    assert!(matches!(e, HisError::Io(_)) && e.retryable(), "{e:?}");
}

#[tokio::test]
async fn refund_needs_the_paid_file_with_the_same_settlement() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop_bills(dir);
    let his = His::from_config(Some(dir.to_str().unwrap()), None);

    assert_eq!(status(his.refunded(&refund("HIS-2", "S1")).await), 409);
    his.paid(&notice("N1", "HIS-2", "S1")).await.unwrap();
    assert_eq!(status(his.refunded(&refund("HIS-2", "S0")).await), 409);
    let r = refund("HIS-2", "S1");
    his.refunded(&r).await.unwrap();
    his.refunded(&r).await.unwrap();
    let written: RefundNotice =
        serde_json::from_slice(&std::fs::read(dir.join("refunded/HIS-2.json")).unwrap()).unwrap();
    assert_eq!(written, r);
    // The paid file stays for the HIS to read.
    assert!(dir.join("paid/HIS-2.json").exists());
    no_temp_files(&dir.join("refunded"));
}
