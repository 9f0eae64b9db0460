//! docs/domain.md §6.A (A1, A2, A5) and §6.B (B1a–B1e) as tests.

use billing::{
    AccountScope, BillInput, BillLine, ChargeClass, FallbackReason, PersonFunds, Policy,
};
use money::{Fen, Price, Qty, Ratio};

const B1A: &str = include_str!("../../../tests/fixtures/reference/examples/bill-B1a.json");
const B1A_EXPECTED: &str =
    include_str!("../../../tests/fixtures/reference/examples/bill-B1a.expected.json");

fn f(s: &str) -> Fen {
    Fen::parse(s).unwrap()
}

fn b1(balc: &str, pool: &str, scope: AccountScope, used: bool) -> billing::Settlement {
    let mut b = BillInput::from_json(B1A).unwrap();
    b.person.balc = f(balc);
    b.person.family_pool = f(pool);
    b.policy.account_scope = scope;
    b.policy.acct_used = used;
    let s = b.split();
    s.check_identities().unwrap();
    s
}

#[test]
fn b1a_matches_the_worked_example_field_for_field() {
    let s = BillInput::from_json(B1A).unwrap().split();
    let got = serde_json::to_value(&s).unwrap();
    let want: serde_json::Value = serde_json::from_str(B1A_EXPECTED).unwrap();
    for (k, v) in want.as_object().unwrap() {
        if k == "lines" {
            for (i, line) in v.as_array().unwrap().iter().enumerate() {
                for (lk, lv) in line.as_object().unwrap() {
                    assert_eq!(&got["lines"][i][lk], lv, "lines[{i}].{lk}");
                }
            }
        } else {
            assert_eq!(&got[k], v, "{k}");
        }
    }
}

#[test]
fn b1_common_figures() {
    let s = b1("100.00", "0", AccountScope::InScope, true);
    assert_eq!(s.medfee_sumamt, f("354.00"));
    assert_eq!(s.fulamt_ownpay_amt, f("30.00"));
    assert_eq!(s.overlmt_selfpay, f("4.00"));
    assert_eq!(s.preselfpay_amt, f("21.00"));
    assert_eq!(s.inscp_scp_amt, f("299.00"));
    assert_eq!(s.act_pay_dedc, f("200.00"));
    assert_eq!(s.hifp_pay, f("69.30"));
    assert_eq!(s.psn_part_amt, f("284.70"));
}

#[test]
fn b1a_balance_short_falls_back_to_cash() {
    let s = b1("100.00", "0", AccountScope::InScope, true);
    assert_eq!(
        (s.acct_pay, s.acct_mulaid_pay, s.psn_cash_pay, s.balc),
        (f("100.00"), f("0"), f("184.70"), f("0"))
    );
    assert!(s.fallback.contains(&FallbackReason::BalanceShort {
        amount: f("150.70"),
        balance: f("100.00")
    }));
    assert!(s
        .fallback
        .contains(&FallbackReason::OutsideAccountScope { amount: f("34.00") }));
}

#[test]
fn b1b_enough_balance_pays_in_scope_only() {
    let s = b1("500.00", "0", AccountScope::InScope, true);
    assert_eq!(
        (s.acct_pay, s.psn_cash_pay, s.balc),
        (f("250.70"), f("34.00"), f("249.30"))
    );
}

#[test]
fn b1c_account_may_pay_all_personal() {
    let s = b1("500.00", "0", AccountScope::AllPersonal, true);
    assert_eq!(
        (s.acct_pay, s.psn_cash_pay, s.balc),
        (f("284.70"), f("0.00"), f("215.30"))
    );
    assert!(!s
        .fallback
        .iter()
        .any(|r| matches!(r, FallbackReason::BalanceShort { .. })));
}

#[test]
fn b1d_family_pool_pays_what_the_account_cannot() {
    let s = b1("100.00", "400.00", AccountScope::InScope, true);
    assert_eq!(
        (s.acct_pay, s.acct_mulaid_pay, s.psn_cash_pay, s.balc),
        (f("100.00"), f("150.70"), f("34.00"), f("0.00"))
    );
}

#[test]
fn b1e_account_not_used() {
    let s = b1("100.00", "0", AccountScope::InScope, false);
    assert_eq!(
        (s.acct_pay, s.psn_cash_pay, s.balc),
        (f("0"), f("284.70"), f("100.00"))
    );
    assert_eq!(
        s.fallback.last(),
        Some(&FallbackReason::AccountNotUsed {
            amount: f("284.70")
        })
    );
}

fn line(class: ChargeClass, cnt: &str, pric: &str, prop: Option<&str>) -> BillLine {
    BillLine {
        name: "x".into(),
        med_chrgitm_type: "09".into(),
        chrgitm_lv: class,
        cnt: Qty::parse(cnt).unwrap(),
        pric: Price::parse(pric).unwrap(),
        pric_uplmt_amt: Some(Price::parse("999999").unwrap()),
        selfpay_prop: prop.map(|p| Ratio::parse(p).unwrap()),
        med_list_codg: None,
        order: Default::default(),
    }
}

#[test]
fn a1_class_b_line_rounds_half_up() {
    let s = line(ChargeClass::B, "1", "4.52", Some("0.05")).split();
    assert_eq!(s.det_item_fee_sumamt, f("4.52"));
    assert_eq!(s.preselfpay_amt, f("0.23"));
    assert_eq!(s.inscp_scp_amt, f("4.29"));
    assert_eq!((s.fulamt_ownpay_amt, s.overlmt_amt), (f("0"), f("0")));
}

