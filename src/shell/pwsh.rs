//! PowerShell mode: the Az PowerShell cmdlets the seed and its procedures name, with
//! PowerShell's syntax (`-Name value`, switches, `a, b` lists, `'…'` and `"…$x…"` strings,
//! `$var = …`, `$var.Property.Sub`, `(Get-…).Id`, backtick continuations) and its output
//! (objects listed as `Name : value`, with the cmdlets' property names). Each cmdlet runs the
//! same operation as its `az` twin, through the same operations layer; `bash` goes back to
//! the az mode, as Cloud Shell's `bash` does.

use super::{LineOutput, MAX_EXPANDED_LINE, MAX_SUBSTITUTION_DEPTH, Shell};

mod storage;
mod synapse;
use crate::model::Workspace;
use crate::sim::Timestamp;
use serde_json::{Map, Value, json};

/// Whether `after` differs from `before` in more than the vault requests journaled (reads
/// journal them too). Cheap: `before` is a copy-on-write snapshot.
fn changed_more_than_the_journal(before: &Workspace, after: &Workspace) -> bool {
    if after.revision == before.revision {
        return false;
    }
    let mut traced = before.clone();
    traced.keep_trace_of(after.clone());
    !traced.same_as(after)
}

/// A parsed argument of a cmdlet line.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Param(String),
    Value(Value),
    Comma,
}

/// What a cmdlet is: its name, Az's parameters for it (see [`AzParam`]), the ones this console
/// acts on (switches, mandatory and other parameters, in Az's spelling), and how it runs.
/// Parameters Az accepts that the console does not act on are accepted too, and ignored.
struct Cmdlet {
    name: &'static str,
    /// Every parameter Az's help file lists for the cmdlet, in Az's spelling, as
    /// space-separated `Name|Alias|Alias` entries; `:s` marks a switch, `:b` a `Boolean` or
    /// `Nullable<Boolean>` (which takes `$true`/`$false`), anything else takes a value. `@dp`
    /// stands for `-DefaultProfile` and its aliases, `@wc` for `-WhatIf` and `-Confirm`; the
    /// common parameters are added to every cmdlet. A trailing `[Set=!0;Other=1]` gives the
    /// parameter sets a parameter is in, with `!` when it is mandatory there and its
    /// position there (`*` for all sets); without it the parameter is in every set, optional
    /// and named. A `=Set` entry names the default parameter set. Transcribed from the help
    /// files of Azure/azure-powershell (`src/*/help/<cmdlet>.md`, `### -Param` sections);
    /// `tests/it/pwsh.rs` checks them against `tests/fixtures/az-help/pwsh-params.txt`.
    params: &'static str,
    /// The switches this console acts on. Read by the table checks (`cargo test --lib`);
    /// binding keeps every parameter Az accepts, acted on or not.
    #[cfg_attr(not(test), allow(dead_code))]
    switches: &'static [&'static str],
    /// The parameters this console needs to run the cmdlet.
    mandatory: &'static [&'static str],
    /// The other parameters this console acts on (read by the table checks, as `switches`).
    #[cfg_attr(not(test), allow(dead_code))]
    optional: &'static [&'static str],
    run: fn(&mut Shell, &mut Workspace, &Params) -> Result<Value, String>,
}

/// The parameters a line gave a cmdlet (names in the cmdlet's own spelling).
struct Params(Vec<(String, Value)>);

impl Params {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| scalar(v))
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, Value::Array(items))) => items.iter().map(scalar).collect(),
            Some((_, v)) => vec![scalar(v)],
            None => Vec::new(),
        }
    }

    fn switch(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && !matches!(v, Value::Bool(false)))
    }

    /// What a Remove cmdlet writes: nothing, or True with -PassThru (System.Boolean).
    fn removed(&self) -> Value {
        if self.switch("PassThru") {
            Value::Bool(true)
        } else {
            Value::Null
        }
    }

    fn req(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// A `Hashtable` parameter (`-Tag @{Dept = 'IT'; Env = 'Test'}`) as az's `--tags`
    /// words (`Dept=IT Env=Test`; an empty hashtable or `$null` is `""`, which clears them),
    /// when the line gave one. Anything else does not convert, as in PowerShell.
    fn tags(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        match self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            None => Ok(None),
            Some((_, Value::Object(m))) if m.is_empty() => Ok(Some(vec![String::new()])),
            Some((_, Value::Null)) => Ok(Some(vec![String::new()])),
            Some((_, Value::Object(m))) => Ok(Some(
                m.iter()
                    .map(|(k, v)| format!("{k}={}", scalar(v)))
                    .collect(),
            )),
            Some((_, v)) => Err(format!(
                "Cannot bind parameter '{name}'. Cannot convert the \"{}\" value of type \"{}\" to type \"System.Collections.Hashtable\".",
                scalar(v),
                if v.is_array() {
                    "System.Object[]"
                } else {
                    "System.String"
                }
            )),
        }
    }

    /// Appends `--tags …` for a `-Tag` hashtable the line gave.
    fn push_tags(&self, name: &str, words: &mut Vec<String>) -> Result<(), String> {
        if let Some(tags) = self.tags(name)? {
            words.push("--tags".into());
            words.extend(tags);
        }
        Ok(())
    }

    /// A `Boolean` parameter's value, when the line gave one.
    fn flag(&self, name: &str) -> Option<bool> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_bool())
    }
}

/// How a parameter takes its argument.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// `-Force`, `-Force:$false`: no argument of its own.
    Switch,
    /// `Boolean` / `Nullable<Boolean>`: `-AutoRotationEnabled $true` (or `:$true`).
    Bool,
    /// Anything else: the next value, or a `a, b` list.
    Value,
}

/// One of a cmdlet's parameters as Az declares it: its name, aliases and kind, and the
/// parameter sets it is in (none listed: every set, optional, named).
#[derive(Debug)]
struct AzParam {
    name: &'static str,
    aliases: Vec<&'static str>,
    kind: Kind,
    sets: Vec<SetMembership>,
}

/// A parameter in one parameter set: mandatory there or not, and its position there.
#[derive(Clone, Debug, PartialEq)]
struct SetMembership {
    /// The set's name; `*` for every set.
    set: &'static str,
    mandatory: bool,
    position: Option<u32>,
}

impl AzParam {
    /// Whether it is in parameter set `set`.
    fn in_set(&self, set: &str) -> bool {
        self.sets.is_empty() || self.sets.iter().any(|m| m.set == "*" || m.set == set)
    }

    /// Its position in parameter set `set`, if it is positional there.
    fn position_in(&self, set: &str) -> Option<u32> {
        self.sets
            .iter()
            .find(|m| m.set == set)
            .or_else(|| self.sets.iter().find(|m| m.set == "*"))
            .and_then(|m| m.position)
    }
}

/// `[Set=!0;Other=1]` of a parameter's entry.
fn set_memberships(spec: &'static str) -> Vec<SetMembership> {
    spec.split(';')
        .filter(|clause| !clause.is_empty())
        .map(|clause| {
            let (set, how) = clause.split_once('=').unwrap_or((clause, ""));
            SetMembership {
                set,
                mandatory: how.starts_with('!'),
                position: how.trim_start_matches('!').parse().ok(),
            }
        })
        .collect()
}

