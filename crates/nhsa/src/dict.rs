//! Dictionaries of the interface (docs/domain.md §1.6) that screens and receipts show:
//! one table, in both languages, for every shell.

/// 险种类型 (`insutype`): code, Chinese, English.
pub const INSUTYPES: &[(&str, &str, &str)] = &[
    (
        "310",
        "职工基本医疗保险",
        "Employee basic medical insurance",
    ),
    ("320", "公务员医疗补助", "Civil servant medical subsidy"),
    ("330", "大额医疗费用补助", "Employee large medical expenses"),
    ("340", "离休人员医疗保障", "Retiree medical insurance"),
    (
        "350",
        "一至六级残疾军人医疗补助",
        "Disabled veterans' medical subsidy",
    ),
    (
        "360",
        "老红军医疗保障",
        "Red Army veterans' medical insurance",
    ),
    (
        "370",
        "企业补充医疗保险",
        "Enterprise supplementary medical insurance",
    ),
    (
        "380",
        "新型农村合作医疗",
        "New rural cooperative medical scheme",
    ),
    (
        "390",
        "城乡居民基本医疗保险",
        "Urban and rural resident basic medical insurance",
    ),
    (
        "391",
        "城镇居民基本医疗保险",
        "Urban resident basic medical insurance",
    ),
    (
        "392",
        "城乡居民大病医疗保险",
        "Resident serious illness insurance",
    ),
    (
        "399",
        "其他特殊人员医疗保障",
        "Other special groups' medical insurance",
    ),
    ("410", "长期照护保险", "Long-term care insurance"),
    ("510", "生育保险", "Maternity insurance"),
];

/// The Chinese and English names of an `insutype` (`其他险种` / `Other insurance` when unknown).
pub fn insutype_label(code: &str) -> (&'static str, &'static str) {
    INSUTYPES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| (*zh, *en))
        .unwrap_or(("其他险种", "Other insurance"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10 bug 9: Rust knew 391 and 510, the window 392; both now read this table.
    #[test]
    fn every_insutype_of_the_dictionary_has_both_names() {
        for code in ["310", "390", "391", "392", "510"] {
            let (zh, en) = insutype_label(code);
            assert_ne!(zh, "其他险种", "{code}");
            assert_ne!(en, "Other insurance", "{code}");
        }
        let mut codes: Vec<_> = INSUTYPES.iter().map(|x| x.0).collect();
        codes.dedup();
        assert_eq!(codes.len(), INSUTYPES.len());
    }
}
