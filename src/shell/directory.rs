//! Azure AD commands for cross-tenant keys: `az login --tenant`, `az ad app create|list|show`,
//! `az ad app federated-credential create|list`, `az ad sp create|show`, and `sim tenant
//! create` (a second tenant to hold the vault).

use super::args::Args;
use super::commands::{CmdResult, usage};
use super::registry::Command;
use crate::model::*;
use crate::service::directory as dir;
use serde_json::{Value, json};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "az login",
        "Log in to Azure (here: switch the console user's tenant).",
        &[
            "--tenant",
            "--allow-no-subscriptions",
            "--use-device-code",
            "--scope",
        ],
        |ws, _, _, a| login(ws, a),
    ),
    Command::new(
        "az ad app create",
        "Create an application.",
        &["--display-name", "--sign-in-audience"],
        |ws, _, _, a| app_create(ws, a),
    ),
    Command::new(
        "az ad app federated-credential create",
        "Create an application federated identity credential.",
        &["--id", "--parameters"],
        |ws, _, _, a| federated_create(ws, a),
    ),
    Command::new(
        "az ad app list",
        "List applications.",
        &["--display-name", "--all"],
        |ws, _, _, a| {
            Ok({
                let name = a.get("--display-name");
                Value::Array(
                    ws.apps
                        .iter()
                        .filter(|x| {
                            name.as_ref()
                                .is_none_or(|n| x.display_name.eq_ignore_ascii_case(n))
                        })
                        .map(app_json)
                        .collect(),
                )
            })
        },
    ),
    Command::new(
        "az ad app show",
        "Get the details of an application.",
        &["--id"],
        |ws, _, _, a| Ok(app_json(dir::app(ws, &a.required("--id")?)?)),
    ),
    Command::new(
        "az ad app federated-credential list",
        "List application federated identity credentials.",
        &["--id"],
        |ws, _, _, a| {
            Ok(Value::Array(
                dir::app(ws, &a.required("--id")?)?
                    .federated_credentials
                    .iter()
                    .map(federated_json)
                    .collect(),
            ))
        },
    ),
    Command::new(
        "az ad sp create",
        "Create a service principal.",
        &["--id"],
        |ws, _, _, a| {
            let sp = dir::create_service_principal(ws, &a.required("--id")?)?;
            Ok(sp_json(ws, &sp))
        },
    ),
    Command::new(
        "az ad sp show",
        "Get the details of a service principal.",
        &["--id"],
        |ws, _, _, a| {
            let id = a.required("--id")?;
            let sp = dir::service_principal(ws, &ws.console_user.tenant, &id)?;
            Ok(sp_json(ws, sp))
        },
    ),
    Command::new(
        "sim tenant create",
        "Add a Microsoft Entra tenant to the simulation.",
        &["--id", "--name", "--domain"],
        |ws, _, _, a| {
            let t = dir::create_tenant(
                ws,
                &a.required("--id")?,
                &a.required("--name")?,
                &a.get("--domain").unwrap_or_default(),
            )?;
            Ok(json!({"tenantId": t.id.0, "displayName": t.display_name, "domain": t.domain}))
        },
    ),
];

fn login(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    // The console is always signed in; `--tenant` switches tenants (a guest administrator).
    let tenant = a
        .get("--tenant")
        .ok_or_else(|| usage("this console is signed in already: use az login --tenant TENANT to work in another tenant"))?;
    let t = dir::login_tenant(ws, &tenant)?;
    // az prints the subscriptions the account sees.
    Ok(Value::Array(
        ws.subscriptions
            .iter()
            .filter(|s| s.tenant == t.id)
            .map(|s| {
                json!({
                    "cloudName": "AzureCloud",
                    "id": s.id.0,
                    "isDefault": s.id == ws.current_subscription,
                    "name": s.name,
                    "state": "Enabled",
                    "tenantId": s.tenant.0,
                    "user": {"name": ws.console_user.upn, "type": "user"}
                })
            })
            .collect(),
    ))
}

fn app_json(x: &AppRegistration) -> Value {
    json!({
        "appId": x.app_id,
        "displayName": x.display_name,
        "id": x.object_id,
        "publisherDomain": null,
        "signInAudience": if x.multi_tenant { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
    })
}

fn federated_json(c: &FederatedCredential) -> Value {
    json!({
        "audiences": c.audiences,
        "description": null,
        "issuer": c.issuer,
        "name": c.name,
        "subject": c.subject,
    })
}

fn sp_json(ws: &Workspace, sp: &ServicePrincipal) -> Value {
    let app = ws.apps.iter().find(|x| x.app_id == sp.app_id);
    json!({
        "appDisplayName": app.map(|x| x.display_name.clone()),
        "appId": sp.app_id,
        "appOwnerOrganizationId": app.map(|x| x.tenant.0.clone()),
        "id": sp.object_id.0,
        "servicePrincipalType": "Application",
    })
}

fn app_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let multi = match a.get("--sign-in-audience").as_deref() {
        None | Some("AzureADMyOrg") => false,
        Some("AzureADMultipleOrgs") | Some("AzureADandPersonalMicrosoftAccount") => true,
        Some(other) => {
            return Err(usage(format!(
                "argument --sign-in-audience: invalid choice: '{other}' (choose from 'AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount')"
            )));
        }
    };
    Ok(app_json(&dir::create_app(
        ws,
        &a.required("--display-name")?,
        multi,
    )?))
}

fn federated_create(ws: &mut Workspace, a: &mut Args) -> CmdResult {
    let id = a.required("--id")?;
    let text = a.required("--parameters")?;
    let text = match text.strip_prefix('@') {
        Some(file) => String::from_utf8_lossy(
            &crate::persist::read_user_file(file)
                .map_err(|e| usage(format!("cannot read '{file}': {e}")))?,
        )
        .into_owned(),
        None => text,
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("argument --parameters: invalid JSON: {e}")))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let cred = FederatedCredential {
        name: field("name").ok_or_else(|| usage("--parameters needs \"name\""))?,
        issuer: field("issuer").ok_or_else(|| usage("--parameters needs \"issuer\""))?,
        subject: field("subject").ok_or_else(|| usage("--parameters needs \"subject\""))?,
        audiences: v
            .get("audiences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_else(|| vec!["api://AzureADTokenExchange".into()]),
    };
    Ok(federated_json(&dir::add_federated_credential(
        ws, &id, cred,
    )?))
}
