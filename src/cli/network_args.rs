//! Arguments of the networking commands (`network …`, `port`) and of the DNS helper.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{InspectArgs, PruneArgs};

#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(NetworkCreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(NetworkLsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(NetworkRmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network
    Disconnect(NetworkConnectArgs),
}

#[derive(Debug, Clone, Args)]
pub struct NetworkCreateArgs {
    /// Driver to manage the Network (bridge)
    #[arg(short, long)]
    pub driver: Option<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    pub subnet: Option<String>,
    /// IPv4 Gateway for the master subnet
    #[arg(long)]
    pub gateway: Option<String>,
    /// Allocate container IPs from a sub-range
    #[arg(long)]
    pub ip_range: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Set metadata on a network
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short, long)]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct NetworkLsArgs {
    /// Provide filter values (name=, driver=, id=, label=)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Pretty-print networks using a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct NetworkRmArgs {
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct NetworkConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long)]
    pub alias: Vec<String>,
    /// Force the container to disconnect from a network
    #[arg(short, long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct DnsHelperArgs {
    /// The run directory holding the network's name table
    pub run_net: PathBuf,
    pub network_id: String,
    /// The gateway address to answer on
    pub listen: String,
}
