/**
 * netmap.ko module parameters a topology may set. On Linux every SYSCTL_INT(_dev_netmap, …) is a
 * module_param_named() (LINUX/bsd_glue.h), so the list is the writable sysctls of upstream
 * luigirizzo/netmap:
 * - sys/dev/netmap/netmap.c: verbose, debug, no_timestamp, no_pendintr, txsync_retry, fwd, admode,
 *   generic_hwcsum, generic_mit, generic_ringsize, generic_rings, generic_txqdisc, ptnet_vnet_hdr
 *   (older releases also: mitigate, ptnetmap_tx_workers);
 * - sys/dev/netmap/netmap_mem2.c DECLARE_SYSCTLS(if|ring|buf): {if,ring,buf}_{size,num} and
 *   priv_{if,ring,buf}_{size,num} (the *_curr_* ones are read-only and cannot be set);
 * - sys/dev/netmap/netmap_vale.c: bridge_batch.
 * `max_bridges` is kept because the design relies on it (load-time VALE switch count, default 8);
 * upstream sources searched here only show the compile-time NM_BRIDGES, see docs/topology.md.
 */
export const NETMAP_PARAMS = [
  "admode",
  "bridge_batch",
  "buf_num",
  "buf_size",
  "debug",
  "fwd",
  "generic_hwcsum",
  "generic_mit",
  "generic_ringsize",
  "generic_rings",
  "generic_txqdisc",
  "if_num",
  "if_size",
  "max_bridges",
  "mitigate",
  "no_pendintr",
  "no_timestamp",
  "priv_buf_num",
  "priv_buf_size",
  "priv_if_num",
  "priv_if_size",
  "priv_ring_num",
  "priv_ring_size",
  "ptnet_vnet_hdr",
  "ptnetmap_tx_workers",
  "ring_num",
  "ring_size",
  "txsync_retry",
  "verbose",
] as const;

export type NetmapParam = (typeof NETMAP_PARAMS)[number];

export function isNetmapParam(name: string): name is NetmapParam {
  return (NETMAP_PARAMS as readonly string[]).includes(name);
}
