//! `yibao decode [--json] FILE...`: one line per file; an unreadable file gets
//! an `error` and the command goes on.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON line per file: {"file", "codes", "ms"} or {"file", "error"}.
    #[arg(long)]
    pub json: bool,
    /// Also say which pipeline stage read each code.
    #[arg(long)]
    pub stages: bool,
    /// No time budget per image (the camera's pipeline gives up on a frame after 25 ms).
    #[arg(long)]
    pub thorough: bool,
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let decoder = match std::env::var("YIBAO_DECODE_STAGES").ok().as_deref() {
        // For measuring: every stage, or a chosen list (`rxing,plain,otsu`).
        Some("all") => scan::Decoder {
            stages: scan::Stage::EXTENDED.to_vec(),
            budget: None,
        },
        Some(list) => scan::Decoder {
            stages: list
                .split(',')
                .filter_map(|n| {
                    scan::Stage::EXTENDED.into_iter().find(|s| {
                        serde_json::to_value(s)
                            .ok()
                            .and_then(|v| v.as_str().map(|x| x == n.trim()))
                            .unwrap_or(false)
                    })
                })
                .collect(),
            budget: None,
        },
        None => scan::Decoder::default(),
    };
    let decoder = if a.thorough {
        // Every stage, but not without end: a few seconds per file.
        scan::Decoder {
            budget: Some(std::time::Duration::from_secs(5)),
            ..decoder
        }
    } else {
        decoder
    };
    let mut failed = 0;
    for f in &a.files {
        let name = f.display().to_string();
        match scan::load_gray(f) {
            Ok(gray) => {
                let t = Instant::now();
                let found = decoder.decode(&gray);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let codes: Vec<&str> = found.iter().map(|d| d.text.as_str()).collect();
                if a.json {
                    let mut v =
                        json!({"file": name, "codes": codes, "ms": (ms * 1000.0).round() / 1000.0});
                    if a.stages {
                        v["stages"] = json!(found.iter().map(|d| d.stage).collect::<Vec<_>>());
                    }
                    println!("{v}");
                } else if codes.is_empty() {
                    println!("{name}: (no code) {ms:.1} ms");
                } else {
                    println!("{name}: {} ({ms:.1} ms)", codes.join(" | "));
                }
            }
            Err(e) => {
                failed += 1;
                if a.json {
                    println!(
                        "{}",
                        json!({"file": name, "error": format!("cannot read the image: {e}")})
                    );
                } else {
                    println!("{name}: error: cannot read the image: {e}");
                }
            }
        }
    }
    Ok(if failed == a.files.len() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
