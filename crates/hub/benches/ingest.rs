//! The hub at institution scale: a synthetic day of 100 counters × 500 checkouts (a
//! settlement and a cash payment each: 100 000 facts) pushed to a hub on a real
//! PostgreSQL (a cluster the bench starts and stops, as the tests do), 8 counters at a
//! time in batches of 500; then the institution's day report.
//! `cargo bench -p hub --bench ingest [-- COUNTERS CHECKOUTS]` prints a table for the README.
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::json;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn as_pg(args: &[&str]) {
    let st = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("runuser");
    assert!(st.success(), "{args:?}");
}

fn main() {
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counters = nums.first().copied().unwrap_or(100);
    let checkouts = nums.get(1).copied().unwrap_or(500);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let data = tmp.path().join("pg");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    as_pg(&[
        &format!("{PG_BIN}/initdb"),
        "-D",
        data.to_str().unwrap(),
        "-A",
        "trust",
        "-U",
        "postgres",
    ]);
    as_pg(&[
        &format!("{PG_BIN}/pg_ctl"),
        "-D",
        data.to_str().unwrap(),
        "-l",
        tmp.path().join("pg.log").to_str().unwrap(),
        "-o",
        &format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            tmp.path().display()
        ),
        "-w",
        "start",
    ]);
    as_pg(&[
        &format!("{PG_BIN}/createdb"),
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "postgres",
        "hub",
    ]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async move {
        let app = hub::router(hub::HubOptions {
            database_url: format!("postgres://postgres@127.0.0.1:{port}/hub"),
            admin_token: "admin".into(),
        })
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut keys = Vec::new();
        for c in 0..counters {
            keys.push(hub::client::enroll(&url, "admin", &format!("C{c:03}")).await.unwrap());
        }
        let before = status_kb("VmHWM");
        let t = Instant::now();
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = Vec::new();
        for key in keys {
            let url = url.clone();
            let sem = sem.clone();
            tasks.push(tokio::spawn(async move {
                let _p = sem.acquire().await.unwrap();
                let http = reqwest::Client::new();
                let mut facts = Vec::new();
                let mut prev = "0".repeat(64);
                for k in 0..checkouts {
                    for (j, (action, detail)) in [
                        ("settlement.settle", json!({"setl_id": format!("S{k}"), "medfee_sumamt": "100.00",
                            "fund_pay_sumamt": "70.00", "acct_pay": "20.00", "acct_mulaid_pay": "0.00",
                            "psn_cash_pay": "10.00", "insutype": "310", "clr_type": "11", "clr_optins": "440300"})),
                        ("payment.collect", json!({"setl_id": format!("S{k}"), "channel": "cash", "amount": "10.00"})),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        let seq = (k * 2 + j + 1) as i64;
                        let hash = format!("{key}-{seq:012}");
                        facts.push(json!({"seq": seq, "time": "2026-12-01 10:00:00.000", "actor": "C001",
                            "action": action, "detail": detail, "prev_hash": prev, "hash": hash}));
                        prev = hash;
                    }
                }
                for batch in facts.chunks(500) {
                    let r = http
                        .post(format!("{url}/v1/facts"))
                        .bearer_auth(&key)
                        .json(&json!({"facts": batch}))
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        let after = status_kb("VmHWM");
        let t = Instant::now();
        let r = hub::client::report(&url, "admin", "2026-12-01").await.unwrap();
        let report_ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(r["checkouts"], (counters * checkouts) as u64, "{r}");
        (secs, before, after, report_ms)
    });
    as_pg(&[
        &format!("{PG_BIN}/pg_ctl"),
        "-D",
        data.to_str().unwrap(),
        "-m",
        "fast",
        "stop",
    ]);
    let (secs, before, after, report_ms) = result;
    let facts = counters * checkouts * 2;
    println!("| measure ({counters} counters × {checkouts} checkouts, {facts} facts) | value |\n|---|---|");
    println!(
        "| ingest, 8 counters at a time, batches of 500 | {secs:.1} s ({:.0} facts/s) |",
        facts as f64 / secs
    );
    println!("| the institution's day report over them | {report_ms:.0} ms |");
    println!("| peak resident memory of the hub process (in-process; before / after the day) | {:.1} MB / {:.1} MB |", before as f64 / 1024.0, after as f64 / 1024.0);
}
