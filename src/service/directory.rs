//! Azure AD (Entra ID) objects for cross-tenant keys: tenants, app registrations with
//! federated credentials, service principals, and signing in to another tenant. A server
//! whose primary user-assigned identity is federated to a multi-tenant application
//! (`--federated-client-id`) reaches a vault of another tenant as that application's
//! service principal there; without the federation, Azure refuses it.

pub use super::lookup::app;
use super::lookup::{is_guid, no_such_object};
use super::{ServiceError, ServiceResult, check_name, transact};
use crate::model::*;

fn not_guid(what: &str, id: &str) -> ServiceError {
    ServiceError::bad_request(
        "InvalidTenantId",
        format!(
            "'{id}' is not a valid {what}: it is a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47."
        ),
    )
}

/// `sim tenant create --id GUID --name N [--domain D]`.
pub fn create_tenant(
    ws: &mut Workspace,
    id: &str,
    name: &str,
    domain: &str,
) -> ServiceResult<Tenant> {
    transact(ws, |ws| {
        let id = id.trim().to_ascii_lowercase();
        if !is_guid(&id) {
            return Err(not_guid("tenant id", &id));
        }
        check_name("tenant", name, 1, 256, |c| !c.is_control())?;
        if ws.tenants.iter().any(|t| t.id.0 == id) {
            return Err(ServiceError::conflict(
                "TenantAlreadyExists",
                format!("Tenant {id} already exists."),
            ));
        }
        let t = Tenant {
            id: TenantId(id),
            display_name: name.to_string(),
            domain: domain.to_string(),
        };
        ws.tenants.push(t.clone());
        Ok(t)
    })
}

