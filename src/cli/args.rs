//! Command-line arguments, with Docker's flag names.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use super::helper_args::{AttachHelperArgs, ExecHelperArgs, MonitorArgs};
pub use super::network_args::*;
pub use super::run_args::RunArgs;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "gantry",
    version,
    about = "A terminal container workstation with a Docker-compatible command line"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    /// Colour theme of the terminal UI (dark, light, high-contrast, 16-colour, or a user theme)
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Terminal UI without any action that changes something
    #[arg(long)]
    pub read_only: bool,
    /// Terminal UI drawn with ASCII only (also GANTRY_ASCII=1, and on TERM=linux)
    #[arg(long)]
    pub ascii: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The options every verb takes.
#[derive(Debug, Clone, Args)]
pub struct Globals {
    /// State root (default /var/lib/gantry; the run dir moves under it too)
    #[arg(long, global = true, env = "GANTRY_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Engine settings file (default /etc/gantry/config.toml)
    #[arg(long, global = true, env = "GANTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Download an image from a registry
    Pull(PullArgs),
    /// List images
    Images(ImagesArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Return low-level information on images
    Inspect(InspectArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Remove one or more images
    Rmi(RmiArgs),
    /// Log in to a registry
    Login(LoginArgs),
    /// Log out from a registry
    Logout(LogoutArgs),
    /// Search a registry for images
    Search(SearchArgs),
    /// Browse a registry's repositories and tags
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(RunArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Restart one or more containers
    Restart(StopArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Pause all processes within one or more containers
    Pause(ContainersArgs),
    /// Unpause all processes within one or more containers
    Unpause(ContainersArgs),
    /// Remove one or more containers
    Rm(RmArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(ContainersArgs),
    /// List containers
    #[command(alias = "ls")]
    Ps(PsArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Get real time events
    Events(EventsArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Manage networks
    #[command(subcommand)]
    Network(NetworkCommand),
    /// The exec helper (started by gantry itself)
    #[command(name = "__exec", hide = true)]
    ExecHelper(ExecHelperArgs),
    /// Attach for the terminal UI's hand-over (started by gantry itself)
    #[command(name = "__attach", hide = true)]
    AttachHelper(AttachHelperArgs),
    /// The per-container monitor (started by gantry itself)
    #[command(name = "__monitor", hide = true)]
    Monitor(MonitorArgs),
    /// A user network's DNS responder (started by gantry itself)
    #[command(name = "__dns", hide = true)]
    Dns(DnsHelperArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum ContainerCommand {
    /// List containers
    #[command(alias = "list", alias = "ps")]
    Ls(PsArgs),
    Run(RunArgs),
    Create(RunArgs),
    Start(StartArgs),
    Stop(StopArgs),
    Restart(StopArgs),
    Kill(KillArgs),
    Pause(ContainersArgs),
    Unpause(ContainersArgs),
    #[command(alias = "remove")]
    Rm(RmArgs),
    Rename(RenameArgs),
    Wait(ContainersArgs),
    Logs(LogsArgs),
    Attach(AttachArgs),
    Inspect(InspectArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    Update(UpdateArgs),
    Stats(StatsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    pub container: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub limits: super::run_args::LimitArgs,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a custom template ('table', 'json', 'table TEMPLATE' or a Go template)
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH or a local path
    pub source: String,
    /// CONTAINER:DEST_PATH or a local path
    pub dest: String,
}

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp (RFC 3339, Unix seconds or a duration like 10m)
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided (type=, event=, container=, image=)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output using a Go-style template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", alias = "timeout")]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ContainersArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    pub latest: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long)]
    pub last: Option<usize>,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter output based on conditions provided (status=, name=, label=, ancestor=, id=)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Format output using a Go-style template
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs ("all" for everything)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs since timestamp (RFC 3339) or relative (e.g. 42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp (RFC 3339) or relative (e.g. 42m)
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long)]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long)]
    pub no_stdin: bool,
    pub container: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(TagArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(RmiArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum RegistryCommand {
    /// List a registry's repositories (its catalog)
    Repos(ReposArgs),
    /// List a repository's tags, optionally with digest, platforms and size
    Tags(TagsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Set platform if server is multi-platform capable (os/arch[/variant])
    #[arg(long)]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short, long)]
    pub quiet: bool,
    /// Image reference: NAME[:TAG|@DIGEST]
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images; gantry stores none, so both list
    /// the same)
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a Go-style template
    #[arg(long)]
    pub format: Option<String>,
    /// Only images of this repository (and tag)
    pub repository: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a Go-style template
    #[arg(short, long)]
    pub format: Option<String>,
    /// Only inspect objects of this type (image)
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short, long)]
    pub force: bool,
    /// Do not delete untagged parents (accepted for Docker compatibility: gantry's images are
    /// pulled, never built from parents, so there are none to delete)
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password
    #[arg(short, long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Registry (default Docker Hub)
    pub server: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    pub server: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Max number of search results
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// TERM, or REGISTRY/TERM to search a registry's catalog
    pub term: String,
}

#[derive(Debug, Clone, Args)]
pub struct ReposArgs {
    /// Max number of repositories
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    pub registry: String,
}

#[derive(Debug, Clone, Args)]
pub struct TagsArgs {
    /// Also show each tag's digest, platforms and compressed size
    #[arg(short, long)]
    pub details: bool,
    /// Max number of tags
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// REGISTRY/REPOSITORY
    pub repository: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn arguments_are_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