/// The parameter sets a cmdlet's table names, the default first (`(All)` when none).
fn parameter_sets(spec: &'static str, params: &[AzParam]) -> Vec<&'static str> {
    let mut sets: Vec<&'static str> = spec
        .split_whitespace()
        .filter_map(|e| e.strip_prefix('='))
        .collect();
    for p in params {
        for m in &p.sets {
            if m.set != "*" && !sets.contains(&m.set) {
                sets.push(m.set);
            }
        }
    }
    if sets.is_empty() {
        sets.push("(All)");
    }
    sets
}

impl AzParam {
    fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// PowerShell's common parameters (every cmdlet has them) with their aliases.
const COMMON: &str = "Debug|db:s ErrorAction|ea ErrorVariable|ev InformationAction|infa InformationVariable|iv OutBuffer|ob OutVariable|ov PipelineVariable|pv ProgressAction|proga Verbose|vb:s WarningAction|wa WarningVariable|wv";

/// Parameters a line may give that change nothing in this console: the common parameters
/// (output streams and preferences) and `-Confirm` (the console never prompts).
const IGNORED: &[&str] = &[
    "Debug",
    "ErrorAction",
    "ErrorVariable",
    "InformationAction",
    "InformationVariable",
    "OutBuffer",
    "OutVariable",
    "PipelineVariable",
    "ProgressAction",
    "Verbose",
    "WarningAction",
    "WarningVariable",
    "Confirm",
];

/// A cmdlet's parameters from its `params` table, with the common parameters.
fn az_params(spec: &'static str) -> Vec<AzParam> {
    spec.split_whitespace()
        .filter(|entry| !entry.starts_with('='))
        .flat_map(|entry| match entry {
            "@dp" => vec!["DefaultProfile|AzContext|AzureRmContext|AzureCredential"],
            "@wc" => vec!["WhatIf|wi:s", "Confirm|cf:s"],
            e => vec![e],
        })
        .chain(COMMON.split_whitespace())
        .map(|entry| {
            let (entry, sets) = match entry.split_once('[') {
                Some((e, rest)) => (e, set_memberships(rest.trim_end_matches(']'))),
                None => (entry, Vec::new()),
            };
            let (names, kind) = match entry.rsplit_once(':') {
                Some((n, "s")) => (n, Kind::Switch),
                Some((n, "b")) => (n, Kind::Bool),
                _ => (entry, Kind::Value),
            };
            let mut names = names.split('|');
            AzParam {
                name: names.next().unwrap_or_default(),
                aliases: names.collect(),
                kind,
                sets,
            }
        })
        .collect()
}

/// Binds the values a line gave without a parameter name, as PowerShell does: in the
/// first parameter set (the default first) that holds every parameter bound by name and
/// has enough positional parameters left, in the order of their positions. The names the
/// values bind to, or PowerShell's error for the first value nothing takes.
fn bind_positionals(
    spec: &'static str,
    params: &[AzParam],
    named: &[&str],
    values: &[Value],
) -> Result<Vec<&'static str>, String> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let mut best: Option<Vec<&'static str>> = None;
    for set in parameter_sets(spec, params) {
        let holds_named = named.iter().all(|n| {
            params
                .iter()
                .find(|p| p.name == *n)
                .is_none_or(|p| p.in_set(set))
        });
        if !holds_named {
            continue;
        }
        let mut free: Vec<(u32, &'static str)> = params
            .iter()
            .filter(|p| p.kind != Kind::Switch && p.in_set(set) && !named.contains(&p.name))
            .filter_map(|p| p.position_in(set).map(|pos| (pos, p.name)))
            .collect();
        free.sort_unstable();
        let names: Vec<&'static str> = free.into_iter().map(|(_, n)| n).collect();
        // A text or a number does not convert to one of Az's model objects (`-InputObject`,
        // `-HsmObject`, `-Instance`): PowerShell moves on to the next parameter set.
        let converts = names
            .iter()
            .zip(values)
            .all(|(n, v)| v.is_object() || !takes_a_model_object(n));
        if names.len() >= values.len() && converts {
            return Ok(names[..values.len()].to_vec());
        }
        if best.as_ref().is_none_or(|b| names.len() > b.len()) {
            best = Some(names);
        }
    }
    let taken = best.map_or(0, |b| b.len());
    Err(format!(
        "A positional parameter cannot be found that accepts argument '{}'.",
        values.get(taken).map(scalar).unwrap_or_default()
    ))
}

/// Whether a parameter is one of the Az model objects a cmdlet takes from an earlier
/// cmdlet (`$vault`, `$instance`, `Get-AzContext`'s context), by Az's naming of them:
/// `-InputObject`, `-…Object`, `-Instance`, `-Context`.
fn takes_a_model_object(name: &str) -> bool {
    name.ends_with("Object") || matches!(name, "Instance" | "Context")
}

/// The parameter a `-Name` on the line binds to, as PowerShell binds it: a name or alias
/// exactly, else the one parameter that a name or alias of starts with it (case-insensitive).
fn bind_name(params: &[AzParam], given: &str) -> Result<usize, String> {
    if let Some(i) = params
        .iter()
        .position(|p| p.names().any(|n| n.eq_ignore_ascii_case(given)))
    {
        return Ok(i);
    }
    let prefix = given.to_ascii_lowercase();
    let matches: Vec<usize> = params
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.names()
                .any(|n| n.to_ascii_lowercase().starts_with(&prefix))
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        [] => Err(format!(
            "A parameter cannot be found that matches parameter name '{given}'."
        )),
        many => Err(format!(
            "Parameter cannot be processed because the parameter name '{given}' is ambiguous. Possible matches include: {}.",
            many.iter()
                .map(|i| format!("-{}", params[*i].name))
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

/// A value bound to a `Boolean` parameter: `$true`, `$false` or a number, as PowerShell
/// accepts; anything else is refused.
fn to_bool(name: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|x| x != 0.0)),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => {
            Ok(s.trim().parse::<i64>().is_ok_and(|n| n != 0))
        }
        other => Err(format!(
            "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
            match other {
                Value::String(_) => "System.String".to_string(),
                v => scalar(v),
            }
        )),
    }
}

/// A value as a PowerShell string (objects as `@{A=1; B=2}`).
/// The key of an object's text as its .NET type's `ToString()` gives it; never listed as a
/// property.
const TO_STRING: &str = "PSToString";

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(" "),
        // A SecureString never shows its text.
        Value::Object(m) if m.contains_key("SecureString") => "System.Security.SecureString".into(),
        Value::Object(m) if m.contains_key("UserName") && m.contains_key("Password") => {
            "System.Management.Automation.PSCredential".into()
        }
        // An object whose .NET type prints a name of its own (Get-AzContext's Account,
        // Subscription and Tenant print their ids).
        Value::Object(m) if m.get(TO_STRING).is_some_and(Value::is_string) => scalar(&m[TO_STRING]),
        Value::Object(m) => format!(
            "@{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", scalar(v)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// `New-Object System.Management.Automation.PSCredential ('user', $secure)` (or with
/// `-TypeName … -ArgumentList …`): the one .NET type the procedures build, a credential.
fn new_object(tokens: &[Token]) -> Result<Value, String> {
    let mut values = Vec::new();
    for t in tokens {
        match t {
            Token::Value(Value::Array(items)) => values.extend(items.iter().cloned()),
            Token::Value(v) => values.push(v.clone()),
            Token::Param(p)
                if p.eq_ignore_ascii_case("TypeName") || p.eq_ignore_ascii_case("ArgumentList") => {
            }
            Token::Param(p) => {
                return Err(format!(
                    "New-Object: A parameter cannot be found that matches parameter name '{p}'."
                ));
            }
            Token::Comma => {}
        }
    }
    let type_name = values.first().map(scalar).unwrap_or_default();
    if !type_name.eq_ignore_ascii_case("System.Management.Automation.PSCredential")
        && !type_name.eq_ignore_ascii_case("PSCredential")
    {
        return Err(format!(
            "New-Object: Cannot find type [{type_name}]: this console builds PSCredential objects only."
        ));
    }
    let (Some(user), Some(password)) = (values.get(1), values.get(2)) else {
        return Err(
            "New-Object: A PSCredential needs a user name and a SecureString password.".into(),
        );
    };
    let password = match password.get("SecureString") {
        Some(p) => p.clone(),
        None => {
            return Err("New-Object: Cannot convert the password: it must be a SecureString (ConvertTo-SecureString 'text' -AsPlainText -Force).".into());
        }
    };
    Ok(json!({"UserName": scalar(user), "Password": {"SecureString": password}}))
}

/// The user name and password of a PSCredential value.
fn credential(p: &Params, param: &str) -> Result<(String, String), String> {
    let cred =
        p.0.iter()
            .find(|(n, _)| n == param)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    let user = cred["UserName"].as_str().unwrap_or_default().to_string();
    let password = cred["Password"]["SecureString"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if user.is_empty() || password.is_empty() {
        return Err(format!(
            "Cannot bind parameter '{param}': it needs a PSCredential (New-Object System.Management.Automation.PSCredential ('user', (ConvertTo-SecureString 'password' -AsPlainText -Force)))."
        ));
    }
    Ok((user, password))
}

const CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        name: "Connect-AzAccount",
        params: "=UserWithSubscriptionId AccessToken[AccessTokenWithSubscriptionId=!] AccountId[UserWithSubscriptionId;ManagedServiceLogin;AccessTokenWithSubscriptionId=!] ApplicationId[ServicePrincipalCertificateWithSubscriptionId=!;ClientAssertionParameterSet=!;ServicePrincipalCertificateFileWithSubscriptionId=!] AuthScope|AuthScopeTypeName[UserWithSubscriptionId;ServicePrincipalWithSubscriptionId;UserWithCredential;ServicePrincipalCertificateWithSubscriptionId;ManagedServiceLogin] CertificatePassword[ServicePrincipalCertificateFileWithSubscriptionId] CertificatePath[ServicePrincipalCertificateFileWithSubscriptionId=!] CertificateThumbprint[ServicePrincipalCertificateWithSubscriptionId=!] ContextName Credential[ServicePrincipalWithSubscriptionId=!;UserWithCredential=!] @dp Environment|EnvironmentName FederatedToken|ClientAssertion[ClientAssertionParameterSet=!] Force:s GraphAccessToken[AccessTokenWithSubscriptionId] Identity|MSI|ManagedService:s[ManagedServiceLogin=!] KeyVaultAccessToken[AccessTokenWithSubscriptionId] MaxContextPopulation MicrosoftGraphAccessToken[AccessTokenWithSubscriptionId] Scope SendCertificateChain:s[ServicePrincipalCertificateWithSubscriptionId;ServicePrincipalCertificateFileWithSubscriptionId] ServicePrincipal:s[ServicePrincipalWithSubscriptionId=!;ServicePrincipalCertificateWithSubscriptionId;ClientAssertionParameterSet;ServicePrincipalCertificateFileWithSubscriptionId] SkipContextPopulation:s SkipValidation:s[AccessTokenWithSubscriptionId] Subscription|SubscriptionName|SubscriptionId Tenant|Domain|TenantId[UserWithSubscriptionId;UserWithCredential;AccessTokenWithSubscriptionId;ManagedServiceLogin;ServicePrincipalWithSubscriptionId=!;ServicePrincipalCertificateWithSubscriptionId=!;ClientAssertionParameterSet=!;ServicePrincipalCertificateFileWithSubscriptionId=!] UseDeviceAuthentication|DeviceCode|DeviceAuth|Device:s[UserWithSubscriptionId] @wc",
        switches: &["UseDeviceAuthentication"],
        mandatory: &[],
        optional: &["Tenant", "Subscription"],
        run: |sh, ws, p| {
            if let Some(t) = p.get("Tenant") {
                sh.az(ws, &["login", "--tenant", &t])?;
            }
            if let Some(s) = p.get("Subscription") {
                sh.az(ws, &["account", "set", "--subscription", &s])?;
            }
            let v = sh.az(ws, &["account", "show"])?;
            Ok(
                json!({"Account": v["user"]["name"], "SubscriptionName": v["name"], "TenantId": v["tenantId"], "Environment": "AzureCloud"}),
            )
        },
    },
    Cmdlet {
        name: "Set-AzContext",
        params: "=Context Context[Context=!0] @dp ExtendedProperty Force:s Name Scope Subscription|SubscriptionId|SubscriptionName[Subscription=!0] SubscriptionObject[SubscriptionObject=!0] Tenant|Domain|TenantId[Subscription;TenantNameOnly=!] TenantObject[TenantObject=!0] @wc",
        switches: &[],
        mandatory: &["Subscription"],
        optional: &["Tenant"],
        run: |sh, ws, p| {
            if let Some(t) = p.get("Tenant") {
                sh.az(ws, &["login", "--tenant", &t])?;
            }
            sh.az(
                ws,
                &["account", "set", "--subscription", &p.req("Subscription")],
            )?;
            let v = sh.az(ws, &["account", "show"])?;
            Ok(
                json!({"Name": v["name"], "Account": v["user"]["name"], "SubscriptionName": v["name"], "TenantId": v["tenantId"], "Environment": "AzureCloud"}),
            )
        },
    },
    Cmdlet {
        name: "Get-AzContext",
        params: "=GetSingleContext @dp ListAvailable:s[ListAllContexts=!] Name[GetSingleContext=0] RefreshContextFromTokenCache:s[ListAllContexts]",
        switches: &["ListAvailable", "RefreshContextFromTokenCache"],
        mandatory: &[],
        optional: &["Name"],
        run: |sh, ws, p| {
            let current = sh.az(ws, &["account", "show"])?;
            if p.switch("ListAvailable") {
                // One context per subscription the sign-in can use, as Connect-AzAccount
                // populates them.
                let all = sh.az(ws, &["account", "list"])?;
                return Ok(Value::Array(
                    all.as_array()
                        .into_iter()
                        .flatten()
                        .map(|sub| ps_context(sub, &current))
                        .collect(),
                ));
            }
            let context = ps_context(&current, &current);
            // -Name picks a context by its name; none of that name prints nothing.
            if let Some(name) = p.get("Name")
                && !context["Name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&name))
            {
                return Ok(Value::Null);
            }
            Ok(context)
        },
    },
    Cmdlet {
        name: "New-AzADApplication",
        params: "=ApplicationWithoutCredentialParameterSet AddIn Api ApplicationTemplateId AppRole AvailableToOtherTenants:b CertValue[ApplicationWithKeyPlainParameterSet=!] CreatedOnBehalfOfDeletedDateTime @dp DeletedDateTime Description DisabledByMicrosoftStatus DisplayName[*=!] EndDate[ApplicationWithKeyPlainParameterSet;ApplicationWithPasswordPlainParameterSet] GroupMembershipClaim HomePage|WebHomePageUrl HomeRealmDiscoveryPolicy IdentifierUri|IdentifierUris Info IsDeviceOnlyAuthSupported:s IsFallbackPublicClient:s KeyCredentials[ApplicationWithKeyCredentialParameterSet=!] LogoInputFile Note Oauth2RequirePostResponse:s OptionalClaim ParentalControlSetting PasswordCredentials[ApplicationWithPasswordCredentialParameterSet=!] PublicClientRedirectUri ReplyUrls|WebRedirectUri RequestedAccessTokenVersion RequiredResourceAccess ServiceManagementReference SignInAudience SPARedirectUri StartDate[ApplicationWithKeyPlainParameterSet;ApplicationWithPasswordPlainParameterSet] Tag TokenEncryptionKeyId TokenIssuancePolicy TokenLifetimePolicy Web @wc",
        switches: &[],
        mandatory: &["DisplayName"],
        optional: &["SignInAudience"],
        run: |sh, ws, p| {
            let aud = p
                .get("SignInAudience")
                .unwrap_or_else(|| "AzureADMyOrg".into());
            let v = sh.az(
                ws,
                &[
                    "ad",
                    "app",
                    "create",
                    "--display-name",
                    &p.req("DisplayName"),
                    "--sign-in-audience",
                    &aud,
                ],
            )?;
            Ok(
                json!({"DisplayName": v["displayName"], "Id": v["id"], "AppId": v["appId"], "SignInAudience": v["signInAudience"]}),
            )
        },
    },
    Cmdlet {
        name: "New-AzADAppFederatedCredential",
        params: "AdditionalProperties ApplicationObjectId[*=!] Audience[*=!] DefaultProfile|AzureRMContext|AzureCredential Description Issuer[*=!] Name[*=!] Subject[*=!] @wc",
        switches: &[],
        mandatory: &[
            "ApplicationObjectId",
            "Audience",
            "Issuer",
            "Name",
            "Subject",
        ],
        optional: &[],
        run: |sh, ws, p| {
            let params = json!({
                "name": p.req("Name"),
                "issuer": p.req("Issuer"),
                "subject": p.req("Subject"),
                "audiences": p.list("Audience"),
            })
            .to_string();
            let v = sh.az(
                ws,
                &[
                    "ad",
                    "app",
                    "federated-credential",
                    "create",
                    "--id",
                    &p.req("ApplicationObjectId"),
                    "--parameters",
                    &params,
                ],
            )?;
            Ok(
                json!({"Name": v["name"], "Issuer": v["issuer"], "Subject": v["subject"], "Audience": v["audiences"]}),
            )
        },
    },
    Cmdlet {
        name: "New-AzADServicePrincipal",
        params: "=SimpleParameterSet AccountEnabled:s AddIn AlternativeName AppDescription ApplicationId|AppId[ApplicationIdParameterSet] ApplicationObject[ApplicationObjectParameterSet=!] AppOwnerOrganizationId AppRole AppRoleAssignedTo AppRoleAssignment AppRoleAssignmentRequired:s CertValue[DisplayNameWithKeyPlainParameterSet=!] ClaimsMappingPolicy DefaultProfile|AzureRMContext|AzureCredential DelegatedPermissionClassification DeletedDateTime Description DisabledByMicrosoftStatus DisplayName[SimpleParameterSet;DisplayNameWithPasswordCredentialParameterSet=!;DisplayNameWithKeyCredentialParameterSet=!;DisplayNameWithKeyPlainParameterSet=!] EndDate[SimpleParameterSet;DisplayNameWithKeyPlainParameterSet] Endpoint Homepage HomeRealmDiscoveryPolicy Info KeyCredential|KeyCredentials[DisplayNameWithKeyCredentialParameterSet=!] LoginUrl LogoutUrl Note NotificationEmailAddress Oauth2PermissionScope PasswordCredential|PasswordCredentials[DisplayNameWithPasswordCredentialParameterSet=!] PreferredSingleSignOnMode PreferredTokenSigningKeyThumbprint ReplyUrl Role SamlSingleSignOnSetting Scope ServicePrincipalName ServicePrincipalType StartDate[SimpleParameterSet;DisplayNameWithKeyPlainParameterSet] Tag TokenEncryptionKeyId TokenIssuancePolicy TokenLifetimePolicy TransitiveMemberOf @wc",
        switches: &[],
        mandatory: &["ApplicationId"],
        optional: &[],
        run: |sh, ws, p| {
            let v = sh.az(ws, &["ad", "sp", "create", "--id", &p.req("ApplicationId")])?;
            Ok(json!({"DisplayName": v["appDisplayName"], "Id": v["id"], "AppId": v["appId"]}))
        },
    },
    Cmdlet {
        name: "New-AzSqlInstance",
        params: "=NewByEditionAndComputeGenerationParameterSet AdministratorCredential AsJob:s AssignIdentity:s AuthenticationMetadata BackupStorageRedundancy Collation ComputeGeneration[NewByEditionAndComputeGenerationParameterSet=!] DatabaseFormat @dp DnsZonePartner Edition[NewByEditionAndComputeGenerationParameterSet=!] EnableActiveDirectoryOnlyAuthentication:s ExternalAdminName ExternalAdminSID Force:s IdentityType InstancePool|ParentObject[NewByInstancePoolParentObjectParameterSet=!0] InstancePoolName[NewByEditionAndComputeGenerationParameterSet;NewBySkuNameParameterSetParameter] InstancePoolResourceId|ResourceId[NewByInstancePoolResourceIdParameterSet=!0] IsGeneralPurposeV2:b KeyId LicenseType[NewByEditionAndComputeGenerationParameterSet;NewBySkuNameParameterSetParameter] Location[NewByEditionAndComputeGenerationParameterSet=!;NewBySkuNameParameterSetParameter=!] MaintenanceConfigurationId MemorySizeInGB MinimalTlsVersion Name|InstanceName[*=!0] PricingModel PrimaryUserAssignedIdentityId ProxyOverride PublicDataEndpointEnabled:s ResourceGroupName[NewByEditionAndComputeGenerationParameterSet=!1;NewBySkuNameParameterSetParameter=!1] ServicePrincipalType SkuName[NewBySkuNameParameterSetParameter=!] StorageIOps StorageSizeInGB SubnetId[NewByEditionAndComputeGenerationParameterSet=!;NewBySkuNameParameterSetParameter=!] Tag|Tags TimezoneId UserAssignedIdentityId VCore[*=!] ZoneRedundant:s @wc",
        switches: &["AssignIdentity", "Force"],
        mandatory: &[
            "Name",
            "ResourceGroupName",
            "Location",
            "AdministratorCredential",
            "SubnetId",
        ],
        optional: &[
            "LicenseType",
            "StorageSizeInGB",
            "VCore",
            "Edition",
            "ComputeGeneration",
            "IdentityType",
            "UserAssignedIdentityId",
            "PrimaryUserAssignedIdentityId",
            "KeyId",
        ],
        run: |sh, ws, p| {
            let (user, password) = credential(p, "AdministratorCredential")?;
            let mut words: Vec<String> = [
                "sql",
                "mi",
                "create",
                "-n",
                &p.req("Name"),
                "-g",
                &p.req("ResourceGroupName"),
                "-l",
                &p.req("Location"),
                "--admin-user",
                &user,
                "--admin-password",
                &password,
                "--subnet",
                &p.req("SubnetId"),
            ]
            .map(String::from)
            .to_vec();
            if p.switch("AssignIdentity") {
                words.push("--assign-identity".into());
            }
            for (param, flag) in [
                ("IdentityType", "--identity-type"),
                (
                    "PrimaryUserAssignedIdentityId",
                    "--primary-user-assigned-identity-id",
                ),
                ("KeyId", "--key-id"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            let umis = p.list("UserAssignedIdentityId");
            if !umis.is_empty() {
                words.push("--user-assigned-identity-id".into());
                words.extend(umis);
            }
            let v = sh.az_words(ws, words)?;
            Ok(json!({
                "ResourceGroupName": v["resourceGroup"],
                "ManagedInstanceName": v["name"],
                "Location": v["location"],
                "Identity": v["identity"],
                "SubnetId": v["subnetId"],
                "FullyQualifiedDomainName": v["fullyQualifiedDomainName"],
                "KeyId": v["keyId"],
            }))
        },
    },
    Cmdlet {
        name: "ConvertTo-SecureString",
        params: "=Secure String[*=!0] SecureKey[Secure=1] AsPlainText:s[PlainText=!1] Force:s[PlainText=2] Key[Open=!]",
        switches: &["AsPlainText", "Force"],
        mandatory: &["String"],
        optional: &[],
        run: |_, _, p| {
            if !p.switch("AsPlainText") {
                return Err("Cannot convert a plain string without -AsPlainText.".into());
            }
            // Shown as PowerShell shows a SecureString: its type, never the text.
            Ok(json!({"SecureString": p.req("String"), "Length": p.req("String").chars().count()}))
        },
    },
    Cmdlet {
        name: "New-AzSqlServer",
        params: "AsJob:s AssignIdentity:s @dp EnableActiveDirectoryOnlyAuthentication:s EnableSoftDelete:b ExternalAdminName ExternalAdminSID FederatedClientId IdentityType KeyId Location[*=!] MinimalTlsVersion PrimaryUserAssignedIdentityId PublicNetworkAccess ResourceGroupName[*=!0] RestrictOutboundNetworkAccess ServerName|Name[*=!] ServerVersion SoftDeleteRetentionDays SqlAdministratorCredentials Tags|Tag UserAssignedIdentityId @wc",
        switches: &["AssignIdentity"],
        mandatory: &[
            "ResourceGroupName",
            "ServerName",
            "Location",
            "SqlAdministratorCredentials",
        ],
        optional: &[
            "ServerVersion",
            "IdentityType",
            "UserAssignedIdentityId",
            "PrimaryUserAssignedIdentityId",
            "KeyId",
            "FederatedClientId",
        ],
        run: |sh, ws, p| {
            let (user, password) = credential(p, "SqlAdministratorCredentials")?;
            let mut words: Vec<String> = [
                "sql",
                "server",
                "create",
                "-g",
                &p.req("ResourceGroupName"),
                "-n",
                &p.req("ServerName"),
                "-l",
                &p.req("Location"),
                "--admin-user",
                &user,
                "--admin-password",
                &password,
            ]
            .map(String::from)
            .to_vec();
            if p.switch("AssignIdentity") {
                words.push("--assign-identity".into());
            }
            for (param, flag) in [
                ("IdentityType", "--identity-type"),
                (
                    "PrimaryUserAssignedIdentityId",
                    "--primary-user-assigned-identity-id",
                ),
                ("KeyId", "--key-id"),
                ("FederatedClientId", "--federated-client-id"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            let umis = p.list("UserAssignedIdentityId");
            if !umis.is_empty() {
                words.push("--user-assigned-identity-id".into());
                words.extend(umis);
            }
            Ok(ps_server(&sh.az_words(ws, words)?))
        },
    },
    Cmdlet {
        name: "Get-AzSqlServer",
        params: "@dp ResourceGroupName[*=0] ServerName|Name[*=1] ExpandActiveDirectoryAdministrator:s @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName"],
        optional: &[],
        run: |sh, ws, p| {
            let v = sh.az(
                ws,
                &[
                    "sql",
                    "server",
                    "show",
                    "-g",
                    &p.req("ResourceGroupName"),
                    "-n",
                    &p.req("ServerName"),
                ],
            )?;
            Ok(ps_server(&v))
        },
    },
    Cmdlet {
        name: "Set-AzSqlServer",
        params: "AssignIdentity:s @dp EnableSoftDelete:b FederatedClientId Force:s IdentityType KeyId MinimalTlsVersion PrimaryUserAssignedIdentityId PublicNetworkAccess ResourceGroupName[*=!0] RestrictOutboundNetworkAccess ServerName|Name[*=!1] ServerVersion SoftDeleteRetentionDays SqlAdministratorPassword Tags|Tag UserAssignedIdentityId @wc",
        switches: &["AssignIdentity", "Force"],
        mandatory: &["ResourceGroupName", "ServerName"],
        optional: &[
            "IdentityType",
            "UserAssignedIdentityId",
            "PrimaryUserAssignedIdentityId",
            "FederatedClientId",
        ],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            let mut words: Vec<String> = ["sql", "server", "update", "-g", &g, "-n", &s]
                .map(String::from)
                .to_vec();
            if p.switch("AssignIdentity") {
                words.push("-i".into());
            }
            if let Some(t) = p.get("IdentityType") {
                words.extend(["--identity-type".into(), t]);
            }
            let umis = p.list("UserAssignedIdentityId");
            if !umis.is_empty() {
                words.push("--user-assigned-identity-id".into());
                words.extend(umis);
            }
            if let Some(x) = p.get("PrimaryUserAssignedIdentityId") {
                words.extend(["--primary-user-assigned-identity-id".into(), x]);
            }
            if let Some(x) = p.get("FederatedClientId") {
                words.extend(["--federated-client-id".into(), x]);
            }
            Ok(ps_server(&sh.az_words(ws, words)?))
        },
    },
    Cmdlet {
        name: "New-AzUserAssignedIdentity",
        params: "DefaultProfile|AzureRMContext|AzureCredential Location[*=!] Name[*=!] ResourceGroupName[*=!] SubscriptionId Tag @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "Name", "Location"],
        optional: &[],
        run: |sh, ws, p| {
            let v = sh.az(
                ws,
                &[
                    "identity",
                    "create",
                    "-g",
                    &p.req("ResourceGroupName"),
                    "-n",
                    &p.req("Name"),
                    "-l",
                    &p.req("Location"),
                ],
            )?;
            Ok(ps_identity(&v))
        },
    },
    Cmdlet {
        name: "Get-AzUserAssignedIdentity",
        params: "=List DefaultProfile|AzureRMContext|AzureCredential InputObject[GetViaIdentity=!] Name[Get=!] ResourceGroupName[Get=!;List1=!] SubscriptionId[Get;List;List1]",
        switches: &[],
        mandatory: &["ResourceGroupName", "Name"],
        optional: &[],
        run: |sh, ws, p| {
            let v = sh.az(
                ws,
                &[
                    "identity",
                    "show",
                    "-g",
                    &p.req("ResourceGroupName"),
                    "-n",
                    &p.req("Name"),
                ],
            )?;
            Ok(ps_identity(&v))
        },
    },
    Cmdlet {
        name: "New-AzSqlDatabase",
        params: "=DtuBasedDatabase AsJob:s AssignIdentity:s AutoPauseDelayInMinutes BackupStorageRedundancy CatalogCollation CollationName ComputeGeneration|Family[VcoreBasedDatabase=!] ComputeModel[VcoreBasedDatabase] DatabaseName|Name[*=!] @dp Edition[DtuBasedDatabase;VcoreBasedDatabase=!] ElasticPoolName[DtuBasedDatabase] EnableLedger:s EncryptionProtector EncryptionProtectorAutoRotation:s FederatedClientId Force:s FreeLimitExhaustionBehavior HighAvailabilityReplicaCount|ReadReplicaCount KeyList LicenseType MaintenanceConfigurationId MaxSizeBytes MinimumCapacity|MinVCore|MinCapacity PreferredEnclaveType ReadScale RequestedServiceObjectiveName[DtuBasedDatabase] ResourceGroupName[*=!0] SampleName SecondaryType ServerName[*=!1] Tags|Tag UseFreeLimit:s UserAssignedIdentityId VCore|Capacity|MaxVCore|MaxCapacity[VcoreBasedDatabase=!] ZoneRedundant:s @wc",
        switches: &["AssignIdentity"],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName"],
        optional: &[
            "UserAssignedIdentityId",
            "EncryptionProtector",
            "KeyList",
            "Edition",
            "FederatedClientId",
            "RequestedServiceObjectiveName",
            "CollationName",
            "MaxSizeBytes",
        ],
        run: |sh, ws, p| db_cmdlet(sh, ws, p, "create"),
    },
    Cmdlet {
        name: "Set-AzSqlDatabase",
        params: "=Update AsJob:s AssignIdentity:s AutoPauseDelayInMinutes[Update;VcoreBasedDatabase] BackupStorageRedundancy ComputeGeneration|Family[VcoreBasedDatabase] ComputeModel[Update;VcoreBasedDatabase] DatabaseName|Name[*=!2] @dp Edition[Update;VcoreBasedDatabase] ElasticPoolName[Update] EncryptionProtector EncryptionProtectorAutoRotation:s FederatedClientId FreeLimitExhaustionBehavior HighAvailabilityReplicaCount|ReadReplicaCount[Update;VcoreBasedDatabase] KeyList KeysToRemove LicenseType[Update;VcoreBasedDatabase] MaintenanceConfigurationId ManualCutover:s MaxSizeBytes[Update;VcoreBasedDatabase] MinimumCapacity|MinVCore|MinCapacity[Update;VcoreBasedDatabase] NewName[Rename=!] PerformCutover:s PreferredEnclaveType ReadScale[Update;VcoreBasedDatabase] RequestedServiceObjectiveName[Update] ResourceGroupName[*=!0] SecondaryType ServerName[*=!1] Tags|Tag[Update;VcoreBasedDatabase] UseFreeLimit:s UserAssignedIdentityId VCore|Capacity|MaxVCore|MaxCapacity[VcoreBasedDatabase] ZoneRedundant:s[Update;VcoreBasedDatabase] @wc",
        switches: &["AssignIdentity"],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName"],
        optional: &[
            "UserAssignedIdentityId",
            "EncryptionProtector",
            "KeyList",
            "FederatedClientId",
        ],
        run: |sh, ws, p| db_cmdlet(sh, ws, p, "update"),
    },
    Cmdlet {
        name: "Get-AzSqlServerKeyVaultKey",
        params: "KeyId[*=2] ServerName[*=!1] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName"],
        optional: &["KeyId"],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            let v = match p.get("KeyId") {
                Some(kid) => sh.az(
                    ws,
                    &[
                        "sql", "server", "key", "show", "-s", &s, "-g", &g, "--kid", &kid,
                    ],
                )?,
                None => sh.az(ws, &["sql", "server", "key", "list", "-s", &s, "-g", &g])?,
            };
            Ok(map_items(&v, |k| ps_server_key(k, &g, &s, "ServerName")))
        },
    },
    Cmdlet {
        name: "Add-AzSqlServerKeyVaultKey",
        params: "KeyId[*=!2] AsJob:s ServerName[*=!1] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "KeyId"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            let v = sh.az(
                ws,
                &[
                    "sql",
                    "server",
                    "key",
                    "create",
                    "-s",
                    &s,
                    "-g",
                    &g,
                    "--kid",
                    &p.req("KeyId"),
                ],
            )?;
            Ok(ps_server_key(&v, &g, &s, "ServerName"))
        },
    },
    Cmdlet {
        name: "Remove-AzSqlServerKeyVaultKey",
        params: "KeyId[*=!2] AsJob:s ServerName[*=!1] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "KeyId"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s, kid) = (
                p.req("ResourceGroupName"),
                p.req("ServerName"),
                p.req("KeyId"),
            );
            let before = sh.az(
                ws,
                &[
                    "sql", "server", "key", "show", "-s", &s, "-g", &g, "--kid", &kid,
                ],
            )?;
            sh.az(
                ws,
                &[
                    "sql", "server", "key", "delete", "-s", &s, "-g", &g, "--kid", &kid,
                ],
            )?;
            Ok(ps_server_key(&before, &g, &s, "ServerName"))
        },
    },
    Cmdlet {
        name: "Get-AzSqlInstanceKeyVaultKey",
        params: "=AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet @dp Instance|InputObject[AddAzureRmSqlManagedInstanceKeyVaultKeyInputObjectParameterSet=!0] InstanceName[AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet=!1] InstanceResourceId|ResourceId[AddAzureRmSqlManagedInstanceKeyVaultKeyResourceIdParameterSet=!0] KeyId[*=1] ResourceGroupName[AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet=!0] @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "InstanceName"],
        optional: &["KeyId"],
        run: |_, ws, p| {
            let (g, name) = (p.req("ResourceGroupName"), p.req("InstanceName"));
            let mi = ws
                .server(&name)
                .filter(|s| s.kind == crate::model::ServerKind::ManagedInstance)
                .filter(|s| s.resource_group.eq_ignore_ascii_case(&g))
                .ok_or_else(|| format!("(ResourceNotFound) The Resource 'Microsoft.Sql/managedInstances/{name}' under resource group '{g}' was not found."))?;
            let kid = p.get("KeyId");
            let keys: Vec<Value> = mi
                .keys
                .iter()
                .filter(|k| {
                    kid.as_deref()
                        .is_none_or(|x| k.uri.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(x)))
                })
                .map(|k| {
                    ps_server_key(
                        &super::views::server_key(mi, k),
                        &g,
                        &name,
                        "ManagedInstanceName",
                    )
                })
                .collect();
            Ok(if kid.is_some() {
                keys.into_iter()
                    .next()
                    .ok_or("(ResourceNotFound) The requested managed instance key was not found.")?
            } else {
                Value::Array(keys)
            })
        },
    },
    Cmdlet {
        name: "Add-AzSqlInstanceKeyVaultKey",
        params: "=AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet @dp Instance|InputObject[AddAzureRmSqlManagedInstanceKeyVaultKeyInputObjectParameterSet=!0] InstanceName[AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet=!1] InstanceResourceId|ResourceId[AddAzureRmSqlManagedInstanceKeyVaultKeyResourceIdParameterSet=!0] KeyId[*=!1] ResourceGroupName[AddAzureRmSqlManagedInstanceKeyVaultKeyDefaultParameterSet=!0] @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "InstanceName", "KeyId"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, mi) = (p.req("ResourceGroupName"), p.req("InstanceName"));
            let v = sh.az(
                ws,
                &[
                    "sql",
                    "mi",
                    "key",
                    "create",
                    "--mi",
                    &mi,
                    "-g",
                    &g,
                    "--kid",
                    &p.req("KeyId"),
                ],
            )?;
            Ok(ps_server_key(&v, &g, &mi, "ManagedInstanceName"))
        },
    },
    Cmdlet {
        name: "Set-AzSqlInstanceTransparentDataEncryptionProtector",
        params: "=AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet AutoRotationEnabled:b @dp Force:s Instance|InputObject[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorInputObjectParameterSet=!0] InstanceName[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet=!1] InstanceResourceId|ResourceId[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorResourceIdParameterSet=!0] KeyId[*=2] ResourceGroupName[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet=!0] Type[*=!1] @wc",
        switches: &["Force"],
        mandatory: &["ResourceGroupName", "InstanceName", "Type"],
        optional: &["KeyId", "AutoRotationEnabled"],
        run: |sh, ws, p| {
            let (g, mi) = (p.req("ResourceGroupName"), p.req("InstanceName"));
            let mut words: Vec<String> = [
                "sql",
                "mi",
                "tde-key",
                "set",
                "--mi",
                &mi,
                "-g",
                &g,
                "--server-key-type",
                &p.req("Type"),
            ]
            .map(String::from)
            .to_vec();
            if let Some(k) = p.get("KeyId") {
                words.extend(["--kid".into(), k]);
            }
            if let Some(on) = p.flag("AutoRotationEnabled") {
                words.extend(["--auto-rotation-enabled".into(), on.to_string()]);
            }
            sh.az_words(ws, words)?;
            let v = sh.az(ws, &["sql", "mi", "tde-key", "show", "--mi", &mi, "-g", &g])?;
            Ok(ps_instance_protector(&v, &g, &mi))
        },
    },
    Cmdlet {
        name: "Get-AzSqlInstanceTransparentDataEncryptionProtector",
        params: "=AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet @dp Instance|InputObject[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorInputObjectParameterSet=!0] InstanceName[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet=!1] InstanceResourceId|ResourceId[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorResourceIdParameterSet=!0] ResourceGroupName[AzureSqlRmManagedInstanceTransparentDataEncryptionProtectorDefaultParameterSet=!0] @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "InstanceName"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, mi) = (p.req("ResourceGroupName"), p.req("InstanceName"));
            let v = sh.az(ws, &["sql", "mi", "tde-key", "show", "--mi", &mi, "-g", &g])?;
            Ok(ps_instance_protector(&v, &g, &mi))
        },
    },
    Cmdlet {
        name: "Set-AzSqlServerTransparentDataEncryptionProtector",
        params: "Type[*=!2] KeyId[*=3] AutoRotationEnabled:b Force:s AsJob:s ServerName[*=!1] ResourceGroupName[*=!0] @dp @wc",
        switches: &["Force"],
        mandatory: &["ResourceGroupName", "ServerName", "Type"],
        optional: &["KeyId", "AutoRotationEnabled"],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            let mut words: Vec<String> = [
                "sql",
                "server",
                "tde-key",
                "set",
                "-s",
                &s,
                "-g",
                &g,
                "--server-key-type",
                &p.req("Type"),
            ]
            .map(String::from)
            .to_vec();
            if let Some(k) = p.get("KeyId") {
                words.extend(["--kid".into(), k]);
            }
            if let Some(on) = p.flag("AutoRotationEnabled") {
                words.extend(["--auto-rotation-enabled".into(), on.to_string()]);
            }
            sh.az_words(ws, words)?;
            let v = sh.az(
                ws,
                &["sql", "server", "tde-key", "show", "-s", &s, "-g", &g],
            )?;
            Ok(ps_protector(&v, &g, &s))
        },
    },
    Cmdlet {
        name: "Get-AzSqlServerTransparentDataEncryptionProtector",
        params: "ServerName[*=!1] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            let v = sh.az(
                ws,
                &["sql", "server", "tde-key", "show", "-s", &s, "-g", &g],
            )?;
            Ok(ps_protector(&v, &g, &s))
        },
    },
    Cmdlet {
        name: "Set-AzSqlDatabaseTransparentDataEncryption",
        params: "State[*=!3] ServerName[*=!1] DatabaseName[*=!2] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName", "State"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s, d) = database_of(p);
            let v = sh.az(
                ws,
                &[
                    "sql",
                    "db",
                    "tde",
                    "set",
                    "--database",
                    &d,
                    "--server",
                    &s,
                    "-g",
                    &g,
                    "--status",
                    &p.req("State"),
                ],
            )?;
            Ok(ps_db_tde(&v, &g, &s, &d))
        },
    },
    Cmdlet {
        name: "Get-AzSqlDatabaseTransparentDataEncryption",
        params: "ServerName[*=!1] DatabaseName[*=!2] ResourceGroupName[*=!0] @dp @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s, d) = database_of(p);
            let v = db_tde_show(sh, ws, &g, &s, &d)?;
            Ok(ps_db_tde(&v, &g, &s, &d))
        },
    },
    Cmdlet {
        name: "New-AzResourceGroup",
        params: "ApiVersion @dp Force:s Location[*=!1] Name|ResourceGroupName[*=!0] Pre:s Tag|Tags @wc",
        switches: &["Force"],
        mandatory: &["Name", "Location"],
        optional: &[],
        run: |sh, ws, p| {
            let v = sh.az(
                ws,
                &[
                    "group",
                    "create",
                    "-n",
                    &p.req("Name"),
                    "-l",
                    &p.req("Location"),
                ],
            )?;
            Ok(json!({
                "ResourceGroupName": v["name"],
                "Location": v["location"],
                "ProvisioningState": "Succeeded",
                "ResourceId": v["id"],
            }))
        },
    },
    Cmdlet {
        name: "New-AzKeyVault",
        params: "@dp EnabledForDeployment:s EnabledForDiskEncryption:s EnabledForTemplateDeployment:s EnablePurgeProtection:s EnableRbacAuthorization:s Location[*=!2] Name|VaultName[*=!0] NetworkRuleSet ResourceGroupName[*=!1] Sku SoftDeleteRetentionInDays SubscriptionId Tag|Tags @wc",
        switches: &["EnablePurgeProtection", "EnableRbacAuthorization"],
        mandatory: &["Name", "ResourceGroupName", "Location"],
        optional: &["Sku", "SoftDeleteRetentionInDays"],
        run: |sh, ws, p| {
            let mut words: Vec<String> = [
                "keyvault",
                "create",
                "--name",
                &p.req("Name"),
                "-g",
                &p.req("ResourceGroupName"),
                "-l",
                &p.req("Location"),
            ]
            .map(String::from)
            .to_vec();
            // Az PowerShell turns soft delete on for every new vault.
            words.extend(["--enable-soft-delete".into(), "true".into()]);
            if p.switch("EnablePurgeProtection") {
                words.extend(["--enable-purge-protection".into(), "true".into()]);
            }
            if p.switch("EnableRbacAuthorization") {
                words.extend(["--enable-rbac-authorization".into(), "true".into()]);
            }
            if let Some(sku) = p.get("Sku") {
                words.extend(["--sku".into(), sku]);
            }
            if let Some(d) = p.get("SoftDeleteRetentionInDays") {
                words.extend(["--retention-days".into(), d]);
            }
            let v = sh.az_words(ws, words)?;
            Ok(json!({
                "VaultName": v["name"],
                "ResourceGroupName": v["resourceGroup"],
                "Location": v["location"],
                "ResourceId": v["id"],
                "VaultUri": v["properties"]["vaultUri"],
                "EnableSoftDelete": v["properties"]["enableSoftDelete"],
                "EnablePurgeProtection": v["properties"]["enablePurgeProtection"],
            }))
        },
    },
    Cmdlet {
        name: "Set-AzKeyVaultAccessPolicy",
        params: "=ByUserPrincipalName ApplicationId[ByObjectId;InputObjectByObjectId;ResourceIdByObjectId] BypassObjectIdValidation:s[ByObjectId;InputObjectByObjectId;ResourceIdByObjectId] @dp EmailAddress[ByEmailAddress=!;InputObjectByEmailAddress=!;ResourceIdByEmailAddress=!] EnabledForDeployment:s[ForVault;InputObjectForVault;ResourceIdForVault] EnabledForDiskEncryption:s[ForVault;InputObjectForVault;ResourceIdForVault] EnabledForTemplateDeployment:s[ForVault;InputObjectForVault;ResourceIdForVault] InputObject[InputObjectByObjectId=!0;InputObjectByServicePrincipalName=!0;InputObjectByUserPrincipalName=!0;InputObjectByEmailAddress=!0;InputObjectForVault=!0] ObjectId[ByObjectId=!;InputObjectByObjectId=!;ResourceIdByObjectId=!] PassThru:s PermissionsToCertificates[ByUserPrincipalName;ByObjectId;ByServicePrincipalName;ByEmailAddress;InputObjectByObjectId;InputObjectByServicePrincipalName;InputObjectByUserPrincipalName;InputObjectByEmailAddress;ResourceIdByObjectId;ResourceIdByServicePrincipalName;ResourceIdByUserPrincipalName;ResourceIdByEmailAddress] PermissionsToKeys[ByUserPrincipalName;ByObjectId;ByServicePrincipalName;ByEmailAddress;InputObjectByObjectId;InputObjectByServicePrincipalName;InputObjectByUserPrincipalName;InputObjectByEmailAddress;ResourceIdByObjectId;ResourceIdByServicePrincipalName;ResourceIdByUserPrincipalName;ResourceIdByEmailAddress] PermissionsToSecrets[ByUserPrincipalName;ByObjectId;ByServicePrincipalName;ByEmailAddress;InputObjectByObjectId;InputObjectByServicePrincipalName;InputObjectByUserPrincipalName;InputObjectByEmailAddress;ResourceIdByObjectId;ResourceIdByServicePrincipalName;ResourceIdByUserPrincipalName;ResourceIdByEmailAddress] PermissionsToStorage[ByUserPrincipalName;ByObjectId;ByServicePrincipalName;ByEmailAddress;InputObjectByObjectId;InputObjectByServicePrincipalName;InputObjectByUserPrincipalName;InputObjectByEmailAddress;ResourceIdByObjectId;ResourceIdByServicePrincipalName;ResourceIdByUserPrincipalName;ResourceIdByEmailAddress] ResourceGroupName[ByUserPrincipalName=1;ByObjectId=1;ByServicePrincipalName=1;ByEmailAddress=1;ForVault=1] ResourceId[ResourceIdByObjectId=!0;ResourceIdByServicePrincipalName=!0;ResourceIdByUserPrincipalName=!0;ResourceIdByEmailAddress=!0;ResourceIdForVault=!0] ServicePrincipalName|SPN[ByServicePrincipalName=!;InputObjectByServicePrincipalName=!;ResourceIdByServicePrincipalName=!] UserPrincipalName|UPN[ByUserPrincipalName=!;InputObjectByUserPrincipalName=!;ResourceIdByUserPrincipalName=!] VaultName[ByUserPrincipalName=!0;ByObjectId=!0;ByServicePrincipalName=!0;ByEmailAddress=!0;ForVault=!0] @wc",
        switches: &["PassThru", "BypassObjectIdValidation"],
        mandatory: &["VaultName", "ObjectId"],
        optional: &[
            "PermissionsToKeys",
            "PermissionsToSecrets",
            "ResourceGroupName",
        ],
        run: |sh, ws, p| {
            let mut words: Vec<String> = [
                "keyvault",
                "set-policy",
                "--name",
                &p.req("VaultName"),
                "--object-id",
                &p.req("ObjectId"),
            ]
            .map(String::from)
            .to_vec();
            for (param, flag) in [
                ("PermissionsToKeys", "--key-permissions"),
                ("PermissionsToSecrets", "--secret-permissions"),
            ] {
                let perms = p.list(param);
                if !perms.is_empty() {
                    words.push(flag.into());
                    words.extend(perms);
                }
            }
            sh.az_words(ws, words)?;
            Ok(Value::Null)
        },
    },
    Cmdlet {
        name: "Remove-AzKeyVaultAccessPolicy",
        params: "=ByUserPrincipalName ApplicationId[ByObjectId;InputObjectByObjectId;ResourceIdByObjectId] @dp EmailAddress[ByEmail=!;InputObjectByEmail=!;ResourceIdByEmail=!] EnabledForDeployment:s[ForVault;InputObjectForVault;ResourceIdForVault] EnabledForDiskEncryption:s[ForVault;InputObjectForVault;ResourceIdForVault] EnabledForTemplateDeployment:s[ForVault;InputObjectForVault;ResourceIdForVault] InputObject[InputObjectByObjectId=!0;InputObjectByServicePrincipalName=!0;InputObjectByUserPrincipalName=!0;InputObjectByEmail=!0;InputObjectForVault=!0] ObjectId[ByObjectId=!;InputObjectByObjectId=!;ResourceIdByObjectId=!] PassThru:s ResourceGroupName[ByUserPrincipalName=1;ByObjectId=1;ByServicePrincipalName=1;ByEmail=1;ForVault=1] ResourceId[ResourceIdByObjectId=!0;ResourceIdByServicePrincipalName=!0;ResourceIdByUserPrincipalName=!0;ResourceIdByEmail=!0;ResourceIdForVault=!0] ServicePrincipalName|SPN[ByServicePrincipalName=!;InputObjectByServicePrincipalName=!;ResourceIdByServicePrincipalName=!] UserPrincipalName|UPN[ByUserPrincipalName=!;InputObjectByUserPrincipalName=!;ResourceIdByUserPrincipalName=!] VaultName[ByUserPrincipalName=!0;ByObjectId=!0;ByServicePrincipalName=!0;ByEmail=!0;ForVault=!0] @wc",
        switches: &["PassThru"],
        mandatory: &["VaultName", "ObjectId"],
        optional: &["ResourceGroupName"],
        run: |sh, ws, p| {
            sh.az(
                ws,
                &[
                    "keyvault",
                    "delete-policy",
                    "--name",
                    &p.req("VaultName"),
                    "--object-id",
                    &p.req("ObjectId"),
                ],
            )?;
            Ok(Value::Null)
        },
    },
    Cmdlet {
        name: "Add-AzKeyVaultKey",
        params: "=InteractiveCreate CurveName[InteractiveImport;HsmInteractiveCreate;InputObjectImport;HsmInputObjectCreate;ResourceIdImport;HsmResourceIdCreate] @dp Destination[InteractiveCreate=!;InputObjectCreate=!;ResourceIdCreate=!;InteractiveImport;InputObjectImport;ResourceIdImport] Disable:s Expires HsmName[HsmInteractiveCreate=!;HsmInteractiveImport=!] HsmObject[HsmInputObjectCreate=!0;HsmInputObjectImport=!0] HsmResourceId[HsmResourceIdCreate=!;HsmResourceIdImport=!] InputObject[InputObjectCreate=!0;InputObjectImport=!0] KeyFilePassword[InteractiveImport;HsmInteractiveImport;InputObjectImport;HsmInputObjectImport;ResourceIdImport;HsmResourceIdImport] KeyFilePath[InteractiveImport=!;HsmInteractiveImport=!;InputObjectImport=!;HsmInputObjectImport=!;ResourceIdImport=!;HsmResourceIdImport=!] KeyOps KeyType[InteractiveImport;InputObjectImport;ResourceIdImport;HsmInteractiveCreate=!;HsmInputObjectCreate=!;HsmResourceIdCreate=!] Name|KeyName[*=!1] NotBefore ResourceId[ResourceIdCreate=!0;ResourceIdImport=!0] Size[InteractiveCreate;HsmInteractiveCreate;InputObjectCreate;HsmInputObjectCreate;ResourceIdCreate;HsmResourceIdCreate] Tag|Tags VaultName[InteractiveCreate=!0;InteractiveImport=!0] @wc",
        switches: &[],
        mandatory: &["VaultName", "Name"],
        optional: &[
            "Destination",
            "Size",
            "KeyType",
            "KeyOps",
            "KeyFilePath",
            "KeyFilePassword",
            "Expires",
            "NotBefore",
        ],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let hsm = p
                .get("Destination")
                .is_some_and(|d| d.eq_ignore_ascii_case("HSM"));
            let mut words: Vec<String>;
            if let Some(file) = p.get("KeyFilePath") {
                let flag = match file
                    .rsplit('.')
                    .next()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("pfx") => "--pfx-file",
                    Some("byok") => "--byok-file",
                    _ => "--pem-file",
                };
                words = [
                    "keyvault",
                    "key",
                    "import",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                    flag,
                    &file,
                ]
                .map(String::from)
                .to_vec();
                if let Some(pw) = p.get("KeyFilePassword") {
                    words.extend(["--pfx-password".into(), pw]);
                }
                if hsm {
                    words.extend(["--protection".into(), "hsm".into()]);
                }
            } else {
                let Some(dest) = p.get("Destination") else {
                    return Err("Cannot process command because of one or more missing mandatory parameters: Destination.".into());
                };
                let kty = if dest.eq_ignore_ascii_case("HSM") {
                    "RSA-HSM"
                } else {
                    "RSA"
                };
                words = [
                    "keyvault",
                    "key",
                    "create",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                    "--kty",
                    kty,
                ]
                .map(String::from)
                .to_vec();
                words.extend([
                    "--size".into(),
                    p.get("Size").unwrap_or_else(|| "2048".into()),
                ]);
                let ops = p.list("KeyOps");
                if !ops.is_empty() {
                    words.push("--ops".into());
                    words.extend(ops);
                }
            }
            Ok(ps_key(&sh.az_words(ws, words)?, &vault))
        },
    },
    Cmdlet {
        name: "Get-AzKeyVaultKey",
        params: "=ByVaultName @dp HsmName[HsmByKeyName=!;HsmByVaultName=!;HsmByKeyVersions=!] HsmObject[HsmByInputObjectVaultName=!0;HsmByInputObjectKeyName=!0;HsmByInputObjectKeyVersions=!0] HsmResourceId[HsmByResourceIdVaultName=!;HsmByResourceIdKeyName=!;HsmByResourceIdKeyVersions=!] IncludeVersions:s[ByKeyVersions=!;HsmByKeyVersions=!;ByInputObjectKeyVersions=!;HsmByInputObjectKeyVersions=!;ByResourceIdKeyVersions=!;HsmByResourceIdKeyVersions=!] InputObject[ByInputObjectVaultName=!0;ByInputObjectKeyName=!0;ByInputObjectKeyVersions=!0] InRemovedState:s[ByVaultName;HsmByVaultName;ByInputObjectVaultName;HsmByInputObjectVaultName;ByResourceIdVaultName;HsmByResourceIdVaultName] Name|KeyName[ByVaultName=1;HsmByVaultName=1;ByInputObjectVaultName=1;HsmByInputObjectVaultName=1;ByResourceIdVaultName=1;HsmByResourceIdVaultName=1;ByKeyName=!1;ByKeyVersions=!1;HsmByKeyName=!1;HsmByKeyVersions=!1;ByInputObjectKeyName=!1;ByInputObjectKeyVersions=!1;HsmByInputObjectKeyName=!1;HsmByInputObjectKeyVersions=!1;ByResourceIdKeyName=!1;ByResourceIdKeyVersions=!1;HsmByResourceIdKeyName=!1;HsmByResourceIdKeyVersions=!1] OutFile ResourceId[ByResourceIdVaultName=!;ByResourceIdKeyName=!;ByResourceIdKeyVersions=!] VaultName[ByVaultName=!0;ByKeyName=!0;ByKeyVersions=!0] Version|KeyVersion[ByKeyName=!2;HsmByKeyName=!2;ByInputObjectKeyName=!2;HsmByInputObjectKeyName=!2;ByResourceIdKeyName=!2;HsmByResourceIdKeyName=!2]",
        switches: &["IncludeVersions", "InRemovedState"],
        mandatory: &["VaultName"],
        optional: &["Name", "Version"],
        run: |sh, ws, p| {
            let vault = p.req("VaultName");
            let v = match (p.get("Name"), p.get("Version")) {
                (Some(n), Some(ver)) => sh.az(
                    ws,
                    &[
                        "keyvault",
                        "key",
                        "show",
                        "--vault-name",
                        &vault,
                        "--name",
                        &n,
                        "--version",
                        &ver,
                    ],
                )?,
                (Some(n), None) if p.switch("IncludeVersions") => sh.az(
                    ws,
                    &[
                        "keyvault",
                        "key",
                        "list-versions",
                        "--vault-name",
                        &vault,
                        "--name",
                        &n,
                    ],
                )?,
                (Some(n), None) => sh.az(
                    ws,
                    &[
                        "keyvault",
                        "key",
                        "show",
                        "--vault-name",
                        &vault,
                        "--name",
                        &n,
                    ],
                )?,
                (None, _) => sh.az(ws, &["keyvault", "key", "list", "--vault-name", &vault])?,
            };
            Ok(map_items(&v, |k| ps_key(k, &vault)))
        },
    },
    Cmdlet {
        name: "Remove-AzKeyVaultKey",
        params: "=ByVaultName @dp Force:s HsmName[HsmByVaultName=!] InputObject[ByInputObject=!0] InRemovedState:s Name|KeyName[ByVaultName=!1;HsmByVaultName=!1] PassThru:s VaultName[ByVaultName=!0] @wc",
        switches: &["Force", "PassThru", "InRemovedState"],
        mandatory: &["VaultName", "Name"],
        optional: &[],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            if p.switch("InRemovedState") {
                sh.az(
                    ws,
                    &[
                        "keyvault",
                        "key",
                        "purge",
                        "--vault-name",
                        &vault,
                        "--name",
                        &name,
                    ],
                )?;
                return Ok(Value::Null);
            }
            let v = sh.az(
                ws,
                &[
                    "keyvault",
                    "key",
                    "delete",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                ],
            )?;
            Ok(if p.switch("PassThru") {
                ps_key(&v, &vault)
            } else {
                Value::Null
            })
        },
    },
    Cmdlet {
        name: "Backup-AzKeyVaultKey",
        params: "=ByKeyName @dp Force:s HsmName[HsmByKeyName=!] InputObject|Key[ByKey=!0] Name|KeyName[ByKeyName=!1;HsmByKeyName=!1] OutputFile[*=2] VaultName[ByKeyName=!0] @wc",
        switches: &["Force"],
        mandatory: &["VaultName", "Name"],
        optional: &["OutputFile"],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let file = p
                .get("OutputFile")
                .unwrap_or_else(|| format!("{vault}-{name}-{}.blob", ws.now().0));
            sh.az(
                ws,
                &[
                    "keyvault",
                    "key",
                    "backup",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                    "--file",
                    &file,
                ],
            )?;
            // The cmdlet returns the path of the file it wrote.
            Ok(Value::String(file))
        },
    },
    Cmdlet {
        name: "Restore-AzKeyVaultKey",
        params: "=ByVaultName @dp HsmName[HsmByVaultName=!] HsmObject[HsmByInputObject=!0] HsmResourceId[HsmByResourceId=!] InputFile[*=!1] InputObject[ByInputObject=!0] ResourceId[ByResourceId=!0] VaultName[ByVaultName=!0] @wc",
        switches: &[],
        mandatory: &["VaultName", "InputFile"],
        optional: &[],
        run: |sh, ws, p| {
            let vault = p.req("VaultName");
            let v = sh.az(
                ws,
                &[
                    "keyvault",
                    "key",
                    "restore",
                    "--vault-name",
                    &vault,
                    "--file",
                    &p.req("InputFile"),
                ],
            )?;
            Ok(ps_key(&v, &vault))
        },
    },
    Cmdlet {
        name: "Set-AzKeyVaultSecret",
        params: "=Default ContentType @dp Disable:s Expires Id|SecretId[BySecretUri=!0] InputObject[InputObject=!0] Name|SecretName[Default=!1] NotBefore SecretValue[*=!2] Tag|Tags VaultName[Default=!0] @wc",
        switches: &["Disable"],
        mandatory: &["VaultName", "Name", "SecretValue"],
        optional: &["ContentType", "Expires", "NotBefore", "Tag"],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let value = secure_string(p, "SecretValue")?;
            let mut words: Vec<String> = [
                "keyvault",
                "secret",
                "set",
                "--vault-name",
                &vault,
                "--name",
                &name,
                "--value",
                &value,
            ]
            .map(String::from)
            .to_vec();
            for (param, flag) in [
                ("ContentType", "--content-type"),
                ("Expires", "--expires"),
                ("NotBefore", "--not-before"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            if p.switch("Disable") {
                words.extend(["--disabled".into(), "true".into()]);
            }
            p.push_tags("Tag", &mut words)?;
            Ok(ps_secret(&sh.az_words(ws, words)?, &vault))
        },
    },
    Cmdlet {
        name: "Get-AzKeyVaultSecret",
        params: "=ByVaultName AsPlainText:s[ByVaultName;BySecretName;ByInputObjectVaultName;ByInputObjectSecretName;ByResourceIdVaultName;ByResourceIdSecretName] @dp IncludeVersions:s[BySecretVersions=!;ByInputObjectSecretVersions=!;ByResourceIdSecretVersions=!] InputObject[ByInputObjectVaultName=!0;ByInputObjectSecretName=!0;ByInputObjectSecretVersions=!0] InRemovedState:s[ByVaultName;ByInputObjectVaultName;ByResourceIdVaultName] Name|SecretName[ByVaultName=1;ByInputObjectVaultName=1;ByResourceIdVaultName=1;BySecretName=!1;BySecretVersions=!1;ByInputObjectSecretName=!1;ByInputObjectSecretVersions=!1;ByResourceIdSecretName=!1;ByResourceIdSecretVersions=!1] ResourceId[ByResourceIdVaultName=!0;ByResourceIdSecretName=!0;ByResourceIdSecretVersions=!0] VaultName[ByVaultName=!0;BySecretName=!0;BySecretVersions=!0] Version|SecretVersion[BySecretName=!2;ByInputObjectSecretName=!2;ByResourceIdSecretName=!2]",
        switches: &["IncludeVersions", "InRemovedState", "AsPlainText"],
        mandatory: &["VaultName"],
        optional: &["Name", "Version"],
        run: |sh, ws, p| {
            let vault = p.req("VaultName");
            let base = |verb: &str| -> Vec<String> {
                ["keyvault", "secret", verb, "--vault-name", &vault]
                    .map(String::from)
                    .to_vec()
            };
            let named = |verb: &str, n: &str| -> Vec<String> {
                let mut w = base(verb);
                w.extend(["--name".to_string(), n.to_string()]);
                w
            };
            let v = match (p.get("Name"), p.get("Version")) {
                (Some(n), _) if p.switch("InRemovedState") => {
                    sh.az_words(ws, named("show-deleted", &n))?
                }
                (None, _) if p.switch("InRemovedState") => sh.az_words(ws, base("list-deleted"))?,
                (Some(n), Some(ver)) => {
                    let mut w = named("show", &n);
                    w.extend(["--version".to_string(), ver]);
                    sh.az_words(ws, w)?
                }
                (Some(n), None) if p.switch("IncludeVersions") => {
                    sh.az_words(ws, named("list-versions", &n))?
                }
                (Some(n), None) => sh.az_words(ws, named("show", &n))?,
                (None, _) => sh.az_words(ws, base("list"))?,
            };
            // -AsPlainText: the secret's value as a string (one secret read by name).
            if p.switch("AsPlainText") && v.get("value").is_some() {
                return Ok(v["value"].clone());
            }
            Ok(map_items(&v, |s| ps_secret(s, &vault)))
        },
    },
    Cmdlet {
        name: "Remove-AzKeyVaultSecret",
        params: "=ByVaultName @dp Force:s InputObject[ByInputObject=!0] InRemovedState:s Name|SecretName[ByVaultName=!1] PassThru:s VaultName[ByVaultName=!0] @wc",
        switches: &["Force", "PassThru", "InRemovedState"],
        mandatory: &["VaultName", "Name"],
        optional: &[],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let verb = if p.switch("InRemovedState") {
                "purge"
            } else {
                "delete"
            };
            let v = sh.az(
                ws,
                &[
                    "keyvault",
                    "secret",
                    verb,
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                ],
            )?;
            Ok(if p.switch("PassThru") && verb == "delete" {
                ps_secret(&v, &vault)
            } else {
                Value::Null
            })
        },
    },
    Cmdlet {
        name: "Undo-AzKeyVaultSecretRemoval",
        params: "=Default @dp InputObject[InputObject=!0] Name|SecretName[Default=!1] VaultName[Default=!0] @wc",
        switches: &[],
        mandatory: &["VaultName", "Name"],
        optional: &[],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let v = sh.az(
                ws,
                &[
                    "keyvault",
                    "secret",
                    "recover",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                ],
            )?;
            Ok(ps_secret(&v, &vault))
        },
    },
    Cmdlet {
        name: "Backup-AzKeyVaultSecret",
        params: "=BySecretName @dp Force:s InputObject|Secret[BySecret=!0] Name|SecretName[BySecretName=!1] OutputFile[*=2] VaultName[BySecretName=!0] @wc",
        switches: &["Force"],
        mandatory: &["VaultName", "Name"],
        optional: &["OutputFile"],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let file = p
                .get("OutputFile")
                .unwrap_or_else(|| format!("{vault}-{name}-{}.blob", ws.now().0));
            sh.az(
                ws,
                &[
                    "keyvault",
                    "secret",
                    "backup",
                    "--vault-name",
                    &vault,
                    "--name",
                    &name,
                    "--file",
                    &file,
                ],
            )?;
            // The cmdlet returns the path of the file it wrote.
            Ok(Value::String(file))
        },
    },
    Cmdlet {
        name: "Restore-AzKeyVaultSecret",
        params: "=ByVaultName @dp InputFile[*=!1] InputObject[ByInputObject=!0] ResourceId[ByResourceId=!0] VaultName[ByVaultName=!0] @wc",
        switches: &[],
        mandatory: &["VaultName", "InputFile"],
        optional: &[],
        run: |sh, ws, p| {
            let vault = p.req("VaultName");
            let v = sh.az(
                ws,
                &[
                    "keyvault",
                    "secret",
                    "restore",
                    "--vault-name",
                    &vault,
                    "--file",
                    &p.req("InputFile"),
                ],
            )?;
            Ok(ps_secret(&v, &vault))
        },
    },
    Cmdlet {
        name: "Update-AzKeyVaultSecret",
        params: "=Default ContentType @dp Enable:b Expires InputObject[InputObject=!0] Name|SecretName[Default=!1] NotBefore PassThru:s Tag|Tags VaultName[Default=!0] Version|SecretVersion[*=2] @wc",
        switches: &["PassThru"],
        mandatory: &["VaultName", "Name"],
        optional: &[
            "Version",
            "Enable",
            "ContentType",
            "Expires",
            "NotBefore",
            "Tag",
        ],
        run: |sh, ws, p| {
            let (vault, name) = (p.req("VaultName"), p.req("Name"));
            let mut words: Vec<String> = [
                "keyvault",
                "secret",
                "set-attributes",
                "--vault-name",
                &vault,
                "--name",
                &name,
            ]
            .map(String::from)
            .to_vec();
            for (param, flag) in [
                ("Version", "--version"),
                ("ContentType", "--content-type"),
                ("Expires", "--expires"),
                ("NotBefore", "--not-before"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            if let Some(on) = p.flag("Enable") {
                words.extend(["--enabled".into(), on.to_string()]);
            }
            p.push_tags("Tag", &mut words)?;
            let v = sh.az_words(ws, words)?;
            Ok(if p.switch("PassThru") {
                ps_secret(&v, &vault)
            } else {
                Value::Null
            })
        },
    },
    Cmdlet {
        name: "Get-AzSubscription",
        params: "=ListByIdInTenant AsJob:s @dp SubscriptionId[ListByIdInTenant] SubscriptionName[ListByNameInTenant] TenantId",
        switches: &[],
        mandatory: &[],
        optional: &["SubscriptionId", "SubscriptionName", "TenantId"],
        run: |sh, ws, p| {
            let v = sh.az(ws, &["account", "list"])?;
            let wanted = |field: &str, param: &str, sub: &Value| {
                p.get(param).is_none_or(|x| {
                    sub[field]
                        .as_str()
                        .is_some_and(|f| f.eq_ignore_ascii_case(&x))
                })
            };
            let subs: Vec<Value> = v
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|sub| {
                    wanted("id", "SubscriptionId", sub)
                        && wanted("name", "SubscriptionName", sub)
                        && wanted("tenantId", "TenantId", sub)
                })
                .map(|sub| {
                    json!({
                        "Name": sub["name"],
                        "Id": sub["id"],
                        "TenantId": sub["tenantId"],
                        "State": sub["state"],
                    })
                })
                .collect();
            // Az's error for a subscription it cannot find.
            if subs.is_empty()
                && let Some(x) = p
                    .get("SubscriptionId")
                    .or_else(|| p.get("SubscriptionName"))
            {
                let tenant = match p.get("TenantId") {
                    Some(t) => t,
                    None => scalar(&sh.az(ws, &["account", "show"])?["tenantId"]),
                };
                return Err(format!(
                    "Subscription {x} was not found in tenant {tenant}. Please verify that the subscription exists in this tenant."
                ));
            }
            Ok(Value::Array(subs))
        },
    },
    Cmdlet {
        name: "Get-AzSqlDatabase",
        params: "DatabaseName|Name[*=2] @dp ExpandKeyList:s KeysFilter ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &["ExpandKeyList"],
        mandatory: &["ServerName", "ResourceGroupName"],
        optional: &["DatabaseName", "KeysFilter"],
        run: |sh, ws, p| {
            let (g, s) = (p.req("ResourceGroupName"), p.req("ServerName"));
            // `-ExpandKeyList [-KeysFilter F]`: `az sql db show --expand-keys [--keys-filter
            // F]`, every key ever added to the database (or those in use at F), as `Keys`.
            let show = |sh: &mut Shell, ws: &mut Workspace, d: &str| {
                let mut words: Vec<String> = ["sql", "db", "show", "-g", &g, "-s", &s, "-n", d]
                    .map(String::from)
                    .to_vec();
                if p.switch("ExpandKeyList") {
                    words.push("--expand-keys".into());
                    if let Some(f) = p.get("KeysFilter") {
                        words.extend(["--keys-filter".into(), f]);
                    }
                }
                sh.az_words(ws, words)
            };
            match p.get("DatabaseName") {
                Some(d) => Ok(ps_database(&show(sh, ws, &d)?, &g, &s)),
                None if p.switch("ExpandKeyList") => {
                    let all = sh.az(ws, &["sql", "db", "list", "-g", &g, "-s", &s])?;
                    let mut out = Vec::new();
                    for name in all
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| scalar(&d["name"]))
                    {
                        out.push(ps_database(&show(sh, ws, &name)?, &g, &s));
                    }
                    Ok(Value::Array(out))
                }
                None => {
                    let v = sh.az(ws, &["sql", "db", "list", "-g", &g, "-s", &s])?;
                    Ok(map_items(&v, |d| ps_database(d, &g, &s)))
                }
            }
        },
    },
    Cmdlet {
        name: "New-AzSqlDatabaseCopy",
        params: "=DtuBasedDatabase AsJob:s AssignIdentity:s BackupStorageRedundancy ComputeGeneration|Family[VcoreBasedDatabase=!] CopyDatabaseName[*=!] CopyResourceGroupName CopyServerName DatabaseName[*=!2] @dp ElasticPoolName[DtuBasedDatabase] EncryptionProtector EncryptionProtectorAutoRotation:s FederatedClientId KeyList LicenseType ResourceGroupName[*=!0] ServerName[*=!1] ServiceObjectiveName[DtuBasedDatabase] Tags|Tag UserAssignedIdentityId VCore|Capacity[VcoreBasedDatabase=!] ZoneRedundant:s @wc",
        switches: &[
            "AssignIdentity",
            "ZoneRedundant",
            "EncryptionProtectorAutoRotation",
        ],
        mandatory: &[
            "ResourceGroupName",
            "ServerName",
            "DatabaseName",
            "CopyDatabaseName",
        ],
        optional: &[
            "CopyServerName",
            "CopyResourceGroupName",
            "ServiceObjectiveName",
            "ElasticPoolName",
            "ComputeGeneration",
            "VCore",
            "LicenseType",
            "BackupStorageRedundancy",
            "Tags",
            "UserAssignedIdentityId",
            "KeyList",
            "EncryptionProtector",
            "FederatedClientId",
        ],
        run: |sh, ws, p| {
            let (g, s, d) = database_of(p);
            let copy = p.req("CopyDatabaseName");
            let mut words: Vec<String> = [
                "sql",
                "db",
                "copy",
                "-g",
                &g,
                "-s",
                &s,
                "-n",
                &d,
                "--dest-name",
                &copy,
            ]
            .map(String::from)
            .to_vec();
            for (param, flag) in [
                ("CopyServerName", "--dest-server"),
                ("CopyResourceGroupName", "--dest-resource-group"),
                ("ServiceObjectiveName", "--service-objective"),
                ("ElasticPoolName", "--elastic-pool"),
                ("ComputeGeneration", "--family"),
                ("VCore", "--capacity"),
                ("LicenseType", "--license-type"),
                ("BackupStorageRedundancy", "--backup-storage-redundancy"),
                ("EncryptionProtector", "--encryption-protector"),
                ("FederatedClientId", "--federated-client-id"),
            ] {
                if let Some(v) = p.get(param) {
                    words.extend([flag.to_string(), v]);
                }
            }
            for (param, flag) in [
                ("AssignIdentity", "--assign-identity"),
                ("ZoneRedundant", "--zone-redundant"),
            ] {
                if p.switch(param) {
                    words.push(flag.into());
                }
            }
            if p.switch("EncryptionProtectorAutoRotation") {
                words.extend(["--encryption-protector-auto-rotation".into(), "true".into()]);
            }
            for (param, flag) in [
                ("UserAssignedIdentityId", "--user-assigned-identity-id"),
                ("KeyList", "--keys"),
            ] {
                let items = p.list(param);
                if !items.is_empty() {
                    words.push(flag.into());
                    words.extend(items);
                }
            }
            let v = sh.az_words(ws, words)?;
            let target_group = p.get("CopyResourceGroupName").unwrap_or_else(|| g.clone());
            let target_server = p.get("CopyServerName").unwrap_or_else(|| s.clone());
            // Az returns an AzureSqlDatabaseCopyModel: the source and the copy.
            Ok(json!({
                "ResourceGroupName": g,
                "ServerName": s,
                "DatabaseName": d,
                "Location": v["location"],
                "CopyResourceGroupName": target_group,
                "CopyServerName": target_server,
                "CopyDatabaseName": v["name"],
                "CopyLocation": v["location"],
                "ServiceLevelObjective": v["currentServiceObjectiveName"],
                "ElasticPoolName": v["elasticPoolName"],
                "LicenseType": v["licenseType"],
                "ResourceId": v["id"],
                "Identity": v["identity"],
                "EncryptionProtector": v["encryptionProtector"],
            }))
        },
    },
    Cmdlet {
        name: "Remove-AzSqlDatabase",
        params: "DatabaseName|Name[*=!2] @dp Force:s ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &["Force"],
        mandatory: &["DatabaseName", "ServerName", "ResourceGroupName"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s, d) = database_of(p);
            let before = sh.az(ws, &["sql", "db", "show", "-g", &g, "-s", &s, "-n", &d])?;
            sh.az(
                ws,
                &["sql", "db", "delete", "-g", &g, "-s", &s, "-n", &d, "--yes"],
            )?;
            // The cmdlet returns the database it removed.
            Ok(ps_database(&before, &g, &s))
        },
    },
    Cmdlet {
        name: "Suspend-AzSqlDatabase",
        params: "AsJob:s DatabaseName[*=!] @dp ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName"],
        optional: &[],
        run: |sh, ws, p| dw_pause_cmdlet(sh, ws, p, "pause"),
    },
    Cmdlet {
        name: "Resume-AzSqlDatabase",
        params: "AsJob:s DatabaseName[*=!] @dp ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &[],
        mandatory: &["ResourceGroupName", "ServerName", "DatabaseName"],
        optional: &[],
        run: |sh, ws, p| dw_pause_cmdlet(sh, ws, p, "resume"),
    },
    Cmdlet {
        name: "Invoke-AzSqlDatabaseTransparentDataEncryptionProtectorRevalidation",
        params: "AsJob:s DatabaseName|Name[*=!] @dp PassThru:s ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &["PassThru"],
        mandatory: &["DatabaseName", "ServerName", "ResourceGroupName"],
        optional: &[],
        run: |sh, ws, p| db_protector_cmdlet(sh, ws, p, "revalidate"),
    },
    Cmdlet {
        name: "Invoke-AzSqlDatabaseTransparentDataEncryptionProtectorRevert",
        params: "AsJob:s DatabaseName|Name[*=!] @dp PassThru:s ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &["PassThru"],
        mandatory: &["DatabaseName", "ServerName", "ResourceGroupName"],
        optional: &[],
        run: |sh, ws, p| db_protector_cmdlet(sh, ws, p, "revert"),
    },
    Cmdlet {
        name: "Get-AzSqlDatabaseTransparentDataEncryptionActivity",
        params: "DatabaseName[*=!2] @dp ResourceGroupName[*=!0] ServerName[*=!1] @wc",
        switches: &[],
        mandatory: &["ServerName", "DatabaseName", "ResourceGroupName"],
        optional: &[],
        run: |sh, ws, p| {
            let (g, s, d) = database_of(p);
            db_tde_show(sh, ws, &g, &s, &d)?;
            // A scan in this console completes as TDE is switched, so none is ever in
            // progress: the cmdlet's empty list (as `az sql db tde list-activity` shows).
            Ok(Value::Array(Vec::new()))
        },
    },
];

