//! The national catalogue at the counter: synced from the center by version (1301,
//! 1302, 1305, 1306 as files through 9102, streamed to disk and read a line at a
//! time; 1318 限价 and 1319 先自付比例 by page), kept in the ledger, and used by
//! everything that estimates — the class, ratio and price cap of a line come from
//! it once it is synced. The hospital's mapping (目录对照) ties its own item codes
//! to national ones; with a mapping, an unmapped item is refused before 2204.
use std::io::BufRead;

use billing::{BillLine, ChargeClass};
use ledger::{Action, CatalogRow, HospItem};
use money::{Price, Ratio};
use nhsa::Infno;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::counter::Counter;
use crate::{CheckoutError, Engine, ErrorCode, Operator, Result};

/// What a sync did: the newest version, rows downloaded, rows that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSync {
    pub ver: String,
    pub downloaded: usize,
    pub changed: usize,
}

const LISTS: [Infno; 4] = [
    Infno::CatalogWestern,
    Infno::CatalogHerbal,
    Infno::CatalogService,
    Infno::CatalogMaterial,
];
const BATCH: usize = 2000;
/// The largest catalogue file accepted (the real 西药中成药 file is tens of MB).
const MAX_FILE: u64 = 2 << 30;

/// One line of a catalogue file (tab-separated; see docs/domain.md §13).
fn parse_row(list: &str, line: &str) -> Option<CatalogRow> {
    let f: Vec<&str> = line.trim_end_matches(['\r', '\n']).split('\t').collect();
    if f.len() < 11 || f[0].is_empty() {
        return None;
    }
    Some(CatalogRow {
        med_list_codg: f[0].into(),
        list_type: list.into(),
        name: f[1].into(),
        py: f[2].to_lowercase(),
        spec: f[3].into(),
        unit: f[4].into(),
        med_chrgitm_type: f[5].into(),
        chrgitm_lv: f[6].into(),
        pric: (!f[7].is_empty()).then(|| f[7].into()),
        selfpay_prop: None,
        lmt_pric: None,
        lmt_used_flag: f[8].into(),
        vali_flag: f[9].into(),
        ver: f[10].into(),
    })
}

