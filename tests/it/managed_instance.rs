//! Issue 13, section 3: Azure SQL Managed Instance with a customer-managed key, by the
//! documented CLI procedure (network prerequisites included), losing and regaining its key
//! as a logical server does.

use crate::common;

use tde_console::model::Workspace;
use tde_console::shell::{Shell, ShellMode};

fn run(sh: &mut Shell, ws: &mut Workspace, script: &str) -> String {
    let out = sh.run_script(ws, script, false);
    assert_eq!(out.failures, 0, "{}", out.stderr);
    out.stdout
}

const PROCEDURE: &str = r#"
az group create --name rg-mi --location eastus
az network vnet create --resource-group rg-mi --name vnet-mi --address-prefixes 10.0.0.0/16 --location eastus
az network vnet subnet create --resource-group rg-mi --vnet-name vnet-mi --name mi-subnet --address-prefixes 10.0.0.0/24 --delegations Microsoft.Sql/managedInstances
az network nsg create --name nsg-mi --resource-group rg-mi --location eastus
az network nsg rule create --name allow_management_inbound --nsg-name nsg-mi --priority 100 --resource-group rg-mi --access Allow --destination-address-prefixes 10.0.0.0/24 --destination-port-ranges 9000 9003 1438 1440 1452 --direction Inbound --protocol Tcp --source-address-prefixes "*" --source-port-ranges "*"
az network route-table create --name rt-mi --resource-group rg-mi --location eastus
az network route-table route create --address-prefix 0.0.0.0/0 --name primaryToMIManagementService --next-hop-type Internet --resource-group rg-mi --route-table-name rt-mi
az network vnet subnet update --name mi-subnet --network-security-group nsg-mi --route-table rt-mi --vnet-name vnet-mi --resource-group rg-mi
SUBNET=$(az network vnet subnet show --resource-group rg-mi --vnet-name vnet-mi --name mi-subnet --query id -o tsv)
az sql mi create --name mi-contoso --resource-group rg-mi --location eastus --admin-user sqladmin --admin-password 'Str0ng!Passw0rd-2026' --subnet $SUBNET --license-type LicenseIncluded --capacity 8 --storage 256GB --edition GeneralPurpose --family Gen5 --assign-identity
PRINCIPAL=$(az sql mi show --name mi-contoso --resource-group rg-mi --query identity.principalId -o tsv)
az keyvault create --name kv-mi --resource-group rg-mi --location eastus --enable-soft-delete true --enable-purge-protection true
az keyvault set-policy --name kv-mi --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey
KID=$(az keyvault key create --name mi-tde --vault-name kv-mi --kty RSA --size 2048 --query key.kid -o tsv)
az sql mi key create --kid $KID --managed-instance mi-contoso --resource-group rg-mi
az sql mi tde-key set --server-key-type AzureKeyVault --kid $KID --managed-instance mi-contoso --resource-group rg-mi
az sql midb create --resource-group rg-mi --mi mi-contoso --name db1
"#;

fn state(ws: &Workspace) -> String {
    ws.server("mi-contoso")
        .and_then(|s| s.database("db1"))
        .map(|d| d.state.label().to_string())
        .unwrap_or_default()
}

