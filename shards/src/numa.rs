//! NUMA placement: each shard prefers memory from its core's node, set before it allocates its
//! buffers (first touch then lands them there). On a one-node machine the call still runs.

use std::path::Path;

/// Linux's MPOL_PREFERRED: allocate on the node when it has memory, else elsewhere.
const MPOL_PREFERRED: libc::c_int = 1;

/// The NUMA node of a CPU, from sysfs (`/sys/devices/system/cpu/cpuN/nodeM`); 0 when sysfs
/// does not say (a kernel without NUMA).
pub fn node_of_cpu(cpu: usize) -> usize {
    let dir = format!("/sys/devices/system/cpu/cpu{cpu}");
    std::fs::read_dir(Path::new(&dir))
        .ok()
        .and_then(|entries| {
            entries.flatten().find_map(|entry| {
                entry
                    .file_name()
                    .to_str()?
                    .strip_prefix("node")?
                    .parse::<usize>()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// Makes the calling thread prefer memory on `node`.
pub fn prefer_node(node: usize) -> std::io::Result<()> {
    const MASK_BITS: usize = 64;
    if node >= MASK_BITS {
        return Err(std::io::Error::other(format!(
            "NUMA node {node} is beyond the {MASK_BITS}-node mask"
        )));
    }
    let mask: u64 = 1 << node;
    // SAFETY: set_mempolicy reads `MASK_BITS` bits from the pointer, which points at a u64.
    let result = unsafe {
        libc::syscall(
            libc::SYS_set_mempolicy,
            MPOL_PREFERRED,
            &mask as *const u64,
            MASK_BITS as libc::c_ulong,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_zero_has_a_node_and_preferring_it_works() {
        let node = node_of_cpu(0);
        prefer_node(node).expect("set_mempolicy on this machine");
        assert!(prefer_node(64).is_err());
    }
}
