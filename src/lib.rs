//! gantry: a terminal container workstation. The [`engine`] is the library (registry, store,
//! layers, later runtime, cgroups and networking); [`cli`] is the Docker-compatible command
//! line over it.

pub mod cli;
pub mod engine;
