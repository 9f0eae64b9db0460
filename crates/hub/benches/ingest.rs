//! The hub at institution scale: a synthetic day of 100 counters × 500 checkouts (a
//! settlement and a cash payment each, every 100th settlement cancelled: 100 500 facts)
//! pushed to a hub on a real PostgreSQL (a cluster the bench starts and stops, as the
//! tests do), 8 counters at a time in batches of 500; then the institution's day report,
//! and the hub's side of the institution's end of day (`yibao hub close` without a
//! center): the day's settlements (the query alone, and `GET /v1/settlements`) grouped
//! for 3201 with `reconcile::groups`. Memory: the hub runs in this process, so its peak
//! is the process's VmHWM (with the generator's facts); PostgreSQL's is the sum of the
//! PSS of the cluster's processes (shared memory split between the processes that map
//! it), sampled every 250 ms.
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

/// The cluster's memory now: the PSS (shared pages split between the processes that map
/// them) of the postmaster and its children, in kB.
fn cluster_pss_kb(postmaster: u32) -> u64 {
    let mut pids = vec![postmaster];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid …
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if ppid == Some(postmaster) {
                pids.push(pid);
            }
        }
    }
    pids.iter()
        .map(|p| {
            std::fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
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
    let postmaster: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pg_peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, on) = (pg_peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while on.load(std::sync::atomic::Ordering::SeqCst) {
                peak.fetch_max(
                    cluster_pss_kb(postmaster),
                    std::sync::atomic::Ordering::SeqCst,
                );
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
        })
    };
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
        for (c, key) in keys.into_iter().enumerate() {
            let url = url.clone();
            let sem = sem.clone();
            tasks.push(tokio::spawn(async move {
                let _p = sem.acquire().await.unwrap();
                let http = reqwest::Client::new();
                let mut facts = Vec::new();
                let mut prev = "0".repeat(64);
                let mut seq = 0i64;
                for k in 0..checkouts {
                    let setl_id = format!("S{c:03}{k:06}");
                    let time = format!("2026-12-01 {:02}:{:02}:00", 8 + k * 10 / checkouts.max(1), k % 60);
                    let msgid = format!("H44030300001{}{:02}{:02}", time.replace(['-', ' ', ':'], ""), c % 99 + 1, k % 100);
                    // Employees (310) and residents (390), as a day's mix.
                    let insutype = if k % 4 == 3 { "390" } else { "310" };
                    let mut facts_of_k = vec![
                        ("settlement.settle", json!({"setl_id": setl_id, "msgid": msgid, "medfee_sumamt": "100.00",
                            "fund_pay_sumamt": "70.00", "acct_pay": "20.00", "acct_mulaid_pay": "0.00",
                            "psn_cash_pay": "10.00", "insutype": insutype, "clr_type": "11", "clr_optins": "440300",
                            "psn_no": format!("P{k:08}"), "mdtrt_id": format!("M{c:03}{k:06}"), "setl_time": time})),
                        ("payment.collect", json!({"setl_id": setl_id, "channel": "cash", "amount": "10.00"})),
                    ];
                    if k % 100 == 99 {
                        facts_of_k.push(("settlement.cancel", json!({"setl_id": format!("{setl_id}R"),
                            "orig_setl_id": setl_id, "msgid": msgid, "medfee_sumamt": "-100.00",
                            "fund_pay_sumamt": "-70.00", "acct_pay": "-20.00", "acct_mulaid_pay": "0.00",
                            "psn_cash_pay": "-10.00", "insutype": insutype, "clr_type": "11", "clr_optins": "440300",
                            "psn_no": format!("P{k:08}"), "mdtrt_id": format!("M{c:03}{k:06}"), "setl_time": time})));
                    }
                    for (action, detail) in facts_of_k {
                        seq += 1;
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
        let cancelled = counters * (checkouts / 100);
        assert_eq!(r["checkouts"], (counters * checkouts - cancelled) as u64, "{r}");
        // The institution's end of day, the hub's side: the day's settlements (the query
        // alone, then over HTTP as `yibao hub close` fetches them), grouped for 3201.
        let pool = sqlx::postgres::PgPool::connect(&format!("postgres://postgres@127.0.0.1:{port}/hub"))
            .await
            .unwrap();
        let t = Instant::now();
        let q = hub::settlements::of_day(&pool, "2026-12-01").await.unwrap();
        let query_ms = t.elapsed().as_secs_f64() * 1000.0;
        drop(q);
        let t = Instant::now();
        let day = hub::client::settlements(&url, "admin", "2026-12-01").await.unwrap();
        let fetch_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let groups = reconcile::groups(&day.records(), "2026-12-01", false);
        let group_ms = t.elapsed().as_secs_f64() * 1000.0;
        let counted: i64 = groups.iter().map(|g| g.count).sum();
        assert_eq!(counted as usize, counters * checkouts - cancelled);
        assert_eq!(day.settlements.len(), counters * checkouts + cancelled);
        let eod_after = status_kb("VmHWM");
        let rows = day.settlements.len();
        (secs, before, after, report_ms, query_ms, fetch_ms, group_ms, groups.len(), rows, eod_after)
    });
    sampling.store(false, std::sync::atomic::Ordering::SeqCst);
    sampler.join().unwrap();
    let pg_peak_kb = pg_peak.load(std::sync::atomic::Ordering::SeqCst);
    let pg_now_kb = cluster_pss_kb(postmaster);
    as_pg(&[
        &format!("{PG_BIN}/pg_ctl"),
        "-D",
        data.to_str().unwrap(),
        "-m",
        "fast",
        "stop",
    ]);
    let (secs, before, after, report_ms, query_ms, fetch_ms, group_ms, ngroups, rows, eod_after) =
        result;
    let facts = counters * checkouts * 2 + counters * (checkouts / 100);
    println!("| measure ({counters} counters × {checkouts} checkouts, {facts} facts) | value |\n|---|---|");
    println!(
        "| ingest, 8 counters at a time, batches of 500 | {secs:.1} s ({:.0} facts/s) |",
        facts as f64 / secs
    );
    println!("| the institution's day report over them | {report_ms:.0} ms |");
    println!(
        "| the institution's end of day, the hub's side ({rows} settlements and cancellations → {ngroups} groups for 3201): the query / `GET /v1/settlements` / `reconcile::groups` | {query_ms:.0} ms / {fetch_ms:.0} ms / {group_ms:.0} ms (total {:.0} ms) |",
        fetch_ms + group_ms
    );
    println!("| peak resident memory (VmHWM) of this process — the hub in-process, the generator's facts and the end of day's client — before the ingest / after it / after the end of day | {:.1} MB / {:.1} MB / {:.1} MB |", before as f64 / 1024.0, after as f64 / 1024.0, eod_after as f64 / 1024.0);
    println!(
        "| PostgreSQL 15 (postmaster and backends, Σ PSS): peak during the run / at the end | {:.1} MB / {:.1} MB |",
        pg_peak_kb as f64 / 1024.0,
        pg_now_kb as f64 / 1024.0
    );
}
