//! Database SKUs as az gives them: every edition and service objective az accepts (DTU
//! Basic / Standard / Premium, vCore General Purpose / Business Critical / Hyperscale with
//! provisioned or serverless compute, DataWarehouse) is kept as given, never replaced.
//!
//! `--service-objective` names the SKU outright (`S0`, `P1`, `GP_Gen5_2`, `GP_S_Gen5_2`,
//! `DW100c`); otherwise `--edition`, `--family`, `--capacity` and `--compute-model` build it
//! from the database's current SKU (update, restore, copy, replica) or az's default
//! (`GP_Gen5_2`), as az's capability lookup does.

use super::{ServiceError, ServiceResult};
use crate::model::*;

/// The DTU service objectives: (objective, edition, DTUs).
const DTU: &[(&str, &str, u32)] = &[
    ("Basic", "Basic", 5),
    ("S0", "Standard", 10),
    ("S1", "Standard", 20),
    ("S2", "Standard", 50),
    ("S3", "Standard", 100),
    ("S4", "Standard", 200),
    ("S6", "Standard", 400),
    ("S7", "Standard", 800),
    ("S9", "Standard", 1600),
    ("S12", "Standard", 3000),
    ("P1", "Premium", 125),
    ("P2", "Premium", 250),
    ("P4", "Premium", 500),
    ("P6", "Premium", 1000),
    ("P11", "Premium", 1750),
    ("P15", "Premium", 4000),
];

/// DataWarehouse objectives (`DW100c` … `DW30000c`).
const DW: &[u32] = &[
    100, 200, 300, 400, 500, 1000, 1500, 2000, 2500, 3000, 5000, 6000, 7500, 10000, 15000, 30000,
];

/// vCore counts the vCore tiers offer.
const VCORES: &[u32] = &[
    1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 32, 40, 48, 56, 64, 80, 96, 128,
];

/// vCore editions and the prefix of their SKU names.
const VCORE_TIERS: &[(&str, &str)] = &[
    ("GeneralPurpose", "GP"),
    ("BusinessCritical", "BC"),
    ("Hyperscale", "HS"),
];

const FAMILIES: &[&str] = &["Gen4", "Gen5", "FSv2", "DC", "M", "8IM", "8IH"];

/// `--compute-model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComputeModel {
    Provisioned,
    Serverless,
}

/// The SKU arguments of a create, update, restore, copy or replica.
#[derive(Clone, Debug, Default)]
pub struct SkuRequest {
    pub edition: Option<String>,
    pub service_objective: Option<String>,
    pub family: Option<String>,
    pub capacity: Option<u32>,
    pub compute_model: Option<ComputeModel>,
}

impl SkuRequest {
    pub fn is_empty(&self) -> bool {
        self.edition.is_none()
            && self.service_objective.is_none()
            && self.family.is_none()
            && self.capacity.is_none()
            && self.compute_model.is_none()
    }
}

/// An edition's canonical spelling (az and the service take any case).
pub fn canonical_edition(text: &str) -> Option<&'static str> {
    [
        "Basic",
        "Standard",
        "Premium",
        "GeneralPurpose",
        "BusinessCritical",
        "Hyperscale",
        "DataWarehouse",
    ]
    .into_iter()
    .find(|e| e.eq_ignore_ascii_case(text.trim()))
}

/// The tier whose behaviour the simulation follows (recovery speed): Premium and Business
/// Critical keep their data on local SSDs, the others on remote storage.
pub fn service_tier(sku: &DatabaseSku) -> ServiceTier {
    match sku.tier.as_str() {
        "BusinessCritical" | "Premium" => ServiceTier::BusinessCritical,
        _ => ServiceTier::GeneralPurpose,
    }
}

/// The SKU a database has: as given, or (files from before it was kept) its tier's 2 vCores.
pub fn sku_of(d: &Database) -> DatabaseSku {
    match &d.sku {
        Some(s) => s.clone(),
        None => vcore(
            match d.tier {
                ServiceTier::GeneralPurpose => "GeneralPurpose",
                ServiceTier::BusinessCritical => "BusinessCritical",
            },
            "Gen5",
            2,
            false,
        ),
    }
}

/// az's default for a new database: General Purpose, Gen5, 2 vCores, provisioned.
pub fn default_sku() -> DatabaseSku {
    vcore("GeneralPurpose", "Gen5", 2, false)
}

fn vcore(tier: &str, family: &str, capacity: u32, serverless: bool) -> DatabaseSku {
    let prefix = VCORE_TIERS
        .iter()
        .find(|(t, _)| *t == tier)
        .map(|(_, p)| *p)
        .unwrap_or("GP");
    let name = if serverless {
        format!("{prefix}_S_{family}")
    } else {
        format!("{prefix}_{family}")
    };
    DatabaseSku {
        service_objective: format!("{name}_{capacity}"),
        name,
        tier: tier.to_string(),
        family: Some(family.to_string()),
        capacity,
    }
}

fn dtu(objective: &str, edition: &str, dtus: u32) -> DatabaseSku {
    DatabaseSku {
        name: edition.to_string(),
        tier: edition.to_string(),
        family: None,
        capacity: dtus,
        service_objective: objective.to_string(),
    }
}

