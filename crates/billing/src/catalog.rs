//! The fee catalogue (医保目录 as the hospital holds it): code, class,
//! self-pay ratio, price cap, and the 拼音首字母 column used for search.

use money::{Price, Qty, Ratio};
use serde::{Deserialize, Serialize};

use crate::line::{BillLine, ChargeClass};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    /// 医疗目录编码.
    pub code: String,
    /// The hospital's own code of the item (医药机构目录编码), mapped to `code`.
    #[serde(default)]
    pub hosp_code: String,
    pub name: String,
    /// 拼音首字母 (e.g. `amxljn` for 阿莫西林胶囊).
    pub py: String,
    #[serde(default)]
    pub spec: String,
    #[serde(default)]
    pub unit: String,
    pub med_chrgitm_type: String,
    pub chrgitm_lv: ChargeClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfpay_prop: Option<Ratio>,
    pub pric: Price,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pric_uplmt_amt: Option<Price>,
}

impl CatalogItem {
    /// A bill line of `cnt` of this item at its catalogue price.
    pub fn line(&self, cnt: Qty) -> BillLine {
        BillLine {
            name: self.name.clone(),
            med_chrgitm_type: self.med_chrgitm_type.clone(),
            chrgitm_lv: self.chrgitm_lv,
            cnt,
            pric: self.pric,
            pric_uplmt_amt: self.pric_uplmt_amt,
            selfpay_prop: self.selfpay_prop,
            med_list_codg: Some(self.code.clone()),
            order: crate::line::LineOrder {
                medins_list_codg: self.hosp_code.clone(),
                ..Default::default()
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub items: Vec<CatalogItem>,
}

impl Catalog {
    pub fn from_json(text: &str) -> Result<Catalog, String> {
        serde_json::from_str(text).map_err(|e| format!("catalogue: {e}"))
    }

    /// The demo region's catalogue, shipped in assets/catalog/demo-catalog.json.
    pub fn demo() -> Catalog {
        Catalog::from_json(include_str!("../../../assets/catalog/demo-catalog.json"))
            .expect("the shipped demo catalogue parses")
    }

    pub fn get(&self, code: &str) -> Option<&CatalogItem> {
        self.items.iter().find(|i| i.code == code)
    }

    /// Search by name (any part), by 拼音首字母 (prefix first, then any part) or by code.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&CatalogItem> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return self.items.iter().take(limit).collect();
        }
        let mut scored: Vec<(u8, usize, &CatalogItem)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| {
                let py = it.py.to_lowercase();
                let score = if py.starts_with(&q) || it.name.starts_with(query.trim()) {
                    0
                } else if it.name.contains(query.trim()) || py.contains(&q) {
                    1
                } else if it.code.to_lowercase().starts_with(&q) {
                    2
                } else {
                    return None;
                };
                Some((score, i, it))
            })
            .collect();
        scored.sort_by_key(|(s, i, _)| (*s, *i));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, _, it)| it)
            .collect()
    }
}