/// The cmdlet names, for help.
/// Each supported cmdlet with its parameter table (see [`Cmdlet`]'s `params`), for the test
/// that checks the table against Az's help files.
pub fn cmdlet_tables() -> impl Iterator<Item = (&'static str, &'static str)> {
    all_cmdlets().map(|c| (c.name, c.params))
}

pub fn cmdlet_names() -> impl Iterator<Item = &'static str> {
    all_cmdlets().map(|c| c.name)
}

/// Every cmdlet: the table above, then Az.Synapse's ([`synapse::CMDLETS`]) and
/// Az.Storage's ([`storage::CMDLETS`]).
fn all_cmdlets() -> impl Iterator<Item = &'static Cmdlet> {
    CMDLETS
        .iter()
        .chain(synapse::CMDLETS)
        .chain(storage::CMDLETS)
}

impl Shell {
    /// Runs an az command (without the leading `az`) and returns its JSON, or the error
    /// text without az's `ERROR: ` prefix.
    fn az(&mut self, ws: &mut Workspace, words: &[&str]) -> Result<Value, String> {
        self.az_words(ws, words.iter().map(|w| w.to_string()).collect())
    }

    fn az_words(&mut self, ws: &mut Workspace, words: Vec<String>) -> Result<Value, String> {
        let mut all = vec!["az".to_string()];
        all.extend(words);
        let before = ws.clone();
        let v = super::registry::run(ws, self.keys.as_ref(), &all).map_err(|e| {
            let text = e.to_string();
            text.strip_prefix("ERROR: ").unwrap_or(&text).to_string()
        })?;
        // A change (not a read, whose vault requests are only journaled) is kept as its az
        // line for the session's script.
        if changed_more_than_the_journal(&before, ws) {
            let line: Vec<String> = all.iter().map(|w| super::invocation::quoted(w)).collect();
            self.pwsh_changes.push(line.join(" "));
        }
        Ok(v)
    }