fn dw(n: u32) -> DatabaseSku {
    DatabaseSku {
        name: format!("DW{n}c"),
        tier: "DataWarehouse".into(),
        family: None,
        capacity: n * 9,
        service_objective: format!("DW{n}c"),
    }
}

fn unknown_objective(so: &str) -> ServiceError {
    ServiceError::bad_request(
        "InvalidServiceObjective",
        format!(
            "The service objective '{so}' is not supported. For example: Basic, S0, P1, GP_Gen5_2, GP_S_Gen5_2, BC_Gen5_2, HS_Gen5_2, DW100c."
        ),
    )
}

fn edition_mismatch(edition: &str, so: &str) -> ServiceError {
    ServiceError::bad_request(
        "InvalidServiceObjective",
        format!("The edition '{edition}' does not support the service objective '{so}'."),
    )
}

/// The SKU a service objective names (`S0`, `GP_Gen5_2`, `GP_S_Gen5_2`, `DW100c`, …).
pub fn parse_objective(so: &str) -> ServiceResult<DatabaseSku> {
    let t = so.trim();
    if let Some((o, e, d)) = DTU.iter().find(|(o, _, _)| o.eq_ignore_ascii_case(t)) {
        return Ok(dtu(o, e, *d));
    }
    let upper = t.to_ascii_uppercase();
    if let Some(n) = upper
        .strip_prefix("DW")
        .and_then(|r| r.strip_suffix('C'))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| DW.contains(n))
    {
        return Ok(dw(n));
    }
    // `{GP|BC|HS}_[S_]{family}_{vcores}`.
    let parts: Vec<&str> = t.split('_').collect();
    let (prefix, serverless, family, cores) = match parts.as_slice() {
        [p, f, c] => (*p, false, *f, *c),
        [p, s, f, c] if s.eq_ignore_ascii_case("S") => (*p, true, *f, *c),
        _ => return Err(unknown_objective(so)),
    };
    let tier = VCORE_TIERS
        .iter()
        .find(|(_, p)| p.eq_ignore_ascii_case(prefix))
        .map(|(t, _)| *t)
        .ok_or_else(|| unknown_objective(so))?;
    let family = FAMILIES
        .iter()
        .find(|f| f.eq_ignore_ascii_case(family))
        .ok_or_else(|| unknown_objective(so))?;
    let cores = cores
        .parse::<u32>()
        .ok()
        .filter(|c| VCORES.contains(c))
        .ok_or_else(|| unknown_objective(so))?;
    if serverless && tier == "BusinessCritical" {
        return Err(unknown_objective(so));
    }
    Ok(vcore(tier, family, cores, serverless))
}

