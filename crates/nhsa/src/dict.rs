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

/// 科别 (`caty`, the national 诊疗科目 dictionary): code, Chinese name. A department's
/// 科别 must be one of these (2201 is refused otherwise).
pub const CATY: &[(&str, &str)] = &[
    ("A01", "预防保健科"),
    ("A02", "全科医疗科"),
    ("A03", "内科"),
    ("A04", "外科"),
    ("A05", "妇产科"),
    ("A06", "妇女保健科"),
    ("A07", "儿科"),
    ("A08", "小儿外科"),
    ("A09", "儿童保健科"),
    ("A10", "眼科"),
    ("A11", "耳鼻咽喉科"),
    ("A12", "口腔科"),
    ("A13", "皮肤科"),
    ("A14", "医疗美容科"),
    ("A15", "精神科"),
    ("A16", "传染科"),
    ("A17", "结核病科"),
    ("A18", "地方病科"),
    ("A19", "肿瘤科"),
    ("A20", "急诊医学科"),
    ("A21", "康复医学科"),
    ("A22", "运动医学科"),
    ("A23", "职业病科"),
    ("A24", "临终关怀科"),
    ("A26", "麻醉科"),
    ("A27", "疼痛科"),
    ("A28", "重症医学科"),
    ("A30", "医学检验科"),
    ("A31", "病理科"),
    ("A32", "医学影像科"),
    ("A50", "中医科"),
    ("A51", "民族医学科"),
    ("A52", "中西医结合科"),
    ("A69", "其他业务科室"),
];

/// The Chinese name of a 科别 code, if it is in the national dictionary.
pub fn caty_name(code: &str) -> Option<&'static str> {
    CATY.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Common outpatient diagnoses of the national 医保 ICD-10 dictionary (a subset the
/// clinic-mode entry searches; a code outside it may still be typed): code, name,
/// 拼音首字母.
pub const DIAGNOSES: &[(&str, &str, &str)] = &[
    ("I10.x00", "原发性高血压", "yfxgxy"),
    ("J06.900", "急性上呼吸道感染", "jxshxdgr"),
    ("J20.900", "急性支气管炎", "jxzqgy"),
    ("J02.900", "急性咽炎", "jxyy"),
    ("J03.900", "急性扁桃体炎", "jxbtty"),
    ("J45.900", "哮喘", "xc"),
    ("E11.900", "2型糖尿病", "2xtnb"),
    ("E78.500", "高脂血症", "gzxz"),
    ("I25.103", "冠状动脉粥样硬化性心脏病", "gzdmzyyhxxzb"),
    ("K29.700", "胃炎", "wy"),
    ("K30.x00", "功能性消化不良", "gnxxhbl"),
    ("K59.000", "便秘", "bm"),
    ("A09.900", "胃肠炎", "wcy"),
    ("M54.500", "腰痛", "yt"),
    ("M17.900", "膝关节病", "xgjb"),
    ("N39.000", "泌尿道感染", "mndgr"),
    ("L30.900", "皮炎", "py"),
    ("H10.900", "结膜炎", "jmy"),
    ("R51.x00", "头痛", "tt"),
    ("R50.900", "发热", "fr"),
    ("K02.900", "龋病", "qb"),
    ("F51.000", "失眠", "sm"),
    ("Z00.000", "一般医学检查", "ybyxjc"),
];

/// Whether a text has the shape of an ICD-10 code of the national dictionary
/// (a letter, two digits, a dot and three characters: `I10.x00`, `J06.900`).
pub fn is_icd10(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() >= 7
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b'.'
        && b[4..].iter().all(|c| c.is_ascii_alphanumeric())
}

/// Search the diagnosis subset by code, name or 拼音首字母.
pub fn find_diagnoses(query: &str, limit: usize) -> Vec<(&'static str, &'static str)> {
    let q = query.trim().to_lowercase();
    DIAGNOSES
        .iter()
        .filter(|(c, n, py)| {
            q.is_empty()
                || c.to_lowercase().starts_with(&q)
                || n.contains(query.trim())
                || py.starts_with(&q)
        })
        .take(limit)
        .map(|(c, n, _)| (*c, *n))
        .collect()
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
