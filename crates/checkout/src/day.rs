//! 日结对账: the day's ledger against the center (3201, and 3202 when a group
//! does not balance), the cash drawer and the card terminal.

use money::Fen;
use nhsa::Infno;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CheckoutError, Engine, ErrorCode, Operator, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupResult {
    pub group: reconcile::Group,
    /// Settlements the center had and this ledger did not (R2), fetched with
    /// 5203 and booked locally as `adopted` checkouts for the cashier to review.
    pub adopted: Vec<String>,
    /// Settlements the center holds for other counters of the institution (by their
    /// msgids): reported, never booked into this ledger.
    #[serde(default)]
    pub other_counters: Vec<String>,
    /// 3201 `stmt_rslt`: 0 平.
    pub stmt_rslt: String,
    pub stmt_rslt_dscr: String,
    pub balanced: bool,
    /// 3202 result rows that are not 平 (only when 3201 did not balance).
    pub differences: Vec<reconcile::ResultRow>,
}

/// The center's answer for one 3201 group (`Engine::reconcile_groups`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupCheck {
    pub group: reconcile::Group,
    /// 3201 `stmt_rslt`: 0 平.
    pub stmt_rslt: String,
    pub stmt_rslt_dscr: String,
    pub balanced: bool,
    /// 3202 result rows that are not 平 (only when 3201 did not balance).
    pub differences: Vec<reconcile::ResultRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayReport {
    pub day: String,
    pub include_refunds: bool,
    pub groups: Vec<GroupResult>,
    pub center_balanced: bool,
    pub drawer: reconcile::Drawer,
    /// Offline items not yet settled and open adjustments (they explain differences).
    pub queued: usize,
    pub open_adjustments: Vec<ledger::Adjustment>,
    pub counts: DayCounts,
    /// The audit chain's head (`seq:hash`) when the report was made: kept on paper and in
    /// finance's files, it anchors the log outside the ledger (`yibao audit verify --head`).
    #[serde(default)]
    pub audit_head: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DayCounts {
    pub settlements: i64,
    pub refunds: i64,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub psn_cash_pay: Fen,
}

impl GroupResult {
    /// The 3202 differences, one line each, for the screen and the report.
    pub fn difference_lines(&self) -> Vec<String> {
        self.differences
            .iter()
            .map(|d| format!("结算号 {} {}（人员 {}）", d.setl_id, d.memo, d.psn_no))
            .collect()
    }
}

/// One CSV field, quoted when it has to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl DayReport {
    /// The report for finance as CSV: UTF-8 with a BOM and CRLF line ends, so that
    /// Excel and WPS open the Chinese text as it is.
    pub fn to_csv(&self, institution: &str, operator: &str, generated: &str) -> String {
        let opt = |f: Option<Fen>| f.map(|f| f.to_string()).unwrap_or_default();
        let s = |x: &str| x.to_string();
        let mut rows: Vec<Vec<String>> = vec![
            vec![s("日结对账单"), s(institution)],
            vec![s("对账日期"), self.day.clone()],
            vec![s("操作员"), s(operator), s("生成时间"), s(generated)],
            vec![s("审计链头"), self.audit_head.clone()],
            vec![
                s("与医保中心"),
                s(if self.center_balanced {
                    "平"
                } else {
                    "不平"
                }),
            ],
            vec![],
            [
                "险种",
                "清算类别",
                "清算机构",
                "笔数",
                "医疗费总额",
                "基金支付",
                "个人账户",
                "结果",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for g in &self.groups {
            rows.push(vec![
                g.group.insutype.clone(),
                g.group.clr_type.clone(),
                g.group.setl_optins.clone(),
                g.group.count.to_string(),
                g.group.medfee_sumamt.to_string(),
                g.group.fund_pay_sumamt.to_string(),
                g.group.acct_pay.to_string(),
                g.stmt_rslt_dscr.clone(),
            ]);
            for d in g.difference_lines() {
                rows.push(vec![s(""), s("差异"), d]);
            }
        }
        let d = &self.drawer;
        let c = &self.counts;
        rows.push(vec![]);
        rows.push(
            ["收款", "应有", "实点/终端", "差异"]
                .map(String::from)
                .to_vec(),
        );
        rows.push(vec![
            s("现金（含备用金）"),
            d.cash_expected.to_string(),
            opt(d.cash_counted),
            opt(d.cash_variance),
        ]);
        rows.push(vec![
            s("银行卡"),
            d.card_expected.to_string(),
            opt(d.card_terminal),
            opt(d.card_variance),
        ]);
        rows.push(vec![]);
        for (k, v) in [
            ("结算笔数", c.settlements.to_string()),
            ("退费笔数", c.refunds.to_string()),
            ("医疗费总额", c.medfee_sumamt.to_string()),
            ("基金支付", c.fund_pay_sumamt.to_string()),
            ("个人账户支付", c.acct_pay.to_string()),
            ("个人现金支付", c.psn_cash_pay.to_string()),
        ] {
            rows.push(vec![s(k), v]);
        }
        if self.queued > 0 {
            rows.push(vec![s("离线队列未补传"), self.queued.to_string()]);
        }
        for a in &self.open_adjustments {
            rows.push(vec![s("待处理差额"), a.reason.clone()]);
        }
        let mut out = String::from("\u{feff}");
        for r in rows {
            let line: Vec<String> = r.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

impl Engine {
    /// Reconcile `day` (yyyy-mm-dd). `float` is the drawer's opening cash.
    pub async fn reconcile_day(
        &self,
        op: &Operator,
        day: &str,
        include_refunds: bool,
        float: Fen,
        cash_counted: Option<Fen>,
        card_terminal: Option<Fen>,
    ) -> Result<DayReport> {
        if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
            return Err(CheckoutError::input(format!(
                "日期 {day} 格式应为 2026-11-25"
            )));
        }
        let settlements = self.ledger.settlements().await?;
        let groups = self.with_main_groups(reconcile::groups(&settlements, day, include_refunds));
        let mut counts = DayCounts::default();
        for s in settlements
            .iter()
            .filter(|s| s.setl_time.as_deref().is_some_and(|t| t.starts_with(day)))
        {
            match s.kind {
                ledger::SettlementKind::Settle => counts.settlements += 1,
                ledger::SettlementKind::Cancel => counts.refunds += 1,
            }
            counts.medfee_sumamt += s.medfee_sumamt;
            counts.fund_pay_sumamt += s.fund_pay_sumamt;
            counts.acct_pay += s.acct_pay;
            counts.psn_cash_pay += s.psn_cash_pay;
        }
        let mut results = Vec::new();
        for c in self
            .reconcile_groups(op, day, groups, include_refunds)
            .await?
        {
            let mut adopted = Vec::new();
            let mut other_counters = Vec::new();
            if !c.balanced {
                let ours = self.ledger.counter_no().await?;
                let code = &self.cfg.institution.fixmedins_code;
                for d in c
                    .differences
                    .iter()
                    .filter(|d| d.memo.contains("中心有医院无") && d.refd_setl_flag != "1")
                {
                    // Only this counter's own settlements (its msgids) are booked here;
                    // another counter's are its own ledger's business (or the hub's).
                    let mine = d.msgid.starts_with(code.as_str())
                        && ours.is_some()
                        && ledger::counter_of_msgid(&d.msgid) == ours;
                    if !mine {
                        other_counters.push(d.setl_id.clone());
                        continue;
                    }
                    if self
                        .adopt_from_center(op, &d.psn_no, &d.setl_id, &d.mdtrt_id)
                        .await?
                    {
                        adopted.push(d.setl_id.clone());
                    }
                }
            }
            results.push(GroupResult {
                group: c.group,
                adopted,
                other_counters,
                stmt_rslt: c.stmt_rslt,
                stmt_rslt_dscr: c.stmt_rslt_dscr,
                balanced: c.balanced,
                differences: c.differences,
            });
        }
        let payments = self.ledger.payments_on(day).await?;
        let drawer = reconcile::drawer(&payments, day, float, cash_counted, card_terminal);
        let queued = self
            .ledger
            .outbox(false)
            .await?
            .iter()
            .filter(|i| i.state != ledger::OutboxState::Done)
            .count();
        Ok(DayReport {
            day: day.into(),
            include_refunds,
            center_balanced: results.iter().all(|g| g.balanced),
            groups: results,
            drawer,
            queued,
            open_adjustments: self.ledger.adjustments(true).await?,
            counts,
            audit_head: self.ledger.audit_head().await?.unwrap_or_default(),
        })
    }

    /// `groups` with the main 险种 (310, 390; clr_type 11, this institution's clearing
    /// area) added where missing: they are always checked, also with nothing local, so a
    /// settlement the center has in a group with no local row is found too.
    pub fn with_main_groups(&self, mut groups: Vec<reconcile::Group>) -> Vec<reconcile::Group> {
        for insutype in ["310", "390"] {
            if !groups
                .iter()
                .any(|g| g.insutype == insutype && g.clr_type == "11")
            {
                groups.push(reconcile::Group::new(
                    insutype,
                    "11",
                    &self.cfg.institution.mdtrtarea_admvs,
                ));
            }
        }
        groups
    }

    /// 3201 for each group of `day` (yyyy-mm-dd), and where one does not balance 3202
    /// (9101 upload of the detail file, 9102 download of the result): the center's
    /// answer per group with the rows that are not 平. The groups may come from this
    /// ledger (`reconcile_day`) or from elsewhere (the institution's day from the hub,
    /// `yibao hub close`); nothing is booked here.
    pub async fn reconcile_groups(
        &self,
        op: &Operator,
        day: &str,
        groups: Vec<reconcile::Group>,
        include_refunds: bool,
    ) -> Result<Vec<GroupCheck>> {
        if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
            return Err(CheckoutError::input(format!(
                "日期 {day} 格式应为 2026-11-25"
            )));
        }
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let input = nhsa::inputs::stmt_total(
                &g.insutype,
                &g.clr_type,
                &g.setl_optins,
                day,
                day,
                g.medfee_sumamt,
                g.fund_pay_sumamt,
                g.acct_pay,
                g.count,
                include_refunds,
            );
            let r = self.call_ok(op, None, "", Infno::StmtTotal, input).await?;
            let info = &r.output["stmtinfo"];
            let stmt_rslt = info["stmt_rslt"].as_str().unwrap_or("").to_string();
            let stmt_rslt_dscr = info["stmt_rslt_dscr"].as_str().unwrap_or("").to_string();
            out.push(GroupCheck {
                balanced: stmt_rslt == "0",
                group: g,
                stmt_rslt,
                stmt_rslt_dscr,
                differences: Vec::new(),
            });
        }
        // 3202 has no 险种: it checks every settlement of a (clr_type, setl_optins) at
        // once. So its file holds all of them, one 3202 per such scope with a group
        // that did not balance; each differing row goes to the group holding its
        // setl_id, one no group holds (the center's only) to the first unbalanced group
        // of its scope.
        let mut scopes: Vec<(String, String)> = Vec::new();
        for c in out.iter().filter(|c| !c.balanced) {
            let k = (c.group.clr_type.clone(), c.group.setl_optins.clone());
            if !scopes.contains(&k) {
                scopes.push(k);
            }
        }
        for (clr_type, setl_optins) in scopes {
            let in_scope =
                |c: &GroupCheck| c.group.clr_type == clr_type && c.group.setl_optins == setl_optins;
            let mut all = reconcile::Group::new("", &clr_type, &setl_optins);
            for c in out.iter().filter(|c| in_scope(c)) {
                let g = &c.group;
                all.medfee_sumamt += g.medfee_sumamt;
                all.fund_pay_sumamt += g.fund_pay_sumamt;
                all.acct_pay += g.acct_pay;
                all.cash_payamt += g.cash_payamt;
                all.count += g.count;
                all.rows.extend(g.rows.iter().cloned());
            }
            let rows = self.detail(op, &all, day, include_refunds).await?;
            let first = out
                .iter()
                .position(|c| in_scope(c) && !c.balanced)
                .unwrap_or(0);
            for row in rows {
                let i = out
                    .iter()
                    .position(|c| {
                        in_scope(c) && c.group.rows.iter().any(|r| r.setl_id == row.setl_id)
                    })
                    .unwrap_or(first);
                out[i].differences.push(row);
            }
        }
        Ok(out)
    }

    /// 9101 upload → 3202 → 9102 download → the rows that are not 平.
    async fn detail(
        &self,
        op: &Operator,
        g: &reconcile::Group,
        day: &str,
        refunds: bool,
    ) -> Result<Vec<reconcile::ResultRow>> {
        let code = self.cfg.institution.fixmedins_code.clone();
        let filename = format!("{code}-{day}-{}-{}.txt", g.clr_type, g.setl_optins);
        let up = self
            .call_ok(
                op,
                None,
                "",
                Infno::FileUpload,
                nhsa::inputs::file_upload(&reconcile::detail_file(g), &filename, &code),
            )
            .await?;
        let no = up.output["file_qury_no"].as_str().unwrap_or("").to_string();
        let cash = g.cash_payamt;
        let r = self
            .call_ok(
                op,
                None,
                "",
                Infno::StmtDetail,
                nhsa::inputs::stmt_detail(
                    &g.setl_optins,
                    &g.clr_type,
                    &no,
                    day,
                    day,
                    g.medfee_sumamt,
                    g.fund_pay_sumamt,
                    cash,
                    g.count,
                    refunds,
                ),
            )
            .await?;
        let f = &r.output["fileinfo"];
        let (rno, rname) = (
            f["file_qury_no"].as_str().unwrap_or(""),
            f["filename"].as_str().unwrap_or(""),
        );
        let down = self
            .call_ok(
                op,
                None,
                "",
                Infno::FileDownload,
                nhsa::inputs::file_download(rno, rname, &code),
            )
            .await?;
        let content = down
            .output
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("");
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, content.trim())
                .ok()
                .ok_or_else(|| {
                    CheckoutError::new(ErrorCode::SystemFault, "对账结果文件无法解码", "请稍后重试")
                })?;
        let rows = reconcile::parse_result(&String::from_utf8_lossy(&bytes)).map_err(|e| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "对账结果文件格式不符",
                "请联系信息科",
            )
            .with_detail(e)
        })?;
        Ok(rows.into_iter().filter(|r| r.stmt_rslt != "0").collect())
    }

    /// A settlement the center holds but this ledger lacks: fetch it (5203) and
    /// book it on a new checkout in state `done`, mode `adopted`.
    async fn adopt_from_center(
        &self,
        op: &Operator,
        psn_no: &str,
        setl_id: &str,
        mdtrt_id: &str,
    ) -> Result<bool> {
        if self.ledger.settlement(setl_id).await?.is_some() {
            return Ok(false);
        }
        let (msgid, sent) = self
            .call(
                op,
                None,
                None,
                "",
                Infno::SettleQuery,
                nhsa::inputs::settle_query(psn_no, setl_id, mdtrt_id),
            )
            .await?;
        let crate::Sent::Ok(r) = sent else {
            return Ok(false);
        };
        let v = self.start(op).await?;
        let mut rec = self.load(&v.id).await?;
        rec.mode = ledger::CheckoutMode::Adopted;
        rec.psn_no = Some(psn_no.into());
        rec.mdtrt_id = Some(mdtrt_id.into());
        rec.insutype = r.output["setlinfo"]["insutype"].as_str().map(str::to_owned);
        crate::set_ctx(
            &mut rec,
            "adopted_note",
            serde_json::json!("对账时从医保中心补录（5203），请核对收款"),
        );
        // The center holds a settlement for this new checkout: book its answer (an
        // adopted checkout is done; collecting any money for it is the cashier's review).
        crate::flow::advance(&mut rec, crate::Event::Adopted)?;
        self.adopt_settlement(op, &mut rec, &msgid, &r.output)
            .await?;
        Ok(true)
    }
}