impl Engine {
    /// Download what changed since the last sync into the ledger. The counter keeps
    /// working on the last version whatever happens here.
    pub async fn sync_catalog(
        &self,
        op: &Operator,
        work_dir: &std::path::Path,
    ) -> Result<CatalogSync> {
        let mut out = CatalogSync::default();
        for list in LISTS {
            let code = list.code();
            let ver = self
                .ledger
                .catalog_version(code)
                .await?
                .unwrap_or_else(|| "0".into());
            let r = self
                .call_ok(op, None, "", list, nhsa::inputs::catalog_download(&ver))
                .await?;
            let o = &r.output;
            let s = |k: &str| {
                o[k].as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| o[k].to_string())
            };
            let newest = s("ver");
            if newest > out.ver {
                out.ver = newest.clone();
            }
            let rows: usize = s("rows").trim_matches('"').parse().unwrap_or(0);
            if rows == 0 {
                continue;
            }
            let file = work_dir.join(format!("catalog-{code}.txt"));
            self.download_file(op, &s("file_qury_no"), &s("filename"), &file)
                .await?;
            let (n, changed) = self.load_catalog_file(code, &file).await?;
            let _ = std::fs::remove_file(&file);
            self.ledger
                .record_catalog_version(code, &newest, n, changed, self.now())
                .await?;
            out.downloaded += n;
            out.changed += changed;
        }
        for (list, selfpay) in [(Infno::CatalogLimit, false), (Infno::CatalogSelfpay, true)] {
            let since = self
                .ledger
                .catalog_version(list.code())
                .await?
                .unwrap_or_else(|| "0000-00-00 00:00:00".into());
            let mut newest = since.clone();
            let (mut n, mut changed) = (0, 0);
            for page in 1u32.. {
                let r = self
                    .call_ok(
                        op,
                        None,
                        "",
                        list,
                        nhsa::inputs::catalog_page(&since, page, 1000),
                    )
                    .await?;
                let rows = r.output["data"].as_array().cloned().unwrap_or_default();
                let mut batch = Vec::with_capacity(rows.len());
                for row in &rows {
                    let g = |k: &str| row[k].as_str().unwrap_or("").to_string();
                    let t = g("updt_time");
                    if t > newest {
                        newest = t;
                    }
                    batch.push(if selfpay {
                        (g("hilist_code"), None, Some(g("selfpay_prop")))
                    } else {
                        (g("hilist_code"), Some(g("hilist_pric_uplmt_amt")), None)
                    });
                }
                n += batch.len();
                changed += self.ledger.catalog_set_limits(&batch, self.now()).await?;
                let pages = r.output["pages"].as_u64().unwrap_or(1);
                if rows.is_empty() || u64::from(page) >= pages {
                    break;
                }
            }
            if n > 0 {
                self.ledger
                    .record_catalog_version(list.code(), &newest, n, changed, self.now())
                    .await?;
                out.downloaded += n;
                out.changed += changed;
            }
        }
        Ok(out)
    }

    /// Read a downloaded catalogue file a line at a time, in batches: memory stays
    /// bounded whatever its size. (rows, changed)
    async fn load_catalog_file(
        &self,
        list: &str,
        file: &std::path::Path,
    ) -> Result<(usize, usize)> {
        let f = std::fs::File::open(file).map_err(|e| {
            CheckoutError::new(ErrorCode::Storage, "目录文件无法读取", "请重试同步")
                .with_detail(e.to_string())
        })?;
        let mut reader = std::io::BufReader::new(f);
        let (mut n, mut changed) = (0, 0);
        let mut batch = Vec::with_capacity(BATCH);
        let mut line = String::new();
        loop {
            line.clear();
            let read = reader.read_line(&mut line).map_err(|e| {
                CheckoutError::new(ErrorCode::Storage, "目录文件无法读取", "请重试同步")
                    .with_detail(e.to_string())
            })?;
            if read == 0 {
                break;
            }
            if let Some(row) = parse_row(list, &line) {
                batch.push(row);
            }
            if batch.len() >= BATCH {
                n += batch.len();
                changed += self.ledger.catalog_upsert(&batch, self.now()).await?;
                batch.clear();
            }
        }
        n += batch.len();
        changed += self.ledger.catalog_upsert(&batch, self.now()).await?;
        Ok((n, changed))
    }

    /// 9102 of a file, recorded like every call, the file streamed to `dest`.
    async fn download_file(
        &self,
        op: &Operator,
        no: &str,
        filename: &str,
        dest: &std::path::Path,
    ) -> Result<u64> {
        let input = nhsa::inputs::file_download(no, filename, &self.cfg.institution.fixmedins_code);
        let caller = nhsa::Caller {
            opter: op.id.clone(),
            opter_name: op.name.clone(),
            sign_no: self.sign_no(op).await?,
            insuplc_admdvs: String::new(),
        };
        let now = self.now();
        let msgid = self
            .ledger
            .begin_call(
                &self.cfg.institution.fixmedins_code,
                None,
                None,
                "9102",
                None,
                &input,
                &op.id,
                now,
            )
            .await?;
        let env = self
            .client
            .envelope(Infno::FileDownload, &msgid, &caller, now, input);
        let r = self.client.download_to(&env, dest, MAX_FILE).await;
        let (state, out, err) = match &r {
            Ok(n) => (
                ledger::CallState::Ok,
                Some(serde_json::json!({"file": filename, "bytes": n})),
                None,
            ),
            Err(e) => (ledger::CallState::Failed, None, Some(e.detail())),
        };
        self.ledger
            .finish_call(
                &msgid,
                state,
                out.as_ref(),
                None,
                err.as_deref(),
                &op.id,
                self.now(),
            )
            .await?;
        r.map_err(|e| CheckoutError::center(&e))
    }

    /// Whether the daily sync is due: never synced, or not yet today.
    pub async fn catalog_sync_due(&self) -> Result<bool> {
        let today = self.now().format("%Y-%m-%d").to_string();
        Ok(match self.ledger.catalog_last_sync().await? {
            None => true,
            Some(t) => t.get(..10).is_none_or(|d| d < today.as_str()),
        })
    }

    /// A catalogue item as the counter knows it now: the synced row when there is one,
    /// else the shipped demo catalogue's (a counter that never synced).
    pub async fn catalog_item(&self, code: &str) -> Result<Option<billing::CatalogItem>> {
        if let Some(r) = self.ledger.catalog_get(code).await? {
            let lv = ChargeClass::parse(&r.chrgitm_lv).unwrap_or(ChargeClass::C);
            let demo = self.cfg.catalog.get(code);
            return Ok(Some(billing::CatalogItem {
                code: r.med_list_codg,
                hosp_code: demo.map(|d| d.hosp_code.clone()).unwrap_or_default(),
                name: r.name,
                py: r.py,
                spec: r.spec,
                unit: r.unit,
                med_chrgitm_type: r.med_chrgitm_type,
                chrgitm_lv: lv,
                selfpay_prop: r.selfpay_prop.as_deref().and_then(|p| Ratio::parse(p).ok()),
                pric: r
                    .pric
                    .as_deref()
                    .and_then(|p| Price::parse(p).ok())
                    .unwrap_or(Price(0)),
                pric_uplmt_amt: r.lmt_pric.as_deref().and_then(|p| Price::parse(p).ok()),
            }));
        }
        Ok(self.cfg.catalog.get(code).cloned())
    }

    /// The lines with their class, 先自付 ratio and price cap from the synced
    /// catalogue (the authority once synced); lines of items it lacks stay as they are.
    pub async fn with_synced_catalogue(&self, lines: Vec<BillLine>) -> Result<Vec<BillLine>> {
        let mut out = Vec::with_capacity(lines.len());
        for mut l in lines {
            if let Some(code) = l.med_list_codg.clone() {
                if let Some(r) = self.ledger.catalog_get(&code).await? {
                    if let Some(lv) = ChargeClass::parse(&r.chrgitm_lv) {
                        l.chrgitm_lv = lv;
                    }
                    l.selfpay_prop = r.selfpay_prop.as_deref().and_then(|p| Ratio::parse(p).ok());
                    l.pric_uplmt_amt = r.lmt_pric.as_deref().and_then(|p| Price::parse(p).ok());
                }
            }
            out.push(l);
        }
        Ok(out)
    }

    /// The hospital's mapping of a line, checked (the caller asks once per bill whether
    /// a mapping is imported): a line whose hospital item is not mapped is refused
    /// (未对照) before 2204.
    pub(crate) async fn mapped(&self, l: &mut BillLine) -> Result<()> {
        let by_code = if l.order.medins_list_codg.is_empty() {
            match l.med_list_codg.as_deref() {
                Some(c) => self.ledger.hosp_item_for(c).await?,
                None => None,
            }
        } else {
            self.ledger.hosp_item(&l.order.medins_list_codg).await?
        };
        let Some(it) = by_code else {
            return Err(CheckoutError::input(format!(
                "「{}」未对照：本院项目{}没有对照医保目录，请信息科在目录对照中维护后再收费",
                l.name,
                if l.order.medins_list_codg.is_empty() {
                    String::new()
                } else {
                    format!(" {}", l.order.medins_list_codg)
                }
            )));
        };
        l.order.medins_list_codg = it.hosp_code;
        l.med_list_codg = Some(it.med_list_codg);
        if l.order.hosp_appr_flag.is_empty() {
            l.order.hosp_appr_flag = it.hosp_appr_flag;
        }
        Ok(())
    }
}