/// The SKU the arguments ask for, starting from `base` (the database's SKU, or none for a
/// new database). Nothing given: `base` (or az's default) unchanged.
pub fn resolve(req: &SkuRequest, base: Option<&DatabaseSku>) -> ServiceResult<DatabaseSku> {
    let edition = match &req.edition {
        Some(e) => Some(canonical_edition(e).ok_or_else(|| {
            ServiceError::bad_request(
                "InvalidEdition",
                format!(
                    "The edition '{e}' is not valid. Allowed values: Basic, Standard, Premium, GeneralPurpose, BusinessCritical, Hyperscale, DataWarehouse."
                ),
            )
        })?),
        None => None,
    };
    if let Some(so) = &req.service_objective {
        let mut sku = parse_objective(so)?;
        if let Some(e) = edition
            && e != sku.tier
        {
            return Err(edition_mismatch(e, so));
        }
        if req.compute_model == Some(ComputeModel::Serverless) && !sku.is_serverless() {
            return Err(edition_mismatch(&sku.tier, so));
        }
        // A vCore objective's own capacity, unless --capacity says otherwise.
        if let Some(c) = req.capacity
            && sku.is_vcore()
            && c != sku.capacity
        {
            let family = sku.family.clone().unwrap_or_else(|| "Gen5".into());
            sku = vcore_checked(&sku.tier.clone(), &family, c, sku.is_serverless())?;
        }
        return Ok(sku);
    }
    let base = base.cloned().unwrap_or_else(default_sku);
    if req.is_empty() {
        return Ok(base);
    }
    let tier = edition.unwrap_or(base.tier.as_str()).to_string();
    match tier.as_str() {
        "Basic" | "Standard" | "Premium" => {
            if req.compute_model == Some(ComputeModel::Serverless) || req.family.is_some() {
                return Err(ServiceError::bad_request(
                    "InvalidSkuForEdition",
                    format!(
                        "The '{tier}' edition is DTU-based: it takes no --family and no serverless compute model."
                    ),
                ));
            }
            let found = match req.capacity {
                Some(c) => DTU.iter().find(|(_, e, d)| *e == tier && *d == c),
                None if base.tier == tier => {
                    DTU.iter().find(|(o, _, _)| *o == base.service_objective)
                }
                None => DTU.iter().find(|(_, e, _)| *e == tier),
            };
            let (o, e, d) = found.ok_or_else(|| {
                ServiceError::bad_request(
                    "InvalidSkuForEdition",
                    format!(
                        "Could not find sku in tier '{tier}' with capacity {}. Supported capacities: {}.",
                        req.capacity.unwrap_or_default(),
                        DTU.iter()
                            .filter(|(_, e, _)| *e == tier)
                            .map(|(_, _, d)| d.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            Ok(dtu(o, e, *d))
        }
        "DataWarehouse" => {
            let n = match req.capacity {
                Some(c) if c % 9 == 0 && DW.contains(&(c / 9)) => c / 9,
                Some(c) => {
                    return Err(ServiceError::bad_request(
                        "InvalidSkuForEdition",
                        format!("Could not find sku in tier 'DataWarehouse' with capacity {c}."),
                    ));
                }
                None => 100,
            };
            Ok(dw(n))
        }
        _ => {
            let same_kind = base.is_vcore();
            let family = req
                .family
                .clone()
                .or_else(|| same_kind.then(|| base.family.clone()).flatten())
                .unwrap_or_else(|| "Gen5".into());
            let capacity = req
                .capacity
                .or_else(|| same_kind.then_some(base.capacity))
                .unwrap_or(2);
            let serverless = match req.compute_model {
                Some(m) => m == ComputeModel::Serverless,
                None => same_kind && base.is_serverless() && base.tier == tier,
            };
            vcore_checked(&tier, &family, capacity, serverless)
        }
    }
}

fn vcore_checked(
    tier: &str,
    family: &str,
    capacity: u32,
    serverless: bool,
) -> ServiceResult<DatabaseSku> {
    let Some(family) = FAMILIES.iter().find(|f| f.eq_ignore_ascii_case(family)) else {
        return Err(ServiceError::bad_request(
            "InvalidSkuForEdition",
            format!(
                "Could not find sku in tier '{tier}' with family '{family}'. Supported families: {}.",
                FAMILIES.join(", ")
            ),
        ));
    };
    if !VCORES.contains(&capacity) {
        return Err(ServiceError::bad_request(
            "InvalidSkuForEdition",
            format!(
                "Could not find sku in tier '{tier}' with family '{family}' and capacity {capacity}. Supported capacities: {}.",
                VCORES
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if serverless && tier == "BusinessCritical" {
        return Err(ServiceError::bad_request(
            "InvalidSkuForEdition",
            "The serverless compute model is available in the GeneralPurpose and Hyperscale editions only.",
        ));
    }
    Ok(vcore(tier, family, capacity, serverless))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pricing_tiers_read_as_the_portal_writes_them() {
        let label = |so: &str| parse_objective(so).map(|s| s.pricing_label()).unwrap();
        assert_eq!(label("S0"), "Standard S0: 10 DTUs");
        assert_eq!(label("Basic"), "Basic: 5 DTUs");
        assert_eq!(
            label("GP_S_Gen5_2"),
            "General Purpose: Serverless, Standard-series (Gen5), 2 vCores"
        );
        assert_eq!(
            label("BC_Gen5_4"),
            "Business Critical: Provisioned, Standard-series (Gen5), 4 vCores"
        );
    }

    fn req(edition: Option<&str>, so: Option<&str>) -> SkuRequest {
        SkuRequest {
            edition: edition.map(String::from),
            service_objective: so.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn dtu_objectives_are_kept_as_given() {
        let s = resolve(&req(Some("Standard"), Some("S0")), None).unwrap();
        assert_eq!(
            (s.name.as_str(), s.tier.as_str(), s.capacity),
            ("Standard", "Standard", 10)
        );
        assert_eq!(s.service_objective, "S0");
        let b = resolve(&req(Some("basic"), None), None).unwrap();
        assert_eq!((b.service_objective.as_str(), b.capacity), ("Basic", 5));
        let p = resolve(&req(Some("Premium"), None), None).unwrap();
        assert_eq!(p.service_objective, "P1");
        assert!(resolve(&req(Some("Standard"), Some("P1")), None).is_err());
        assert!(resolve(&req(None, Some("S5")), None).is_err());
    }

    #[test]
    fn vcore_and_serverless_and_update_of_capacity() {
        let s = resolve(
            &SkuRequest {
                compute_model: Some(ComputeModel::Serverless),
                family: Some("Gen5".into()),
                capacity: Some(2),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(s.service_objective, "GP_S_Gen5_2");
        assert_eq!(s.name, "GP_S_Gen5");
        let up = resolve(
            &SkuRequest {
                capacity: Some(4),
                ..Default::default()
            },
            Some(&s),
        )
        .unwrap();
        assert_eq!(up.service_objective, "GP_S_Gen5_4");
        assert_eq!(
            resolve(&req(None, Some("HS_Gen5_8")), None).unwrap().tier,
            "Hyperscale"
        );
        assert_eq!(
            resolve(&req(None, Some("DW100c")), None).unwrap().tier,
            "DataWarehouse"
        );
        assert_eq!(
            resolve(&SkuRequest::default(), None)
                .unwrap()
                .service_objective,
            "GP_Gen5_2"
        );
    }
}
