//! Catalogue sync at scale: a full sync of a synthetic 100 000-row 西药中成药 catalogue
//! from the simulated center (1301 → 9102 streamed to disk → batches into the
//! ledger), the peak memory it takes, and the latency of item searches over it.
//! `cargo bench -p checkout --bench catalog [-- ROWS]` prints a table for the README.
use std::time::Instant;

use checkout::{Engine, EngineConfig, Operator};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let addr = center_sim::spawn(
            "127.0.0.1:0",
            &dir.path().join("sim.db"),
            center_sim::SimOptions {
                synthetic_catalog_rows: rows,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let key = ledger::LedgerKey::load_or_create(&dir.path().join("l.key")).unwrap();
        let l = ledger::Ledger::open(&dir.path().join("ledger.db"), &key)
            .await
            .unwrap();
        l.set_counter_no(1).await.unwrap();
        let now = chrono::Local::now().naive_local();
        l.create_operator("B001", "压测", ledger::Role::Supervisor, "bench-pass-1", now)
            .await
            .unwrap();
        let e = Engine::new(l.clone(), EngineConfig::demo(&format!("http://{addr}"))).unwrap();
        let op = Operator {
            id: "B001".into(),
            name: "压测".into(),
        };
        let before = status_kb("VmHWM");
        let t = Instant::now();
        let r = e.sync_catalog(&op, dir.path()).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        let after = status_kb("VmHWM");
        assert!(r.downloaded >= rows, "{r:?}");
        let t = Instant::now();
        let again = e.sync_catalog(&op, dir.path()).await.unwrap();
        let noop_ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(again.downloaded, 0);
        let mut lat = |qs: Vec<String>| {
            let l = l.clone();
            async move {
                let mut ms = Vec::new();
                for q in qs {
                    let t = Instant::now();
                    let hits = l.catalog_find(&q, 12).await.unwrap();
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    assert!(!hits.is_empty(), "{q}");
                }
                ms.sort_by(|a, b| a.total_cmp(b));
                (ms[ms.len() / 2], ms[ms.len() * 95 / 100])
            }
        };
        let (py50, py95) = lat((0..200).map(|k| format!("hcyp{}", k * 487 % rows)).collect()).await;
        let (nm50, nm95) = lat((0..200).map(|k| format!("合成药品{}", k * 491 % rows)).collect()).await;
        let (cd50, cd95) = lat((0..200).map(|k| format!("XS{:021}", k * 499 % rows)).collect()).await;
        let _ = &mut lat;
        println!("| measure ({rows} synthetic rows + the demo catalogue) | value |\n|---|---|");
        println!("| full sync (1301 … 1306, 1318, 1319; {} rows) | {secs:.1} s ({:.0} rows/s) |", r.downloaded, r.downloaded as f64 / secs);
        println!("| peak resident memory before / after the sync (process with the in-process simulator) | {:.1} MB / {:.1} MB |", before as f64 / 1024.0, after as f64 / 1024.0);
        println!("| a second sync with nothing new | {noop_ms:.1} ms |");
        println!("| search by 拼音首字母 prefix, p50 / p95 | {py50:.2} ms / {py95:.2} ms |");
        println!("| search by part of the name, p50 / p95 | {nm50:.2} ms / {nm95:.2} ms |");
        println!("| lookup by national code, p50 / p95 | {cd50:.2} ms / {cd95:.2} ms |");
        l.close().await;
    });
}