    /// Runs one PowerShell line. A line longer than bash mode's longest expanded line is
    /// refused before it is read.
    pub(super) fn run_pwsh_line(&mut self, ws: &mut Workspace, line: &str) -> LineOutput {
        if line.len() > MAX_EXPANDED_LINE {
            return LineOutput {
                stderr: format!("{}\n", too_long("The line")),
                ..Default::default()
            };
        }
        match self.pwsh_statement(ws, line.trim()) {
            Ok(Some(v)) => LineOutput {
                stdout: format_ps(&v),
                ok: true,
                ..Default::default()
            },
            Ok(None) => LineOutput {
                ok: true,
                ..Default::default()
            },
            Err(e) => LineOutput {
                stderr: format!("{e}\n"),
                ..Default::default()
            },
        }
    }

    /// A statement: `$x = expression`, or an expression whose value is printed.
    fn pwsh_statement(&mut self, ws: &mut Workspace, line: &str) -> Result<Option<Value>, String> {
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        if line.eq_ignore_ascii_case("help") || line.eq_ignore_ascii_case("Get-Help") {
            let mut names: Vec<&str> = cmdlet_names().collect();
            names.sort_unstable();
            return Ok(Some(Value::String(format!(
                "Az PowerShell cmdlets in this console (PowerShell syntax: -Name value, switches, a, b lists, $var = ..., $var.Property):\n  {}\nType 'bash' to go back to az.",
                names.join("\n  ")
            ))));
        }
        if let Some(rest) = line.strip_prefix('$')
            && let Some((name, expr)) = rest.split_once('=')
            && is_var_name(name.trim())
            && !expr.starts_with('=')
        {
            let name = name.trim();
            let v = self.pwsh_expression(ws, expr.trim())?;
            // A value too big or too deep is refused, and the variable keeps its old value.
            measure(&v).map_err(|e| format!("Cannot assign to ${name}: {e}"))?;
            self.ps_vars.insert(name.to_ascii_lowercase(), v);
            return Ok(None);
        }
        let v = self.pwsh_expression(ws, line)?;
        Ok((!v.is_null()).then_some(v))
    }

