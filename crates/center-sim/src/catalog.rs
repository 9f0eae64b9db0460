//! The catalogue the simulated center publishes: version 1 is the demo catalogue
//! (plus, for benchmarks, synthetic rows); `POST /sim/catalog/publish` publishes the
//! next version, in which 阿莫西林胶囊 becomes 乙类 with a 10 % 先自付 ratio and a
//! 限价 of 20 元. 1301/1302/1305/1306 answer the rows changed after a version as a
//! file (fetched with 9102, streamed from disk); 1318/1319 page the 限价 and 先自付
//! rows updated after a time. The center settles with its newest version.
use std::io::Write;
use std::path::{Path, PathBuf};

use billing::{Catalog, CatalogItem, ChargeClass};
use money::{Price, Ratio};

/// One published version: the items it adds or changes, its 限价 and 先自付 rows.
#[derive(Debug, Clone)]
pub struct Version {
    pub ver: String,
    pub updt_time: String,
    pub items: Vec<CatalogItem>,
    pub limits: Vec<(String, Price)>,
    pub selfpay: Vec<(String, Ratio)>,
}

#[derive(Debug)]
pub struct Published {
    pub versions: Vec<Version>,
    /// The newest state (what 2204 splits with).
    pub current: Catalog,
    dir: PathBuf,
    next_file: u64,
}

/// Which download a catalogue item belongs to (by 医疗收费项目类别).
pub fn list_type(it: &CatalogItem) -> &'static str {
    match it.med_chrgitm_type.as_str() {
        "09" | "11" => "1301",
        "10" => "1302",
        "08" => "1306",
        _ => "1305",
    }
}

fn ver_of(n: usize) -> String {
    format!("20261101{n:03}")
}

impl Published {
    pub fn new(base: &Catalog, synthetic_rows: usize, dir: PathBuf) -> Published {
        let mut items = base.items.clone();
        for k in 0..synthetic_rows {
            items.push(CatalogItem {
                code: format!("XS{k:021}"),
                hosp_code: String::new(),
                name: format!("合成药品{k}"),
                py: format!("hcyp{k}"),
                spec: "10mg×24片".into(),
                unit: "盒".into(),
                med_chrgitm_type: "09".into(),
                chrgitm_lv: if k % 3 == 0 {
                    ChargeClass::B
                } else {
                    ChargeClass::A
                },
                selfpay_prop: (k % 3 == 0).then_some(Ratio(100_000)),
                pric: Price(((k % 500) as i64 + 1) * 100_000),
                pric_uplmt_amt: None,
            });
        }
        let limits = items
            .iter()
            .filter_map(|i| i.pric_uplmt_amt.map(|p| (i.code.clone(), p)))
            .collect();
        let selfpay = items
            .iter()
            .filter_map(|i| i.selfpay_prop.map(|r| (i.code.clone(), r)))
            .collect();
        let v1 = Version {
            ver: ver_of(1),
            updt_time: "2026-11-01 00:00:00".into(),
            items,
            limits,
            selfpay,
        };
        let _ = std::fs::create_dir_all(&dir);
        Published {
            current: base.clone(),
            versions: vec![v1],
            dir,
            next_file: 0,
        }
    }

    /// The next version: 阿莫西林胶囊 becomes 乙类 (先自付 10 %) and gets a 限价 of 20 元.
    pub fn publish_next(&mut self) -> String {
        let n = self.versions.len() + 1;
        let code = "XJ01CAA040A001010100001";
        let mut changed = Vec::new();
        for it in self.current.items.iter_mut() {
            if it.code == code {
                it.chrgitm_lv = ChargeClass::B;
                it.selfpay_prop = Some(Ratio(100_000));
                it.pric_uplmt_amt = Some(Price(20_000_000));
                changed.push(it.clone());
            }
        }
        let v = Version {
            ver: ver_of(n),
            updt_time: format!("2026-12-01 {:02}:00:00", n.min(23)),
            items: changed,
            limits: vec![(code.into(), Price(20_000_000))],
            selfpay: vec![(code.into(), Ratio(100_000))],
        };
        let ver = v.ver.clone();
        self.versions.push(v);
        ver
    }

    /// Write the rows of `list` changed after `after` to a file; (file_qury_no,
    /// filename, newest version, rows).
    pub fn changes_file(
        &mut self,
        list: &str,
        after: &str,
    ) -> std::io::Result<(String, String, String, usize)> {
        self.next_file += 1;
        let newest = self
            .versions
            .last()
            .map(|v| v.ver.clone())
            .unwrap_or_default();
        let filename = format!("ML{list}-{newest}-{}.txt", self.next_file);
        let path = self.dir.join(&filename);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut rows = 0;
        for v in self.versions.iter().filter(|v| v.ver.as_str() > after) {
            for it in v.items.iter().filter(|i| list_type(i) == list) {
                // med_list_codg, name, py, spec, unit, med_chrgitm_type, chrgitm_lv, pric,
                // lmt_used_flag, vali_flag, ver — tab-separated, one row a line.
                writeln!(
                    f,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0\t1\t{}",
                    it.code,
                    it.name,
                    it.py,
                    it.spec,
                    it.unit,
                    it.med_chrgitm_type,
                    it.chrgitm_lv.code(),
                    it.pric,
                    v.ver
                )?;
                rows += 1;
            }
        }
        f.flush()?;
        Ok((format!("F{}", self.next_file), filename, newest, rows))
    }

    pub fn file_path(&self, filename: &str) -> Option<PathBuf> {
        let safe =
            !filename.contains('/') && !filename.contains('\\') && filename.starts_with("ML");
        safe.then(|| self.dir.join(filename)).filter(|p| p.exists())
    }

    /// 1318 (`limits`) or 1319 rows updated after `after`, one page: (rows, total).
    pub fn page(
        &self,
        selfpay: bool,
        after: &str,
        page: usize,
        size: usize,
    ) -> (Vec<serde_json::Value>, usize) {
        let all: Vec<serde_json::Value> = self
            .versions
            .iter()
            .filter(|v| v.updt_time.as_str() > after)
            .flat_map(|v| {
                let t = v.updt_time.clone();
                let rows: Vec<serde_json::Value> = if selfpay {
                    v.selfpay
                        .iter()
                        .map(|(c, r)| serde_json::json!({"hilist_code": c, "selfpay_prop_psn_type": "310",
                            "selfpay_prop": r.to_string(), "begndate": "2026-01-01", "enddate": "2099-12-31",
                            "vali_flag": "1", "updt_time": t}))
                        .collect()
                } else {
                    v.limits
                        .iter()
                        .map(|(c, p)| serde_json::json!({"hilist_code": c, "hilist_lmtpric_type": "1",
                            "hilist_pric_uplmt_amt": p.to_string(), "begndate": "2026-01-01",
                            "enddate": "2099-12-31", "vali_flag": "1", "updt_time": t}))
                        .collect()
                };
                rows
            })
            .collect();
        let total = all.len();
        let size = size.clamp(1, 1000);
        let start = page.saturating_sub(1) * size;
        (all.into_iter().skip(start).take(size).collect(), total)
    }
}

pub fn files_dir(db: &Path) -> PathBuf {
    db.with_extension("catalog-files")
}
