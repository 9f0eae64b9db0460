//! What the center knows of the institutions it serves: their registered doctors
//! (医保医师库) and departments (医保科室), and the hospital items mapped to the
//! national catalogue. The strict simulator refuses a visit that names anything
//! else, as the platform does. The demo institution's are assets/dict/*.csv.

/// A registered department: 医保科室编码, name, 科别.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegDept {
    pub code: String,
    pub name: String,
    pub caty: String,
}

/// A registered doctor: 医保医师编码, name, department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegDoctor {
    pub code: String,
    pub name: String,
    pub dept_code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    pub departments: Vec<RegDept>,
    pub doctors: Vec<RegDoctor>,
}

fn rows(csv: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|f| f.trim().to_string()).collect())
}

impl Registry {
    /// The demo institution's doctors and departments.
    pub fn demo() -> Registry {
        Registry {
            departments: rows(include_str!("../../../assets/dict/departments.csv"))
                .map(|f| RegDept {
                    code: f[0].clone(),
                    name: f[1].clone(),
                    caty: f[2].clone(),
                })
                .collect(),
            doctors: rows(include_str!("../../../assets/dict/doctors.csv"))
                .map(|f| RegDoctor {
                    code: f[0].clone(),
                    name: f[1].clone(),
                    dept_code: f[2].clone(),
                })
                .collect(),
        }
    }

    pub fn doctor(&self, code: &str) -> Option<&RegDoctor> {
        self.doctors.iter().find(|d| d.code == code)
    }

    pub fn department(&self, code: &str) -> Option<&RegDept> {
        self.departments.iter().find(|d| d.code == code)
    }
}
