//! The institution's hub on a real PostgreSQL (issue "The hospital, not one counter"):
//! the tests start their own cluster on loopback (initdb and pg_ctl as the postgres user)
//! and stop it. Counters with their own ledgers push their facts; the hub is killed
//! with SIGKILL and restarted between and during pushes; when all have drained, the
//! institution's report equals the sum of the counters' ledgers and the center's own
//! settlements, nothing doubled or missing; a fact that rewrites history is refused.
//! At institution scale: ten counter processes × 50 checkouts through two kills and a
//! cut network (a TCP proxy between the counters and the hub), then the institution's
//! end of day (`yibao hub close`) balances, and a settlement the center's staff reverse
//! is traced to its counter and cashier.
use std::collections::HashMap;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{
    add_users, checkout_b1a_as, free_port, json_of, with_stdin, yibao, yibao_as, Sim, BILL, CLINIC,
    STAFF,
};

use common::pg::{HubProc as Hub, Pg, ADMIN};

fn push(db: &Path, url: &str, key: &str) -> (Option<i32>, Value) {
    let out = yibao()
        .args(["hub", "push", "--db"])
        .arg(db)
        .args(["--hub", url, "--key", key])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), v)
}

fn fen(s: &Value) -> i64 {
    money::Fen::parse(s.as_str().unwrap_or("0")).unwrap().0
}