    /// An expression: a cmdlet call, `Write-Output …`, or values.
    fn pwsh_expression(&mut self, ws: &mut Workspace, text: &str) -> Result<Value, String> {
        let text = text.trim();
        if text.contains(" | ") || text.ends_with('|') {
            return Err("Pipelines are not supported in this console: assign to a variable and pass it on ($k = Get-…; Next-Cmdlet -Param $k.Id).".into());
        }
        let first = text.split_whitespace().next().unwrap_or_default();
        if first.contains('-')
            && first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
        {
            let rest = text[first.len()..].trim();
            let tokens = self.pwsh_tokens(ws, rest)?;
            if ["Write-Output", "Write-Host", "echo"]
                .iter()
                .any(|c| c.eq_ignore_ascii_case(first))
            {
                let values: Vec<String> = tokens
                    .iter()
                    .filter_map(|t| match t {
                        Token::Value(v) => Some(scalar(v)),
                        _ => None,
                    })
                    .collect();
                return Ok(Value::String(values.join(" ")));
            }
            if first.eq_ignore_ascii_case("New-Object") {
                return new_object(&tokens);
            }
            return self.pwsh_cmdlet(ws, first, tokens);
        }
        let tokens = self.pwsh_tokens(ws, text)?;
        collect_values(&tokens)
    }

