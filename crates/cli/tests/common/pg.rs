//! A PostgreSQL cluster of the test's own (initdb and pg_ctl as the postgres user, on
//! loopback, stopped when dropped) and a `yibao hub` process on it.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{free_port, yibao};

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
pub const ADMIN: &str = "hub-admin-token";

pub struct Pg {
    dir: PathBuf,
    pub port: u16,
    _tmp: tempfile::TempDir,
}

impl Pg {
    pub fn start() -> Pg {
        if !Path::new(PG_BIN).join("initdb").exists() {
            panic!("PostgreSQL 15 is not installed ({PG_BIN}): scripts/setup.sh installs it");
        }
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
        let data = data.to_str().unwrap();
        as_pg(&[
            &format!("{PG_BIN}/initdb"),
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        let log = dir.join("pg.log");
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.display()
        );
        as_pg(&[
            &format!("{PG_BIN}/pg_ctl"),
            "-D",
            data,
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
            "-w",
            "start",
        ]);
        let port_s = port.to_string();
        as_pg(&[
            &format!("{PG_BIN}/createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            &port_s,
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

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/hub", self.port)
    }

    /// One query's rows through psql (`|`-separated columns).
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new(format!("{PG_BIN}/psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "hub", "-Atc", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.join("pg");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{PG_BIN}/pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

/// `yibao hub --listen … --database …` on a fixed port (so it can be restarted).
pub struct HubProc {
    child: Child,
    pub url: String,
}

impl HubProc {
    pub fn start(port: u16, pg: &Pg) -> HubProc {
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
        super::listening_on(&mut child, "yibao hub");
        HubProc {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SIGKILL, as a power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `yibao hub enroll`: the counter's key.
pub fn enroll(url: &str, counter: &str) -> String {
    let out = yibao()
        .env("YIBAO_HUB_ADMIN_TOKEN", ADMIN)
        .args(["hub", "enroll", "--hub", url, "--counter", counter])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
