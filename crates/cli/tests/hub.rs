//! The institution's hub on a real PostgreSQL (issue "The hospital, not one counter"):
//! the test starts its own cluster on loopback (initdb and pg_ctl as the postgres user)
//! and stops it. Counters with their own ledgers push their facts; the hub is killed
//! with SIGKILL and restarted between and during pushes; when all have drained, the
//! institution's report equals the sum of the counters' ledgers and the center's own
//! settlements, nothing doubled or missing; a fact that rewrites history is refused.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

mod common;
use common::{free_port, json_of, yibao, yibao_as, Sim, BILL, CLINIC};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const ADMIN: &str = "hub-admin-token";

/// A PostgreSQL cluster of the test's own, stopped when dropped.
struct Pg {
    dir: PathBuf,
    port: u16,
    _tmp: tempfile::TempDir,
}

impl Pg {
    fn start() -> Pg {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        let port = free_port();
        let as_pg = |args: &[&str]| {
            let st = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .stdout(Stdio::null())
                .status()
                .expect("runuser (the tests run as root; PostgreSQL refuses to)");
            assert!(st.success(), "{args:?}");
        };
        let data = dir.join("pg");
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
            dir.join("pg.log").to_str().unwrap(),
            "-o",
            &format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1",
                dir.display()
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
        Pg {
            dir,
            port,
            _tmp: tmp,
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/hub", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{PG_BIN}/pg_ctl"))
            .args([
                "-D",
                self.dir.join("pg").to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .status();
    }
}

/// `yibao hub --listen … --database …`, on a fixed port so it can be restarted.
struct Hub {
    child: Child,
}

impl Hub {
    fn start(port: u16, pg: &Pg) -> Hub {
        let mut child = yibao()
            .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                &pg.url(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        common::listening_on(&mut child, "yibao hub");
        Hub { child }
    }

    /// SIGKILL, as a power cut would.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    if !Path::new(PG_BIN).join("initdb").exists() {
        panic!("PostgreSQL 15 is not installed ({PG_BIN}): scripts/setup.sh installs it");
    }
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
            let out = yibao_as(db, "C001")
                .env("YIBAO_COUNTER_NO", n.to_string())
                .args([
                    "checkout",
                    "--center",
                    &s.url,
                    "--qr",
                    "44030519850312001X",
                    "--pay",
                    "cash",
                ])
                .args(["--bill", BILL])
                .args(CLINIC)
                .arg("--db")
                .arg(db)
                .output()
                .unwrap();
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