    /// A `( … )` or `$( … )` inside a line. They nest as deep as bash mode's `$( … )`
    /// substitutions (the line itself is the first level).
    fn subexpression(&mut self, ws: &mut Workspace, text: &str) -> Result<Value, String> {
        if self.depth >= MAX_SUBSTITUTION_DEPTH {
            return Err(format!(
                "The expression is nested too deeply: ( ... ) and $( ... ) nest deeper than {MAX_SUBSTITUTION_DEPTH} levels."
            ));
        }
        self.depth += 1;
        let v = self.pwsh_expression(ws, text);
        self.depth -= 1;
        v
    }

    fn pwsh_cmdlet(
        &mut self,
        ws: &mut Workspace,
        name: &str,
        tokens: Vec<Token>,
    ) -> Result<Value, String> {
        let Some(c) = all_cmdlets().find(|c| c.name.eq_ignore_ascii_case(name)) else {
            // A cmdlet Az has renamed: today's Az does not know the old name either; the
            // console says which one took its place.
            let renamed = synapse::RENAMED
                .iter()
                .find(|(old, _, _)| old.eq_ignore_ascii_case(name))
                .map(|(_, new, when)| format!("\n({when} renamed {name} to {new}.)"))
                .unwrap_or_default();
            return Err(format!(
                "{name}: The term '{name}' is not recognized as a name of a cmdlet, function, script file, or executable program.\nCheck the spelling of the name, or if a path was included, verify that the path is correct and try again.{renamed}"
            ));
        };
        let err = |text: String| format!("{}: {text}", c.name);
        let az = az_params(c.params);
        // Az's parameters this console does not act on are bound and kept as Az binds them
        // (Az accepts them), and change nothing in the simulation.
        let mut params: Vec<(String, Value)> = Vec::new();
        let mut positional: Vec<Value> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Param(p) => {
                    let (given, inline) = match p.split_once(':') {
                        Some((a, b)) => (a.to_string(), Some(b.to_string())),
                        None => (p.clone(), None),
                    };
                    let param = &az[bind_name(&az, &given).map_err(err)?];
                    let name = param.name;
                    if params.iter().any(|(n, _)| n == name) {
                        return Err(err(format!(
                            "Cannot bind parameter because parameter '{name}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\"."
                        )));
                    }
                    i += 1;
                    // `-Name:value`: the value is in the same word (`-Name: value`: the next).
                    let inline_value = match inline.as_deref() {
                        Some(text) if !text.is_empty() => {
                            Some(collect_values(&self.pwsh_tokens(ws, text)?)?)
                        }
                        _ => None,
                    };
                    let v = match param.kind {
                        Kind::Switch => match (inline.as_deref(), inline_value) {
                            (_, Some(v)) => Value::Bool(to_bool(name, &v).map_err(err)?),
                            (Some(""), None) => match tokens.get(i) {
                                Some(Token::Value(v)) => {
                                    i += 1;
                                    Value::Bool(to_bool(name, v).map_err(err)?)
                                }
                                _ => Value::Bool(true),
                            },
                            _ => Value::Bool(true),
                        },
                        kind => {
                            let v = match inline_value {
                                Some(v) => v,
                                None => {
                                    // The value: one token, or a comma-separated list.
                                    let mut values = Vec::new();
                                    while let Some(Token::Value(v)) = tokens.get(i) {
                                        values.push(v.clone());
                                        if matches!(tokens.get(i + 1), Some(Token::Comma)) {
                                            i += 2;
                                        } else {
                                            i += 1;
                                            break;
                                        }
                                    }
                                    match values.len() {
                                        0 => {
                                            return Err(err(format!(
                                                "Missing an argument for parameter '{name}'. Specify a parameter of type '{}' and try again.",
                                                if kind == Kind::Bool {
                                                    "System.Boolean"
                                                } else {
                                                    "System.String"
                                                }
                                            )));
                                        }
                                        1 => values.remove(0),
                                        _ => Value::Array(values),
                                    }
                                }
                            };
                            if kind == Kind::Bool {
                                Value::Bool(to_bool(name, &v).map_err(err)?)
                            } else {
                                v
                            }
                        }
                    };
                    if IGNORED.contains(&name) {
                        continue;
                    }
                    params.push((name.to_string(), v));
                }
                Token::Value(v) => {
                    // A value without its parameter name (`a, b` is one array value):
                    // bound by position once every named one is known.
                    let mut items = vec![v.clone()];
                    i += 1;
                    while let (Some(Token::Comma), Some(Token::Value(next))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        items.push(next.clone());
                        i += 2;
                    }
                    positional.push(if items.len() == 1 {
                        items.remove(0)
                    } else {
                        Value::Array(items)
                    });
                }
                Token::Comma => i += 1,
            }
        }
        let named: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        let names = bind_positionals(c.params, &az, &named, &positional).map_err(err)?;
        for (name, v) in names.into_iter().zip(positional) {
            let Some(param) = az.iter().find(|p| p.name == name) else {
                continue;
            };
            let v = if param.kind == Kind::Bool {
                Value::Bool(to_bool(name, &v).map_err(err)?)
            } else {
                v
            };
            if IGNORED.contains(&name) {
                continue;
            }
            params.push((name.to_string(), v));
        }
        // Parameters of two parameter sets that exclude each other (`-ListAvailable -Name`):
        // PowerShell cannot pick a set and runs nothing.
        let sets = parameter_sets(c.params, &az);
        let fits = |set: &str| {
            params.iter().all(|(n, _)| {
                az.iter()
                    .find(|p| p.name == n.as_str())
                    .is_none_or(|p| p.in_set(set))
            })
        };
        if !sets.iter().any(|set| fits(set)) {
            return Err(err(
                "Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.".into(),
            ));
        }
        // A mandatory parameter does not take `$null` or `''` (an unset or misspelt variable):
        // PowerShell refuses the binding before the cmdlet runs.
        for (name, v) in &params {
            let mandatory = az
                .iter()
                .find(|p| p.name == name)
                .is_some_and(|p| p.kind == Kind::Value && p.sets.iter().any(|m| m.mandatory));
            let why = match v {
                Value::Null => "null",
                Value::String(s) if s.is_empty() => "an empty string",
                _ => continue,
            };
            if mandatory {
                return Err(err(format!(
                    "Cannot bind argument to parameter '{name}' because it is {why}."
                )));
            }
        }
        let missing: Vec<&str> = c
            .mandatory
            .iter()
            .filter(|m| !params.iter().any(|(n, _)| n.eq_ignore_ascii_case(m)))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(err(format!(
                "Cannot process command because of one or more missing mandatory parameters: {}.",
                missing.join(" ")
            )));
        }
        let params = Params(params);
        // `-WhatIf`: PowerShell's ShouldProcess reports the operation and runs nothing.
        if params.switch("WhatIf") {
            let target: Vec<String> = c.mandatory.iter().filter_map(|m| params.get(m)).collect();
            return Ok(Value::String(format!(
                "What if: Performing the operation \"{}\" on target \"{}\".",
                c.name,
                if target.is_empty() {
                    c.name.to_string()
                } else {
                    target.join("/")
                }
            )));
        }
        (c.run)(self, ws, &params).map_err(err)
    }

    /// Splits the arguments of a line into parameters, values and commas, evaluating
    /// variables, strings and `( … )` subexpressions.
    fn pwsh_tokens(&mut self, ws: &mut Workspace, text: &str) -> Result<Vec<Token>, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        // The size of the values so far: variables that double would otherwise fill the
        // memory (`$x, $x, $x, …`).
        let mut total = 0usize;
        let mut push = |out: &mut Vec<Token>, v: Value| -> Result<(), String> {
            total += measure(&v)?;
            if total > MAX_EXPANDED_LINE {
                return Err(too_long("The line's values"));
            }
            out.push(Token::Value(v));
            Ok(())
        };
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            if c == '#' {
                break;
            }
            if c == ')' {
                return Err(unexpected(')'));
            }
            if c == ',' {
                out.push(Token::Comma);
                i += 1;
                continue;
            }
            if c == '-' && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic()) {
                let end = word_end(&chars, i);
                out.push(Token::Param(chars[i + 1..end].iter().collect()));
                i = end;
                continue;
            }
            if c == '\'' {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err("The string is missing the terminator: '.".into()),
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            s.push('\'');
                            j += 2;
                        }
                        Some('\'') => break,
                        Some(x) => {
                            s.push(*x);
                            j += 1;
                        }
                    }
                }
                push(&mut out, Value::String(s))?;
                i = j + 1;
                continue;
            }
            if c == '"' {
                let mut j = i + 1;
                let mut raw = String::new();
                loop {
                    match chars.get(j) {
                        None => return Err("The string is missing the terminator: \".".into()),
                        Some('`') if j + 1 < chars.len() => {
                            raw.push('`');
                            raw.push(chars[j + 1]);
                            j += 2;
                        }
                        Some('"') => break,
                        Some(x) => {
                            raw.push(*x);
                            j += 1;
                        }
                    }
                }
                let s = self.expand_string(ws, &raw)?;
                push(&mut out, Value::String(s))?;
                i = j + 1;
                continue;
            }
            if c == '(' {
                let end = closing(&chars, i).ok_or("Missing closing ')' in expression.")?;
                let inner: String = chars[i + 1..end].iter().collect();
                let mut v = self.subexpression(ws, &inner)?;
                i = end + 1;
                let (path, next) = property_path(&chars, i);
                v = navigate(&v, &path);
                i = next;
                push(&mut out, v)?;
                continue;
            }
            if c == '@' && chars.get(i + 1) == Some(&'{') {
                // `@{ Key = value; … }`: a hashtable (its entries may span lines: a
                // script's reader joins them with `;`).
                let end =
                    matching(&chars, i + 1, '{', '}').ok_or("The hash literal was incomplete.")?;
                let inner: String = chars[i + 2..end].iter().collect();
                let v = self.hashtable(ws, &inner)?;
                let (path, next) = property_path(&chars, end + 1);
                push(&mut out, navigate(&v, &path))?;
                i = next;
                continue;
            }
            if c == '@'
                && chars
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            {
                // `@Params`: splatting. A hashtable's entries are `-Key value`s, an
                // array's items positional values; `$null` gives nothing.
                let end = word_end(&chars, i + 1);
                let name: String = chars[i + 1..end].iter().collect();
                match self.ps_variable(&name) {
                    Value::Object(m) => {
                        for (k, v) in m {
                            out.push(Token::Param(format!("{k}:")));
                            push(&mut out, v)?;
                        }
                    }
                    Value::Array(items) => {
                        for v in items {
                            push(&mut out, v)?;
                        }
                    }
                    Value::Null => {}
                    v => push(&mut out, v)?,
                }
                i = end;
                continue;
            }
            if c == '$' {
                let end = word_end(&chars, i + 1);
                let name: String = chars[i + 1..end].iter().collect();
                let (path, next) = property_path(&chars, end);
                let v = self.ps_variable(&name);
                push(&mut out, navigate(&v, &path))?;
                i = next;
                continue;
            }
            let end = word_end(&chars, i);
            if end <= i {
                // Every character above is read by some branch; should one be missed, the
                // line fails rather than loop without end.
                return Err(unexpected(c));
            }
            let word: String = chars[i..end].iter().collect();
            push(&mut out, Value::String(word))?;
            i = end;
        }
        Ok(out)
    }

    /// The entries of a `@{ … }` hashtable: `Key = value` (a key may be quoted), separated by
    /// `;` or line ends; each value is an expression. PowerShell's parser errors for a
    /// missing `=`, a missing value and a key given twice (keys are case-blind).
    fn hashtable(&mut self, ws: &mut Workspace, body: &str) -> Result<Value, String> {
        let mut map = Map::new();
        for entry in split_top_level(body) {
            let entry = entry.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let chars: Vec<char> = entry.chars().collect();
            let Some(eq) = find_top_level(&chars, '=') else {
                return Err("Missing '=' operator after key in hash literal.".into());
            };
            let key: String = chars[..eq].iter().collect();
            let key = key.trim().trim_matches(['\'', '"']).to_string();
            if key.is_empty() {
                return Err("Missing key before '=' in hash literal.".into());
            }
            let text: String = chars[eq + 1..].iter().collect();
            if text.trim().is_empty() {
                return Err("Missing statement after '=' in hash literal.".into());
            }
            let v = self.subexpression(ws, text.trim())?;
            if map.keys().any(|k| k.eq_ignore_ascii_case(&key)) {
                return Err(format!(
                    "Duplicate keys '{key}' are not allowed in hash literals."
                ));
            }
            map.insert(key, v);
        }
        Ok(Value::Object(map))
    }

    /// `$true`, `$false`, `$null`, or a variable (unset: `$null`, as PowerShell).
    fn ps_variable(&self, name: &str) -> Value {
        match name.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n => self.ps_vars.get(n).cloned().unwrap_or(Value::Null),
        }
    }

    /// A double-quoted string: `$var`, `$($expr)` and backtick escapes.
    fn expand_string(&mut self, ws: &mut Workspace, raw: &str) -> Result<String, String> {
        let chars: Vec<char> = raw.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '`' if i + 1 < chars.len() => {
                    out.push(match chars[i + 1] {
                        'n' => '\n',
                        't' => '\t',
                        x => x,
                    });
                    i += 2;
                }
                '$' if chars.get(i + 1) == Some(&'(') => {
                    let end =
                        closing(&chars, i + 1).ok_or("Missing closing ')' in subexpression.")?;
                    let inner: String = chars[i + 2..end].iter().collect();
                    out.push_str(&scalar(&self.subexpression(ws, &inner)?));
                    i = end + 1;
                }
                '$' if chars
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') =>
                {
                    let mut j = i + 1;
                    while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                        j += 1;
                    }
                    let name: String = chars[i + 1..j].iter().collect();
                    out.push_str(&scalar(&self.ps_variable(&name)));
                    i = j;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
            // `"$x$x"` doubles a variable each time it is assigned back.
            if out.len() > MAX_EXPANDED_LINE {
                return Err(too_long("The string"));
            }
        }
        Ok(out)
    }
}

