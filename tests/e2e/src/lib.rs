//! The end-to-end harness: starts the real `yibao-counter` binary through
//! tauri-driver (which starts WebKitWebDriver), under the X display the test
//! command provides (xvfb-run), and drives it like a person would.
//!
//! Requirements (installed by scripts/setup.sh): `tauri-driver` on PATH or in
//! ~/.cargo/bin, `WebKitWebDriver`, an X display (`xvfb-run -a`), fonts-noto-cjk.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

/// Where cargo put the binaries of this workspace (the test exe lives in `<dir>/deps`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

pub fn app_binary() -> PathBuf {
    std::env::var_os("YIBAO_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin_dir().join("yibao-counter"))
}

pub fn yibao_binary() -> PathBuf {
    bin_dir().join("yibao")
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home_bin = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"))
        .filter(|p| p.exists());
    home_bin.unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

fn wait_port(port: u16, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("port {port} did not open within {timeout:?}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One running app: tauri-driver + WebKitWebDriver + the app, with its own data dir.
pub struct App {
    pub client: Client,
    driver: Child,
    pub data_dir: tempfile::TempDir,
}

impl App {
    /// Start the app with extra environment (e.g. `YIBAO_CENTER_URL`, `YIBAO_CAMERA`)
    /// and a fresh data directory.
    pub async fn start(env: &[(&str, String)]) -> Result<App> {
        App::start_in(tempfile::tempdir()?, env).await
    }

    /// Start the app on a data directory prepared by the test (e.g. users made with `yibao user add`).
    pub async fn start_in(data_dir: tempfile::TempDir, env: &[(&str, String)]) -> Result<App> {
        let app = app_binary();
        if !app.exists() {
            bail!(
                "app binary {} not built: run `cargo build -p yibao-app` first",
                app.display()
            );
        }
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no X display: run the end-to-end tests under `xvfb-run -a`");
        }
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("YIBAO_DATA_DIR", data_dir.path())
        // The webview's own storage (the chosen language, …) per test, not per machine:
        // one test's English must not leak into the next.
        .env("XDG_DATA_HOME", data_dir.path().join("xdg-data"))
        .env("XDG_CACHE_HOME", data_dir.path().join("xdg-cache"))
        // The counter's number (docs/domain.md §10): a test may override it through `env`.
        .env("YIBAO_COUNTER_NO", "1")
        // The demo institution's departments and doctors, imported on first start.
        .env(
            "YIBAO_DICT_DIR",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/dict"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = cmd
            .spawn()
            .context("starting tauri-driver (install: cargo install tauri-driver --locked)")?;
        let mut guard = DriverGuard(Some(driver));
        wait_port(port, Duration::from_secs(20))?;
        wait_port(native_port, Duration::from_secs(20))?;

        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_string_lossy() }),
        );
        caps.insert("browserName".into(), serde_json::json!("wry"));
        // WebDriver runs on loopback over plain HTTP: no TLS stack needed.
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("connecting to tauri-driver")?;
        Ok(App {
            client,
            driver: guard.0.take().unwrap(),
            data_dir,
        })
    }

    /// Wait for an element by CSS selector.
    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("element {css} did not appear"))
    }

    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// Wait until the element's text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> Result<String> {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(needle) {
                        return Ok(t);
                    }
                    if start.elapsed() > Duration::from_secs(20) {
                        bail!("{css} shows {t:?}, never {needle:?}");
                    }
                }
            } else if start.elapsed() > Duration::from_secs(20) {
                let body = match self.client.find(Locator::Css("body")).await {
                    Ok(b) => b.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                bail!("{css} never appeared (waiting for {needle:?}); the window shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let el = self.find(css).await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// The app on a prepared data directory, talking to `sim`, with no camera
    /// (codes come from the USB scanner or F3).
    pub async fn start_at(data_dir: tempfile::TempDir, sim: &Sim) -> Result<App> {
        App::start_in(data_dir, &sim.app_env()).await
    }

    /// After settling: take what is due in cash (`given`) unless the account paid it
    /// all, and wait for the done state.
    pub async fn finish_in_cash(&self, given: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self
                .client
                .find(Locator::Css("[data-testid=done]"))
                .await
                .is_ok()
            {
                break;
            }
            if let Ok(cash) = self
                .client
                .find(Locator::Css("[data-testid=cash-given]"))
                .await
            {
                cash.clear().await?;
                cash.send_keys(&format!("{given}\u{E007}")).await?;
                break;
            }
            if Instant::now() > deadline {
                bail!("neither done nor cash due after settling");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.wait_text("[data-testid=done]", "收费完成").await?;
        Ok(())
    }

    /// Sign in on the sign-in screen and wait until the operator's name shows.
    pub async fn sign_in(&self, id: &str, password: &str, name: &str) -> Result<()> {
        self.type_into("[data-testid=signin-operator]", id).await?;
        self.type_into("[data-testid=signin-password]", password)
            .await?;
        self.click("[data-testid=signin-submit]").await?;
        self.wait_text("[data-testid=operator]", name).await?;
        Ok(())
    }

    /// Type into a field and press Enter.
    pub async fn enter(&self, css: &str, text: &str) -> Result<()> {
        self.type_into(css, text).await?;
        self.find(css).await?.send_keys("\u{E007}").await?;
        Ok(())
    }

    /// Search the catalogue (name or pinyin initials), add the first hit with Enter, and
    /// wait until `name` is on the bill.
    ///
    /// A clinic-mode visit needs a diagnosis: when none is set yet, the helper first
    /// picks 原发性高血压 (the doctor stays the preselected one), as a cashier would
    /// from the prescription.
    pub async fn add_item(&self, query: &str, name: &str) -> Result<()> {
        let clinic = self
            .client
            .find(Locator::Css("[data-testid=clinic]"))
            .await
            .is_ok();
        let visit = self
            .client
            .find(Locator::Css("[data-testid=visit-summary]"))
            .await
            .is_ok();
        if clinic && !visit {
            self.pick_diagnosis("yfxgxy", "原发性高血压").await?;
        }
        self.type_into("[data-testid=catalog-search]", query)
            .await?;
        self.wait_text("[data-testid=catalog-results]", name)
            .await?;
        self.find("[data-testid=catalog-search]")
            .await?
            .send_keys("\u{E007}")
            .await?;
        self.wait_text("[data-testid=bill-lines]", name).await?;
        Ok(())
    }

    /// Clinic mode: search the diagnosis dictionary, pick the first hit with Enter, and
    /// wait until the visit shows it.
    pub async fn pick_diagnosis(&self, query: &str, name: &str) -> Result<()> {
        self.type_into("[data-testid=diag-search]", query).await?;
        self.wait_text("[data-testid=diag-results]", name).await?;
        self.find("[data-testid=diag-search]")
            .await?
            .send_keys("\u{E007}")
            .await?;
        self.wait_text("[data-testid=visit-summary]", name).await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css).await?.click().await?;
        Ok(())
    }

    /// Save a screenshot of the window and return the decoded image.
    pub async fn screenshot(&self, name: &str) -> Result<image::RgbaImage> {
        let png = self.client.screenshot().await?;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../out");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), &png)?;
        Ok(image::load_from_memory(&png)?.to_rgba8())
    }

    /// Kill the app with SIGKILL, as a crash or a power cut would, then start it again
    /// on the same data directory (sign in again afterwards).
    pub async fn kill_and_restart(mut self, env: &[(&str, String)]) -> Result<App> {
        kill_app_in(self.data_dir.path())?;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
        stop_driver(&mut self.driver);
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir()?);
        drop(self);
        App::start_in(data_dir, env).await
    }

    pub async fn close(mut self) -> Result<()> {
        let _ = self.client.clone().close().await;
        stop_driver(&mut self.driver);
        Ok(())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        stop_driver(&mut self.driver);
    }
}

struct DriverGuard(Option<Child>);
impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            stop_driver(c);
        }
    }
}

