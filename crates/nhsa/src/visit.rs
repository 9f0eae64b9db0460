//! The visit as the hospital's HIS gives it (the `visit` of a HIS bill): who saw the
//! patient, in which department, with which diagnoses. The interface's own field
//! names; 2201 takes the doctor and department, 2203 the diagnoses (docs/domain.md §12, §1.5).
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One diagnosis (a `diseinfo` row of 2203).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Diagnosis {
    /// 1 西医诊断 (main when `diag_srt_no` is 1), 2 中医主病, 3 中医主证.
    pub diag_type: String,
    pub diag_srt_no: u32,
    /// ICD-10 code of the national 医保 dictionary.
    pub diag_code: String,
    pub diag_name: String,
    pub diag_dept: String,
    /// The diagnosing doctor's 医保医师编码 and name.
    pub dise_dor_no: String,
    pub dise_dor_name: String,
    pub diag_time: String,
    /// 1 valid.
    pub vali_flag: String,
}

/// The visit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Visit {
    /// The HIS's 门诊号.
    pub ipt_otp_no: String,
    pub begntime: String,
    /// The 医保科室编码 and name, and the national 科别 (dictionary `caty`).
    pub dept_code: String,
    pub dept_name: String,
    pub caty: String,
    /// The attending doctor's 医保医师编码 and name.
    pub atddr_no: String,
    pub dr_name: String,
    /// 病种 for 门诊慢特病 (empty otherwise).
    pub dise_codg: String,
    pub dise_name: String,
    pub diseinfo: Vec<Diagnosis>,
}

impl Visit {
    /// A complete outpatient visit of the demo institution (assets/dict): 李明 of
    /// 心血管内科门诊 (A03), main diagnosis 原发性高血压. For load generators, benches
    /// and tests that need a visit a strict center accepts.
    pub fn demo(ipt_otp_no: &str, begntime: &str) -> Visit {
        Visit {
            ipt_otp_no: ipt_otp_no.into(),
            begntime: begntime.into(),
            dept_code: "A03.01".into(),
            dept_name: "心血管内科门诊".into(),
            caty: "A03".into(),
            atddr_no: "D440300000001".into(),
            dr_name: "李明".into(),
            dise_codg: String::new(),
            dise_name: String::new(),
            diseinfo: vec![Diagnosis {
                diag_type: "1".into(),
                diag_srt_no: 1,
                diag_code: "I10.x00".into(),
                diag_name: "原发性高血压".into(),
                diag_dept: "心血管内科门诊".into(),
                dise_dor_no: "D440300000001".into(),
                dise_dor_name: "李明".into(),
                diag_time: begntime.into(),
                vali_flag: "1".into(),
            }],
        }
    }

    /// What the interface requires and this visit lacks, in words a cashier can act on
    /// (empty: complete). Checked before anything is sent.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut need = |ok: bool, what: &str| {
            if !ok {
                out.push(what.to_string());
            }
        };
        let set = |s: &str| !s.trim().is_empty();
        need(
            set(&self.atddr_no),
            "就诊医生未维护医保医师编码（atddr_no）",
        );
        need(set(&self.dr_name), "就诊医生姓名为空（dr_name）");
        need(
            set(&self.dept_code),
            "就诊科室未维护医保科室编码（dept_code）",
        );
        need(set(&self.dept_name), "就诊科室名称为空（dept_name）");
        need(set(&self.caty), "就诊科室未对照科别（caty）");
        need(set(&self.begntime), "就诊时间为空（begntime）");
        need(set(&self.ipt_otp_no), "门诊号为空（ipt_otp_no）");
        need(
            self.diseinfo
                .iter()
                .any(|d| d.diag_type == "1" && d.diag_srt_no == 1),
            "没有主诊断（diseinfo：diag_type 1、diag_srt_no 1）",
        );
        for (i, d) in self.diseinfo.iter().enumerate() {
            let n = i + 1;
            need(
                set(&d.diag_code),
                &format!("第 {n} 条诊断没有诊断代码（diag_code）"),
            );
            need(
                set(&d.diag_name),
                &format!("第 {n} 条诊断没有诊断名称（diag_name）"),
            );
            need(
                set(&d.dise_dor_no),
                &format!("第 {n} 条诊断的医生未维护医保医师编码（dise_dor_no）"),
            );
            need(
                set(&d.diag_time),
                &format!("第 {n} 条诊断没有诊断时间（diag_time）"),
            );
        }
        out
    }

    /// The doctor and department part of 2201's `data`.
    pub fn register_fields(&self) -> Value {
        json!({"ipt_otp_no": self.ipt_otp_no, "begntime": self.begntime, "atddr_no": self.atddr_no,
            "dr_name": self.dr_name, "dept_code": self.dept_code, "dept_name": self.dept_name,
            "caty": self.caty})
    }

    /// 2203's `diseinfo` rows.
    pub fn diseinfo_rows(&self) -> Value {
        Value::Array(
            self.diseinfo
                .iter()
                .map(|d| {
                    json!({"diag_type": d.diag_type, "diag_srt_no": d.diag_srt_no.to_string(),
                        "diag_code": d.diag_code, "diag_name": d.diag_name, "diag_dept": d.diag_dept,
                        "dise_dor_no": d.dise_dor_no, "dise_dor_name": d.dise_dor_name,
                        "diag_time": d.diag_time, "vali_flag": d.vali_flag})
                })
                .collect(),
        )
    }
}
