-- Schema 3: the institution's dictionaries for clinic mode (no HIS): departments
-- (医保科室编码, name, national 科别) and doctors (医保医师编码, name, department).
-- Edited by a supervisor or imported from CSV; a visit built from them is what 2201
-- and 2203 send.

CREATE TABLE departments (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    caty       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE doctors (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    dept_code  TEXT NOT NULL REFERENCES departments(code),
    active     INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