/// The mapping CSV: `hosp_code,name,pric,unit,med_list_codg[,hosp_appr_flag]`.
pub fn parse_mapping(text: &str) -> Result<Vec<HospItem>> {
    let text = billing::strip_bom(text);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    if head.len() < 5 || head[..5] != ["hosp_code", "name", "pric", "unit", "med_list_codg"] {
        return Err(CheckoutError::input(
            "对照 CSV 第 1 行应为 hosp_code,name,pric,unit,med_list_codg[,hosp_appr_flag]",
        ));
    }
    let mut out = Vec::new();
    for (i, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() < 5 {
            return Err(CheckoutError::input(format!(
                "对照 CSV 第 {} 行字段不足",
                i + 2
            )));
        }
        Price::parse(f[2]).map_err(|_| {
            CheckoutError::input(format!("对照 CSV 第 {} 行单价「{}」有误", i + 2, f[2]))
        })?;
        out.push(HospItem {
            hosp_code: f[0].into(),
            name: f[1].into(),
            pric: f[2].into(),
            unit: f[3].into(),
            med_list_codg: f[4].into(),
            hosp_appr_flag: f.get(5).copied().unwrap_or("0").into(),
        });
    }
    Ok(out)
}

impl Counter {
    /// Sync the catalogue as the signed-in operator.
    pub async fn sync_catalog(&self, work_dir: &std::path::Path) -> Result<CatalogSync> {
        let s = self.require(Action::Checkout).await?;
        self.engine().sync_catalog(&s.operator(), work_dir).await
    }

    /// Import the hospital's mapping (a supervisor's or admin's setting).
    pub async fn import_mapping(&self, csv: &str) -> Result<usize> {
        let s = self.require(Action::Settings).await?;
        let items = parse_mapping(csv)?;
        let e = self.engine();
        e.ledger.put_hosp_items(&s.id, &items, e.now()).await?;
        Ok(items.len())
    }
}

/// A search hit as `yibao catalog find` prints it.
pub fn find_json(r: &CatalogRow) -> Value {
    serde_json::json!({"med_list_codg": r.med_list_codg, "name": r.name, "chrgitm_lv": r.chrgitm_lv,
        "selfpay_prop": r.selfpay_prop, "lmt_pric": r.lmt_pric})
}
