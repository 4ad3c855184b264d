//! Links the `gantry` binary as a position-dependent executable.
//!
//! Every `gantry` command, and every container's monitor, is a fresh process of this binary,
//! and `run --rm` starts two of them on its path. Built as a PIE, each start first has the
//! dynamic loader apply about 36,000 relative relocations, which copies about 150 pages of
//! `.data.rel.ro` (vtables, string tables, panic locations) into private memory: some 400
//! page faults per `run --rm` out of 1,450, and about 2 ms of its 18 (measured on the
//! development VM; see ARCHITECTURE.md). Position-dependent, those pages stay shared with the
//! page cache and the relocations do not exist.
//!
//! The cost is that the binary's own code and data are not at a randomized address (shared
//! libraries, heap, stack and mmaps still are), as with `podman` and the `docker` CLI as
//! Debian ships them. The libraries and tests are not affected: only the binaries are linked so.
fn main() {
    println!("cargo::rustc-link-arg-bins=-no-pie");
}
