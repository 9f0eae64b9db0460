//! Clinic mode (no HIS): the institution's departments and doctors dictionaries,
//! their CSV import, and the visit a cashier builds from them — the doctor picked
//! from the dictionary, the diagnoses typed from the prescription. What 2201 and
//! 2203 then send is the same `nhsa::visit::Visit` a HIS bill carries.
use ledger::{Action, Department, Doctor};
use nhsa::visit::{Diagnosis, Visit};
use serde::{Deserialize, Serialize};

use crate::counter::Counter;
use crate::view::CheckoutView;
use crate::{CheckoutError, Engine, Operator, Result};

/// Which dictionary a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DictKind {
    /// `dept_code,dept_name,caty`
    Departments,
    /// `dr_code,dr_name,dept_code`
    Doctors,
}

impl DictKind {
    pub fn parse(s: &str) -> Option<DictKind> {
        match s {
            "departments" => Some(DictKind::Departments),
            "doctors" => Some(DictKind::Doctors),
            _ => None,
        }
    }

    fn header(self) -> [&'static str; 3] {
        match self {
            DictKind::Departments => ["dept_code", "dept_name", "caty"],
            DictKind::Doctors => ["dr_code", "dr_name", "dept_code"],
        }
    }
}

/// One diagnosis as the cashier picks it (code of the national ICD-10 dictionary, name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisPick {
    pub code: String,
    pub name: String,
}

/// Split a CSV file of three columns into rows, checking the header. Fields may be
/// quoted ("a,b"); a BOM and blank lines are ignored. Errors name the line.
pub fn parse_csv(kind: DictKind, text: &str) -> Result<Vec<[String; 3]>> {
    let text = billing::strip_bom(text);
    let mut rows = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = lines
        .next()
        .map(|(_, l)| split_csv_line(l))
        .unwrap_or_default();
    let want = kind.header();
    if header.iter().map(|h| h.trim()).collect::<Vec<_>>() != want {
        return Err(CheckoutError::input(format!(
            "CSV 第 1 行应为表头 {}，实际为 {}",
            want.join(","),
            header.join(",")
        )));
    }
    for (n, l) in lines {
        let f = split_csv_line(l);
        if f.len() != 3 || f.iter().any(|x| x.trim().is_empty()) {
            return Err(CheckoutError::input(format!(
                "CSV 第 {} 行应有 3 个非空字段（{}）",
                n + 1,
                want.join(",")
            )));
        }
        rows.push([f[0].trim().into(), f[1].trim().into(), f[2].trim().into()]);
    }
    if rows.is_empty() {
        return Err(CheckoutError::input("CSV 文件没有数据行"));
    }
    Ok(rows)
}

