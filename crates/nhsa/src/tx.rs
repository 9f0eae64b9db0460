//! The transactions and their service paths (§1.1).

use serde::{Deserialize, Serialize};

/// A transaction number (交易编号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Infno {
    #[serde(rename = "9001")]
    SignIn,
    #[serde(rename = "9002")]
    SignOut,
    #[serde(rename = "1101")]
    PersonInfo,
    #[serde(rename = "1162")]
    QrDecode,
    #[serde(rename = "1301")]
    CatalogWestern,
    #[serde(rename = "1302")]
    CatalogHerbal,
    #[serde(rename = "1305")]
    CatalogService,
    #[serde(rename = "1306")]
    CatalogMaterial,
    #[serde(rename = "1318")]
    CatalogLimit,
    #[serde(rename = "1319")]
    CatalogSelfpay,
    #[serde(rename = "2201")]
    Register,
    #[serde(rename = "2202")]
    RegisterCancel,
    #[serde(rename = "2203")]
    VisitUpload,
    #[serde(rename = "2204")]
    FeeUpload,
    #[serde(rename = "2205")]
    FeeCancel,
    #[serde(rename = "2206")]
    PreSettle,
    #[serde(rename = "2207")]
    Settle,
    #[serde(rename = "2208")]
    SettleCancel,
    #[serde(rename = "2601")]
    Reverse,
    #[serde(rename = "3101")]
    RuleCheck,
    #[serde(rename = "3102")]
    RuleFeedback,
    #[serde(rename = "3201")]
    StmtTotal,
    #[serde(rename = "3202")]
    StmtDetail,
    #[serde(rename = "5201")]
    VisitQuery,
    #[serde(rename = "5203")]
    SettleQuery,
    #[serde(rename = "5204")]
    FeeQuery,
    #[serde(rename = "5301")]
    ChronicQuery,
    #[serde(rename = "9101")]
    FileUpload,
    #[serde(rename = "9102")]
    FileDownload,
}

