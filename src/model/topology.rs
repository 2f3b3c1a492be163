//! Tenants, subscriptions, regions (with their geographies) and resource groups.

use super::ids::{PrincipalId, SubscriptionId, TenantId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub display_name: String,
    /// The domain users sign in with, e.g. `contoso.onmicrosoft.com`.
    pub domain: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub name: String,
    pub tenant: TenantId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceGroup {
    pub name: String,
    pub subscription: SubscriptionId,
    pub location: String,
    /// `--tags`: ARM's name/value pairs, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
}

/// A management lock level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockLevel {
    /// Authorised users can read and modify the resource, not delete it.
    CanNotDelete,
    /// Authorised users can read the resource, not change or delete it.
    ReadOnly,
}

impl LockLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LockLevel::CanNotDelete => "CanNotDelete",
            LockLevel::ReadOnly => "ReadOnly",
        }
    }
}

/// A management lock on a resource group or a resource. Locks apply to the management
/// plane only: a locked vault still lets its keys be created and deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceLock {
    pub name: String,
    pub level: LockLevel,
    /// ARM id of the locked scope: everything under it is locked.
    pub scope: String,
    pub notes: String,
}

impl ResourceLock {
    /// Does this lock cover the resource with ARM id `id`?
    pub fn covers(&self, id: &str) -> bool {
        let (scope, id) = (self.scope.to_ascii_lowercase(), id.to_ascii_lowercase());
        id == scope || id.starts_with(&format!("{scope}/"))
    }

    pub fn id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Authorization/locks/{}",
            self.scope, self.name
        )
    }
}

/// An Azure region and the geography it belongs to (backups of keys move only within one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    pub display_name: &'static str,
    pub geography: &'static str,
}

/// The regions the simulator knows.
pub const REGIONS: &[Region] = &[
    Region {
        name: "eastus",
        display_name: "East US",
        geography: "United States",
    },
    Region {
        name: "eastus2",
        display_name: "East US 2",
        geography: "United States",
    },
    Region {
        name: "westus",
        display_name: "West US",
        geography: "United States",
    },
    Region {
        name: "westus2",
        display_name: "West US 2",
        geography: "United States",
    },
    Region {
        name: "centralus",
        display_name: "Central US",
        geography: "United States",
    },
    Region {
        name: "northeurope",
        display_name: "North Europe",
        geography: "Europe",
    },
    Region {
        name: "westeurope",
        display_name: "West Europe",
        geography: "Europe",
    },
    Region {
        name: "uksouth",
        display_name: "UK South",
        geography: "United Kingdom",
    },
    Region {
        name: "ukwest",
        display_name: "UK West",
        geography: "United Kingdom",
    },
    Region {
        name: "japaneast",
        display_name: "Japan East",
        geography: "Japan",
    },
    Region {
        name: "japanwest",
        display_name: "Japan West",
        geography: "Japan",
    },
];

/// Looks a region up by its programmatic name (`westeurope`) or display name (`West Europe`).
pub fn region(name: &str) -> Option<&'static Region> {
    let n = name.trim().to_ascii_lowercase().replace(' ', "");
    REGIONS.iter().find(|r| r.name == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_resolve_by_either_name() {
        assert_eq!(region("West Europe").map(|r| r.geography), Some("Europe"));
        assert_eq!(region("japanwest").map(|r| r.geography), Some("Japan"));
        assert!(region("mars").is_none());
    }
}

/// A user-assigned managed identity (`az identity create`): an Azure AD service principal
/// that servers can be given and that reaches key vaults on their behalf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserAssignedIdentity {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    /// The object id access policies and role assignments name.
    pub principal_id: PrincipalId,
    /// The application (client) id.
    pub client_id: String,
    pub tenant_id: TenantId,
}

impl UserAssignedIdentity {
    /// Its ARM id, as `--user-assigned-identity-id` takes it.
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// A virtual network (`az network vnet create`): where a managed instance lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VirtualNetwork {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    pub address_prefixes: Vec<String>,
    pub subnets: Vec<Subnet>,
}

/// A subnet; a managed instance needs one delegated to `Microsoft.Sql/managedInstances`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    pub name: String,
    pub address_prefix: String,
    #[serde(default)]
    pub delegations: Vec<String>,
    /// The network security group associated with it (its ARM id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_security_group: Option<String>,
    /// The route table associated with it (its ARM id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table: Option<String>,
}

/// The network security groups and route tables of the workspace (`az network nsg`,
/// `az network route-table`): what a managed instance's subnet must be associated with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkPolicies {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<NetworkSecurityGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_tables: Vec<RouteTable>,
}

impl NetworkPolicies {
    pub fn is_empty(&self) -> bool {
        self.security_groups.is_empty() && self.route_tables.is_empty()
    }
}

/// A network security group (`az network nsg create`) and its rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSecurityGroup {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub rules: Vec<SecurityRule>,
}

/// Whether a security rule applies to traffic coming in or going out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleDirection {
    Inbound,
    Outbound,
}

/// Whether a security rule lets the traffic through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAccess {
    Allow,
    Deny,
}

/// A security rule (`az network nsg rule create`). Prefixes and port ranges are kept as
/// given (`*`, a CIDR, an IP, a service tag; a port, `a-b` or `*`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityRule {
    pub name: String,
    pub priority: u32,
    pub direction: RuleDirection,
    pub access: RuleAccess,
    /// `*`, `Ah`, `Esp`, `Icmp`, `Tcp` or `Udp`.
    pub protocol: String,
    pub source_address_prefixes: Vec<String>,
    pub source_port_ranges: Vec<String>,
    pub destination_address_prefixes: Vec<String>,
    pub destination_port_ranges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A route table (`az network route-table create`) and its routes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    pub name: String,
    pub resource_group: String,
    pub subscription: SubscriptionId,
    pub location: String,
    #[serde(default)]
    pub disable_bgp_route_propagation: bool,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// A route (`az network route-table route create`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub name: String,
    pub address_prefix: String,
    /// `Internet`, `None`, `VirtualAppliance`, `VirtualApplianceEcmp`,
    /// `VirtualNetworkGateway` or `VnetLocal`.
    pub next_hop_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop_ip_address: Option<String>,
}

impl NetworkSecurityGroup {
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkSecurityGroups/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

impl RouteTable {
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/routeTables/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

impl VirtualNetwork {
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn subnet_id(&self, subnet: &str) -> String {
        format!("{}/subnets/{subnet}", self.arm_id())
    }
}

/// An app registration (`az ad app create`): with `AzureADMultipleOrgs` other tenants can
/// instantiate it as a service principal and grant that access to their vaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppRegistration {
    pub app_id: String,
    pub object_id: String,
    pub display_name: String,
    pub tenant: TenantId,
    pub multi_tenant: bool,
    #[serde(default)]
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A federated identity credential: tokens of `subject` issued by `issuer` (a managed
/// identity of the app's home tenant) are exchanged for the app's tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

/// An application's service principal in a tenant (`az ad sp create --id APPID`): what
/// that tenant's vaults grant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServicePrincipal {
    pub app_id: String,
    pub object_id: PrincipalId,
    pub tenant: TenantId,
}
