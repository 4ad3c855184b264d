//! The flags of `run` and `create`, with Docker's names.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Print help (`-h` is --hostname, as in Docker)
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Run container in background and print container ID
    #[arg(short, long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Overwrite the default ENTRYPOINT of the image ("" clears it)
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Restart policy to apply when a container exits (no, always, on-failure[:N], unless-stopped)
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Set meta data on a container
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Add Linux capabilities
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    pub privileged: bool,
    /// Security options (seccomp=unconfined|<file>, no-new-privileges)
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    pub read_only: bool,
    /// Add a host device to the container (HOST[:CONTAINER][:PERMS])
    #[arg(long)]
    pub device: Vec<String>,
    /// IPC mode to use (private, host, container:<name|id>)
    #[arg(long)]
    pub ipc: Option<String>,
    /// PID namespace to use (host, container:<name|id>)
    #[arg(long)]
    pub pid: Option<String>,
    /// Connect a container to a network (bridge, host, none, container:<name|id>, or a network's name)
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Add network-scoped aliases for the container
    #[arg(long, alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/proto])
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add link to another container (name[:alias])
    #[arg(long)]
    pub link: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// Log driver options (max-size, max-file)
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Set platform if the image has to be pulled
    #[arg(long)]
    pub platform: Option<String>,
    /// Write the container ID to the file
    #[arg(long)]
    pub cidfile: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The image to run
    pub image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Resource limits of `run`/`create` (and, mostly, `update`), with Docker's names.
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// Memory limit (e.g. 32m, 1g)
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Disable OOM Killer
    #[arg(long)]
    pub oom_kill_disable: bool,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<String>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long, alias = "cpuset")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Ulimit options (name=soft[:hard])
    #[arg(long)]
    pub ulimit: Vec<String>,
}

impl LimitArgs {
    /// The limits to create a container with.
    pub fn resources(&self) -> Result<crate::engine::cgroups::Resources, String> {
        let u = self.update()?;
        let ulimits = self
            .ulimit
            .iter()
            .map(|s| crate::engine::cgroups::Ulimit::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(crate::engine::cgroups::Resources {
            memory: u.memory.unwrap_or(0),
            memory_swap: u.memory_swap.unwrap_or(0),
            memory_reservation: u.memory_reservation.unwrap_or(0),
            oom_kill_disable: self.oom_kill_disable,
            cpu_shares: u.cpu_shares.unwrap_or(0),
            nano_cpus: u.nano_cpus.unwrap_or(0),
            cpu_period: u.cpu_period.unwrap_or(0),
            cpu_quota: u.cpu_quota.unwrap_or(0),
            cpuset_cpus: u.cpuset_cpus.unwrap_or_default(),
            cpuset_mems: u.cpuset_mems.unwrap_or_default(),
            pids_limit: u.pids_limit,
            blkio_weight: u.blkio_weight.unwrap_or(0),
            ulimits,
        })
    }

    /// The limits an `update` changes (the flags given).
    pub fn update(&self) -> Result<crate::engine::cgroups::ResourceUpdate, String> {
        use crate::engine::cgroups::resources::{parse_cpus, parse_memory, parse_memory_swap};
        Ok(crate::engine::cgroups::ResourceUpdate {
            memory: self.memory.as_deref().map(parse_memory).transpose()?,
            memory_swap: self.memory_swap.as_deref().map(parse_memory_swap).transpose()?,
            memory_reservation: self.memory_reservation.as_deref().map(parse_memory).transpose()?,
            cpu_shares: self.cpu_shares,
            nano_cpus: self.cpus.as_deref().map(parse_cpus).transpose()?,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            pids_limit: self.pids_limit,
            blkio_weight: self.blkio_weight,
        })
    }
}
