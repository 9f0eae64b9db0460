//! The HTTP client against the simulated HIS, over real HTTP.
use his::sim::{self, SimBills, SimOpts, SimPatient};
use his::{His, HisError, Lookup, PaidNotice, RefundNotice};

const CERTNO: &str = "44030519850312001X";

fn patients() -> Vec<SimPatient> {
    vec![
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
    ]
}

async fn start() -> sim::SimHis {
    sim::spawn(SimOpts {
        patients: patients(),
        ..SimOpts::default()
    })
    .await
    .unwrap()
}

fn paid_notice(notice_id: &str, bill_id: &str, setl_id: &str) -> PaidNotice {
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

fn refund_notice(notice_id: &str, bill_id: &str, setl_id: &str) -> RefundNotice {
    RefundNotice {
        notice_id: notice_id.into(),
        bill_id: bill_id.into(),
        setl_id: setl_id.into(),
        refunded_at: "2026-12-01 10:15:00".into(),
    }
}

async fn sim_bills(s: &sim::SimHis) -> SimBills {
    reqwest::get(format!("{}/_sim/bills", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn refused(r: Result<(), HisError>) -> u16 {
    match r {
        Err(HisError::Refused { status, message }) => {
            assert!(!message.is_empty());
            status
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn pending_by_certno_gives_the_seeded_bills_with_complete_visits() {
    let s = start().await;
    let his = His::from_config(Some(&format!("{}/", s.url)), None);
    assert_eq!(his.kind(), "http");

    let bills = his
        .pending(&Lookup::Certno(CERTNO.to_lowercase()))
        .await
        .unwrap();
    let ids: Vec<&str> = bills.iter().map(|b| b.bill_id.as_str()).collect();
    assert_eq!(ids, ["HIS-1", "HIS-1-MT"]);
    let b = &bills[0];
    assert_eq!((b.certno.as_str(), b.psn_name.as_str()), (CERTNO, "张三"));
    assert_eq!(b.med_type, "11");
    assert_eq!(b.created_at, "2026-12-01 08:30:00");
    assert!(b.visit.missing().is_empty(), "{:?}", b.visit.missing());
    assert_eq!(b.visit.atddr_no, "D440300000001");
    assert_eq!(b.visit.dept_code, "A03.01");
    assert_eq!(b.visit.diseinfo[0].diag_code, "J06.900");
    assert_eq!(b.lines.len(), 2);
    assert_eq!(b.lines[0]["med_list_codg"], "XJ01CAA040A001010100001");
    assert_eq!(b.lines[1]["medins_list_codg"], "HOSP-JC-0001");
    assert_eq!(b.lines[1]["bilg_dr_codg"], "D440300000001");
    let mt = &bills[1];
    assert_eq!(mt.med_type, "14");
    assert_eq!(
        (mt.visit.dise_codg.as_str(), mt.visit.dise_name.as_str()),
        ("M03900", "高血压")
    );
    assert!(mt.visit.missing().is_empty());

    // Nobody's bills for an unknown patient; psn_no is unknown until a payment.
    assert!(his
        .pending(&Lookup::Certno("110101200001011234".into()))
        .await
        .unwrap()
        .is_empty());
    let psn = Lookup::PsnNo("44000000000000000001".into());
    assert!(his.pending(&psn).await.unwrap().is_empty());
    his.paid(&paid_notice("N1", "HIS-1", "S1")).await.unwrap();
    let left = his.pending(&psn).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].bill_id, "HIS-1-MT");
    s.stop().await;
}

#[tokio::test]
async fn paid_notices_are_recorded_idempotent_and_strict() {
    let s = start().await;
    let his = His::from_config(Some(&s.url), None);

    let n = paid_notice("N1", "HIS-1", "S202612010000001");
    his.paid(&n).await.unwrap();
    let view = sim_bills(&s).await;
    let b = view
        .bills
        .iter()
        .find(|b| b.bill.bill_id == "HIS-1")
        .unwrap();
    assert_eq!(b.state, "paid");
    assert_eq!(b.setl_id.as_deref(), Some("S202612010000001"));
    assert_eq!(b.notices, 1);

    // The same notice again: fine, and counted.
    his.paid(&n).await.unwrap();
    let view = sim_bills(&s).await;
    assert_eq!(view.bills[0].notices, 2);
    // No longer pending.
    let left = his.pending(&Lookup::Certno(CERTNO.into())).await.unwrap();
    assert!(left.iter().all(|b| b.bill_id != "HIS-1"));

    // Another settlement for the paid bill; an unknown bill; a reused notice id.
    let other = paid_notice("N2", "HIS-1", "S-OTHER");
    assert_eq!(refused(his.paid(&other).await), 409);
    assert_eq!(
        refused(his.paid(&paid_notice("N3", "HIS-404", "S3")).await),
        404
    );
    assert_eq!(
        refused(his.paid(&paid_notice("N1", "HIS-2", "S4")).await),
        409
    );
    s.stop().await;
}

#[tokio::test]
async fn refund_after_paid_only() {
    let s = start().await;
    let his = His::from_config(Some(&s.url), None);

    // Not paid yet.
    assert_eq!(
        refused(his.refunded(&refund_notice("R0", "HIS-2", "S9")).await),
        409
    );
    his.paid(&paid_notice("N1", "HIS-2", "S9")).await.unwrap();
    // Another settlement id than the paid one.
    assert_eq!(
        refused(his.refunded(&refund_notice("R1", "HIS-2", "S8")).await),
        409
    );
    let r = refund_notice("R2", "HIS-2", "S9");
    his.refunded(&r).await.unwrap();
    his.refunded(&r).await.unwrap();
    let view = sim_bills(&s).await;
    let b = view
        .bills
        .iter()
        .find(|b| b.bill.bill_id == "HIS-2")
        .unwrap();
    assert_eq!(b.state, "refunded");
    assert_eq!(b.notices, 3);
    assert_eq!(
        refused(his.refunded(&refund_notice("R3", "HIS-404", "S9")).await),
        404
    );
    s.stop().await;
}

#[tokio::test]
async fn an_unreachable_his_is_retryable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let his = His::from_config(Some(&format!("http://127.0.0.1:{port}/his")), None);
    let e = his
        .pending(&Lookup::Certno(CERTNO.into()))
        .await
        .unwrap_err();
    assert!(matches!(e, HisError::Unreachable(_)), "{e:?}");
    assert!(e.retryable());
    assert!(e.to_string().contains("连不上医院 HIS"), "{e}");
    let e = his
        .paid(&paid_notice("N1", "HIS-1", "S1"))
        .await
        .unwrap_err();
    assert!(e.retryable(), "{e:?}");
}

#[tokio::test]
async fn a_token_protected_his_refuses_a_client_without_the_token() {
    let s = sim::spawn(SimOpts {
        token: Some("s3cret".into()),
        patients: patients(),
        ..SimOpts::default()
    })
    .await
    .unwrap();
    let who = Lookup::Certno(CERTNO.into());
    for token in [None, Some("wrong")] {
        let e = His::from_config(Some(&s.url), token)
            .pending(&who)
            .await
            .unwrap_err();
        match &e {
            HisError::Refused {
                status: 401,
                message,
            } => {
                assert!(message.contains("令牌"), "{message}")
            }
            other => panic!("expected 401, got {other:?}"),
        }
        assert!(!e.retryable());
    }
    let his = His::from_config(Some(&s.url), Some("s3cret"));
    assert_eq!(his.pending(&who).await.unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn the_sim_refuses_what_a_real_his_would() {
    let s = start().await;
    let http = reqwest::Client::new();
    let err_of = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: his::api::ErrorBody = r.json().await.unwrap();
        (status, body.error)
    };

    // Without the API header.
    let r = http
        .get(format!("{}/v1/pending?certno={CERTNO}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(r).await, (400, "api_version".into()));
    // Neither lookup parameter.
    let r = http
        .get(format!("{}/v1/pending", s.url))
        .header("X-Yibao-His-Api", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(r).await, (400, "bad_request".into()));
    // A malformed body, and a notice with an amount in the wrong format.
    let r = http
        .post(format!("{}/v1/paid", s.url))
        .header("X-Yibao-His-Api", "1")
        .body("{\"bill_id\": \"HIS-1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(r).await, (400, "bad_request".into()));
    let mut n = paid_notice("N1", "HIS-1", "S1");
    n.medfee_sumamt = "70".into();
    let r = http
        .post(format!("{}/v1/paid", s.url))
        .header("X-Yibao-His-Api", "1")
        .json(&n)
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(r).await, (400, "bad_request".into()));

    // A bill the test adds is served like the seeded ones.
    let mut extra = sim::seed_bills(&patients()).remove(0);
    extra.bill_id = "T-1".into();
    extra.certno = "440305200001010022".into();
    let r = http
        .post(format!("{}/_sim/bills", s.url))
        .json(&extra)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let his = His::from_config(Some(&s.url), None);
    let got = his
        .pending(&Lookup::Certno(extra.certno.clone()))
        .await
        .unwrap();
    assert_eq!(got, vec![extra]);
    assert_eq!(sim_bills(&s).await.bills.len(), 4);
    s.stop().await;
}
