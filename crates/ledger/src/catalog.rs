//! The synced national catalogue (`catalog_items`, each download in
//! `catalog_versions`) and the hospital's mapping of its own items (`hosp_items`).
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, Ledger};

/// One row of the national catalogue as the counter keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRow {
    pub med_list_codg: String,
    /// The download it came from: 1301 西药中成药, 1302 中药饮片, 1305 医疗服务项目, 1306 医用耗材.
    pub list_type: String,
    pub name: String,
    pub py: String,
    pub spec: String,
    pub unit: String,
    pub med_chrgitm_type: String,
    pub chrgitm_lv: String,
    pub pric: Option<String>,
    pub selfpay_prop: Option<String>,
    pub lmt_pric: Option<String>,
    pub lmt_used_flag: String,
    pub vali_flag: String,
    pub ver: String,
}

/// A hospital item mapped to a national code (目录对照).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospItem {
    pub hosp_code: String,
    pub name: String,
    pub pric: String,
    pub unit: String,
    pub med_list_codg: String,
    pub hosp_appr_flag: String,
}

const COLS: &str = "med_list_codg, list_type, name, py, spec, unit, med_chrgitm_type, chrgitm_lv, pric, selfpay_prop, lmt_pric, lmt_used_flag, vali_flag, ver";

fn row_of(r: &sqlx::sqlite::SqliteRow) -> CatalogRow {
    CatalogRow {
        med_list_codg: r.get(0),
        list_type: r.get(1),
        name: r.get(2),
        py: r.get(3),
        spec: r.get(4),
        unit: r.get(5),
        med_chrgitm_type: r.get(6),
        chrgitm_lv: r.get(7),
        pric: r.get(8),
        selfpay_prop: r.get(9),
        lmt_pric: r.get(10),
        lmt_used_flag: r.get(11),
        vali_flag: r.get(12),
        ver: r.get(13),
    }
}