impl Infno {
    pub const ALL: [Infno; 29] = [
        Infno::SignIn,
        Infno::SignOut,
        Infno::PersonInfo,
        Infno::QrDecode,
        Infno::CatalogWestern,
        Infno::CatalogHerbal,
        Infno::CatalogService,
        Infno::CatalogMaterial,
        Infno::CatalogLimit,
        Infno::CatalogSelfpay,
        Infno::Register,
        Infno::RegisterCancel,
        Infno::VisitUpload,
        Infno::FeeUpload,
        Infno::FeeCancel,
        Infno::PreSettle,
        Infno::Settle,
        Infno::SettleCancel,
        Infno::Reverse,
        Infno::RuleCheck,
        Infno::RuleFeedback,
        Infno::StmtTotal,
        Infno::StmtDetail,
        Infno::VisitQuery,
        Infno::SettleQuery,
        Infno::FeeQuery,
        Infno::ChronicQuery,
        Infno::FileUpload,
        Infno::FileDownload,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Infno::SignIn => "9001",
            Infno::SignOut => "9002",
            Infno::PersonInfo => "1101",
            Infno::QrDecode => "1162",
            Infno::CatalogWestern => "1301",
            Infno::CatalogHerbal => "1302",
            Infno::CatalogService => "1305",
            Infno::CatalogMaterial => "1306",
            Infno::CatalogLimit => "1318",
            Infno::CatalogSelfpay => "1319",
            Infno::Register => "2201",
            Infno::RegisterCancel => "2202",
            Infno::VisitUpload => "2203",
            Infno::FeeUpload => "2204",
            Infno::FeeCancel => "2205",
            Infno::PreSettle => "2206",
            Infno::Settle => "2207",
            Infno::SettleCancel => "2208",
            Infno::Reverse => "2601",
            Infno::RuleCheck => "3101",
            Infno::RuleFeedback => "3102",
            Infno::StmtTotal => "3201",
            Infno::StmtDetail => "3202",
            Infno::VisitQuery => "5201",
            Infno::SettleQuery => "5203",
            Infno::FeeQuery => "5204",
            Infno::ChronicQuery => "5301",
            Infno::FileUpload => "9101",
            Infno::FileDownload => "9102",
        }
    }

    pub fn parse(s: &str) -> Option<Infno> {
        Infno::ALL.into_iter().find(|i| i.code() == s.trim())
    }

    /// The service path after the regional gateway prefix.
    pub fn path(self) -> &'static str {
        match self {
            Infno::SignIn => "/fsi/api/signInSignOutService/signIn",
            Infno::SignOut => "/fsi/api/signInSignOutService/signOut",
            Infno::PersonInfo => "/fsi/api/fsiPsnInfoService/queryPsnInfo",
            Infno::QrDecode => "/fsi/api/hsecfc/localQrCodeQuery",
            Infno::CatalogWestern => "/fsi/api/catalogdownService/downWesternMedicine",
            Infno::CatalogHerbal => "/fsi/api/catalogdownService/downHerbalPieces",
            Infno::CatalogService => "/fsi/api/catalogdownService/downMedicalService",
            Infno::CatalogMaterial => "/fsi/api/catalogdownService/downMedicalMaterial",
            Infno::CatalogLimit => "/fsi/api/fsiIntegratedQueryService/queryHilistLmtpricInfo",
            Infno::CatalogSelfpay => "/fsi/api/fsiIntegratedQueryService/queryHilistSelfpayInfo",
            Infno::Register => "/fsi/api/outpatientDocInfoService/outpatientRregistration",
            Infno::RegisterCancel => {
                "/fsi/api/outpatientDocInfoService/outpatientRegistrationCancel"
            }
            Infno::VisitUpload => "/fsi/api/outpatientDocInfoService/outpatientMdtrtinfoUp",
            Infno::FeeUpload => "/fsi/api/outpatientDocInfoService/outpatientFeeListUp",
            Infno::FeeCancel => "/fsi/api/outpatientDocInfoService/outpatientFeeListUpCancel",
            Infno::PreSettle => "/fsi/api/outpatientSettleService/preSettletment",
            Infno::Settle => "/fsi/api/outpatientSettleService/saveSettletmentV2",
            Infno::SettleCancel => "/fsi/api/outpatientSettleService/cancleSettletment",
            Infno::Reverse => "/fsi/api/reverseService/revsMethod",
            Infno::RuleCheck => "/fsi/api/ruleAuditService/preAudit",
            Infno::RuleFeedback => "/fsi/api/ruleAuditService/feedback",
            Infno::StmtTotal => "/fsi/api/ybSettlementStmtService/stmtTotal",
            Infno::StmtDetail => "/fsi/api/ybSettlementStmtService/stmtDetail",
            Infno::VisitQuery => "/fsi/api/fsiIntegratedQueryService/queryMdtrtInfo",
            Infno::SettleQuery => "/fsi/api/fsiIntegratedQueryService/querySetlInfo",
            Infno::FeeQuery => "/fsi/api/fsiIntegratedQueryService/queryFeeList",
            Infno::ChronicQuery => "/fsi/api/fsiIntegratedQueryService/queryPsnOpspReg",
            Infno::FileUpload => "/fsi/api/fileupload/upload",
            Infno::FileDownload => "/fsi/api/fileupload/download",
        }
    }

    pub fn from_path(path: &str) -> Option<Infno> {
        Infno::ALL.into_iter().find(|i| path.ends_with(i.path()))
    }

    /// Does this transaction move money? (Never retried automatically; reversible with 2601.)
    pub fn moves_money(self) -> bool {
        matches!(self, Infno::Settle | Infno::SettleCancel)
    }

    /// Can it wait in the offline queue (§5.5)?
    pub fn deferrable(self) -> bool {
        matches!(
            self,
            Infno::Reverse
                | Infno::SignOut
                | Infno::StmtTotal
                | Infno::StmtDetail
                | Infno::FileUpload
        )
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Infno::SignIn => "签到",
            Infno::SignOut => "签退",
            Infno::PersonInfo => "人员信息获取",
            Infno::QrDecode => "电子凭证解码",
            Infno::CatalogWestern => "西药中成药目录下载",
            Infno::CatalogHerbal => "中药饮片目录下载",
            Infno::CatalogService => "医疗服务项目目录下载",
            Infno::CatalogMaterial => "医用耗材目录下载",
            Infno::CatalogLimit => "医保目录限价信息查询",
            Infno::CatalogSelfpay => "医保目录先自付比例信息查询",
            Infno::Register => "门诊挂号",
            Infno::RegisterCancel => "挂号撤销",
            Infno::VisitUpload => "门诊就诊信息上传",
            Infno::FeeUpload => "门诊费用明细上传",
            Infno::FeeCancel => "撤销费用明细",
            Infno::PreSettle => "门诊预结算",
            Infno::Settle => "门诊结算",
            Infno::SettleCancel => "门诊结算撤销",
            Infno::Reverse => "冲正交易",
            Infno::RuleCheck => "明细审核事前事中分析",
            Infno::RuleFeedback => "事前事中分析结果反馈",
            Infno::StmtTotal => "对总账",
            Infno::StmtDetail => "对明细账",
            Infno::VisitQuery => "就诊信息查询",
            Infno::SettleQuery => "结算信息查询",
            Infno::FeeQuery => "费用明细查询",
            Infno::ChronicQuery => "人员慢特病备案查询",
            Infno::FileUpload => "文件上传",
            Infno::FileDownload => "文件下载",
        }
    }
}