/// PowerShell's parser error for a token that cannot stand where it is.
fn unexpected(token: char) -> String {
    format!("Unexpected token '{token}' in expression or statement.")
}

/// The error for a line, string or value past bash mode's longest expanded line.
fn too_long(what: &str) -> String {
    format!("{what} would be longer than {MAX_EXPANDED_LINE} characters.")
}

/// The size of a value, counted as its text (as [`scalar`] prints it: each array item and
/// object property also counts its separator), refused once it passes [`MAX_EXPANDED_LINE`]
/// or nests more than [`MAX_SUBSTITUTION_DEPTH`] arrays and objects.
fn measure(v: &Value) -> Result<usize, String> {
    fn walk(v: &Value, level: usize, total: &mut usize) -> Result<(), String> {
        if matches!(v, Value::Array(_) | Value::Object(_)) && level >= MAX_SUBSTITUTION_DEPTH {
            return Err(format!(
                "The value is nested too deeply: arrays and objects nest deeper than {MAX_SUBSTITUTION_DEPTH} levels."
            ));
        }
        let own = match v {
            Value::Null => 0,
            Value::Bool(_) => 5,
            Value::Number(n) => n.to_string().len(),
            Value::String(s) => s.len(),
            Value::Array(items) => {
                for x in items {
                    walk(x, level + 1, total)?;
                }
                items.len()
            }
            Value::Object(m) => {
                for (k, x) in m {
                    *total += k.len();
                    walk(x, level + 1, total)?;
                }
                3 * m.len() + 3
            }
        };
        *total += own;
        if *total > MAX_EXPANDED_LINE {
            return Err(too_long("The value"));
        }
        Ok(())
    }
    let mut total = 0;
    walk(v, 0, &mut total)?;
    Ok(total)
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where a bare word, parameter name or variable name ends.
fn word_end(chars: &[char], from: usize) -> usize {
    let mut j = from;
    while j < chars.len() && !chars[j].is_whitespace() && !",()'\"#".contains(chars[j]) {
        if chars[j] == '.' && j > from && chars[from] != '-' && !chars[from].is_ascii_digit() {
            // `$x.Prop`: the property path is read separately.
            if from > 0 && chars[from - 1] == '$' {
                break;
            }
        }
        j += 1;
    }
    j
}

/// `.A.B` after a value: the property names, and where they end.
fn property_path(chars: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut path = Vec::new();
    while chars.get(i) == Some(&'.')
        && chars
            .get(i + 1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
    {
        let mut j = i + 1;
        while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
            j += 1;
        }
        path.push(chars[i + 1..j].iter().collect());
        i = j;
    }
    (path, i)
}

/// The `)` that closes the `(` at `open`, outside quotes.
fn closing(chars: &[char], open: usize) -> Option<usize> {
    matching(chars, open, '(', ')')
}

/// The `close` that closes the `open` at `at`, outside quotes.
fn matching(chars: &[char], at: usize, open: char, close: char) -> Option<usize> {
    if chars.get(at) != Some(&open) {
        return None;
    }
    unquoted(&chars[at..])
        .skip(1)
        .find(|&(_, c, depth)| depth == 0 && c == close)
        .map(|(j, _, _)| at + j)
}

/// The characters of PowerShell text that stand outside quotes, each with its position and
/// the depth of `(`, `{` and `[` around it (a bracket itself counts at its outer depth):
/// the one scanner behind finding, splitting and continuing lines.
fn unquoted(chars: &[char]) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    chars
        .iter()
        .enumerate()
        .filter_map(move |(j, &c)| match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                None
            }
            (Some(_), _) => None,
            (None, '\'' | '"') => {
                quote = Some(c);
                None
            }
            (None, '(' | '{' | '[') => {
                depth += 1;
                Some((j, c, depth - 1))
            }
            (None, ')' | '}' | ']') => {
                depth = depth.saturating_sub(1);
                Some((j, c, depth))
            }
            (None, c) => Some((j, c, depth)),
        })
}

/// How deep `text` leaves its brackets open (outside quotes and a `#` comment): a script's
/// reader joins the next line to a statement whose hashtable or parentheses are open.
pub(super) fn open_brackets(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut open = 0;
    for (_, c, depth) in unquoted(&chars) {
        if c == '#' {
            break;
        }
        open = if matches!(c, '(' | '{' | '[') {
            depth + 1
        } else {
            depth
        };
    }
    open
}

/// Where `want` first stands outside quotes and brackets.
fn find_top_level(chars: &[char], want: char) -> Option<usize> {
    unquoted(chars)
        .find(|&(_, c, depth)| depth == 0 && c == want)
        .map(|(j, _, _)| j)
}

/// A hashtable's body split at its `;`s and line ends outside quotes and brackets.
fn split_top_level(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for (j, _, _) in unquoted(&chars).filter(|&(_, c, depth)| depth == 0 && matches!(c, ';' | '\n'))
    {
        parts.push(chars[start..j].iter().collect());
        start = j + 1;
    }
    parts.push(chars[start..].iter().collect());
    parts
}

/// A property path, case-insensitively, as PowerShell resolves member access (over an
/// array it takes the member of each item).
fn navigate(v: &Value, path: &[String]) -> Value {
    let mut cur = v.clone();
    for p in path {
        cur = match &cur {
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(p))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|x| navigate(x, std::slice::from_ref(p)))
                    .collect(),
            ),
            _ => Value::Null,
        };
    }
    cur
}

/// A line of plain values (`$a`, `'x', 'y'`): one value, or an array.
fn collect_values(tokens: &[Token]) -> Result<Value, String> {
    let mut values = Vec::new();
    for t in tokens {
        match t {
            Token::Value(v) => values.push(v.clone()),
            Token::Comma => {}
            Token::Param(p) => {
                return Err(format!(
                    "Unexpected token '-{p}' in expression or statement."
                ));
            }
        }
    }
    Ok(match values.len() {
        0 => Value::Null,
        1 => values.remove(0),
        _ => Value::Array(values),
    })
}

fn map_items(v: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(f).collect()),
        other => f(other),
    }
}

/// An ISO time as PowerShell prints a DateTime (en-US): `1/3/2026 9:00:00 AM`.
fn ps_date(v: &Value) -> Value {
    let Some(t) = v.as_str().and_then(Timestamp::parse) else {
        return Value::Null;
    };
    let iso = t.to_iso();
    let (date, time) = iso.split_once('T').unwrap_or((&iso, "00:00:00"));
    let mut d = date.split('-').map(|x| x.parse::<u32>().unwrap_or(0));
    let (y, mo, da) = (
        d.next().unwrap_or(0),
        d.next().unwrap_or(0),
        d.next().unwrap_or(0),
    );
    let hms: Vec<u32> = time
        .get(..8)
        .unwrap_or("00:00:00")
        .split(':')
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let (h, mi, s) = (
        hms[0],
        hms.get(1).copied().unwrap_or(0),
        hms.get(2).copied().unwrap_or(0),
    );
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    Value::String(format!("{mo}/{da}/{y} {h12}:{mi:02}:{s:02} {ampm}"))
}

/// `New-/Set-AzSqlDatabase` with a database-level key and identity, as `az sql db
/// create|update`.
/// The database a cmdlet names: resource group, server, database.
fn database_of(p: &Params) -> (String, String, String) {
    (
        p.req("ResourceGroupName"),
        p.req("ServerName"),
        p.req("DatabaseName"),
    )
}

/// `az sql db tde show` for a database.
fn db_tde_show(
    sh: &mut Shell,
    ws: &mut Workspace,
    g: &str,
    s: &str,
    d: &str,
) -> Result<Value, String> {
    sh.az(
        ws,
        &[
            "sql",
            "db",
            "tde",
            "show",
            "--database",
            d,
            "--server",
            s,
            "-g",
            g,
        ],
    )
}

fn db_cmdlet(sh: &mut Shell, ws: &mut Workspace, p: &Params, verb: &str) -> Result<Value, String> {
    let (g, s, d) = database_of(p);
    // `-Edition DataWarehouse`: a dedicated SQL pool, as `az sql dw create`.
    let pool = verb == "create"
        && p.get("Edition")
            .is_some_and(|e| e.eq_ignore_ascii_case("DataWarehouse"));
    let group = if pool { "dw" } else { "db" };
    let mut words: Vec<String> = ["sql", group, verb, "-g", &g, "-s", &s, "-n", &d]
        .map(String::from)
        .to_vec();
    if let Some(so) = p.get("RequestedServiceObjectiveName") {
        words.extend(["--service-objective".into(), so]);
    }
    if let Some(c) = p.get("CollationName") {
        words.extend(["--collation".into(), c]);
    }
    if let Some(b) = p.get("MaxSizeBytes") {
        words.extend(["--max-size".into(), b]);
    }
    if p.switch("AssignIdentity") {
        words.push("--assign-identity".into());
    }
    if let Some(id) = p.list("UserAssignedIdentityId").into_iter().next() {
        words.extend(["--user-assigned-identity-id".into(), id]);
    }
    let keys = p.list("KeyList");
    if !keys.is_empty() {
        words.push("--keys".into());
        words.extend(keys);
    }
    if let Some(k) = p.get("EncryptionProtector") {
        words.extend(["--encryption-protector".into(), k]);
    }
    if let Some(e) = p.get("Edition").filter(|_| !pool) {
        words.extend(["--edition".into(), e]);
    }
    let v = sh.az_words(ws, words)?;
    Ok(json!({
        "ResourceGroupName": g,
        "ServerName": s,
        "DatabaseName": v["name"],
        "Location": v["location"],
        "Edition": v["edition"],
        "Status": v["status"],
        "EncryptionProtector": v["encryptionProtector"],
        "Identity": v["identity"],
        "ResourceId": v["id"],
    }))
}

/// `Suspend-AzSqlDatabase` / `Resume-AzSqlDatabase`, as `az sql dw pause|resume`: the
/// database (dedicated SQL pool) as it is afterwards.
fn dw_pause_cmdlet(
    sh: &mut Shell,
    ws: &mut Workspace,
    p: &Params,
    verb: &str,
) -> Result<Value, String> {
    let (g, s, d) = database_of(p);
    sh.az(ws, &["sql", "dw", verb, "-g", &g, "-s", &s, "-n", &d])?;
    let v = sh.az(ws, &["sql", "dw", "show", "-g", &g, "-s", &s, "-n", &d])?;
    Ok(ps_database(&v, &g, &s))
}