/// `az login --tenant T`: the console user works in tenant `T` from now on (as a guest
/// administrator there, with the same object id).
pub fn login_tenant(ws: &mut Workspace, tenant: &str) -> ServiceResult<Tenant> {
    let wanted = tenant.trim();
    let t = ws
        .tenants
        .iter()
        .find(|t| t.id.0.eq_ignore_ascii_case(wanted) || t.domain.eq_ignore_ascii_case(wanted))
        .cloned()
        .ok_or_else(|| {
            ServiceError::bad_request(
                "TenantNotFound",
                format!("AADSTS90002: Tenant '{wanted}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
            )
        })?;
    transact(ws, |ws| {
        ws.console_user.tenant = t.id.clone();
        // The selected subscription follows: the first one of that tenant.
        if let Some(s) = ws.subscriptions.iter().find(|s| s.tenant == t.id) {
            ws.current_subscription = s.id.clone();
        }
        Ok(t)
    })
}

/// `az ad app create --display-name N [--sign-in-audience AzureADMultipleOrgs]`.
pub fn create_app(
    ws: &mut Workspace,
    display_name: &str,
    multi_tenant: bool,
) -> ServiceResult<AppRegistration> {
    transact(ws, |ws| {
        check_name("application", display_name, 1, 120, |c| !c.is_control())?;
        let app = AppRegistration {
            app_id: guid_from_bytes(ws.clock.draw_bytes16()),
            object_id: guid_from_bytes(ws.clock.draw_bytes16()),
            display_name: display_name.to_string(),
            tenant: ws.console_user.tenant.clone(),
            multi_tenant,
            federated_credentials: Vec::new(),
        };
        ws.apps.push(app.clone());
        Ok(app)
    })
}

/// The service principal in `tenant` with app id (or object id) `id` (`az ad sp show --id`).
pub fn service_principal<'a>(
    ws: &'a Workspace,
    tenant: &TenantId,
    id: &str,
) -> ServiceResult<&'a ServicePrincipal> {
    ws.service_principals
        .iter()
        .find(|s| {
            &s.tenant == tenant
                && (s.app_id.eq_ignore_ascii_case(id) || s.object_id.0.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| no_such_object(id))
}

/// How a command names a principal (`--object-id`, `--upn`, `--spn`).
#[derive(Clone, Copy, Debug)]
pub enum PrincipalRef<'a> {
    /// Taken as given.
    ObjectId(&'a str),
    /// A user by sign-in name: the console's user is the one user of the simulation.
    Upn(&'a str),
    /// An application's service principal, by the app id.
    Spn(&'a str),
}

/// The object id a principal stands for, as `az keyvault set-policy|delete-policy` resolve
/// it; an application's service principal is the one in `tenant` (the vault's).
pub fn resolve_principal(
    ws: &Workspace,
    who: PrincipalRef<'_>,
    tenant: Option<&TenantId>,
) -> ServiceResult<PrincipalId> {
    match who {
        PrincipalRef::ObjectId(oid) => Ok(PrincipalId(oid.to_string())),
        PrincipalRef::Upn(upn) if upn.eq_ignore_ascii_case(&ws.console_user.upn) => {
            Ok(ws.console_user.object_id.clone())
        }
        PrincipalRef::Upn(upn) => Err(no_such_object(upn)),
        PrincipalRef::Spn(app_id) => ws
            .service_principals
            .iter()
            .find(|s| s.app_id.eq_ignore_ascii_case(app_id) && Some(&s.tenant) == tenant)
            .map(|s| s.object_id.clone())
            .ok_or_else(|| no_such_object(app_id)),
    }
}

/// `az ad app federated-credential create --id APP --parameters JSON`.
pub fn add_federated_credential(
    ws: &mut Workspace,
    app_id: &str,
    cred: FederatedCredential,
) -> ServiceResult<FederatedCredential> {
    let app_id = app(ws, app_id)?.app_id.clone();
    transact(ws, |ws| {
        check_name("federated credential", &cred.name, 3, 120, |c| {
            c.is_ascii_alphanumeric() || "-_".contains(c)
        })?;
        if !cred.issuer.starts_with("https://") || cred.subject.trim().is_empty() {
            return Err(ServiceError::bad_request(
                "Request_BadRequest",
                "A federated credential needs an https issuer and a subject.",
            ));
        }
        let a = ws
            .apps
            .iter_mut()
            .find(|a| a.app_id == app_id)
            .ok_or_else(|| ServiceError::not_found("Request_ResourceNotFound", "app gone"))?;
        if a.federated_credentials
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&cred.name))
        {
            return Err(ServiceError::conflict(
                "Request_BadRequest",
                format!(
                    "FederatedIdentityCredential with name {} already exists.",
                    cred.name
                ),
            ));
        }
        a.federated_credentials.push(cred.clone());
        Ok(cred)
    })
}

/// `az ad sp create --id APPID`: the app's service principal in the console user's tenant
/// (a multi-tenant app, or one of this tenant).
pub fn create_service_principal(
    ws: &mut Workspace,
    app_id: &str,
) -> ServiceResult<ServicePrincipal> {
    let a = app(ws, app_id)?.clone();
    let tenant = ws.console_user.tenant.clone();
    if a.tenant != tenant && !a.multi_tenant {
        return Err(ServiceError::bad_request(
            "Request_BadRequest",
            format!(
                "AADSTS700016: Application with identifier '{}' was not found in the directory. The application is single-tenant (AzureADMyOrg): only its home tenant can use it.",
                a.app_id
            ),
        ));
    }
    transact(ws, |ws| {
        if let Some(sp) = ws
            .service_principals
            .iter()
            .find(|s| s.app_id == a.app_id && s.tenant == tenant)
        {
            return Ok(sp.clone());
        }
        let sp = ServicePrincipal {
            app_id: a.app_id.clone(),
            object_id: PrincipalId(guid_from_bytes(ws.clock.draw_bytes16())),
            tenant: tenant.clone(),
        };
        ws.service_principals.push(sp.clone());
        Ok(sp)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_resolves_by_object_id_upn_or_the_apps_service_principal_in_the_tenant() {
        let mut ws = crate::service::new_workspace("t", 1);
        let app = create_app(&mut ws, "billing-app", false).expect("an app");
        let sp = create_service_principal(&mut ws, &app.app_id).expect("its principal");
        let home = ws.console_user.tenant.clone();
        let upn = ws.console_user.upn.to_ascii_uppercase();

        let resolve = |who, tenant| resolve_principal(&ws, who, tenant);
        assert_eq!(
            resolve(PrincipalRef::ObjectId("any-oid"), None).unwrap(),
            PrincipalId("any-oid".into())
        );
        assert_eq!(
            resolve(PrincipalRef::Upn(&upn), None).unwrap(),
            ws.console_user.object_id
        );
        assert_eq!(
            resolve(PrincipalRef::Spn(&app.app_id), Some(&home)).unwrap(),
            sp.object_id
        );
        // Graph's 404: another user, an app without a principal in that tenant.
        for (who, tenant) in [
            (PrincipalRef::Upn("someone@else.com"), None),
            (
                PrincipalRef::Spn(&app.app_id),
                Some(&TenantId("other".into())),
            ),
            (PrincipalRef::Spn(&app.app_id), None),
        ] {
            let e = resolve(who, tenant).unwrap_err();
            assert_eq!(
                (e.status, e.code.as_str()),
                (404, "Request_ResourceNotFound")
            );
        }

        // `az ad sp show --id` takes the app id or the principal's object id.
        for id in [&app.app_id, &sp.object_id.0] {
            assert_eq!(service_principal(&ws, &home, id).unwrap(), &sp);
        }
        assert!(service_principal(&ws, &TenantId("other".into()), &app.app_id).is_err());
    }
}
