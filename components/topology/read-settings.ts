/** Reads the build settings: `netmap`, `qemu`, source specs and `images`. */
import type { DraftImage, DraftNetmap } from "./draft";
import { checkDigest, DIGEST_ALGORITHMS, DIGEST_HEX_DIGITS, whereToGetDigest } from "./digests";
import { IMAGE_RECIPES, type ImageDigest, type ImageSpec, type QemuSettings, type SourceSpec } from "./model";
import { checkDriverName, checkObjectName } from "./names";
import { isNetmapParam, NETMAP_PARAMS } from "./netmap-params";
import { childPath } from "./paths";
import { PARAM_MAX } from "./limits";
import type { Reader } from "./reader";
import {
  checkDownloadUrl,
  checkDriverVersion,
  checkGitUrl,
  checkHostPath,
  checkRef,
  resolveControllerPath,
} from "./sources";
import { didYouMean } from "./suggest";

export function readSource(r: Reader, node: unknown, path: string): SourceSpec | undefined {
  const fields = r.fields(node, path, { optional: ["git", "ref", "path", "hostPath"] }, "source");
  if (!fields) return undefined;
  const forms = ["git", "path", "hostPath"].filter((form) => fields.has(form));
  if (forms.length !== 1) {
    const why = forms.length === 0 ? "one of them" : `not ${forms.join(" and ")}`;
    r.report(
      path,
      `source needs exactly one of git: (with ref:), path: (a tarball or directory on this machine, uploaded to each host) or hostPath: (one already on each host), ${why}`,
    );
    return undefined;
  }
  const form = forms[0];
  if (form !== "git") {
    if (fields.has("ref"))
      r.reportKey(childPath(path, "ref"), `ref applies only to git sources; remove it or use git:`);
    const at = childPath(path, form);
    if (form === "hostPath") {
      const dir = r.string(fields.get(form), at, "hostPath", checkHostPath);
      return dir === undefined ? undefined : { kind: "hostPath", path: dir };
    }
    const written = r.string(fields.get(form), at, "path");
    if (written === undefined) return undefined;
    const resolved = resolveControllerPath(written, r.file);
    if ("error" in resolved) {
      r.report(at, resolved.error);
      return undefined;
    }
    return { kind: "path", path: resolved.path };
  }
  const url = r.string(fields.get("git"), childPath(path, "git"), "git URL", checkGitUrl);
  if (!fields.has("ref")) {
    r.reportAt(
      path,
      childPath(path, "ref"),
      `a git source needs ref: (branch, tag or commit), e.g. ref: master`,
    );
    return undefined;
  }
  const ref = r.text(fields.get("ref"), childPath(path, "ref"), "ref", checkRef);
  return url === undefined || ref === undefined ? undefined : { kind: "git", git: url, ref };
}

function readDrivers(r: Reader, node: unknown, path: string): string[] {
  const drivers: string[] = [];
  for (const item of r.list(node, path, "drivers")) {
    const name = r.string(item.node, item.path, "driver name", checkDriverName);
    if (name === undefined) continue;
    if (drivers.includes(name)) {
      r.report(item.path, `driver "${name}" is listed twice; remove one`);
      continue;
    }
    drivers.push(name);
  }
  return drivers;
}

function readDriverVersions(
  r: Reader,
  node: unknown,
  path: string,
  drivers: readonly string[],
): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const entry of r.entries(node, path, "driverVersions")) {
    const version = r.text(entry.node, entry.path, "driver version", checkDriverVersion);
    if (!drivers.includes(entry.name)) {
      const listed = drivers.length > 0 ? drivers.join(", ") : "none";
      r.reportKey(
        entry.path,
        `driverVersions names "${entry.name}", which is not in netmap.drivers (${listed})` +
          `${didYouMean(entry.name, drivers)}; add it to drivers or remove this version`,
      );
      continue;
    }
    if (version !== undefined) versions[entry.name] = version;
  }
  return versions;
}

function readParams(r: Reader, node: unknown, path: string): Record<string, number> {
  const params: Record<string, number> = {};
  for (const entry of r.entries(node, path, "netmap params")) {
    if (!isNetmapParam(entry.name)) {
      r.reportKey(
        entry.path,
        `"${entry.name}" is not a netmap module parameter${didYouMean(entry.name, NETMAP_PARAMS)}; ` +
          `known ones: ${NETMAP_PARAMS.join(", ")}`,
      );
      continue;
    }
    const value = r.integer(entry.node, entry.path, `netmap parameter ${entry.name}`, 0, PARAM_MAX);
    if (value !== undefined) params[entry.name] = value;
  }
  return params;
}