impl Ledger {
    /// Add or change catalogue rows in one transaction; the number that were new or
    /// differed from what the counter had (the ratio and price cap are 1318/1319's and
    /// kept).
    pub async fn catalog_upsert(&self, rows: &[CatalogRow], now: NaiveDateTime) -> Result<usize> {
        let mut tx = self.write_tx().await?;
        let mut changed = 0;
        for r in rows {
            let n = sqlx::query(
                "INSERT INTO catalog_items (med_list_codg, list_type, name, py, spec, unit, med_chrgitm_type,
                    chrgitm_lv, pric, lmt_used_flag, vali_flag, ver, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(med_list_codg) DO UPDATE SET list_type = excluded.list_type,
                    name = excluded.name, py = excluded.py, spec = excluded.spec, unit = excluded.unit,
                    med_chrgitm_type = excluded.med_chrgitm_type, chrgitm_lv = excluded.chrgitm_lv,
                    pric = excluded.pric, lmt_used_flag = excluded.lmt_used_flag,
                    vali_flag = excluded.vali_flag, ver = excluded.ver, updated_at = excluded.updated_at
                 WHERE (name, py, spec, unit, med_chrgitm_type, chrgitm_lv, pric, lmt_used_flag, vali_flag)
                    IS NOT (excluded.name, excluded.py, excluded.spec, excluded.unit,
                    excluded.med_chrgitm_type, excluded.chrgitm_lv, excluded.pric,
                    excluded.lmt_used_flag, excluded.vali_flag)",
            )
            .bind(&r.med_list_codg)
            .bind(&r.list_type)
            .bind(&r.name)
            .bind(&r.py)
            .bind(&r.spec)
            .bind(&r.unit)
            .bind(&r.med_chrgitm_type)
            .bind(&r.chrgitm_lv)
            .bind(&r.pric)
            .bind(&r.lmt_used_flag)
            .bind(&r.vali_flag)
            .bind(&r.ver)
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            changed += n as usize;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Set many items' 限价 / 先自付比例 in one transaction; how many changed.
    pub async fn catalog_set_limits(
        &self,
        rows: &[(String, Option<String>, Option<String>)],
        now: NaiveDateTime,
    ) -> Result<usize> {
        let mut tx = self.write_tx().await?;
        let mut changed = 0;
        for (code, lmt, prop) in rows {
            changed += sqlx::query(
                "UPDATE catalog_items SET lmt_pric = COALESCE(?, lmt_pric),
                    selfpay_prop = COALESCE(?, selfpay_prop), updated_at = ?
                  WHERE med_list_codg = ?
                    AND (COALESCE(?, lmt_pric) IS NOT lmt_pric OR COALESCE(?, selfpay_prop) IS NOT selfpay_prop)",
            )
            .bind(lmt)
            .bind(prop)
            .bind(fmt_time(now))
            .bind(code)
            .bind(lmt)
            .bind(prop)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The newest version downloaded of a catalogue (`1301`…, `1318`, `1319`).
    pub async fn catalog_version(&self, list_type: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT ver FROM catalog_versions WHERE list_type = ? ORDER BY ver DESC LIMIT 1",
        )
        .bind(list_type)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Record a download: when, how many rows and how many changed.
    pub async fn record_catalog_version(
        &self,
        list_type: &str,
        ver: &str,
        rows: usize,
        changed: usize,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO catalog_versions (list_type, ver, downloaded_at, rows, changed) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(list_type, ver) DO UPDATE SET downloaded_at = excluded.downloaded_at,
             rows = rows + excluded.rows, changed = changed + excluded.changed",
        )
        .bind(list_type)
        .bind(ver)
        .bind(fmt_time(now))
        .bind(rows as i64)
        .bind(changed as i64)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            self.key(),
            "catalog",
            "catalog.sync",
            &json!({"list_type": list_type, "ver": ver, "rows": rows, "changed": changed}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Catalogue rows by national code (those the counter has).
    pub async fn catalog_get(&self, code: &str) -> Result<Option<CatalogRow>> {
        let r = sqlx::query(&format!(
            "SELECT {COLS} FROM catalog_items WHERE med_list_codg = ?"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(row_of))
    }

    /// Search: the national code exactly, then the 拼音首字母 prefix, then the name's
    /// beginning (all by index), then any part of the name (valid items only).
    pub async fn catalog_find(&self, query: &str, limit: u32) -> Result<Vec<CatalogRow>> {
        let q = query.trim();
        let limit = limit.clamp(1, 200) as usize;
        let mut out: Vec<CatalogRow> = Vec::new();
        if q.is_empty() {
            return Ok(out);
        }
        let lower = q.to_lowercase();
        let hi = |s: &str| format!("{s}\u{10FFFF}");
        let steps: [(String, Vec<String>); 4] = [
            ("med_list_codg = ?1".into(), vec![q.to_string()]),
            (
                "py >= ?1 AND py < ?2".into(),
                vec![lower.clone(), hi(&lower)],
            ),
            (
                "name >= ?1 AND name < ?2".into(),
                vec![q.to_string(), hi(q)],
            ),
            ("name LIKE ?1".into(), vec![format!("%{q}%")]),
        ];
        for (k, (cond, args)) in steps.into_iter().enumerate() {
            // An exact code, or hits by index, answer; any part of the name is the
            // last resort (a scan).
            if out.len() >= limit || (k == 1 && !out.is_empty()) || (k == 3 && !out.is_empty()) {
                break;
            }
            let sql = format!(
                "SELECT {COLS} FROM catalog_items WHERE vali_flag = '1' AND {cond} ORDER BY length(name), med_list_codg LIMIT {}",
                limit
            );
            let mut query = sqlx::query(&sql);
            for a in &args {
                query = query.bind(a);
            }
            for r in query.fetch_all(self.pool()).await? {
                let row = row_of(&r);
                if out.len() < limit && !out.iter().any(|x| x.med_list_codg == row.med_list_codg) {
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    /// When the catalogue was last downloaded (any list), if ever.
    pub async fn catalog_last_sync(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(downloaded_at) FROM catalog_versions")
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn catalog_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM catalog_items")
            .fetch_one(self.pool())
            .await?)
    }

    /// Import the hospital's mapping (all rows or none; each change in the audit log).
    /// Every national code must be in the synced catalogue when there is one.
    pub async fn put_hosp_items(
        &self,
        by: &str,
        items: &[HospItem],
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let synced: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_items")
            .fetch_one(&mut *tx)
            .await?;
        for it in items {
            if it.hosp_code.trim().is_empty() || it.med_list_codg.trim().is_empty() {
                return Err(Error::Invalid(format!(
                    "对照「{}」缺少本院编码或医保目录编码",
                    it.name
                )));
            }
            if it.hosp_code == it.med_list_codg {
                return Err(Error::Invalid(format!(
                    "对照「{}」的本院编码与医保目录编码相同：请填本院自己的项目编码",
                    it.name
                )));
            }
            if synced > 0 {
                let known: Option<String> = sqlx::query_scalar(
                    "SELECT med_list_codg FROM catalog_items WHERE med_list_codg = ?",
                )
                .bind(&it.med_list_codg)
                .fetch_optional(&mut *tx)
                .await?;
                if known.is_none() {
                    return Err(Error::Invalid(format!(
                        "对照「{}」的医保目录编码 {} 不在已下载的医保目录中",
                        it.name, it.med_list_codg
                    )));
                }
            }
            sqlx::query(
                "INSERT INTO hosp_items (hosp_code, name, pric, unit, med_list_codg, hosp_appr_flag, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(hosp_code) DO UPDATE SET name = excluded.name, pric = excluded.pric,
                 unit = excluded.unit, med_list_codg = excluded.med_list_codg,
                 hosp_appr_flag = excluded.hosp_appr_flag, updated_at = excluded.updated_at",
            )
            .bind(it.hosp_code.trim())
            .bind(it.name.trim())
            .bind(it.pric.trim())
            .bind(it.unit.trim())
            .bind(it.med_list_codg.trim())
            .bind(it.hosp_appr_flag.trim())
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?;
            append_in(&mut tx, self.key(), by, "catalog.map", &json!(it), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn hosp_item(&self, hosp_code: &str) -> Result<Option<HospItem>> {
        let r = sqlx::query(
            "SELECT hosp_code, name, pric, unit, med_list_codg, hosp_appr_flag FROM hosp_items WHERE hosp_code = ?",
        )
        .bind(hosp_code)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| HospItem {
            hosp_code: r.get(0),
            name: r.get(1),
            pric: r.get(2),
            unit: r.get(3),
            med_list_codg: r.get(4),
            hosp_appr_flag: r.get(5),
        }))
    }

    /// The hospital item mapped to a national code, if any.
    pub async fn hosp_item_for(&self, med_list_codg: &str) -> Result<Option<HospItem>> {
        let code: Option<String> = sqlx::query_scalar(
            "SELECT hosp_code FROM hosp_items WHERE med_list_codg = ? ORDER BY hosp_code LIMIT 1",
        )
        .bind(med_list_codg)
        .fetch_optional(self.pool())
        .await?;
        match code {
            Some(c) => self.hosp_item(&c).await,
            None => Ok(None),
        }
    }

    pub async fn hosp_items_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM hosp_items")
            .fetch_one(self.pool())
            .await?)
    }
}
