//! The `departments` and `doctors` tables: the institution's dictionaries that a
//! clinic-mode visit is built from. Every change is in the audit log.
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, Ledger};

/// A department: its 医保科室编码, name and national 科别 (`caty`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub caty: String,
}

/// A doctor: 医保医师编码, name, and the department they work in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doctor {
    pub code: String,
    pub name: String,
    pub dept_code: String,
    pub active: bool,
}

fn need(what: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() {
        return Err(Error::Invalid(format!("{what}不能为空")));
    }
    if v.chars().count() > 100 {
        return Err(Error::Invalid(format!("{what}过长")));
    }
    Ok(())
}

impl Ledger {
    /// Add or change departments (one transaction; one audit entry each). The 科别
    /// is checked against the national dictionary by the caller.
    pub async fn put_departments(
        &self,
        by: &str,
        list: &[Department],
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for d in list {
            need("科室编码", &d.code)?;
            need("科室名称", &d.name)?;
            need("科别", &d.caty)?;
            sqlx::query(
                "INSERT INTO departments (code, name, caty, updated_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT(code) DO UPDATE SET name = excluded.name, caty = excluded.caty,
                 updated_at = excluded.updated_at",
            )
            .bind(d.code.trim())
            .bind(d.name.trim())
            .bind(d.caty.trim())
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?;
            append_in(
                &mut tx,
                self.key(),
                by,
                "dict.department",
                &json!({"code": d.code, "name": d.name, "caty": d.caty}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Add or change doctors; each one's department must exist.
    pub async fn put_doctors(&self, by: &str, list: &[Doctor], now: NaiveDateTime) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for d in list {
            need("医保医师编码", &d.code)?;
            need("医生姓名", &d.name)?;
            need("科室编码", &d.dept_code)?;
            let dept: Option<String> =
                sqlx::query_scalar("SELECT code FROM departments WHERE code = ?")
                    .bind(d.dept_code.trim())
                    .fetch_optional(&mut *tx)
                    .await?;
            if dept.is_none() {
                return Err(Error::Invalid(format!(
                    "医生 {}（{}）的科室 {} 不在科室字典中，请先维护科室",
                    d.name, d.code, d.dept_code
                )));
            }
            sqlx::query(
                "INSERT INTO doctors (code, name, dept_code, active, updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT(code) DO UPDATE SET name = excluded.name, dept_code = excluded.dept_code,
                 active = excluded.active, updated_at = excluded.updated_at",
            )
            .bind(d.code.trim())
            .bind(d.name.trim())
            .bind(d.dept_code.trim())
            .bind(d.active)
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?;
            append_in(
                &mut tx,
                self.key(),
                by,
                "dict.doctor",
                &json!({"code": d.code, "name": d.name, "dept_code": d.dept_code, "active": d.active}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        let rows = sqlx::query("SELECT code, name, caty FROM departments ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Department {
                code: r.get(0),
                name: r.get(1),
                caty: r.get(2),
            })
            .collect())
    }

    pub async fn doctors(&self) -> Result<Vec<Doctor>> {
        let rows = sqlx::query("SELECT code, name, dept_code, active FROM doctors ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Doctor {
                code: r.get(0),
                name: r.get(1),
                dept_code: r.get(2),
                active: r.get(3),
            })
            .collect())
    }

    /// An active doctor and their department.
    pub async fn doctor(&self, code: &str) -> Result<Option<(Doctor, Department)>> {
        let r = sqlx::query(
            "SELECT d.code, d.name, d.dept_code, d.active, p.name, p.caty
               FROM doctors d JOIN departments p ON p.code = d.dept_code
              WHERE d.code = ? AND d.active = 1",
        )
        .bind(code.trim())
        .fetch_optional(self.pool())
        .await?;
        Ok(r.map(|r| {
            (
                Doctor {
                    code: r.get(0),
                    name: r.get(1),
                    dept_code: r.get(2),
                    active: r.get(3),
                },
                Department {
                    code: r.get(2),
                    name: r.get(4),
                    caty: r.get(5),
                },
            )
        }))
    }
}