#[test]
fn every_counters_facts_reach_the_hub_exactly_once_through_kills() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut hub = Some(Hub::start(port, &pg));

    // Three counters, each its own ledger and counter number, enrolled once.
    let mut counters = Vec::new();
    for n in 1..=3u8 {
        let out = yibao()
            .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
            .args([
                "hub",
                "enroll",
                "--hub",
                &url,
                "--counter",
                &format!("C{n:02}"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key = String::from_utf8(out.stdout).unwrap();
        assert_eq!(key.lines().count(), 1);
        assert!(
            key.starts_with(&format!("C{n:02}.")),
            "the key names its counter: {key}"
        );
        let d = dir.path().join(format!("counter{n}"));
        std::fs::create_dir_all(&d).unwrap();
        counters.push((n, d.join("ledger.db"), key.trim().to_string()));
    }
    // Enrolling twice is refused.
    let again = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .args(["hub", "enroll", "--hub", &url, "--counter", "C01"])
        .output()
        .unwrap();
    assert!(!again.status.success());

    // Each counter settles three patients while the hub is up, down or coming back.
    let (mut medfee, mut fund, mut acct, mut cash) = (0i64, 0i64, 0i64, 0i64);
    for round in 0..3 {
        if round == 1 {
            hub.take().unwrap().kill();
        }
        for (n, db, _) in &counters {
            let mut c = yibao_as(db, "C001");
            c.env("YIBAO_COUNTER_NO", n.to_string());
            let out = checkout_b1a_as(c, &s.url, db, &["--qr", "44030519850312001X"]);
            let v = json_of(&out);
            assert!(
                out.status.success(),
                "{v} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            medfee += fen(&v["split"]["medfee_sumamt"]);
            fund += fen(&v["split"]["fund_pay_sumamt"]);
            acct += fen(&v["split"]["acct_pay"]);
            for p in v["payments"].as_array().unwrap() {
                if p["channel"] == "cash" {
                    cash += fen(&p["amount"]);
                }
            }
        }
        // Push every counter: with the hub down nothing is lost, only pending.
        for (_, db, key) in &counters {
            let (code, v) = push(db, &url, key);
            if hub.is_none() {
                assert_ne!(code, Some(0), "the hub is down: {v}");
            }
        }
        if round == 1 {
            hub = Some(Hub::start(port, &pg));
            // Killed again in the middle of a push, then back.
            let mut p = yibao()
                .args(["hub", "push", "--db"])
                .arg(&counters[0].1)
                .args(["--hub", &url, "--key", &counters[0].2])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(30));
            hub.take().unwrap().kill();
            let _ = p.wait();
            hub = Some(Hub::start(port, &pg));
        }
    }
    // Everything drains; a second drain pushes nothing.
    for (_, db, key) in &counters {
        let (code, v) = push(db, &url, key);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["pending"], 0, "{v}");
        let (_, v) = push(db, &url, key);
        assert_eq!(v["pushed"], 0, "nothing doubled: {v}");
    }

    // The institution's day equals the counters' ledgers and the center's own book.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .args(["hub", "report", "--hub", &url, "--date", &today])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["checkouts"], 9, "{r}");
    assert_eq!(fen(&r["medfee_sumamt"]), medfee, "{r}");
    assert_eq!(fen(&r["fund_pay_sumamt"]), fund, "{r}");
    assert_eq!(fen(&r["acct_pay"]), acct, "{r}");
    assert_eq!(fen(&r["cash"]), cash, "{r}");
    assert_eq!(r["counters"].as_array().unwrap().len(), 3);
    let center: i64 = s
        .settlements()
        .iter()
        .filter(|x| x["state"] == "valid")
        .map(|x| fen(&x["medfee_sumamt"]))
        .sum();
    assert_eq!(center, medfee, "the center's own settlements");
    // Every settlement is in its hour (the finance screen's chart), and the finance CSV
    // carries the same total.
    let in_hours: i64 = r["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["checkouts"].as_i64().unwrap())
        .sum();
    assert_eq!(in_hours, 9, "{r}");
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .args(["hub", "report", "--hub", &url, "--date", &today, "--csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
    let total = format!("合计,9,{}", money::Fen(medfee));
    assert!(csv.contains(&total), "{total} in {csv}");
    assert_eq!(csv.matches("\r\nC0").count(), 3, "a row per counter: {csv}");

    // A fact that rewrites history, and an unknown counter, are refused.
    let forged = serde_json::json!({"facts": [{"seq": 1, "time": "2026-12-01 00:00:00", "actor": "x",
        "action": "settlement.settle", "detail": {"medfee_sumamt": "999.00"},
        "prev_hash": "0", "hash": "forged"}]});
    let code = |key: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
            ])
            .args([
                "-H",
                &format!("authorization: Bearer {key}"),
                "--data",
                &forged.to_string(),
            ])
            .arg(format!("{url}/v1/facts"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(code(&counters[0].2), "409");
    assert_eq!(code("C09.0000"), "401");
    drop(hub);
}

/// A TCP proxy between the counters and the hub (std::net): while cut, it drops every
/// connection at once, open ones included — the network to the hub is gone.
struct Proxy {
    port: u16,
    cut: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<Mutex<HashMap<u64, (TcpStream, TcpStream)>>>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open: Arc<Mutex<HashMap<u64, (TcpStream, TcpStream)>>> = Arc::default();
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for (id, s) in l.incoming().enumerate() {
                let Ok(down) = s else { continue };
                if c.load(Ordering::SeqCst) {
                    let _ = down.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = down.shutdown(Shutdown::Both);
                    continue;
                };
                let id = id as u64;
                o.lock()
                    .unwrap()
                    .insert(id, (down.try_clone().unwrap(), up.try_clone().unwrap()));
                for (mut from, mut to) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, down),
                ] {
                    let o = o.clone();
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = from.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        o.lock().unwrap().remove(&id);
                    });
                }
            }
        });
        Proxy { port, cut, open }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_cut(&self, on: bool) {
        self.cut.store(on, Ordering::SeqCst);
        if on {
            for (_, (a, b)) in self.open.lock().unwrap().drain() {
                let _ = a.shutdown(Shutdown::Both);
                let _ = b.shutdown(Shutdown::Both);
            }
        }
    }
}

/// ID numbers of demo persons that settle (employees 310, a resident 390, a retired
/// 慢特病 patient, a cross-province one).
const IDS: [&str; 5] = [
    "44030519850312001X",
    "440306199207080026",
    "440303197811230037",
    "310115198809090063",
    "440303195302140085",
];

