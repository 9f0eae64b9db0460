//! What is the institution's reaches every counter (issue "The hospital, not one
//! counter"): the hub's administrator creates a cashier, changes the password, locks
//! and unlocks the account, and shares the departments, doctors, the catalogue mapping
//! and a setting; two counters pull them into their ledgers. The cashier signs in at
//! either counter, the old password stops working everywhere after a change, a lock
//! stops the sign-in everywhere, and with the hub down the counters keep what they
//! cached. All on a real PostgreSQL the test starts and stops.
use std::path::Path;
use std::process::ExitStatus;

use serde_json::Value;

mod common;
use common::pg::{enroll, HubProc, Pg, ADMIN};
use common::{free_port, with_stdin, yibao};

fn admin(args: &[&str], stdin: &str) -> (ExitStatus, Value, String) {
    let mut c = yibao();
    c.env("YIBAO_HUB_ADMIN_TOKEN", ADMIN).arg("hub").args(args);
    let out = with_stdin(c, stdin);
    (
        out.status,
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn pull(db: &Path, url: &str, key: &str) -> (Option<i32>, Value) {
    let out = yibao()
        .args(["hub", "pull", "--db"])
        .arg(db)
        .args(["--hub", url, "--key", key])
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

/// The administrator sets the cashier C010 陈收费 with this password (typed on stdin).
fn set_c010(url: &str, password_line: &str) -> (ExitStatus, Value, String) {
    admin(
        &[
            "account",
            "set",
            "--hub",
            url,
            "--id",
            "C010",
            "--name",
            "陈收费",
            "--role",
            "cashier",
        ],
        password_line,
    )
}

/// `yibao login` at a counter: did it sign in?
fn signs_in(db: &Path, id: &str, password: &str) -> bool {
    let mut c = yibao();
    c.args(["login", "--operator", id, "--db"]).arg(db);
    with_stdin(c, &format!("{password}\n")).status.success()
}

#[test]
fn accounts_dictionaries_the_mapping_and_settings_reach_every_counter_from_the_hub() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let hub = HubProc::start(port, &pg);
    let url = hub.url.clone();
    let counters: Vec<(std::path::PathBuf, String)> = ["C01", "C02"]
        .iter()
        .map(|c| (dir.path().join(format!("{c}.db")), enroll(&url, c)))
        .collect();

    // A weak password is refused before anything reaches the hub.
    let (st, _, err) = set_c010(&url, "12345678\n");
    assert_eq!(st.code(), Some(2), "{err}");

    // The administrator creates the cashier and shares the dictionaries, the mapping
    // and a setting.
    let (st, v, err) = set_c010(&url, "first-pass-10\n");
    assert!(st.success(), "{err}");
    assert_eq!(v["account"], "C010");
    let assets = format!("{}/../../assets/dict", env!("CARGO_MANIFEST_DIR"));
    let map = dir.path().join("map.csv");
    std::fs::write(
        &map,
        "hosp_code,name,pric,unit,med_list_codg,hosp_appr_flag\nHOSP-YP-0001,阿莫西林胶囊,25.00,盒,XJ01CAA040A001010100001,1\n",
    )
    .unwrap();
    let (st, v, err) = admin(
        &[
            "share",
            "--hub",
            &url,
            "--departments",
            &format!("{assets}/departments.csv"),
            "--doctors",
            &format!("{assets}/doctors.csv"),
            "--mapping",
            map.to_str().unwrap(),
            "--setting",
            "receipt_layout=a5",
        ],
        "",
    );
    assert!(st.success(), "{err}");
    assert!(v["items"].as_u64().unwrap() > 3, "{v}");
    // A setting that is a counter's own is refused.
    let (st, _, err) = admin(&["share", "--hub", &url, "--setting", "hub_key=x"], "");
    assert!(!st.success(), "{err}");

    // Both counters pull; the cashier signs in at either.
    for (db, key) in &counters {
        let (code, v) = pull(db, &url, key);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(v["accounts"], 1, "{v}");
        assert_eq!(v["mapping"], 1, "{v}");
        assert_eq!(v["settings"], 1, "{v}");
        assert!(v["departments"].as_u64().unwrap() > 0 && v["doctors"].as_u64().unwrap() > 0);
        assert!(signs_in(db, "C010", "first-pass-10"));
        assert!(!signs_in(db, "C010", "wrong-pass-10"));
        // A second pull has nothing new.
        let (_, again) = pull(db, &url, key);
        assert_eq!(again["accounts"], 0, "{again}");
        assert_eq!(again["version"], v["version"]);
        let out = yibao()
            .args(["dict", "list", "--kind", "doctors", "--db"])
            .arg(db)
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("李明"));
    }

    // The password changed at the hub: the old one stops working at every counter.
    let (st, _, err) = set_c010(&url, "second-pass-10\n");
    assert!(st.success(), "{err}");
    for (db, key) in &counters {
        let (code, v) = pull(db, &url, key);
        assert_eq!((code, v["accounts"].clone()), (Some(0), 1.into()), "{v}");
        assert!(!signs_in(db, "C010", "first-pass-10"));
        assert!(signs_in(db, "C010", "second-pass-10"));
    }

    // Locked at the hub: signed in nowhere; unlocked: back.
    let (st, v, err) = admin(&["account", "lock", "--hub", &url, "--id", "C010"], "");
    assert!(st.success(), "{err}");
    assert_eq!(v["active"], false);
    for (db, key) in &counters {
        pull(db, &url, key);
        assert!(!signs_in(db, "C010", "second-pass-10"), "locked");
    }
    admin(&["account", "unlock", "--hub", &url, "--id", "C010"], "");
    let (db, key) = &counters[0];
    pull(db, &url, key);
    assert!(signs_in(db, "C010", "second-pass-10"));

    // The hub is down: a pull fails and says so, the cache keeps working.
    hub.kill();
    let (code, _) = pull(db, &url, key);
    assert_eq!(code, Some(7));
    assert!(signs_in(db, "C010", "second-pass-10"));
    // An unknown counter's key is refused.
    let hub = HubProc::start(port, &pg);
    let (code, _) = pull(db, &hub.url, "C99.0000");
    assert_eq!(code, Some(7));
}
