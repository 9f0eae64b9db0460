//! A sample receipt (case B1a of docs/domain.md §6.B) for tests, benchmarks and the test page.

use money::Fen;

use crate::data::{FeeGroup, ReceiptData, ReceiptKind, SplitLine};

pub fn sample() -> ReceiptData {
    let f = |s: &str| Fen::parse(s).expect("sample amount");
    ReceiptData {
        kind: ReceiptKind::Sale,
        institution: "深圳市演示人民医院".into(),
        receipt_no: "R20261125000123".into(),
        time: "2026-11-25 09:30:12".into(),
        cashier: "C001 李收费".into(),
        patient: "张*".into(),
        insutype: "职工基本医疗保险".into(),
        med_type: "普通门诊".into(),
        groups: vec![
            FeeGroup {
                category: "西药费".into(),
                amount: f("280.00"),
                lines: vec![
                    ("阿莫西林胶囊".into(), "2×25.00".into(), f("50.00")),
                    ("头孢克肟分散片".into(), "1×200.00".into(), f("200.00")),
                    ("维生素C泡腾片".into(), "1×30.00".into(), f("30.00")),
                ],
            },
            FeeGroup {
                category: "化验费".into(),
                amount: f("50.00"),
                lines: vec![("血常规".into(), "1×50.00".into(), f("50.00"))],
            },
            FeeGroup {
                category: "卫生材料费".into(),
                amount: f("24.00"),
                lines: vec![("一次性输液器".into(), "2×12.00".into(), f("24.00"))],
            },
        ],
        total: f("354.00"),
        split: vec![
            SplitLine {
                label: "医保统筹基金支付".into(),
                amount: f("69.30"),
                note: None,
            },
            SplitLine {
                label: "其他基金支付".into(),
                amount: f("0.00"),
                note: None,
            },
            SplitLine {
                label: "个人账户支付".into(),
                amount: f("100.00"),
                note: None,
            },
            SplitLine {
                label: "共济支付".into(),
                amount: f("0.00"),
                note: None,
            },
            SplitLine {
                label: "个人现金支付".into(),
                amount: f("184.70"),
                note: Some("现金".into()),
            },
        ],
        self_pay_in_scope: f("250.70"),
        self_pay_out_of_scope: f("34.00"),
        balance_after: Some(f("0.00")),
        setl_id: "4440000123".into(),
        orig_setl_id: None,
        reprint: false,
        notes: Vec::new(),
    }
}