/// The session token of `id` with `password` on `db`.
fn login_as(db: &Path, id: &str, password: &str) -> String {
    let mut c = yibao();
    c.args(["login", "--operator", id, "--db"]).arg(db);
    let out = with_stdin(c, &format!("{password}\n"));
    assert!(
        out.status.success(),
        "login {id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What one counter did: its totals (medfee, fund, acct, cash, card) from the
/// checkouts' own outputs, its settlements (setl_id, certno), and every push as
/// (outage epoch before, after, exit code).
#[derive(Default)]
struct CounterRun {
    sums: [i64; 5],
    settled: Vec<(String, String)>,
    pushes: Vec<(u64, u64, Option<i32>)>,
}

/// One `yibao checkout` of the bill B1a; its JSON.
fn checkout_as(sim: &str, db: &Path, n: u8, token: &str, certno: &str, pay: &str) -> Value {
    let out = yibao()
        .env("YIBAO_COUNTER_NO", n.to_string())
        .env("YIBAO_SESSION", token)
        .args(["checkout", "--center", sim, "--qr", certno, "--pay", pay])
        .args(["--bill", BILL])
        .args(CLINIC)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "counter {n}: {v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

/// `yibao hub close` from the finance workstation; (exit code, its JSON).
fn hub_close(sim: &str, hub: &str, db: &Path, token: &str, day: &str) -> (Option<i32>, Value) {
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .env("YIBAO_SESSION", token)
        .args(["hub", "close", "--hub", hub, "--center", sim, "--date", day])
        .args(["--terminal", "99", "--db"])
        .arg(db)
        .output()
        .unwrap();
    (out.status.code(), json_of(&out))
}

#[test]
fn ten_counters_through_kills_and_a_cut_network_then_the_institutions_close() {
    const COUNTERS: u8 = 10;
    const CHECKOUTS: usize = 50;
    const PUSH_EVERY: usize = 5;
    let started = Instant::now();
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let port = free_port();
    let direct = format!("http://127.0.0.1:{port}");
    let hub = Arc::new(Mutex::new(Some(Hub::start(port, &pg))));
    let proxy = Proxy::start(port);
    // Odd while the hub cannot be reached (killed, or the network cut).
    let outage = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    // A patient is at one counter at a time (the center settles one person's visits
    // in turn: a 2207 racing another counter's for the same account is held).
    let at_a_counter: Arc<Vec<Mutex<()>>> = Arc::new(IDS.iter().map(|_| Mutex::new(())).collect());

    // Ten counters C01..C10: each its own ledger, counter number and cashier (C101..C110).
    let mut keys = Vec::new();
    for n in 1..=COUNTERS {
        let out = yibao()
            .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
            .args(["hub", "enroll", "--hub", &direct])
            .args(["--counter", &format!("C{n:02}")])
            .output()
            .unwrap();
        assert!(out.status.success());
        keys.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    let ledgers: Vec<PathBuf> = (1..=COUNTERS)
        .map(|n| {
            let d = dir.path().join(format!("counter{n}"));
            std::fs::create_dir_all(&d).unwrap();
            d.join("ledger.db")
        })
        .collect();

    // The counters run in parallel, each its checkouts one after another, pushing to
    // the hub through the proxy after every few.
    let runs: Vec<_> = (1..=COUNTERS)
        .map(|n| {
            let (db, key) = (
                ledgers[n as usize - 1].clone(),
                keys[n as usize - 1].clone(),
            );
            let (sim, via) = (s.url.clone(), proxy.url());
            let (outage, done, at_a_counter) = (outage.clone(), done.clone(), at_a_counter.clone());
            std::thread::spawn(move || {
                let cashier = format!("C1{n:02}");
                add_users(
                    &db,
                    &[
                        STAFF[0],
                        (cashier.as_str(), "收费员", "cashier", "cashier-pass-1"),
                    ],
                );
                let token = login_as(&db, &cashier, "cashier-pass-1");
                let mut run = CounterRun::default();
                for k in 0..CHECKOUTS {
                    // The next patient not at another counter just now.
                    let (certno, _at_this_counter) = loop {
                        let free = (0..IDS.len())
                            .map(|i| (n as usize + k + i) % IDS.len())
                            .find_map(|i| match at_a_counter[i].try_lock() {
                                Ok(g) => Some((IDS[i], g)),
                                Err(std::sync::TryLockError::Poisoned(g)) => {
                                    Some((IDS[i], g.into_inner()))
                                }
                                Err(std::sync::TryLockError::WouldBlock) => None,
                            });
                        match free {
                            Some(p) => break p,
                            None => std::thread::sleep(Duration::from_millis(5)),
                        }
                    };
                    let pay = if k % 3 == 2 { "card" } else { "cash" };
                    let v = checkout_as(&sim, &db, n, &token, certno, pay);
                    drop(_at_this_counter);
                    run.sums[0] += fen(&v["split"]["medfee_sumamt"]);
                    run.sums[1] += fen(&v["split"]["fund_pay_sumamt"]);
                    run.sums[2] += fen(&v["split"]["acct_pay"]);
                    for p in v["payments"].as_array().unwrap() {
                        match p["channel"].as_str() {
                            Some("cash") => run.sums[3] += fen(&p["amount"]),
                            Some("card") => run.sums[4] += fen(&p["amount"]),
                            _ => {}
                        }
                    }
                    run.settled.push((
                        v["setl_id"].as_str().unwrap().to_string(),
                        certno.to_string(),
                    ));
                    done.fetch_add(1, Ordering::SeqCst);
                    if k % PUSH_EVERY == PUSH_EVERY - 1 {
                        let before = outage.load(Ordering::SeqCst);
                        let (code, _) = push(&db, &via, &key);
                        run.pushes
                            .push((before, outage.load(Ordering::SeqCst), code));
                    }
                }
                run
            })
        })
        .collect();

    // Meanwhile: the hub SIGKILLed and restarted, the network cut for a while, the hub
    // SIGKILLed again in the middle of the pushes.
    let total = COUNTERS as usize * CHECKOUTS;
    let wait_for = |share: usize| {
        while done.load(Ordering::SeqCst) * 100 < total * share
            && !runs.iter().all(|t| t.is_finished())
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut timeline = Vec::new();
    let step = |what: &str, timeline: &mut Vec<String>| {
        outage.fetch_add(1, Ordering::SeqCst);
        timeline.push(format!(
            "{:>5.1} s {what} ({} checkouts done)",
            started.elapsed().as_secs_f64(),
            done.load(Ordering::SeqCst)
        ));
    };
    wait_for(10);
    hub.lock().unwrap().take().unwrap().kill();
    step("hub SIGKILLed", &mut timeline);
    std::thread::sleep(Duration::from_millis(1500));
    *hub.lock().unwrap() = Some(Hub::start(port, &pg));
    step("hub restarted", &mut timeline);
    wait_for(35);
    proxy.set_cut(true);
    step("network to the hub cut", &mut timeline);
    let cut_at = Instant::now();
    wait_for(55);
    while cut_at.elapsed() < Duration::from_secs(4) {
        std::thread::sleep(Duration::from_millis(50));
    }
    proxy.set_cut(false);
    step("network back", &mut timeline);
    wait_for(70);
    hub.lock().unwrap().take().unwrap().kill();
    step("hub SIGKILLed again", &mut timeline);
    std::thread::sleep(Duration::from_millis(1000));
    *hub.lock().unwrap() = Some(Hub::start(port, &pg));
    step("hub restarted", &mut timeline);
    let runs: Vec<CounterRun> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let ran = started.elapsed();
    eprintln!("{}", timeline.join("\n"));
    eprintln!(
        "{total} checkouts on {COUNTERS} counters in {:.1} s",
        ran.as_secs_f64()
    );

    // Every push while the hub could not be reached failed (and lost nothing: below).
    let mut failed_in_outage = 0;
    for (n, r) in runs.iter().enumerate() {
        for (before, after, code) in &r.pushes {
            if before == after && before % 2 == 1 {
                assert_ne!(*code, Some(0), "counter {} pushed into an outage", n + 1);
                failed_in_outage += 1;
            }
        }
    }
    assert!(
        failed_in_outage > 0,
        "no push fell inside an outage: {timeline:?}"
    );
    eprintln!("{failed_in_outage} pushes failed while the hub could not be reached");

    // All drain (through the proxy, the network back); a second drain pushes nothing.
    for (db, key) in ledgers.iter().zip(&keys) {
        let (code, v) = push(db, &proxy.url(), key);
        assert_eq!((code, &v["pending"]), (Some(0), &Value::from(0)), "{v}");
        let (_, v) = push(db, &proxy.url(), key);
        assert_eq!(v["pushed"], 0, "nothing doubled: {v}");
    }
    // The hub holds each counter's audit log whole, once: as many facts as the ledger
    // has entries, numbered 1..N; one money fact per settlement.
    for (i, db) in ledgers.iter().enumerate() {
        let n = common::sqlite(db, "SELECT COUNT(*) FROM audit_log");
        let held = pg.query(&format!(
            "SELECT COUNT(*) || ':' || COUNT(DISTINCT seq) || ':' || MAX(seq) FROM facts WHERE counter_id = 'C{:02}'",
            i + 1
        ));
        assert_eq!(held, format!("{n}:{n}:{n}"), "counter {}", i + 1);
        let settled = pg.query(&format!(
            "SELECT COUNT(*) || ':' || COUNT(DISTINCT setl_id) FROM money_facts WHERE counter_id = 'C{:02}' AND kind = 'settle'",
            i + 1
        ));
        assert_eq!(settled, format!("{CHECKOUTS}:{CHECKOUTS}"));
        let ledger_sum = common::sqlite(
            db,
            "SELECT COUNT(*) || ':' || SUM(medfee_sumamt) || ':' || SUM(fund_pay_sumamt) || ':' || SUM(acct_pay) FROM settlements WHERE kind = 'settle'",
        );
        let r = &runs[i].sums;
        assert_eq!(
            ledger_sum,
            format!("{CHECKOUTS}:{}:{}:{}", r[0], r[1], r[2])
        );
    }

    // The institution's day equals the counters' ledgers and the center's own book.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .args(["hub", "report", "--hub", &direct, "--date", &today])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sum = [0i64; 5];
    for (i, run) in runs.iter().enumerate() {
        let c = &r["counters"][i];
        assert_eq!(c["counter"], format!("C{:02}", i + 1), "{r}");
        assert_eq!(c["checkouts"], CHECKOUTS, "{c}");
        assert_eq!(fen(&c["medfee_sumamt"]), run.sums[0], "{c}");
        for (t, v) in sum.iter_mut().zip(run.sums) {
            *t += v;
        }
    }
    assert_eq!(r["checkouts"], total, "{r}");
    let keys5 = [
        "medfee_sumamt",
        "fund_pay_sumamt",
        "acct_pay",
        "cash",
        "card",
    ];
    for (k, v) in keys5.iter().zip(sum) {
        assert_eq!(fen(&r[*k]), v, "{k}: {r}");
    }
    let center: Vec<Value> = s
        .settlements()
        .into_iter()
        .filter(|x| x["state"] == "valid" && x["kind"] == "settle")
        .collect();
    assert_eq!(center.len(), total);
    for (i, k) in keys5.iter().take(3).enumerate() {
        let c: i64 = center.iter().map(|x| fen(&x[*k])).sum();
        assert_eq!(c, sum[i], "the center's own {k}");
    }

    // The institution's end of day: a finance workstation with its own ledger (counter 99).
    let fin = dir.path().join("finance").join("ledger.db");
    std::fs::create_dir_all(fin.parent().unwrap()).unwrap();
    let mut c = yibao();
    c.args([
        "user",
        "add",
        "--id",
        "A001",
        "--name",
        "信息科",
        "--role",
        "admin",
    ])
    .args(["--password-stdin", "--db"])
    .arg(&fin);
    assert!(with_stdin(c, "admin-pass-1\n").status.success());
    let mut c = yibao();
    c.env("YIBAO_SESSION", login_as(&fin, "A001", "admin-pass-1"))
        .args([
            "user", "add", "--id", "F001", "--name", "财务", "--role", "finance",
        ])
        .args(["--password-stdin", "--db"])
        .arg(&fin);
    assert!(with_stdin(c, "finance-pass-1\n").status.success());
    let finance = login_as(&fin, "F001", "finance-pass-1");
    // A cashier closes only their own counter.
    let cashier = login_as(&ledgers[0], "C101", "cashier-pass-1");
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .env("YIBAO_SESSION", &cashier)
        .args(["hub", "close", "--hub", &direct, "--center", &s.url, "--db"])
        .arg(&ledgers[0])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));

    let t = Instant::now();
    let (code, v) = hub_close(&s.url, &direct, &fin, &finance, &today);
    eprintln!(
        "yibao hub close (balanced) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["balanced"], true);
    let groups = v["groups"].as_array().unwrap();
    let count: i64 = groups.iter().map(|g| g["count"].as_i64().unwrap()).sum();
    let medfee: i64 = groups.iter().map(|g| fen(&g["medfee_sumamt"])).sum();
    assert_eq!((count, medfee), (total as i64, sum[0]), "{v:#}");
    assert!(groups.len() >= 2, "310 and 390 at least: {v:#}");

    // The center's staff reverse one of counter C07's settlements on their side only.
    // (Which patients a counter had depends on the threads' timing: any of C07's.)
    let (reversed, _) = runs[6]
        .settled
        .iter()
        .find(|(_, certno)| certno == IDS[0])
        .or_else(|| runs[6].settled.first())
        .expect("C07 settled something")
        .clone();
    let out = Command::new("curl")
        .args(["-sf", "-X", "POST"])
        .arg(format!("{}/sim/settlements/{reversed}/reverse", s.url))
        .output()
        .unwrap();
    assert!(out.status.success());
    // And counter C03 settles a resident (390) after its last push: the hub never has it.
    let token3 = login_as(&ledgers[2], "C103", "cashier-pass-1");
    let unpushed = checkout_as(&s.url, &ledgers[2], 3, &token3, IDS[1], "cash");
    let unpushed = unpushed["setl_id"].as_str().unwrap().to_string();

    let (code, v) = hub_close(&s.url, &direct, &fin, &finance, &today);
    assert_eq!(code, Some(5), "not balanced: exit 5 {v:#}");
    assert_eq!(v["balanced"], false);
    let diffs: Vec<&Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["balanced"] == false)
        .flat_map(|g| g["differences"].as_array().unwrap())
        .collect();
    let of = |id: &str| {
        diffs
            .iter()
            .find(|d| d["setl_id"] == id)
            .unwrap_or_else(|| panic!("{id} not among the differences: {v:#}"))
    };
    let d = of(&reversed);
    assert_eq!(
        (&d["memo"], &d["counter"], &d["cashier"]),
        (
            &Value::from("医院有中心无"),
            &Value::from("C07"),
            &Value::from("C107")
        ),
        "{d}"
    );
    let d = of(&unpushed);
    assert_eq!(
        (&d["memo"], &d["counter"], &d["cashier"]),
        (
            &Value::from("中心有医院无"),
            &Value::from("C03"),
            &Value::Null
        ),
        "traced by its msgid's counter number; the cashier unknown: {d}"
    );
    assert_eq!(diffs.len(), 2, "{v:#}");
    eprintln!("the whole test in {:.1} s", started.elapsed().as_secs_f64());
    let _ = std::io::stderr().flush();
    drop(hub);
}
