//! `cargo bench -p checkout --bench overhead`: the headless checkout's own
//! overhead per patient (ledger writes, state saves, checks) = one engine
//! checkout − the same center calls made with the bare client; and the
//! offline queue's replay throughput. Against an in-process simulator on
//! loopback; prints a Markdown table for the README.
use std::time::Instant;

use checkout::{Engine, EngineConfig, Operator, Pay};
use money::Fen;

const N: usize = 200;

fn lines() -> Vec<billing::BillLine> {
    let c = billing::Catalog::demo();
    vec![
        c.search("amxl", 1)[0].line(money::Qty::parse("2").unwrap()),
        c.search("xcg", 1)[0].line(money::Qty::parse("1").unwrap()),
    ]
}

async fn engine(url: &str, dir: &std::path::Path) -> (Engine, Operator) {
    let key = ledger::LedgerKey::load_or_create(&dir.join("l.key")).unwrap();
    let l = ledger::Ledger::open(&dir.join("ledger.db"), &key)
        .await
        .unwrap();
    l.set_counter_no(1).await.unwrap();
    let now = chrono::Local::now().naive_local();
    l.create_operator(
        "B001",
        "压测",
        ledger::Role::Supervisor,
        "bench-pass-1",
        now,
    )
    .await
    .unwrap();
    (
        Engine::new(l, EngineConfig::demo(url)).unwrap(),
        Operator {
            id: "B001".into(),
            name: "压测".into(),
        },
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let addr = center_sim::spawn("127.0.0.1:0", &dir.path().join("sim.db"), center_sim::SimOptions { control: true, ..Default::default() }).await.unwrap();
        let url = format!("http://{addr}");
        let (e, op) = engine(&url, dir.path()).await;
        // Engine checkouts (by 身份证 so no fresh code is needed per patient).
        let mut engine_ms = Vec::new();
        let mut rss_early = 0;
        for k in 0..N {
            if k == 20 {
                rss_early = status_kb("VmRSS");
            }
            let t = Instant::now();
            let v = e.start(&op).await.unwrap();
            let id = if k % 2 == 0 { "44030519850312001X" } else { "440306199207080026" };
            e.resolve_id(&op, &v.id, id, "").await.unwrap();
            e.set_lines(&op, &v.id, lines()).await.unwrap();
            e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
            e.presettle(&op, &v.id, true).await.unwrap();
            let s = e.settle(&op, &v.id).await.unwrap();
            if s.state == checkout::CheckoutState::Settled {
                e.pay(&op, &v.id, Pay::Cash { given: s.due }).await.unwrap();
            }
            engine_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let rss_late = status_kb("VmRSS");
        // The same calls with the bare client (no ledger, no state machine).
        let bare_ms = bare(&url, N).await;
        // Queue replay throughput.
        let dir2 = tempfile::tempdir().unwrap();
        let (e2, op2) = engine("http://127.0.0.1:9", dir2.path()).await;
        for _ in 0..N {
            let v = e2.start(&op2).await.unwrap();
            e2.set_lines(&op2, &v.id, lines()).await.unwrap();
            e2.set_visit(&op2, &v.id, "11", demo_visit()).await.unwrap();
            e2.offline_collect(&op2, &v.id, "44030519850312001X", "张伟", Pay::Cash { given: Fen::yuan(200) }).await.unwrap();
        }
        let e3 = Engine::new(e2.ledger.clone(), EngineConfig::demo(&url)).unwrap();
        let t = Instant::now();
        let r = e3.sync_queue(&op2, true).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(r.done.len(), N, "{r:?}");
        let med = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let (mut a, mut b) = (engine_ms.clone(), bare_ms.clone());
        let (em, bm) = (med(&mut a), med(&mut b));
        println!("| measure | value |\n|---|---|");
        println!("| engine checkout, median per patient (9001 once, 1101, 2201, 2203, 2205/2204, 2206, 2207, cash) | {em:.2} ms |");
        println!("| the same center calls with the bare client, median | {bm:.2} ms |");
        println!("| the engine's own overhead per patient (difference) | {:.2} ms |", em - bm);
        println!("| offline queue replay ({N} settlements) | {:.1} items/s |", N as f64 / secs);
        println!("| resident memory (engine + in-process simulator) after 20 / {N} checkouts | {:.1} MB / {:.1} MB |", rss_early as f64 / 1024.0, rss_late as f64 / 1024.0);
        println!("| peak resident memory of the whole run | {:.1} MB |", status_kb("VmHWM") as f64 / 1024.0);
    });
}