#[test]
fn the_documented_managed_instance_procedure_works_and_the_instance_loses_and_regains_its_key() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, PROCEDURE);
    let out = run(
        &mut sh,
        &mut ws,
        "az sql mi tde-key show --mi mi-contoso -g rg-mi --query \"{t:serverKeyType, type:type}\" -o tsv\naz sql midb show --mi mi-contoso -g rg-mi -n db1 --query type -o tsv\naz sql mi list --query \"[].name\" -o tsv\naz sql server list --query \"[].name\" -o tsv",
    );
    assert_eq!(
        out,
        "AzureKeyVault\tMicrosoft.Sql/managedInstances/encryptionProtector\nMicrosoft.Sql/managedInstances/databases\nmi-contoso\n"
    );
    assert_eq!(state(&ws), "Online");
    // Revoke, and the instance's database turns Inaccessible; grant back, and it heals.
    run(
        &mut sh,
        &mut ws,
        "az keyvault delete-policy --name kv-mi --object-id $PRINCIPAL\nsim clock advance 30m",
    );
    assert_eq!(state(&ws), "Inaccessible");
    run(
        &mut sh,
        &mut ws,
        "az keyvault set-policy --name kv-mi --object-id $PRINCIPAL --key-permissions get wrapKey unwrapKey\nsim clock advance 2h",
    );
    assert_eq!(state(&ws), "Online");
    // The seed's PowerShell for an instance's keys.
    sh.mode = ShellMode::Pwsh;
    let out = run(
        &mut sh,
        &mut ws,
        "Get-AzSqlInstanceKeyVaultKey -ResourceGroupName rg-mi -InstanceName mi-contoso",
    );
    assert!(out.contains("ManagedInstanceName : mi-contoso"), "{out}");
    assert!(out.contains("Type                : AzureKeyVault"), "{out}");
}

