//! What the CLI tests share: the `yibao` binary, a `yibao sim` process, ports and JSON output.
#![allow(dead_code)] // each test file uses a part of it

pub mod pg;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const BILL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/reference/examples/bill-B1a.json"
);

/// The `yibao` binary, as counter number 1 of its institution (docs/domain.md §10).
pub fn yibao() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yibao"));
    c.env("YIBAO_COUNTER_NO", "1");
    c
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The URL of a server process's first line (`listening on URL`).
pub fn listening_on(child: &mut Child, what: &str) -> String {
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from {what}: {line:?}"))
        .to_string()
}

/// One value from an SQLite file (the ledger's or the simulator's), as text.
pub fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3").arg(db).arg(sql).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A `yibao sim` process, killed when dropped.
pub struct Sim {
    pub url: String,
    child: Child,
}

impl Sim {
    /// `yibao sim --listen ADDR --db DB EXTRA…`; waits for its first line.
    pub fn start(listen: &str, db: &Path, extra: &[&str]) -> Sim {
        let mut child = yibao()
            .args(["sim", "--listen", listen, "--control"])
            .args(extra)
            .arg("--db")
            .arg(db)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let url = listening_on(&mut child, "yibao sim");
        Sim { url, child }
    }

    /// Inject a fault (`POST /sim/fault` with this JSON body).
    pub fn fault(&self, body: &str) {
        let st = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-d",
                body,
            ])
            .arg(format!("{}/sim/fault", self.url))
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// The center's settlement book (`GET /sim/settlements`).
    pub fn settlements(&self) -> Vec<Value> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/sim/settlements", self.url)])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Run `c` with `input` on its standard input; its output.
pub fn with_stdin(mut c: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `yibao login` as `id` (password from [`STAFF`]); the session token.
pub fn login(db: &Path, id: &str) -> String {
    let pw = STAFF
        .iter()
        .find(|u| u.0 == id)
        .unwrap_or_else(|| panic!("{id} is not in STAFF"))
        .3;
    let mut c = yibao();
    c.args(["login", "--operator", id, "--db"]).arg(db);
    let out = with_stdin(c, &format!("{pw}\n"));
    assert!(
        out.status.success(),
        "login {id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `yibao` acting as `id` of [`STAFF`] (signed in with `yibao login`; the accounts
/// are made first when the ledger has none).
pub fn yibao_as(db: &Path, id: &str) -> Command {
    let mut c = yibao();
    c.env("YIBAO_SESSION", session(db, id));
    c
}

/// A session token of `id` of [`STAFF`], the accounts made first when there are none.
pub fn session(db: &Path, id: &str) -> String {
    if !db.with_extension("staff").exists() {
        add_users(db, STAFF);
    }
    login(db, id)
}

/// `yibao user add` for each (id, name, role, password), the password on stdin. The
/// first account of an empty ledger is made without a session; the others by the
/// supervisor S001 (who must be first when the ledger is empty).
pub fn add_users(db: &Path, users: &[(&str, &str, &str, &str)]) {
    let marker = db.with_extension("staff");
    for (id, name, role, pw) in users {
        let mut c = yibao();
        if marker.exists() {
            c.env("YIBAO_SESSION", login(db, "S001"));
        }
        c.args(["user", "add", "--id", id, "--name", name, "--role", role])
            .arg("--password-stdin")
            .arg("--db")
            .arg(db);
        let out = with_stdin(c, &format!("{pw}\n"));
        assert!(
            out.status.success(),
            "user add {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let first = !marker.exists();
        std::fs::write(&marker, "").unwrap();
        if first {
            import_dictionaries(db);
        }
    }
}

/// The demo institution's departments and doctors (assets/dict), imported by S001.
pub fn import_dictionaries(db: &Path) {
    for kind in ["departments", "doctors"] {
        let out = yibao()
            .env("YIBAO_SESSION", login(db, "S001"))
            .args(["dict", "import", "--kind", kind, "--db"])
            .arg(db)
            .arg(format!(
                "{}/../../assets/dict/{kind}.csv",
                env!("CARGO_MANIFEST_DIR")
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dict import {kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A clinic-mode visit for a lines-only bill: the demo doctor 李明 and 原发性高血压.
pub const CLINIC: &[&str] = &["--doctor", "D440300000001", "--diag", "I10.x00"];

/// The two accounts most tests use: supervisor S001, cashier C001.
pub const STAFF: &[(&str, &str, &str, &str)] = &[
    ("S001", "王主管", "supervisor", "super-pass-1"),
    ("C001", "李收费", "cashier", "cashier-pass-1"),
];

/// A `yibao his-sim` process (the simulated hospital HIS), killed when dropped.
pub struct HisSim {
    pub url: String,
    child: Child,
}

impl HisSim {
    pub fn start() -> HisSim {
        let mut child = yibao()
            .args(["his-sim", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let url = listening_on(&mut child, "yibao his-sim");
        HisSim { url, child }
    }

    /// The simulator's bills with their state (`GET /his/_sim/bills`).
    pub fn bills(&self) -> Vec<Value> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/_sim/bills", self.url)])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v.get("bills")
            .and_then(Value::as_array)
            .cloned()
            .or_else(|| v.as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for HisSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `yibao checkout` of the bill B1a by cashier C001 paying in cash, with `args`
/// (`--qr`, `--given`, …), against the center at `url`; it must succeed. Its JSON.
pub fn checkout_cash(url: &str, db: &Path, args: &[&str]) -> Value {
    ok_json(&checkout_b1a(url, db, args))
}

/// Like [`checkout_cash`] with `--offline`: the center is down, the cashier chose to
/// collect offline; it must exit 7 (collected offline, queued). Its JSON.
pub fn checkout_offline(url: &str, db: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--offline"];
    all.extend_from_slice(args);
    let out = checkout_b1a(url, db, &all);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

fn checkout_b1a(url: &str, db: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--operator", "C001"];
    all.extend_from_slice(args);
    checkout_b1a_as(yibao_as(db, "C001"), url, db, &all)
}

/// `yibao checkout` of the bill B1a paying in cash, with the demo clinic visit and
/// `args`, run by `c` (a `yibao` command carrying the session, the counter number …).
pub fn checkout_b1a_as(
    mut c: Command,
    url: &str,
    db: &Path,
    args: &[&str],
) -> std::process::Output {
    c.args(["checkout", "--center", url, "--pay", "cash", "--bill", BILL])
        .args(CLINIC)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

/// The JSON of a command that must have succeeded (its stderr when it did not).
pub fn ok_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(out)
}

/// The JSON a command printed (with its output when it is not JSON).
pub fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "stdout: {} stderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