/// A `/proc/self/status` figure in kB (Linux), 0 elsewhere.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn bare(url: &str, n: usize) -> Vec<f64> {
    use nhsa::inputs as i;
    use nhsa::{Caller, Client, ClientConfig, Infno, Institution};
    let client = Client::new(
        ClientConfig::new(url),
        Institution {
            fixmedins_code: "H44030300002".into(),
            fixmedins_name: "B".into(),
            mdtrtarea_admvs: "440300".into(),
        },
    )
    .unwrap();
    let mut caller = Caller {
        opter: "B2".into(),
        opter_name: "b".into(),
        ..Default::default()
    };
    let mut seq = 0u32;
    let mut call = |infno: Infno, input: serde_json::Value, c: &Caller| {
        seq += 1;
        let now = chrono::Local::now().naive_local();
        let env = client.envelope(
            infno,
            &nhsa::format_msgid("H44030300002", now, seq),
            c,
            now,
            input,
        );
        let client = client.clone();
        async move { client.send(&env).await.unwrap() }
    };
    let r = call(Infno::SignIn, i::sign_in("B2", "", ""), &caller).await;
    caller.sign_no = r.output["signinoutb"]["sign_no"].as_str().unwrap().into();
    let mut out = Vec::new();
    for k in 0..n {
        let t = Instant::now();
        let id = if k % 2 == 0 {
            "44030519850312001X"
        } else {
            "440306199207080026"
        };
        let p = call(Infno::PersonInfo, i::person_info("02", id, "", ""), &caller).await;
        let psn = p.output["baseinfo"]["psn_no"].as_str().unwrap().to_string();
        let insutype = p.output["insuinfo"][0]["insutype"]
            .as_str()
            .unwrap()
            .to_string();
        caller.insuplc_admdvs = p.output["insuinfo"][0]["insuplc_admdvs"]
            .as_str()
            .unwrap()
            .into();
        let visit = nhsa::visit::Visit::demo("O1", "2026-11-25 09:00:00");
        let r = call(
            Infno::Register,
            i::register_visit(&psn, &insutype, "02", id, &visit),
            &caller,
        )
        .await;
        let mdtrt = r.output["data"]["mdtrt_id"].as_str().unwrap().to_string();
        call(
            Infno::VisitUpload,
            i::visit_upload_visit(&mdtrt, &psn, "11", &visit),
            &caller,
        )
        .await;
        let ls = lines();
        let amts: Vec<Fen> = ls.iter().map(|l| l.amount()).collect();
        let cnts: Vec<String> = ls.iter().map(|l| l.cnt.to_string()).collect();
        let prics: Vec<String> = ls.iter().map(|l| l.pric.to_string()).collect();
        let d: Vec<i::FeeDetail> = ls
            .iter()
            .enumerate()
            .map(|(j, l)| i::FeeDetail {
                feedetl_sn: if j == 0 { "1" } else { "2" },
                med_list_codg: l.med_list_codg.as_deref().unwrap(),
                medins_list_codg: &l.order.medins_list_codg,
                name: &l.name,
                cnt: &cnts[j],
                pric: &prics[j],
                det_item_fee_sumamt: amts[j],
                rxno: "",
                bilg_dept_codg: &visit.dept_code,
                bilg_dept_name: &visit.dept_name,
                bilg_dr_codg: &visit.atddr_no,
                bilg_dr_name: &visit.dr_name,
                hosp_appr_flag: "0",
            })
            .collect();
        call(
            Infno::FeeUpload,
            i::fee_upload(&mdtrt, &psn, "B", "", "2026-11-25 09:00:00", &d),
            &caller,
        )
        .await;
        let total: Fen = amts.iter().copied().sum();
        let pre_in = i::pre_settle(&psn, "02", id, "11", total, &mdtrt, "B", true, &insutype);
        let pre = call(Infno::PreSettle, pre_in.clone(), &caller).await;
        let s: nhsa::types::Setlinfo =
            serde_json::from_value(pre.output["setlinfo"].clone()).unwrap();
        let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
        call(
            Infno::Settle,
            i::settle(
                &pre_in,
                "",
                z(s.fulamt_ownpay_amt),
                z(s.overlmt_selfpay),
                z(s.preselfpay_amt),
                z(s.inscp_scp_amt),
            ),
            &caller,
        )
        .await;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

fn demo_visit() -> nhsa::visit::Visit {
    nhsa::visit::Visit::demo("MZ1", "2026-11-25 09:00:00")
}