fn split_csv_line(l: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = l.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn check_caty(d: &Department) -> Result<()> {
    if nhsa::dict::caty_name(d.caty.trim()).is_none() {
        return Err(CheckoutError::input(format!(
            "科室 {}（{}）的科别 {} 不在国家科别字典中（如 A03 内科）",
            d.name, d.code, d.caty
        )));
    }
    Ok(())
}

impl Engine {
    /// Build the visit of a clinic-mode checkout from the dictionaries: the doctor (and
    /// so the department and its 科别) and the diagnoses, the first one main. With a
    /// 慢特病 `chronic` code the visit is settled under med_type 14 with that
    /// registration (checked against 5301's answer).
    pub async fn set_clinic_visit(
        &self,
        op: &Operator,
        id: &str,
        doctor: &str,
        diagnoses: &[DiagnosisPick],
        chronic: Option<&str>,
    ) -> Result<CheckoutView> {
        let Some((dr, dept)) = self.ledger.doctor(doctor).await? else {
            return Err(CheckoutError::input(if doctor.trim().is_empty() {
                "请选择就诊医生".to_string()
            } else {
                format!("医生 {doctor} 不在本院医生字典中（该医生未维护医保医师编码），请主管在设置中维护")
            }));
        };
        if diagnoses.is_empty() {
            return Err(CheckoutError::input("请录入诊断（至少一条主诊断）"));
        }
        for d in diagnoses {
            if !nhsa::dict::is_icd10(d.code.trim()) || d.name.trim().is_empty() {
                return Err(CheckoutError::input(format!(
                    "诊断「{} {}」不是医保疾病诊断编码（ICD-10，如 I10.x00 原发性高血压）",
                    d.code, d.name
                )));
            }
        }
        let now = self.now().format("%Y-%m-%d %H:%M:%S").to_string();
        let rec = self.load(id).await?;
        let (dise_codg, dise_name, med_type) = match chronic {
            Some(code) => {
                let reg = crate::flow::registrations(&rec)
                    .into_iter()
                    .find(|r| r.code == code)
                    .ok_or_else(|| crate::flow::not_registered(code))?;
                (reg.code, reg.name, "14")
            }
            None => (String::new(), String::new(), "11"),
        };
        let visit = Visit {
            ipt_otp_no: format!("M{}", &id.replace('-', "")[..12]),
            begntime: now.clone(),
            dept_code: dept.code.clone(),
            dept_name: dept.name.clone(),
            caty: dept.caty.clone(),
            atddr_no: dr.code.clone(),
            dr_name: dr.name.clone(),
            dise_codg,
            dise_name,
            diseinfo: diagnoses
                .iter()
                .enumerate()
                .map(|(i, d)| Diagnosis {
                    diag_type: "1".into(),
                    diag_srt_no: i as u32 + 1,
                    diag_code: d.code.trim().into(),
                    diag_name: d.name.trim().into(),
                    diag_dept: dept.name.clone(),
                    dise_dor_no: dr.code.clone(),
                    dise_dor_name: dr.name.clone(),
                    diag_time: now.clone(),
                    vali_flag: "1".into(),
                })
                .collect(),
        };
        self.set_visit(op, id, med_type, visit).await
    }
}

impl Counter {
    /// Add or change departments (a supervisor's or admin's setting).
    pub async fn put_departments(&self, list: &[Department]) -> Result<()> {
        let s = self.require(Action::Settings).await?;
        for d in list {
            check_caty(d)?;
        }
        let e = self.engine();
        Ok(e.ledger.put_departments(&s.id, list, e.now()).await?)
    }

    /// Add or change doctors (a supervisor's or admin's setting).
    pub async fn put_doctors(&self, list: &[Doctor]) -> Result<()> {
        let s = self.require(Action::Settings).await?;
        let e = self.engine();
        Ok(e.ledger.put_doctors(&s.id, list, e.now()).await?)
    }

    /// Import a dictionary from CSV (all rows or none); the number of rows.
    pub async fn import_dictionary(&self, kind: DictKind, csv: &str) -> Result<usize> {
        match kind {
            DictKind::Departments => {
                let list = departments_csv(csv)?;
                self.put_departments(&list).await?;
                Ok(list.len())
            }
            DictKind::Doctors => {
                let list = doctors_csv(csv)?;
                self.put_doctors(&list).await?;
                Ok(list.len())
            }
        }
    }
}

/// Departments from CSV (`医保科室编码,科室名称,科别`), each 科别 checked against the
/// national dictionary (the counter's import and the hub's `yibao hub share`).
pub fn departments_csv(csv: &str) -> Result<Vec<Department>> {
    let list: Vec<Department> = parse_csv(DictKind::Departments, csv)?
        .into_iter()
        .map(|[code, name, caty]| Department { code, name, caty })
        .collect();
    for d in &list {
        check_caty(d)?;
    }
    Ok(list)
}

/// Doctors from CSV (`医保医师编码,医生姓名,科室编码`).
pub fn doctors_csv(csv: &str) -> Result<Vec<Doctor>> {
    Ok(parse_csv(DictKind::Doctors, csv)?
        .into_iter()
        .map(|[code, name, dept_code]| Doctor {
            code,
            name,
            dept_code,
            active: true,
        })
        .collect())
}

/// Seed an empty ledger's dictionaries at installation (the installer's CSVs; the
/// actor in the audit log is `install`).
pub async fn seed(
    ledger: &ledger::Ledger,
    departments_csv: &str,
    doctors_csv: &str,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let depts: Vec<Department> = parse_csv(DictKind::Departments, departments_csv)?
        .into_iter()
        .map(|[code, name, caty]| Department { code, name, caty })
        .collect();
    for d in &depts {
        check_caty(d)?;
    }
    ledger.put_departments("install", &depts, now).await?;
    let doctors: Vec<Doctor> = parse_csv(DictKind::Doctors, doctors_csv)?
        .into_iter()
        .map(|[code, name, dept_code]| Doctor {
            code,
            name,
            dept_code,
            active: true,
        })
        .collect();
    ledger.put_doctors("install", &doctors, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_dictionaries_parse_and_a_wrong_header_is_named() {
        let d = parse_csv(
            DictKind::Departments,
            include_str!("../../../assets/dict/departments.csv"),
        )
        .unwrap();
        assert!(d.iter().all(|r| nhsa::dict::caty_name(&r[2]).is_some()));
        let dr = parse_csv(
            DictKind::Doctors,
            include_str!("../../../assets/dict/doctors.csv"),
        )
        .unwrap();
        assert_eq!(dr[0], ["D440300000001", "李明", "A03.01"].map(String::from));
        let e = parse_csv(DictKind::Doctors, "code,name\nD1,李明\n").unwrap_err();
        assert!(e.message.contains("表头"), "{e:?}");
        let q = parse_csv(
            DictKind::Departments,
            "dept_code,dept_name,caty\n\"A1\",\"内科,门诊\",A03\n",
        )
        .unwrap();
        assert_eq!(q[0][1], "内科,门诊");
    }
}
