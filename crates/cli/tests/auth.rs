//! Authorization in the engine, for every shell: the command line authenticates its
//! operator (`yibao login`) and the roles decide what each may do (issue "Security").
use std::process::Output;

mod common;
use common::{add_users, login, session, with_stdin, yibao, Sim, BILL, STAFF};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `--operator` alone was taken on trust (even for a locked account): now a command
/// that acts needs a session, and nothing reaches the center without one.
#[test]
fn an_unauthenticated_operator_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    add_users(&db, STAFF);
    let out = yibao()
        .args(["checkout", "--center", &s.url, "--operator", "C001"])
        .args([
            "--qr",
            "44030519850312001X",
            "--pay",
            "cash",
            "--bill",
            BILL,
        ])
        .args(common::CLINIC)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("yibao login"), "{}", stderr(&out));
    assert!(s.settlements().is_empty());
    // A forged token and another operator's name are refused alike.
    for (token, claimed) in [("ybs1.00", "C001"), (session(&db, "C001").as_str(), "S001")] {
        let out = yibao()
            .env("YIBAO_SESSION", token)
            .args(["recover", "--center", &s.url, "--operator", claimed, "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    }
    // With the cashier's own session it settles.
    let out = yibao()
        .env("YIBAO_SESSION", login(&db, "C001"))
        .args(["checkout", "--center", &s.url, "--operator", "C001"])
        .args([
            "--qr",
            "44030519850312001X",
            "--pay",
            "cash",
            "--bill",
            BILL,
        ])
        .args(common::CLINIC)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Anyone at the shell could `user add --role supervisor` and then approve their own
/// refunds. Only the first account of an empty ledger is made without a session; after
/// that a cashier's session cannot make accounts at all.
#[test]
fn a_cashier_cannot_make_a_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    add_users(&db, STAFF);
    let add = |session: Option<&str>, id: &str, role: &str| {
        let mut c = yibao();
        if let Some(t) = session {
            c.env("YIBAO_SESSION", t);
        }
        c.args(["user", "add", "--id", id, "--name", "某人", "--role", role])
            .arg("--password-stdin")
            .arg("--db")
            .arg(&db);
        with_stdin(c, "long-enough-9\n")
    };
    let out = add(None, "X001", "supervisor");
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let cashier = login(&db, "C001");
    let out = add(Some(&cashier), "X002", "supervisor");
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let out = add(Some(&cashier), "X003", "cashier");
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    // The supervisor adds a cashier; the list shows who exists, to a supervisor only.
    let sup = login(&db, "S001");
    assert!(add(Some(&sup), "C002", "cashier").status.success());
    let list = |t: &str| {
        yibao()
            .env("YIBAO_SESSION", t)
            .args(["user", "list", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let out = list(&sup);
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["C001", "C002", "S001"]);
    assert_eq!(list(&cashier).status.code(), Some(8));
}

/// Unknown ids were revealed by the message; now `login` answers an unknown id and a
/// wrong password in the same words, and the session ends at logout.
#[test]
fn login_says_the_same_for_an_unknown_id_and_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    add_users(&db, STAFF);
    let try_login = |id: &str| {
        let mut c = yibao();
        c.args(["login", "--operator", id, "--db"]).arg(&db);
        with_stdin(c, "not-the-password\n")
    };
    let unknown = try_login("NOBODY");
    let wrong = try_login("C001");
    assert_eq!(unknown.status.code(), Some(8));
    assert_eq!(wrong.status.code(), Some(8));
    assert_eq!(stderr(&unknown), stderr(&wrong));
    assert!(unknown.stdout.is_empty());

    let t = login(&db, "C001");
    assert!(t.starts_with("ybs1.") && !t.contains(char::is_whitespace));
    let out = yibao()
        .env("YIBAO_SESSION", &t)
        .args(["logout", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = yibao()
        .env("YIBAO_SESSION", &t)
        .args(["queue", "sync", "--center", "http://127.0.0.1:9", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
}

/// The install secret (`YIBAO_KEY_SECRET_FILE`, outside the data folder) wraps the
/// ledger's key: every command reads it; without it, a copy of the folder is refused
/// with a clear message and nothing is created or changed.
#[test]
fn without_the_install_secret_the_ledger_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("etc-yibao-secret");
    std::fs::write(&secret, "a-long-install-secret-0042\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("ledger.db");
    let mut c = yibao();
    c.env("YIBAO_KEY_SECRET_FILE", &secret)
        .args([
            "user",
            "add",
            "--id",
            "S001",
            "--name",
            "王主管",
            "--role",
            "supervisor",
        ])
        .arg("--password-stdin")
        .arg("--db")
        .arg(&db);
    let out = with_stdin(c, "super-pass-1\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let key = std::fs::read_to_string(data.join("ledger.db.key")).unwrap();
    assert!(key.starts_with("yibao-key-v2 wrapped"), "{key}");
    let before = std::fs::read(&db).unwrap();
    let out = yibao()
        .env_remove("YIBAO_KEY_SECRET_FILE")
        .args(["audit", "verify", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("install secret"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the ledger was changed"
    );
    let out = yibao()
        .env("YIBAO_KEY_SECRET_FILE", &secret)
        .args(["audit", "verify", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
