//! A bounded load run (loopback only): `clients` concurrent counters each
//! running whole settlement flows (9001 once, then 1101 → 2201 → 2203 → 2204 →
//! 2206 → 2207) for `duration`; then the books are checked: every 2207 that
//! answered is in the center exactly once, and the account balances moved by
//! exactly the sum of the answered `acct_pay`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use money::{Fen, Price, Qty};
use nhsa::inputs as i;
use nhsa::{Caller, Client, ClientConfig, Infno, Institution};
use serde_json::Value;

#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub clients: usize,
    pub seconds: f64,
    pub flows: u64,
    pub flows_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub settlements_in_center: i64,
    pub account_moved: Fen,
    pub account_paid_per_answers: Fen,
}

/// ID numbers of demo persons that settle (type 02 needs no fresh code per flow).
const IDS: [&str; 5] = [
    "44030519850312001X",
    "440306199207080026",
    "440303197811230037",
    "310115198809090063",
    "440303195302140085",
];

pub async fn run(
    url: &str,
    db: &std::path::Path,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<LoadReport> {
    let before = balances(url).await?;
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move { client(c, &url, deadline).await }));
    }
    let (mut lat, mut errors, mut paid) = (Vec::new(), 0u64, Fen::ZERO);
    for t in tasks {
        let (l, e, p) = t.await??;
        lat.extend(l);
        errors += e;
        paid += p;
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |q: f64| {
        lat.get(((lat.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let after = balances(url).await?;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display())).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM settlements WHERE kind = 'settle' AND state = 'valid'",
    )
    .fetch_one(&pool)
    .await?;
    Ok(LoadReport {
        clients,
        seconds: secs,
        flows: lat.len() as u64,
        flows_per_sec: lat.len() as f64 / secs,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
        settlements_in_center: n,
        account_moved: before - after,
        account_paid_per_answers: paid,
    })
}

async fn balances(url: &str) -> anyhow::Result<Fen> {
    let v: Vec<Value> = reqwest::get(format!("{url}/sim/persons"))
        .await?
        .json()
        .await?;
    Ok(v.iter()
        .map(|p| Fen::parse(p["balance"].as_str().unwrap_or("0")).unwrap_or(Fen::ZERO))
        .sum())
}

async fn client(n: usize, url: &str, deadline: Instant) -> anyhow::Result<(Vec<f64>, u64, Fen)> {
    let code = format!("H{:011}", 44030300001u64 + n as u64);
    let client = Arc::new(Client::new(
        ClientConfig::new(url),
        Institution {
            fixmedins_code: code.clone(),
            fixmedins_name: "负载测试医院".into(),
            mdtrtarea_admvs: "440300".into(),
        },
    )?);
    let mut caller = Caller {
        opter: format!("L{n}"),
        opter_name: "负载".into(),
        ..Default::default()
    };
    let mut seq = 0u32;
    let mut call = |infno: Infno, input: Value, caller: &Caller| {
        seq += 1;
        let now = chrono::Local::now().naive_local();
        let env = client.envelope(
            infno,
            &nhsa::format_msgid(&code, now, seq),
            caller,
            now,
            input,
        );
        let client = client.clone();
        async move { client.send(&env).await }
    };
    let r = call(
        Infno::SignIn,
        i::sign_in(&caller.opter, "", "127.0.0.1"),
        &caller,
    )
    .await?;
    caller.sign_no = r.output["signinoutb"]["sign_no"]
        .as_str()
        .unwrap_or("")
        .into();
    let (mut lat, mut errors, mut paid) = (Vec::new(), 0u64, Fen::ZERO);
    let mut k = 0usize;
    while Instant::now() < deadline {
        let t = Instant::now();
        let certno = IDS[(n + k) % IDS.len()];
        k += 1;
        let flow = async {
            let p = call(
                Infno::PersonInfo,
                i::person_info("02", certno, "", ""),
                &caller,
            )
            .await?;
            let psn = p.output["baseinfo"]["psn_no"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let insu = p.output["insuinfo"][0].clone();
            let insutype = insu["insutype"].as_str().unwrap_or("310").to_string();
            let mut c2 = caller.clone();
            c2.insuplc_admdvs = insu["insuplc_admdvs"].as_str().unwrap_or("").into();
            let visit = nhsa::visit::Visit::demo("L1", "2026-11-25 09:00:00");
            let r = call(
                Infno::Register,
                i::register_visit(&psn, &insutype, "02", certno, &visit),
                &c2,
            )
            .await?;
            let mdtrt = r.output["data"]["mdtrt_id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            call(
                Infno::VisitUpload,
                i::visit_upload_visit(&mdtrt, &psn, "11", &visit),
                &c2,
            )
            .await?;
            let amt = Price::parse("25").unwrap().times(Qty::parse("2").unwrap());
            let d = [i::FeeDetail {
                feedetl_sn: "1",
                med_list_codg: "XJ01CAA040A001010100001",
                medins_list_codg: "HOSP-YP-0001",
                name: "阿莫西林胶囊",
                cnt: "2",
                pric: "25",
                det_item_fee_sumamt: amt,
                rxno: "",
                bilg_dept_codg: &visit.dept_code,
                bilg_dept_name: &visit.dept_name,
                bilg_dr_codg: &visit.atddr_no,
                bilg_dr_name: &visit.dr_name,
                hosp_appr_flag: "0",
            }];
            call(
                Infno::FeeUpload,
                i::fee_upload(&mdtrt, &psn, "B1", "", "2026-11-25 09:00:00", &d),
                &c2,
            )
            .await?;
            let pre_in =
                i::pre_settle(&psn, "02", certno, "11", amt, &mdtrt, "B1", true, &insutype);
            let pre = call(Infno::PreSettle, pre_in.clone(), &c2).await?;
            let s: nhsa::types::Setlinfo = serde_json::from_value(pre.output["setlinfo"].clone())?;
            let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
            let done = call(
                Infno::Settle,
                i::settle(
                    &pre_in,
                    "",
                    z(s.fulamt_ownpay_amt),
                    z(s.overlmt_selfpay),
                    z(s.preselfpay_amt),
                    z(s.inscp_scp_amt),
                ),
                &c2,
            )
            .await?;
            let st: nhsa::types::Setlinfo =
                serde_json::from_value(done.output["setlinfo"].clone())?;
            anyhow::Ok(z(st.acct_pay) + z(st.acct_mulaid_pay))
        };
        match flow.await {
            Ok(acct) => {
                paid += acct;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Err(_) => errors += 1,
        }
    }
    Ok((lat, errors, paid))
}