/// The pid of the app process that runs on `data_dir` (found by its executable and its
/// `YIBAO_DATA_DIR`; tauri-driver and WebKitWebDriver carry the same variable).
pub fn app_pid(data_dir: &Path) -> Result<u32> {
    let want = format!("YIBAO_DATA_DIR={}", data_dir.display());
    let app_name = app_binary()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(entry.path().join("exe")).unwrap_or_default();
        if !exe.to_string_lossy().contains(&app_name) {
            continue;
        }
        let env = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()) {
            return Ok(pid);
        }
    }
    bail!("no running app found on {}", data_dir.display())
}

/// Resident memory (kB) of a process, and of it with all its descendants.
pub fn rss_kb(pid: u32) -> (u64, u64) {
    let status = |p: u32, field: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{p}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let mut all = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        all += status(p, "VmRSS");
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(c) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if status(c, "PPid") == u64::from(p) {
                todo.push(c);
            }
        }
    }
    (status(pid, "VmRSS"), all)
}

/// SIGKILL the app process that runs on `data_dir`.
fn kill_app_in(data_dir: &Path) -> Result<()> {
    let pid = app_pid(data_dir)?;
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    Ok(())
}

/// SIGTERM, not SIGKILL: tauri-driver must stop its WebKitWebDriver child.
fn stop_driver(c: &mut Child) {
    if let Ok(Some(_)) = c.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.kill();
    let _ = c.wait();
}

