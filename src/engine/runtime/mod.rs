//! Turning a container record into a running process: the OCI spec (secure defaults and the
//! flags that relax them), the overlay root filesystem, users, capabilities, seccomp and the
//! engine-provided /etc files. libcontainer does the namespace and cgroup work; everything
//! here is plain data and mounts, usable from the single-threaded monitor.

pub mod caps;
pub mod files;
pub mod rootfs;
pub mod seccomp;
pub mod seccomp_bpf;
pub mod spec;
pub mod tenant;
pub mod user;
