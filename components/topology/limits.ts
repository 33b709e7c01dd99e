/**
 * Numeric limits, each traced to where it comes from. Upstream references are to
 * luigirizzo/netmap (sys/dev/netmap/*); change a value here and every rule and message follows.
 */

/** NM_BDG_MAXPORTS in netmap_bdg.h: port slots of one VALE switch. */
export const VALE_MAX_PORTS = 254;

/**
 * Ports that can really be attached: netmap_get_bdg_na() refuses a new port when
 * `bdg_active_ports + 2 >= NM_BDG_MAXPORTS` (it always reserves room for a host-stack port), so
 * the last successful attach happens with 251 active ports → at most 252 slots in use.
 */
export const VALE_USABLE_PORT_SLOTS = VALE_MAX_PORTS - 2;

/** NM_BRIDGES in netmap_bdg.h: VALE switches per host unless `netmap.params.max_bridges` says otherwise. */
export const DEFAULT_MAX_BRIDGES = 8;

/** NM_BDG_MAXRINGS / NM_BDG_MAXSLOTS in netmap_vale.c: netmap silently clamps larger requests. */
export const VALE_MAX_RINGS = 16;
export const VALE_MAX_SLOTS = 4096;

/**
 * Pipe ids: the legacy API carries the id in `nr_ringid & NETMAP_RING_MASK` (0x0fff), so 0..4095
 * is what every netmap version accepts (newer ones take any identifier after `{`/`}`).
 */
export const PIPE_ID_MAX = 4095;

/** NM_MAXPIPES in netmap_kern.h: pipes (ids) one parent port can hold. */
export const MAX_PIPE_IDS = 64;

/**
 * vCPUs per VM. QEMU's pc machine allows more, but a ptnetmap test VM never needs more than a
 * socket's worth of cores and a small bound catches typos such as `cpus: 22` for `2`.
 */
export const VM_MAX_CPUS = 64;
/** Smallest memory a Debian/FreeBSD guest with netmap boots in reliably. */
export const VM_MIN_MEMORY_MIB = 256;
/** 1 TiB: above any test host; catches unit mix-ups such as `2048GiB`. */
export const VM_MAX_MEMORY_MIB = 1024 * 1024;

/** Local-lab hosts are QEMU guests on the user's machine; keep them in a size a laptop can run. */
export const LAB_MAX_CPUS = 64;
export const LAB_MIN_MEMORY_MIB = 1024;
export const LAB_MIN_DISK_GIB = 4;
export const LAB_MAX_DISK_GIB = 1024;

/** Hugepage count upper bound: 1 TiB of 1G pages; only there to catch typos. */
export const HUGEPAGES_MAX_COUNT = 1024 * 1024;

/** Linux module parameters are C ints. */
export const PARAM_MAX = 2 ** 31 - 1;
