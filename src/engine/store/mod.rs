//! Persistent state: the SQLite metadata database, content-addressed blobs, extracted layers
//! and scratch space.

pub mod blobs;
pub mod containers;
pub mod db;
pub mod images;
pub mod layers;
pub mod lockfile;
pub mod networks;
pub mod spread;
pub mod tmp;
