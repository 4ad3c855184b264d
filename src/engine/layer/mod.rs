//! Layers: streaming a compressed layer blob through digest checks and decompression into the
//! secure extractor.

pub mod budget;
pub mod extract;
pub mod unpack;
