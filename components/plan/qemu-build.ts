/**
 * The ptnet QEMU build (netmap-unipi/qemu, QEMU 3.0.x). configure options follow
 * luigirizzo/netmap README.ptnetmap.md ("--target-list=x86_64-softmmu --enable-kvm
 * --enable-vhost-net --disable-werror --enable-netmap") plus what a current distro needs to build
 * a 2019 QEMU (no docs toolchain, no capstone submodule, python3).
 */
import type { SourceSpec } from "../topology/model";
import { configKey } from "./canonical-hash";
import { sourceKeyPart } from "./source-key";
import { HOST_OPT_DIR, type QemuBuildPlan } from "./types";

export const QEMU_CONFIGURE_OPTIONS: readonly string[] = [
  "--target-list=x86_64-softmmu",
  "--enable-kvm",
  "--enable-vhost-net",
  "--enable-netmap",
  "--disable-werror",
  "--disable-docs",
  "--disable-capstone",
  "--python=python3",
];

export interface QemuConfigKeyInput {
  readonly source: SourceSpec;
  /** configure options without `--prefix` (which is derived from the key) and `--extra-cflags`. */
  readonly configureOptions: readonly string[];
  /** QEMU's netmap backend compiles against netmap's headers, so their source is part of the key. */
  readonly netmapSource: SourceSpec;
}

export function qemuConfigKey(input: QemuConfigKeyInput): string {
  return configKey({
    kind: "qemu",
    source: sourceKeyPart(input.source),
    configureOptions: [...input.configureOptions],
    netmapSource: sourceKeyPart(input.netmapSource),
  });
}

/** The final key for the build stamp: a moving ref (e.g. master) rebuilds when either commit moves. */
export function qemuBuildKey(
  qemuConfigKeyValue: string,
  resolvedCommit: string,
  netmapResolvedCommit: string,
): string {
  return configKey({
    kind: "qemu-build",
    configKey: qemuConfigKeyValue,
    resolvedCommit,
    netmapResolvedCommit,
  });
}

export function qemuPrefix(qemuConfigKeyValue: string): string {
  return `${HOST_OPT_DIR}/qemu/${qemuConfigKeyValue}`;
}

export function planQemuBuild(
  source: SourceSpec,
  netmapSource: SourceSpec,
  installBuildDeps = true,
): QemuBuildPlan {
  const key = qemuConfigKey({ source, configureOptions: QEMU_CONFIGURE_OPTIONS, netmapSource });
  const prefix = qemuPrefix(key);
  return {
    source,
    configKey: key,
    prefix,
    binary: `${prefix}/bin/qemu-system-x86_64`,
    configureOptions: [...QEMU_CONFIGURE_OPTIONS, `--prefix=${prefix}`],
    installBuildDeps,
  };
}

/** configure's full argv; QEMU's net/netmap.c includes <net/netmap.h>, which lives in netmap's sys/. */
export function qemuConfigureArgs(plan: QemuBuildPlan, netmapSourceDir: string): string[] {
  return [...plan.configureOptions, `--extra-cflags=-I${netmapSourceDir.replace(/\/+$/, "")}/sys`];
}