/// A screenshot is "not blank" when it has many colours and real contrast.
pub fn is_blank(img: &image::RgbaImage) -> bool {
    let mut colours = std::collections::HashSet::new();
    let (mut min, mut max) = (255u8, 0u8);
    for p in img.pixels().step_by(7) {
        colours.insert([p[0], p[1], p[2]]);
        let l = ((p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10) as u8;
        min = min.min(l);
        max = max.max(l);
    }
    colours.len() < 16 || max.saturating_sub(min) < 100
}

/// JavaScript run in the page: draws the given Chinese text and an unassigned
/// code point (which every font shows as a missing-glyph box) with the page's
/// font, and returns how many of the text's characters look exactly like the box.
pub const MISSING_GLYPH_PROBE: &str = r#"
const text = arguments[0];
const font = getComputedStyle(document.body).fontSize + ' ' + getComputedStyle(document.body).fontFamily;
function draw(ch) {
  const c = document.createElement('canvas'); c.width = 40; c.height = 40;
  const g = c.getContext('2d'); g.font = font; g.fillStyle = '#000'; g.textBaseline = 'top';
  g.fillText(ch, 4, 4);
  return Array.from(g.getImageData(0, 0, 40, 40).data).join(',');
}
const tofu = draw('\u{E0FFF}');
let boxes = 0;
for (const ch of text) { if (draw(ch) === tofu) boxes++; }
return boxes;
"#;

/// A `yibao sim` process on a free loopback port with its own database.
pub struct Sim {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Sim {
    pub fn start() -> Result<Sim> {
        use std::io::BufRead;
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(yibao_binary())
            .args(["sim", "--listen", "127.0.0.1:0", "--control", "--db"])
            .arg(dir.path().join("sim.db"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting `yibao sim`")?;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first)?;
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from yibao sim: {first:?}"))?
            .to_string();
        Ok(Sim {
            url,
            child,
            _dir: dir,
        })
    }

    /// One query on the simulator's own database (the center's book), through sqlite3.
    pub fn query(&self, sql: &str) -> Result<String> {
        let out = Command::new("sqlite3")
            .arg(self._dir.path().join("sim.db"))
            .arg(sql)
            .output()
            .context("sqlite3")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A JSON list the simulator serves under `path`.
    async fn list(&self, path: &str) -> Result<Vec<serde_json::Value>> {
        Ok(reqwest::get(format!("{}{path}", self.url))
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The demo persons (`GET /sim/persons`).
    pub async fn persons(&self) -> Result<Vec<serde_json::Value>> {
        self.list("/sim/persons").await
    }

    /// The person's current 医保码 text, as a scanner would read it.
    pub async fn qr_text(&self, psn_no: &str) -> Result<String> {
        let r = reqwest::get(format!("{}/sim/persons/{psn_no}/qr", self.url)).await?;
        Ok(r.error_for_status()?.text().await?)
    }

    /// The `psn_no` of the demo person of a scenario (`normal_employee`, `low_balance`, …).
    pub async fn psn_of(&self, scenario: &str) -> Result<String> {
        self.persons()
            .await?
            .iter()
            .find(|p| p["scenario"] == scenario)
            .and_then(|p| p["psn_no"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no demo person for {scenario}"))
    }

    /// The app's environment for this center and no camera.
    pub fn app_env(&self) -> [(&'static str, String); 2] {
        [
            ("YIBAO_CENTER_URL", self.url.clone()),
            ("YIBAO_CAMERA", "none".to_string()),
        ]
    }

    /// The center's settlement book (`GET /sim/settlements`).
    pub async fn settlements(&self) -> Result<Vec<serde_json::Value>> {
        self.list("/sim/settlements").await
    }

    /// Inject a fault (`POST /sim/fault`), e.g. `{"infno": "2207", "mode": "hang_after"}`.
    pub async fn fault(&self, fault: serde_json::Value) -> Result<()> {
        reqwest::Client::new()
            .post(format!("{}/sim/fault", self.url))
            .json(&fault)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The person's current QR code as a PNG.
    pub async fn qr_png(&self, psn_no: &str) -> Result<Vec<u8>> {
        let r = reqwest::get(format!("{}/sim/persons/{psn_no}/qr?format=png", self.url)).await?;
        Ok(r.error_for_status()?.bytes().await?.to_vec())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `yibao user add` on a data directory before the app starts.
/// The demo institution's departments and doctors imported into the ledger of
/// `data_dir` by the harness's admin (for `yibao checkout` runs before the app starts
/// and imports them itself).
pub fn import_dictionaries(data_dir: &Path) -> Result<()> {
    let session = login(data_dir, "E2EADMIN", ADMIN_PASSWORD)?;
    for kind in ["departments", "doctors"] {
        let out = Command::new(yibao_binary())
            .env("YIBAO_SESSION", &session)
            .args(["dict", "import", "--kind", kind, "--db"])
            .arg(data_dir.join("ledger.db"))
            .arg(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("../../assets/dict/{kind}.csv")),
            )
            .output()?;
        if !out.status.success() {
            bail!(
                "yibao dict import {kind}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}

pub fn add_user(data_dir: &Path, id: &str, name: &str, role: &str, password: &str) -> Result<()> {
    // Accounts are made by an authorised account (the first one of an empty ledger
    // excepted): the tests' accounts are made by an admin the harness sets up first.
    let marker = data_dir.join("ledger.db.e2e-admin");
    let session = if marker.exists() {
        Some(login(data_dir, "E2EADMIN", ADMIN_PASSWORD)?)
    } else {
        run_user_add(
            data_dir,
            "E2EADMIN",
            "信息科",
            "admin",
            ADMIN_PASSWORD,
            None,
        )?;
        std::fs::write(&marker, "")?;
        Some(login(data_dir, "E2EADMIN", ADMIN_PASSWORD)?)
    };
    run_user_add(data_dir, id, name, role, password, session.as_deref())
}

const ADMIN_PASSWORD: &str = "e2e-admin-pass-1";

fn run_user_add(
    data_dir: &Path,
    id: &str,
    name: &str,
    role: &str,
    password: &str,
    session: Option<&str>,
) -> Result<()> {
    use std::io::Write;
    let mut cmd = Command::new(yibao_binary());
    if let Some(t) = session {
        cmd.env("YIBAO_SESSION", t);
    }
    let mut child = cmd
        .args(["user", "add", "--db"])
        .arg(data_dir.join("ledger.db"))
        .args([
            "--id",
            id,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())?;
    let st = child.wait()?;
    if !st.success() {
        bail!("yibao user add {id} failed: {st}");
    }
    Ok(())
}

/// `yibao login`: a session token for `id`.
pub fn login(data_dir: &Path, id: &str, password: &str) -> Result<String> {
    use std::io::Write;
    let mut child = Command::new(yibao_binary())
        .args(["login", "--operator", id, "--db"])
        .arg(data_dir.join("ledger.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("yibao login {id} failed: {}", out.status);
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// One window at a time: the tests of this binary share the display and the 2 cores, so
/// each holds this for its whole body (`cargo test` needs no `--test-threads=1` for them).
pub async fn serial() -> tokio::sync::OwnedMutexGuard<()> {
    static ONE: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
        std::sync::OnceLock::new();
    ONE.get_or_init(Default::default).clone().lock_owned().await
}

/// A PostgreSQL 15 cluster of the test's own (initdb and pg_ctl as the postgres user, on
/// loopback) with a `yibao hub` on it; both stopped when dropped. (The CLI tests have
/// the same harness in crates/cli/tests/common/pg.rs.)
pub struct HubCluster {
    pub url: String,
    pub admin_token: String,
    hub: Child,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl HubCluster {
    pub fn start() -> Result<HubCluster> {
        const PG: &str = "/usr/lib/postgresql/15/bin";
        let dir = tempfile::tempdir()?;
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )?;
        let port = free_port();
        let data = dir.path().join("pg");
        let as_pg = |args: &[&str]| -> Result<()> {
            let st = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .stdout(Stdio::null())
                .status()?;
            anyhow::ensure!(st.success(), "{args:?}");
            Ok(())
        };
        let d = data.to_str().unwrap_or_default();
        as_pg(&[
            &format!("{PG}/initdb"),
            "-D",
            d,
            "-A",
            "trust",
            "-U",
            "postgres",
        ])?;
        let log = dir.path().join("pg.log");
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.path().display()
        );
        as_pg(&[
            &format!("{PG}/pg_ctl"),
            "-D",
            d,
            "-l",
            log.to_str().unwrap_or_default(),
            "-o",
            &opts,
            "-w",
            "start",
        ])?;
        let p = port.to_string();
        as_pg(&[
            &format!("{PG}/createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            &p,
            "-U",
            "postgres",
            "hub",
        ])?;
        let admin_token = "e2e-hub-admin".to_string();
        let hub_port = free_port();
        let mut hub = Command::new(yibao_binary())
            .env("YIBAO_HUB_ADMIN_TOKEN", &admin_token)
            .args([
                "hub",
                "--listen",
                &format!("127.0.0.1:{hub_port}"),
                "--database",
            ])
            .arg(format!("postgres://postgres@127.0.0.1:{port}/hub"))
            .stdout(Stdio::piped())
            .spawn()?;
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(hub.stdout.take().context("stdout")?),
            &mut first,
        )?;
        anyhow::ensure!(first.starts_with("listening on"), "yibao hub: {first:?}");
        Ok(HubCluster {
            url: format!("http://127.0.0.1:{hub_port}"),
            admin_token,
            hub,
            data,
            _dir: dir,
        })
    }

    /// Enrol a counter: its key.
    pub fn enroll(&self, counter: &str) -> Result<String> {
        let out = Command::new(yibao_binary())
            .env("YIBAO_HUB_ADMIN_TOKEN", &self.admin_token)
            .args(["hub", "enroll", "--hub", &self.url, "--counter", counter])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }
}

impl Drop for HubCluster {
    fn drop(&mut self) {
        let _ = self.hub.kill();
        let _ = self.hub.wait();
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                "/usr/lib/postgresql/15/bin/pg_ctl",
                "-D",
            ])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

/// A headless checkout on the app's ledger before the app starts (`yibao checkout` as
/// C001 with the password `cashier-pass-1`, the demo bill B1a, the demo doctor and
/// 原发性高血压): the patient of `scenario` pays the rest by `pay` (`cash` or `card`).
/// The command's JSON output.
pub async fn cli_checkout(
    data_dir: &Path,
    sim: &Sim,
    scenario: &str,
    pay: &str,
) -> Result<serde_json::Value> {
    let bill = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/reference/examples/bill-B1a.json")
        .canonicalize()?;
    let psn = sim.psn_of(scenario).await?;
    let qr = sim.qr_text(&psn).await?;
    let out = Command::new(yibao_binary())
        .env("YIBAO_SESSION", login(data_dir, "C001", "cashier-pass-1")?)
        .args(["checkout", "--center", &sim.url, "--terminal", "1", "--db"])
        .arg(data_dir.join("ledger.db"))
        .args(["--operator", "C001", "--qr", &qr, "--bill"])
        .arg(&bill)
        .args(["--doctor", "D440300000001", "--diag", "I10.x00"])
        .args(["--pay", pay])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "yibao checkout: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}