#[test]
fn an_instance_needs_a_delegated_subnet_and_a_refusal_changes_nothing() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(
        &mut sh,
        &mut ws,
        "az group create --name rg-mi --location eastus\naz network vnet create -g rg-mi -n vnet-mi --address-prefixes 10.0.0.0/16\naz network vnet subnet create -g rg-mi --vnet-name vnet-mi -n plain --address-prefixes 10.0.1.0/24",
    );
    let before = ws.clone();
    let r = sh.run_line(
        &mut ws,
        "az sql mi create -n mi-x -g rg-mi -u sqladmin -p 'Str0ng!Passw0rd-2026' --subnet plain --vnet-name vnet-mi",
    );
    assert!(!r.ok && r.stderr.contains("not delegated"), "{}", r.stderr);
    assert!(ws.same_as(&before));
    let r = sh.run_line(
        &mut ws,
        "az network vnet subnet create -g rg-mi --vnet-name vnet-mi -n outside --address-prefixes 192.168.0.0/24",
    );
    assert!(
        !r.ok && r.stderr.contains("NetcfgSubnetRangeOutsideVnet"),
        "{}",
        r.stderr
    );
    let r = sh.run_line(&mut ws, "az sql mi show -n nope -g rg-mi");
    assert!(
        !r.ok && r.stderr.contains("Microsoft.Sql/managedInstances/nope"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_managed_instance_powershell_cmdlets_set_its_protector() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    let setup: String = PROCEDURE
        .lines()
        .filter(|l| !l.contains("mi key create") && !l.contains("mi tde-key set"))
        .map(|l| format!("{l}\n"))
        .collect();
    run(&mut sh, &mut ws, &setup);
    let kid = sh.vars.get("KID").cloned().unwrap();
    sh.mode = ShellMode::Pwsh;
    let out = run(
        &mut sh,
        &mut ws,
        &format!(
            "Add-AzSqlInstanceKeyVaultKey -ResourceGroupName rg-mi -InstanceName mi-contoso -KeyId '{kid}'\n\
             Set-AzSqlInstanceTransparentDataEncryptionProtector -ResourceGroupName rg-mi -InstanceName mi-contoso -Type AzureKeyVault -KeyId '{kid}'\n"
        ),
    );
    assert!(
        out.contains("ManagedInstanceKeyVaultKeyName : kv-mi_mi-tde_"),
        "{out}"
    );
    assert!(ws.server("mi-contoso").unwrap().protector_uri().is_some());
}

/// The network lines of Microsoft Learn's "Create a managed instance" Azure CLI sample
/// (Azure-Samples/azure-cli-samples, create-managed-instance.sh), with its variables: the
/// subnet delegated, an NSG with the sample's five rules, a route table with its two routes,
/// both associated, then the instance.
const SAMPLE_NETWORK: &str = r#"
randomIdentifier=12345
location="East US"
resourceGroup="msdocs-azuresql-rg-$randomIdentifier"
vnet="msdocs-azuresql-vnet-$randomIdentifier"
subnet="msdocs-azuresql-subnet-$randomIdentifier"
nsg="msdocs-azuresql-nsg-$randomIdentifier"
route="msdocs-azuresql-route-$randomIdentifier"
instance="msdocs-azuresql-instance-$randomIdentifier"
login="msdocsAdminUser"
password="Pa55w0rD-$randomIdentifier"
az group create --name $resourceGroup --location "$location"
az network vnet create --name $vnet --resource-group $resourceGroup --location "$location" --address-prefixes 10.0.0.0/16
az network vnet subnet create --name $subnet --resource-group $resourceGroup --vnet-name $vnet --address-prefixes 10.0.0.0/24 --delegations Microsoft.Sql/managedInstances
az network nsg create --name $nsg --resource-group $resourceGroup --location "$location"
az network nsg rule create --name "allow_management_inbound" --nsg-name $nsg --priority 100 --resource-group $resourceGroup --access Allow --destination-address-prefixes 10.0.0.0/24 --destination-port-ranges 9000 9003 1438 1440 1452 --direction Inbound --protocol Tcp --source-address-prefixes "*" --source-port-ranges "*"
az network nsg rule create --name "allow_misubnet_inbound" --nsg-name $nsg --priority 200 --resource-group $resourceGroup --access Allow --destination-address-prefixes 10.0.0.0/24 --destination-port-ranges "*" --direction Inbound --protocol "*" --source-address-prefixes 10.0.0.0/24 --source-port-ranges "*"
az network nsg rule create --name "allow_health_probe_inbound" --nsg-name $nsg --priority 300 --resource-group $resourceGroup --access Allow --destination-address-prefixes 10.0.0.0/24 --destination-port-ranges "*" --direction Inbound --protocol "*" --source-address-prefixes AzureLoadBalancer --source-port-ranges "*"
az network nsg rule create --name "allow_management_outbound" --nsg-name $nsg --priority 1100 --resource-group $resourceGroup --access Allow --destination-address-prefixes AzureCloud --destination-port-ranges 443 12000 --direction Outbound --protocol Tcp --source-address-prefixes 10.0.0.0/24 --source-port-ranges "*"
az network nsg rule create --name "allow_misubnet_outbound" --nsg-name $nsg --priority 200 --resource-group $resourceGroup --access Allow --destination-address-prefixes 10.0.0.0/24 --destination-port-ranges "*" --direction Outbound --protocol "*" --source-address-prefixes 10.0.0.0/24 --source-port-ranges "*"
az network route-table create --name $route --resource-group $resourceGroup --location "$location"
az network route-table route create --address-prefix 0.0.0.0/0 --name "primaryToMIManagementService" --next-hop-type Internet --resource-group $resourceGroup --route-table-name $route
az network route-table route create --address-prefix 10.0.0.0/24 --name "ToLocalClusterNode" --next-hop-type VnetLocal --resource-group $resourceGroup --route-table-name $route
az network vnet subnet update --name $subnet --network-security-group $nsg --route-table $route --vnet-name $vnet --resource-group $resourceGroup
az sql mi create --admin-password $password --admin-user $login --name $instance --resource-group $resourceGroup --subnet $subnet --vnet-name $vnet --location "$location"
"#;

#[test]
fn the_create_managed_instance_samples_network_lines_build_nsg_route_table_and_instance() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, SAMPLE_NETWORK);
    let g = "msdocs-azuresql-rg-12345";
    let out = run(
        &mut sh,
        &mut ws,
        &format!(
            "az network nsg rule list -g {g} --nsg-name msdocs-azuresql-nsg-12345 --query \"[].[name, priority, direction, protocol]\" -o tsv\n\
             az network nsg rule show -g {g} --nsg-name msdocs-azuresql-nsg-12345 -n allow_management_inbound --query \"destinationPortRanges\" -o tsv\n\
             az network route-table route list -g {g} --route-table-name msdocs-azuresql-route-12345 --query \"[].[name, addressPrefix, nextHopType]\" -o tsv\n\
             az network vnet subnet show -g {g} --vnet-name msdocs-azuresql-vnet-12345 -n msdocs-azuresql-subnet-12345 --query \"[networkSecurityGroup.id, routeTable.id]\" -o tsv\n\
             az network nsg show -g {g} -n msdocs-azuresql-nsg-12345 --query \"subnets[].id\" -o tsv\n\
             az sql mi show -g {g} -n msdocs-azuresql-instance-12345 --query subnetId -o tsv"
        ),
    );
    let sub = ws.current_subscription.to_string();
    let base = format!("/subscriptions/{sub}/resourceGroups/{g}/providers/Microsoft.Network");
    let subnet = format!(
        "{base}/virtualNetworks/msdocs-azuresql-vnet-12345/subnets/msdocs-azuresql-subnet-12345"
    );
    assert_eq!(
        out,
        format!(
            "allow_management_inbound\t100\tInbound\tTcp\n\
             allow_misubnet_inbound\t200\tInbound\t*\n\
             allow_health_probe_inbound\t300\tInbound\t*\n\
             allow_management_outbound\t1100\tOutbound\tTcp\n\
             allow_misubnet_outbound\t200\tOutbound\t*\n\
             9000\n9003\n1438\n1440\n1452\n\
             primaryToMIManagementService\t0.0.0.0/0\tInternet\n\
             ToLocalClusterNode\t10.0.0.0/24\tVnetLocal\n\
             {base}/networkSecurityGroups/msdocs-azuresql-nsg-12345\n{base}/routeTables/msdocs-azuresql-route-12345\n\
             {subnet}\n\
             {subnet}\n"
        )
    );
    // While the instance lives in the subnet, its NSG, route table and delegation stay.
    for line in [
        format!(
            "az network vnet subnet update -g {g} --vnet-name msdocs-azuresql-vnet-12345 -n msdocs-azuresql-subnet-12345 --nsg null"
        ),
        format!("az network nsg delete -g {g} -n msdocs-azuresql-nsg-12345"),
        format!("az network route-table delete -g {g} -n msdocs-azuresql-route-12345"),
    ] {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, &line);
        assert!(!r.ok, "{line}: {}", r.stdout);
        assert!(ws.same_as(&before), "{line}");
    }
}

