//! gantry: a terminal container workstation. The [`engine`] is the library (registry, store,
//! layers, runtime, cgroups and networking); [`cli`] is the Docker-compatible command line and
//! [`tui`] the full-screen terminal UI over it; [`text`] is how both write Docker's figures.

pub mod cli;
pub mod engine;
pub mod text;
pub mod tui;
