//! The client against hostile HTTP answers from a real socket: a redirect is never
//! followed (it would re-send the envelope — ID number, token, sign_no — to another
//! host), and an answer over the size limit is refused, not read.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use nhsa::{Caller, Client, ClientConfig, Infno, Institution};

/// A one-shot HTTP server answering every request with `answer`; counts requests.
fn serve(answer: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            h.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&answer);
        }
    });
    (url, hits)
}

fn client(url: &str) -> Client {
    Client::new(
        ClientConfig::new(url.to_string()),
        Institution {
            fixmedins_code: "H44030300001".into(),
            fixmedins_name: "演示医院".into(),
            mdtrtarea_admvs: "440300".into(),
        },
    )
    .unwrap()
}

async fn send(c: &Client) -> Result<nhsa::ResponseEnvelope, nhsa::CallError> {
    let env = c.envelope(
        Infno::PersonInfo,
        "H44030300001202612010800000101",
        &Caller::default(),
        chrono::NaiveDateTime::parse_from_str("2026-12-01 08:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
        serde_json::json!({"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "44030519850312001X"}}),
    );
    c.send(&env).await
}

#[tokio::test]
async fn a_redirect_is_never_followed() {
    let (elsewhere, stolen) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec());
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/fsi/api/fsiPsnInfoService/getPsnInfo\r\nContent-Length: 0\r\n\r\n"
    );
    let (url, _) = serve(redirect.into_bytes());
    let r = send(&client(&url)).await;
    let e = r.unwrap_err();
    assert!(e.detail().contains("307"), "{}", e.detail());
    assert_eq!(
        stolen.load(Ordering::SeqCst),
        0,
        "the envelope went to another host"
    );
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_refused() {
    let body = vec![b' '; nhsa::MAX_ANSWER_BYTES + 10];
    let mut answer =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    answer.extend(body);
    let (url, _) = serve(answer);
    let e = send(&client(&url)).await.unwrap_err();
    assert!(e.detail().contains("refused"), "{}", e.detail());
    // Without a length header, the limit holds while reading.
    let mut chunked = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    chunked.extend(vec![b' '; nhsa::MAX_ANSWER_BYTES + 10]);
    let (url, _) = serve(chunked);
    let e = send(&client(&url)).await.unwrap_err();
    assert!(e.detail().contains("refused"), "{}", e.detail());
}

/// A TLS center (`openssl s_server`) with a certificate from its own CA, made here.
struct TlsCenter {
    url: String,
    ca: Vec<u8>,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for TlsCenter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_center() -> Option<TlsCenter> {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f).display().to_string();
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ok = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Regional CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("srv.key"),
        "-out",
        &p("srv.csr"),
    ]) && {
        std::fs::write(
            dir.path().join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            &p("srv.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p("ext.cnf"),
            "-out",
            &p("srv.pem"),
        ])
    };
    if !ok {
        eprintln!("skipped: openssl could not make the test certificates");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(port.to_string())
        .args(["-cert", &p("srv.pem"), "-key", &p("srv.key")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(10),
            "s_server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(TlsCenter {
        url: format!("https://127.0.0.1:{port}"),
        ca: std::fs::read(dir.path().join("ca.pem")).unwrap(),
        child,
        _dir: dir,
    })
}

/// TLS to a center with its certificate checked: a certificate the counter has no CA
/// for is refused before anything is sent (the envelope never leaves); with the
/// region's CA configured the handshake succeeds (the test server is no center, so
/// its answer is unreadable — a different failure, after the TLS check).
#[tokio::test]
async fn the_centers_certificate_is_checked() {
    let Some(center) = tls_center() else { return };
    let e = send(&client(&center.url)).await.unwrap_err();
    assert!(matches!(e, nhsa::CallError::NotSent(_)), "{e:?}");
    assert!(
        e.detail().to_lowercase().contains("certificate"),
        "{}",
        e.detail()
    );
    let mut cfg = ClientConfig::new(center.url.clone());
    cfg.ca_pem = Some(center.ca.clone());
    cfg.read_timeout = std::time::Duration::from_secs(2);
    let trusting = Client::new(
        cfg,
        Institution {
            fixmedins_code: "H44030300001".into(),
            fixmedins_name: "演示医院".into(),
            mdtrtarea_admvs: "440300".into(),
        },
    )
    .unwrap();
    let e = send(&trusting).await.unwrap_err();
    assert!(
        !e.detail().to_lowercase().contains("certificate"),
        "the configured CA was not used: {}",
        e.detail()
    );
}
