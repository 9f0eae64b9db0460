-- Schema 4: the national 医保目录 as synced from the center (1301/1302/1305/1306
-- through 9102, 1318 限价, 1319 先自付比例), each download recorded, and the
-- hospital's mapping (目录对照) of its own items to national codes.

CREATE TABLE catalog_items (
    med_list_codg    TEXT PRIMARY KEY,
    list_type        TEXT NOT NULL,           -- 1301, 1302, 1305, 1306
    name             TEXT NOT NULL,
    py               TEXT NOT NULL DEFAULT '',
    spec             TEXT NOT NULL DEFAULT '',
    unit             TEXT NOT NULL DEFAULT '',
    med_chrgitm_type TEXT NOT NULL,
    chrgitm_lv       TEXT NOT NULL,           -- 01 甲, 02 乙, 03 丙
    pric             TEXT,                    -- reference price, yuan
    selfpay_prop     TEXT,                    -- 先自付比例 (1319)
    lmt_pric         TEXT,                    -- 限价 (1318), yuan
    lmt_used_flag    TEXT NOT NULL DEFAULT '0', -- 限制使用
    vali_flag        TEXT NOT NULL DEFAULT '1',
    ver              TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX catalog_items_name ON catalog_items(name);
CREATE INDEX catalog_items_py ON catalog_items(py);

CREATE TABLE catalog_versions (
    list_type     TEXT NOT NULL,
    ver           TEXT NOT NULL,
    downloaded_at TEXT NOT NULL,
    rows          INTEGER NOT NULL,
    changed       INTEGER NOT NULL,
    PRIMARY KEY (list_type, ver)
);

CREATE TABLE hosp_items (
    hosp_code      TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    pric           TEXT NOT NULL,
    unit           TEXT NOT NULL DEFAULT '',
    med_list_codg  TEXT NOT NULL,
    hosp_appr_flag TEXT NOT NULL DEFAULT '0',
    updated_at     TEXT NOT NULL
);
CREATE INDEX hosp_items_national ON hosp_items(med_list_codg);