/// Azure's answers when the subnet lacks what a managed instance needs, in the order
/// Azure checks: the delegation, then the NSG, then the route table; each refusal changes
/// nothing, and the same subnet takes the instance once all three are there.
#[test]
fn an_instance_needs_the_subnet_delegated_with_an_nsg_and_a_route_table() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(
        &mut sh,
        &mut ws,
        "az group create -n rg-mi -l eastus\naz network vnet create -g rg-mi -n vnet-mi --address-prefixes 10.0.0.0/16\naz network vnet subnet create -g rg-mi --vnet-name vnet-mi -n s1 --address-prefixes 10.0.1.0/24\naz network nsg create -g rg-mi -n nsg1\naz network route-table create -g rg-mi -n rt1",
    );
    let create = "az sql mi create -n mi-x -g rg-mi -u sqladmin -p 'Str0ng!Passw0rd-2026' --subnet s1 --vnet-name vnet-mi";
    let expect_refusal = |sh: &mut Shell, ws: &mut Workspace, text: &str| {
        let before = ws.clone();
        let r = sh.run_line(ws, create);
        assert!(!r.ok && r.stderr.contains(text), "{}", r.stderr);
        assert!(ws.same_as(&before));
    };
    expect_refusal(
        &mut sh,
        &mut ws,
        "(MiCreateFailedNonDelegatedSubnet) Managed Instance deployment failed as provided subnet",
    );
    run(
        &mut sh,
        &mut ws,
        "az network vnet subnet update -g rg-mi --vnet-name vnet-mi -n s1 --delegations Microsoft.Sql/managedInstances",
    );
    expect_refusal(
        &mut sh,
        &mut ws,
        "(VnetSubnetConflictWithIntendedPolicy) Network Security Group.",
    );
    // By id, as the portal's automation script writes it.
    let nsg_id = run(
        &mut sh,
        &mut ws,
        "az network nsg show -g rg-mi -n nsg1 --query id -o tsv",
    );
    run(
        &mut sh,
        &mut ws,
        &format!(
            "az network vnet subnet update -g rg-mi --vnet-name vnet-mi -n s1 --network-security-group {}",
            nsg_id.trim()
        ),
    );
    expect_refusal(
        &mut sh,
        &mut ws,
        "(VnetSubnetConflictWithIntendedPolicy) Route Table.",
    );
    run(
        &mut sh,
        &mut ws,
        "az network vnet subnet update -g rg-mi --vnet-name vnet-mi -n s1 --route-table rt1",
    );
    run(&mut sh, &mut ws, create);
}