export function readNetmap(r: Reader, node: unknown, path: string): DraftNetmap | undefined {
  const fields = r.fields(
    node,
    path,
    { required: ["source"], optional: ["drivers", "driverVersions", "params"] },
    "netmap",
  );
  if (!fields) return undefined;
  const source = fields.has("source")
    ? readSource(r, fields.get("source"), childPath(path, "source"))
    : undefined;
  const drivers = readDrivers(r, fields.get("drivers"), childPath(path, "drivers"));
  const driverVersions = readDriverVersions(
    r,
    fields.get("driverVersions"),
    childPath(path, "driverVersions"),
    drivers,
  );
  const params = readParams(r, fields.get("params"), childPath(path, "params"));
  return { source, drivers, driverVersions, params };
}

export function readQemu(r: Reader, node: unknown, path: string): QemuSettings | undefined {
  const fields = r.fields(node, path, { required: ["source"], optional: ["installBuildDeps"] }, "qemu");
  if (!fields?.has("source")) return undefined;
  const source = readSource(r, fields.get("source"), childPath(path, "source"));
  const installBuildDeps = fields.has("installBuildDeps")
    ? r.boolean(fields.get("installBuildDeps"), childPath(path, "installBuildDeps"), "installBuildDeps")
    : true;
  return source === undefined ? undefined : { source, installBuildDeps: installBuildDeps ?? true };
}

/**
 * Exactly one of sha256/sha512: one digest is what fetch-image.sh verifies, and two could disagree.
 * Each given value is checked even when both are there, so every problem shows in one run.
 */
function readDigest(
  r: Reader,
  name: string,
  fields: Map<string, unknown>,
  path: string,
): ImageDigest | undefined {
  const given = DIGEST_ALGORITHMS.filter((algorithm) => fields.has(algorithm));
  if (given.length === 0) {
    const forms = DIGEST_ALGORITHMS.map((a) => `${a}: (${DIGEST_HEX_DIGITS[a]} hex digits)`).join(" or ");
    r.reportKey(path, `image ${name} needs a digest: add ${forms}, ${whereToGetDigest("sha512")}`);
    return undefined;
  }
  if (given.length > 1) {
    r.reportKey(
      path,
      `image ${name} has both sha256 and sha512; keep exactly one, the one its publisher gives (Debian: sha512), and remove the other`,
    );
  }
  const digests = given.map((algorithm) => {
    const hex = r.text(fields.get(algorithm), childPath(path, algorithm), algorithm, (value) =>
      checkDigest(algorithm, value),
    );
    return hex === undefined ? undefined : { algorithm, hex: hex.toLowerCase() };
  });
  return digests.length === 1 ? digests[0] : undefined;
}

function readImage(r: Reader, name: string, node: unknown, path: string): ImageSpec | undefined {
  const fields = r.fields(
    node,
    path,
    { optional: ["url", "sha256", "sha512", "os", "recipe"] },
    `image ${name}`,
  );
  if (!fields) return undefined;
  if (fields.has("recipe")) return readRecipeImage(r, name, fields, path);
  if (!fields.has("url")) {
    r.reportKey(
      path,
      `image ${name} needs url: (with sha256: or sha512:) for a published image, or recipe: ${IMAGE_RECIPES.join(" | ")} for one this machine builds`,
    );
  }
  const url = fields.has("url")
    ? r.string(fields.get("url"), childPath(path, "url"), "url", checkDownloadUrl)
    : undefined;
  const digest = readDigest(r, name, fields, path);
  const os = fields.has("os")
    ? r.oneOf(fields.get("os"), childPath(path, "os"), "os", ["linux", "freebsd"] as const)
    : "linux";
  if (url === undefined || digest === undefined || os === undefined) return undefined;
  return { kind: "url", name, url, digest, os };
}

/** A recipe image is built here and checked by its recipe's hash: a URL or digest would contradict it. */
function readRecipeImage(
  r: Reader,
  name: string,
  fields: Map<string, unknown>,
  path: string,
): ImageSpec | undefined {
  for (const field of ["url", ...DIGEST_ALGORITHMS]) {
    if (fields.has(field)) {
      r.reportKey(
        childPath(path, field),
        `image ${name} is built from recipe: here, so it has no ${field}; remove ${field}, or remove recipe to download the image`,
      );
    }
  }
  const recipe = r.oneOf(fields.get("recipe"), childPath(path, "recipe"), "recipe", IMAGE_RECIPES);
  const os = fields.has("os")
    ? r.oneOf(fields.get("os"), childPath(path, "os"), "os", ["linux"] as const)
    : "linux";
  if (recipe === undefined || os === undefined) return undefined;
  if (fields.has("url") || DIGEST_ALGORITHMS.some((a) => fields.has(a))) return undefined;
  return { kind: "recipe", name, recipe, os };
}

export function readImages(r: Reader, node: unknown, path: string): DraftImage[] {
  return r.entries(node, path, "images").map((entry) => {
    const problem = checkObjectName("image", entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    return { name: entry.name, path: entry.path, spec: readImage(r, entry.name, entry.node, entry.path) };
  });
}