#[test]
fn a2_all_inside_the_deductible_paid_by_the_account() {
    let lines = [line(ChargeClass::B, "1", "4.52", Some("0.05"))];
    let person = PersonFunds {
        insutype: "310".into(),
        balc: f("1378.15"),
        family_pool: Fen::ZERO,
    };
    let policy = Policy {
        deductible_remaining: f("1800.00"),
        ratio: Ratio::parse("0.70").unwrap(),
        fund_cap_remaining: f("3000.00"),
        account_scope: AccountScope::InScope,
        acct_used: true,
        acct_pay_limit: None,
        other_funds: vec![],
        pool_fund_type: "310100".into(),
    };
    let s = billing::split(&lines, &person, &policy);
    s.check_identities().unwrap();
    assert_eq!(s.medfee_sumamt, f("4.52"));
    assert_eq!(s.preselfpay_amt, f("0.23"));
    assert_eq!(s.inscp_scp_amt, f("4.29"));
    assert_eq!(s.act_pay_dedc, f("4.29"));
    assert_eq!((s.hifp_pay, s.fund_pay_sumamt), (f("0"), f("0")));
    assert_eq!(s.psn_part_amt, f("4.52"));
    assert_eq!(s.acct_pay, f("4.52"));
    assert_eq!(s.psn_cash_pay, f("0.00"));
    assert_eq!(s.balc, f("1373.63"));
    // 2208 gives it all back (A3 shape).
    let c = s.cancellation(s.balc);
    assert_eq!(
        (c.medfee_sumamt, c.acct_pay, c.balc),
        (f("-4.52"), f("-4.52"), f("1378.15"))
    );
}

#[test]
fn a5_class_a_and_class_c_lines() {
    let a = line(ChargeClass::A, "9", "4.00", None).split();
    assert_eq!((a.inscp_scp_amt, a.fulamt_ownpay_amt), (f("36.00"), f("0")));
    let c = line(ChargeClass::C, "1", "1.5", None).split();
    assert_eq!((c.fulamt_ownpay_amt, c.inscp_scp_amt), (f("1.50"), f("0")));
}

#[test]
fn invalid_bills_name_the_field_and_the_line() {
    let bad = |from: &str, to: &str| {
        let text = B1A.replacen(from, to, 1);
        BillInput::from_json(&text).unwrap_err().to_string()
    };
    assert!(
        bad(r#""chrgitm_lv": "03""#, r#""chrgitm_lv": "04""#).starts_with("lines[4].chrgitm_lv")
    );
    assert!(bad(
        r#""cnt": "2", "pric": "25.00""#,
        r#""cnt": "-2", "pric": "25.00""#
    )
    .starts_with("lines[0].cnt: negative"));
    assert!(bad(r#""ratio": "0.70""#, r#""ratio": "1.20""#).starts_with("policy.ratio"));
    assert!(bad(r#""pric": "200.00""#, r#""pric": "2O0.00""#).starts_with("lines[1].pric"));
}

#[test]
fn the_demo_policy_book_gives_b1_parameters_for_an_employee_at_a_level_two_hospital() {
    let book = billing::PolicyBook::demo();
    let s = billing::Situation {
        insutype: "310",
        med_type: "11",
        retired: false,
        region: billing::RegionKind::Local,
        hosp_lv: 2,
        acct_used: true,
    };
    let p = book
        .policy_for(
            &s,
            billing::YearUsage {
                deductible_used: Fen::ZERO,
                fund_used: Fen::ZERO,
            },
        )
        .unwrap();
    assert_eq!(
        (p.deductible_remaining, p.ratio, p.fund_cap_remaining),
        (f("200.00"), Ratio::parse("0.7").unwrap(), f("3000.00"))
    );
    assert_eq!(
        billing::RegionKind::classify("130399", "131102"),
        billing::RegionKind::InProvince
    );
    assert_eq!(
        billing::RegionKind::classify("310000", "440300"),
        billing::RegionKind::CrossProvince
    );
}

#[test]
fn the_catalogue_is_searchable_by_pinyin_initials_and_name() {
    let c = billing::Catalog::demo();
    assert_eq!(c.search("amxl", 5)[0].name, "阿莫西林胶囊");
    assert_eq!(c.search("AMXL", 5)[0].name, "阿莫西林胶囊");
    assert_eq!(c.search("血常规", 5)[0].code, "002501000010000");
    assert!(c.search("zzzzz", 5).is_empty());
    let l = c.search("tbkw", 1)[0].line(Qty::parse("1").unwrap());
    assert_eq!(l.split().preselfpay_amt, f("20.00"));
}

/// Every reason says its amount in both languages, so the screen and the receipt
/// tell the patient why they pay what they pay.
#[test]
fn every_fallback_reason_names_its_amount_in_chinese_and_english() {
    use billing::FallbackReason as R;
    let a = Fen::new(1234);
    let b = Fen::new(500);
    for r in [
        R::SelfPayItems { amount: a },
        R::OverPriceCap { amount: a },
        R::ClassBShare { amount: a },
        R::Deductible { amount: a },
        R::Copay { amount: a },
        R::FundCapReached { amount: a },
        R::OutsideAccountScope { amount: a },
        R::BalanceShort {
            amount: a,
            balance: b,
        },
        R::PaymentLimit {
            amount: a,
            limit: b,
        },
        R::AccountNotUsed { amount: a },
    ] {
        let (zh, en) = (r.explain_zh(), r.explain_en());
        assert!(zh.contains("12.34") && en.contains("12.34"), "{zh} / {en}");
        assert!(
            !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{en}"
        );
    }
}
