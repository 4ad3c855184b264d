//! Links the `gantry` binary as a position-dependent executable.
//!
//! Every `gantry` command, and every container's monitor, is a fresh process of this binary,
//! and `run --rm` starts two of them on its path. Built as a PIE, each start first has the
//! dynamic loader apply about 36,000 relative relocations, which copies about 150 pages of
//! `.data.rel.ro` (vtables, string tables, panic locations) into private memory. Linked
//! position-dependent, those relocations do not exist and the pages stay shared with the page
//! cache: a `run --rm` took about 1,050 page faults instead of 1,270, and 18.0 ms instead of
//! 19.2 in an interleaved comparison on the development VM (see README's performance notes).
//!
//! The cost is that the binary's own code and data are not at a randomized address (shared
//! libraries, heap, stacks and mmaps still are), as with `podman` and the `docker` CLI on the
//! development machine. Only the binaries are linked so, not the tests.
fn main() {
    println!("cargo::rustc-link-arg-bins=-no-pie");
}