/// Bad input gets az's or Azure's own text and changes nothing.
#[test]
fn network_arguments_are_validated_as_az_and_azure_validate_them() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(
        &mut sh,
        &mut ws,
        "az group create -n rg -l eastus\naz network vnet create -g rg -n vn --address-prefixes 10.0.0.0/16 -l eastus\naz network vnet subnet create -g rg --vnet-name vn -n s --address-prefixes 10.0.0.0/24\naz network nsg create -g rg -n n\naz network nsg rule create -g rg --nsg-name n -n r1 --priority 100\naz network route-table create -g rg -n t\naz network nsg create -g rg -n far -l westeurope",
    );
    let cases: &[(&str, &str)] = &[
        (
            "az network nsg rule create -g rg --nsg-name n -n r",
            "the following arguments are required: --priority",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority abc",
            "Failed to parse '--priority' argument: invalid literal for int() with base 10: 'abc'",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 100 --access Maybe",
            "az network nsg rule create: 'Maybe' is not a valid value for '--access'. Allowed values: Allow, Deny.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 100 --protocol Gre",
            "Allowed values: *, Ah, Esp, Icmp, Tcp, Udp.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 50",
            "(SecurityRuleInvalidPriority)",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 4097",
            "Allowed range 100-4096.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 100",
            "(SecurityRuleConflict) Security rule r conflicts with rule r1. Rules cannot have the same Priority and Direction.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 101 --destination-port-ranges 70000",
            "(SecurityRuleInvalidPortRange) Security rule has invalid Port range. Value provided: 70000.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 101 --destination-port-ranges 90-80",
            "Value provided: 90-80.",
        ),
        (
            "az network nsg rule create -g rg --nsg-name n -n r --priority 101 --source-address-prefixes 10.0.0.300/24",
            "(SecurityRuleInvalidAddressPrefix)",
        ),
        (
            "az network nsg rule create -g rg --nsg-name nope -n r --priority 101",
            "Microsoft.Network/networkSecurityGroups/nope",
        ),
        (
            "az network route-table route create -g rg --route-table-name t -n r --address-prefix 0.0.0.0/0 --next-hop-type Foo",
            "az network route-table route create: 'Foo' is not a valid value for '--next-hop-type'. Allowed values: Internet, None, VirtualAppliance, VirtualApplianceEcmp, VirtualNetworkGateway, VnetLocal.",
        ),
        (
            "az network route-table route create -g rg --route-table-name t -n r --address-prefix 0.0.0.0/0 --next-hop-type VirtualAppliance",
            "VirtualAppliance",
        ),
        (
            "az network route-table route create -g rg --route-table-name t -n r --address-prefix 10.0.0/8 --next-hop-type Internet",
            "(InvalidRouteAddressPrefix)",
        ),
        (
            "az network route-table create -g rg -n t2 --disable-bgp-route-propagation maybe",
            "Allowed values: true, t, yes, y, 1, false, f, no, n, 0.",
        ),
        (
            "az network route-table show -g rg -n nope",
            "Microsoft.Network/routeTables/nope",
        ),
        (
            "az network vnet subnet update -g rg --vnet-name vn -n s --nsg nope",
            "(InvalidResourceReference)",
        ),
        (
            "az network vnet subnet update -g rg --vnet-name vn -n s --nsg far",
            "both resources are in the same region",
        ),
        (
            "az network vnet subnet update -g rg --vnet-name vn -n s --address-prefixes 192.168.0.0/24",
            "(NetcfgSubnetRangeOutsideVnet)",
        ),
        (
            "az network nsg create -g rg -n n -l westeurope",
            "(InvalidResourceLocation)",
        ),
    ];
    for (line, text) in cases {
        let before = ws.clone();
        let r = sh.run_line(&mut ws, line);
        assert!(!r.ok && r.stderr.contains(text), "{line}\n{}", r.stderr);
        assert!(ws.same_as(&before), "{line} changed the workspace");
    }
    // aaz choices are case-insensitive and come back in Azure's spelling; deleting what
    // does not exist is not an error; an NSG in use is kept.
    let out = run(
        &mut sh,
        &mut ws,
        "az network nsg rule create -g rg --nsg-name n -n r2 --priority 110 --protocol tcp --direction outbound --access deny --query \"[protocol, direction, access]\" -o tsv\naz network nsg rule delete -g rg --nsg-name n -n nope\naz network vnet subnet update -g rg --vnet-name vn -n s --nsg n -o none\naz network route-table route create -g rg --route-table-name t -n nva --address-prefix 10.1.0.0/16 --next-hop-type virtualappliance --next-hop-ip-address 10.0.0.4 --query nextHopType -o tsv\naz network nsg rule list -g rg --nsg-name n --include-default --query \"length(@)\"",
    );
    assert_eq!(out, "Tcp\nOutbound\nDeny\nVirtualAppliance\n8\n");
    let r = sh.run_line(&mut ws, "az network nsg delete -g rg -n n");
    assert!(
        !r.ok
            && r.stderr
                .contains("InUseNetworkSecurityGroupCannotBeDeleted"),
        "{}",
        r.stderr
    );
    run(
        &mut sh,
        &mut ws,
        "az network vnet subnet update -g rg --vnet-name vn -n s --nsg null\naz network nsg delete -g rg -n n\naz network route-table route delete -g rg --route-table-name t -n nva\naz network route-table delete -g rg -n t",
    );
    assert!(ws.network_policies.route_tables.is_empty());
    assert_eq!(ws.network_policies.security_groups.len(), 1);
}

#[test]
fn a_managed_database_keeps_the_collation_it_was_created_with() {
    let mut sh = Shell::new().with_keys(common::FixtureKeys::boxed());
    let mut ws = tde_console::service::new_workspace("t", 1);
    run(&mut sh, &mut ws, PROCEDURE);
    let out = run(
        &mut sh,
        &mut ws,
        "az sql midb create --resource-group rg-mi --mi mi-contoso --name db2 --collation Latin1_General_100_CS_AS_SC --query collation -o tsv\naz sql midb show --resource-group rg-mi --mi mi-contoso --name db2 --query collation -o tsv\naz sql midb show --resource-group rg-mi --mi mi-contoso --name db1 --query collation -o tsv",
    );
    assert_eq!(
        out,
        "Latin1_General_100_CS_AS_SC\nLatin1_General_100_CS_AS_SC\nSQL_Latin1_General_CP1_CI_AS\n"
    );
}