/// `Invoke-AzSqlDatabaseTransparentDataEncryptionProtectorRevalidation|Revert`, as `az sql
/// db tde key revalidate|revert`: no output unless `-PassThru`, then the database.
fn db_protector_cmdlet(
    sh: &mut Shell,
    ws: &mut Workspace,
    p: &Params,
    verb: &str,
) -> Result<Value, String> {
    let (g, s, d) = database_of(p);
    let v = sh.az(
        ws,
        &[
            "sql",
            "db",
            "tde",
            "key",
            verb,
            "--database",
            &d,
            "--server",
            &s,
            "-g",
            &g,
        ],
    )?;
    Ok(if p.switch("PassThru") {
        ps_database(&v, &g, &s)
    } else {
        Value::Null
    })
}

/// A database as `Get-AzSqlDatabase` prints it (AzureSqlDatabaseModel's properties).
/// `PSAzureContext` for subscription `sub` (an `az account list` item) of the signed-in
/// account (`az account show`'s `user`): its Account, Subscription and Tenant print their
/// ids, as .NET's do, and carry the properties scripts read (`.Subscription.Id`, `.Tenant.Id`).
fn ps_context(sub: &Value, signed_in: &Value) -> Value {
    let (id, name, tenant) = (
        scalar(&sub["id"]),
        scalar(&sub["name"]),
        scalar(&sub["tenantId"]),
    );
    let account = scalar(&signed_in["user"]["name"]);
    let kind = match signed_in["user"]["type"].as_str() {
        Some("servicePrincipal") => "ServicePrincipal",
        _ => "User",
    };
    json!({
        "Name": format!("{name} ({id}) - {tenant} - {account}"),
        "Account": {TO_STRING: account, "Id": account, "Type": kind, "Tenants": [tenant]},
        "Environment": {TO_STRING: "AzureCloud", "Name": "AzureCloud"},
        "Subscription": {
            TO_STRING: id, "Id": id, "Name": name, "State": sub["state"], "TenantId": tenant,
        },
        "Tenant": {TO_STRING: tenant, "Id": tenant},
        "TokenCache": Value::Null,
        "VersionProfile": Value::Null,
        "ExtendedProperties": {},
    })
}

fn ps_database(v: &Value, group: &str, server: &str) -> Value {
    json!({
        "ResourceGroupName": group,
        "ServerName": server,
        "DatabaseName": v["name"],
        "Location": v["location"],
        "Edition": v["edition"],
        "CollationName": v["collation"],
        "CatalogCollation": v["catalogCollation"],
        "MaxSizeBytes": v["maxSizeBytes"],
        "Status": v["status"],
        "CreationDate": ps_date(&v["creationDate"]),
        "CurrentServiceObjectiveName": v["currentServiceObjectiveName"],
        "EarliestRestoreDate": ps_date(&v["earliestRestoreDate"]),
        "ResourceId": v["id"],
        "Identity": v["identity"],
        "EncryptionProtector": v["encryptionProtector"],
        "EncryptionProtectorAutoRotation": v["encryptionProtectorAutoRotation"],
        "Keys": v.get("keys").cloned().unwrap_or(Value::Null),
    })
}

fn ps_identity(v: &Value) -> Value {
    json!({
        "ResourceGroupName": v["resourceGroup"],
        "Name": v["name"],
        "Location": v["location"],
        "Id": v["id"],
        "PrincipalId": v["principalId"],
        "ClientId": v["clientId"],
        "TenantId": v["tenantId"],
        "Type": v["type"],
    })
}

fn ps_server(v: &Value) -> Value {
    let identity = match &v["identity"] {
        Value::Null => Value::Null,
        i => json!({
            "PrincipalId": i["principalId"],
            "Type": i["type"],
            "TenantId": i["tenantId"],
            "UserAssignedIdentities": i["userAssignedIdentities"],
        }),
    };
    json!({
        "ResourceGroupName": v["resourceGroup"],
        "ServerName": v["name"],
        "Location": v["location"],
        "SqlAdministratorLogin": v["administratorLogin"],
        "SqlAdministratorPassword": null,
        "ServerVersion": v["version"],
        "Tags": v["tags"],
        "Identity": identity,
        "FullyQualifiedDomainName": v["fullyQualifiedDomainName"],
        "ResourceId": v["id"],
        "PrimaryUserAssignedIdentityId": v["primaryUserAssignedIdentityId"],
        "KeyId": v["keyId"],
    })
}

fn ps_server_key(v: &Value, group: &str, server: &str, server_prop: &str) -> Value {
    let mut m = Map::new();
    m.insert("ResourceGroupName".into(), json!(group));
    m.insert(server_prop.into(), json!(server));
    m.insert("ServerKeyName".into(), v["name"].clone());
    m.insert("Type".into(), v["serverKeyType"].clone());
    m.insert("Uri".into(), v["uri"].clone());
    m.insert("Thumbprint".into(), v["thumbprint"].clone());
    m.insert("CreationDate".into(), ps_date(&v["creationDate"]));
    Value::Object(m)
}

fn ps_protector(v: &Value, group: &str, server: &str) -> Value {
    json!({
        "ResourceGroupName": group,
        "ServerName": server,
        "Type": v["serverKeyType"],
        "ServerKeyVaultKeyName": v["serverKeyName"],
        "KeyId": v["uri"],
        "AutoRotationEnabled": v["autoRotationEnabled"],
    })
}

fn ps_instance_protector(v: &Value, group: &str, instance: &str) -> Value {
    json!({
        "ResourceGroupName": group,
        "ManagedInstanceName": instance,
        "Type": v["serverKeyType"],
        "ManagedInstanceKeyVaultKeyName": v["serverKeyName"],
        "KeyId": v["uri"],
        "AutoRotationEnabled": v["autoRotationEnabled"],
    })
}

fn ps_db_tde(v: &Value, group: &str, server: &str, db: &str) -> Value {
    json!({
        "ResourceGroupName": group,
        "ServerName": server,
        "DatabaseName": db,
        "State": v["state"],
    })
}

fn ps_key(v: &Value, vault: &str) -> Value {
    let kid = v["key"]["kid"]
        .as_str()
        .or_else(|| v["kid"].as_str())
        .unwrap_or_default()
        .to_string();
    let parts: Vec<&str> = kid.trim_end_matches('/').split('/').collect();
    let (name, version) = match parts.iter().position(|p| *p == "keys") {
        Some(i) => (
            parts.get(i + 1).copied().unwrap_or_default(),
            parts.get(i + 2).copied().unwrap_or_default(),
        ),
        None => ("", ""),
    };
    let a = &v["attributes"];
    json!({
        "VaultName": vault,
        "Name": name,
        "Version": version,
        "Id": kid,
        "Enabled": a["enabled"],
        "Expires": ps_date(&a["expires"]),
        "NotBefore": ps_date(&a["notBefore"]),
        "Created": ps_date(&a["created"]),
        "Updated": ps_date(&a["updated"]),
        "RecoveryLevel": a["recoveryLevel"],
        "Tags": v["tags"],
    })
}

/// A PSKeyVaultSecret as the secret cmdlets list it, from az's secret (or deleted secret).
fn ps_secret(v: &Value, vault: &str) -> Value {
    let id = v["id"]
        .as_str()
        .or_else(|| v["recoveryId"].as_str())
        .unwrap_or_default()
        .to_string();
    let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    let (name, version) = match parts.iter().position(|p| *p == "secrets") {
        Some(i) => (
            parts.get(i + 1).copied().unwrap_or_default(),
            parts.get(i + 2).copied().unwrap_or_default(),
        ),
        None => ("", ""),
    };
    let a = &v["attributes"];
    let mut out = json!({
        "VaultName": vault,
        "Name": v["name"].as_str().unwrap_or(name),
        "Version": version,
        "Id": id,
        "Enabled": a["enabled"],
        "Expires": ps_date(&a["expires"]),
        "NotBefore": ps_date(&a["notBefore"]),
        "Created": ps_date(&a["created"]),
        "Updated": ps_date(&a["updated"]),
        "ContentType": v["contentType"],
        "Tags": v["tags"],
    });
    if v.get("deletedDate").is_some() {
        out["DeletedDate"] = ps_date(&v["deletedDate"]);
        out["ScheduledPurgeDate"] = ps_date(&v["scheduledPurgeDate"]);
    }
    out
}

/// The text of a SecureString parameter (`ConvertTo-SecureString 'text' -AsPlainText
/// -Force`): a plain string does not bind, as in PowerShell.
fn secure_string(p: &Params, param: &str) -> Result<String, String> {
    let v =
        p.0.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(param))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    match v["SecureString"].as_str() {
        Some(text) => Ok(text.to_string()),
        None => Err(format!(
            "Cannot bind parameter '{param}'. Cannot convert the \"{}\" value of type \"System.String\" to type \"System.Security.SecureString\".",
            scalar(&v)
        )),
    }
}

/// The order the Az cmdlets' objects list their properties in (one list serves them all:
/// no two of them order a shared pair differently).
const PROPERTY_ORDER: &[&str] = &[
    "ResourceGroupName",
    "ServerName",
    "ManagedInstanceName",
    "DisplayName",
    "AppId",
    "SubscriptionName",
    "Account",
    "DatabaseName",
    "VaultName",
    "Name",
    "Version",
    "Id",
    "DeletedDate",
    "ScheduledPurgeDate",
    "ServerKeyName",
    "Type",
    "ServerKeyVaultKeyName",
    "ManagedInstanceKeyVaultKeyName",
    "KeyId",
    "Uri",
    "Thumbprint",
    "CreationDate",
    "AutoRotationEnabled",
    "State",
    "Status",
    "EncryptionProtector",
    "PrincipalId",
    "ClientId",
    "TenantId",
    "Enabled",
    "Expires",
    "NotBefore",
    "Created",
    "Updated",
    "RecoveryLevel",
    "Location",
    "Edition",
    "CollationName",
    "CatalogCollation",
    "MaxSizeBytes",
    "CurrentServiceObjectiveName",
    "EarliestRestoreDate",
    "SqlAdministratorLogin",
    "SqlAdministratorPassword",
    "ServerVersion",
    "ContentType",
    "Tags",
    "Identity",
    "FullyQualifiedDomainName",
    "ResourceId",
    "PrimaryUserAssignedIdentityId",
    "VaultUri",
    "EnableSoftDelete",
    "EnablePurgeProtection",
    "ProvisioningState",
];

/// PowerShell's default view of a value: objects as `Name : value` lists (one blank line
/// around each), strings and numbers as they are.
pub fn format_ps(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(format_ps).collect(),
        Value::Object(m) => {
            let width = m
                .keys()
                .filter(|k| *k != TO_STRING)
                .map(|k| k.len())
                .max()
                .unwrap_or(0);
            let mut keys: Vec<&String> = m.keys().filter(|k| *k != TO_STRING).collect();
            // The cmdlets' own property order (JSON objects here are sorted by name).
            keys.sort_by_key(|k| {
                PROPERTY_ORDER
                    .iter()
                    .position(|p| p == k)
                    .unwrap_or(PROPERTY_ORDER.len())
            });
            let mut out = String::from("\n");
            for k in keys {
                out.push_str(&format!("{k:width$} : {}\n", scalar(&m[k])));
            }
            out.push('\n');
            out
        }
        other => format!("{}\n", scalar(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_scanner_finds_splits_and_continues_outside_quotes_and_brackets() {
        let chars = |t: &str| t.chars().collect::<Vec<char>>();
        // Quotes hide brackets and separators; nested brackets of every kind count.
        assert_eq!(open_brackets("$t = @{ Name = '(x'"), 1);
        assert_eq!(open_brackets("$a = (Get-X -P @{ K = [int]1 })"), 0);
        assert_eq!(open_brackets("$a = @( # (((("), 1);
        assert_eq!(open_brackets("$a = $b[0"), 1);
        assert_eq!(
            split_top_level("A = 'x;y'; B = @{ C = 1; D = 2 }\nE = (1;2)"),
            vec!["A = 'x;y'", " B = @{ C = 1; D = 2 }", "E = (1;2)"]
        );
        let text = chars("K = \"=\" ");
        assert_eq!(find_top_level(&text, '='), Some(2));
        assert_eq!(find_top_level(&chars("(a = 1)"), '='), None);
        let text = chars("f(')' + (g(1)), 2) tail");
        assert_eq!(closing(&text, 1), Some(17));
        assert_eq!(matching(&text, 0, '(', ')'), None, "no bracket at 0");
        assert_eq!(closing(&chars("f(1"), 1), None);
    }

    #[test]
    fn measure_counts_at_least_what_scalar_prints() {
        for v in [
            json!(null),
            json!(true),
            json!(12345),
            json!("text"),
            json!(["a", "b", ["c", "d"]]),
            json!({"A": 1, "B": {"C": "x"}}),
            json!([{"A": [1, 2]}, "y"]),
        ] {
            let size = measure(&v).expect("small");
            assert!(size >= scalar(&v).len(), "{v}: {size}");
        }
    }

    #[test]
    fn measure_refuses_deep_or_big_values() {
        let mut v = json!("x");
        for _ in 0..MAX_SUBSTITUTION_DEPTH {
            v = Value::Array(vec![v]);
        }
        assert!(measure(&v).is_ok());
        let deeper = Value::Array(vec![v]);
        assert!(measure(&deeper).is_err_and(|e| e.contains("nested too deeply")));
        let big = Value::String("x".repeat(MAX_EXPANDED_LINE + 1));
        assert!(measure(&big).is_err_and(|e| e.contains("longer than")));
        let halves = Value::Array(vec![json!("x".repeat(MAX_EXPANDED_LINE / 2)); 2]);
        assert!(measure(&halves).is_err(), "separators count too");
    }

    #[test]
    fn every_character_is_read_or_refused() {
        // word_end moves past anything the tokenizer's other branches leave to it.
        for c in (0u8..128).map(char::from) {
            let chars = [c, 'x'];
            let handled = c.is_whitespace() || ",()'\"#".contains(c);
            assert!(handled || word_end(&chars, 0) > 0, "{c:?}");
        }
    }

    /// Every parameter a cmdlet acts on is one of Az's for it, under Az's own name, with
    /// Az's kind (a switch in `switches`, a value or Boolean elsewhere); no name or alias is
    /// listed twice.
    #[test]
    fn the_parameters_acted_on_are_azs() {
        let mut wrong = Vec::new();
        for c in all_cmdlets() {
            let az = az_params(c.params);
            for name in c.switches.iter().chain(c.mandatory).chain(c.optional) {
                match az.iter().find(|p| p.name == *name) {
                    None => wrong.push(format!("{}: -{name} is not in Az's table", c.name)),
                    Some(p) if (p.kind == Kind::Switch) != c.switches.contains(name) => {
                        wrong.push(format!("{}: -{name} is a {:?} in Az", c.name, p.kind))
                    }
                    Some(_) => {}
                }
            }
            let mut seen = std::collections::HashSet::new();
            for n in az.iter().flat_map(|p| p.names()) {
                if !seen.insert(n.to_ascii_lowercase()) {
                    wrong.push(format!("{}: {n} twice", c.name));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn names_bind_by_alias_and_unique_prefix() {
        let az = az_params("Name|VaultName ResourceGroupName ResourceId Location @dp @wc");
        let name = |g: &str| bind_name(&az, g).map(|i| az[i].name);
        assert_eq!(name("vaultname"), Ok("Name"));
        assert_eq!(name("ResourceGroup"), Ok("ResourceGroupName"));
        assert_eq!(name("Loc"), Ok("Location"));
        assert_eq!(name("cf"), Ok("Confirm"));
        assert_eq!(
            name("Res"),
            Err("Parameter cannot be processed because the parameter name 'Res' is ambiguous. Possible matches include: -ResourceGroupName -ResourceId.".into())
        );
        assert_eq!(
            name("Nope"),
            Err("A parameter cannot be found that matches parameter name 'Nope'.".into())
        );
        // `-AzC` is an alias's prefix; `-W` is -WhatIf's, -WarningAction's and -WarningVariable's.
        assert_eq!(name("AzC"), Ok("DefaultProfile"));
        assert!(name("W").is_err_and(|e| e.contains("-WhatIf -WarningAction -WarningVariable")));
    }
}
