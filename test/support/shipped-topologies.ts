/**
 * The shipped topologies (stacks/topologies/) as tests use them. Some ship an image digest still
 * awaiting a verified value, which validate rightly refuses; tests that need the rest of such a
 * topology (its hosts, switches, VMs) read it with that placeholder replaced by a test digest.
 * stacks/topologies/topologies.test.ts checks that a placeholder is the only thing wrong with them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { placeholderReason } from "../../components/topology/digests";
import { parseTopology, type DigestAlgorithm, type TopologyModel } from "../../components/topology";
import { TEST_SHA256, TEST_SHA512 } from "../../components/topology/test-digests";

export const SHIPPED_TOPOLOGIES_DIR = path.resolve(__dirname, "..", "..", "stacks", "topologies");

/**
 * Shipped topologies whose image digest is a placeholder until someone verifies the image's real
 * one (this project's machines cannot reach cloud.debian.org). Remove a name once it is pinned:
 * topologies.test.ts fails while the list and the files disagree.
 */
export const AWAITING_IMAGE_DIGEST: ReadonlySet<string> = new Set(["local.yaml", "paper-2015.yaml"]);

const TEST_DIGEST: Readonly<Record<DigestAlgorithm, string>> = { sha256: TEST_SHA256, sha512: TEST_SHA512 };

/** A `sha256:`/`sha512:` line of an images entry, in block style, the value quoted or not. */
const DIGEST_LINE = /^(\s*)(sha256|sha512):(\s*)("?)([0-9A-Fa-f]+)\4(\s*(#.*)?)$/gm;

/** The topology text with every placeholder image digest replaced by a test digest, nothing else changed. */
export function withTestDigests(text: string): string {
  return text.replace(
    DIGEST_LINE,
    (
      line: string,
      indent: string,
      key: DigestAlgorithm,
      space: string,
      quote: string,
      hex: string,
      rest: string,
    ) =>
      placeholderReason(key, hex) === undefined
        ? line
        : `${indent}${key}:${space}${quote}${TEST_DIGEST[key]}${quote}${rest}`,
  );
}

/** Reads a file, with test digests when it is a shipped topology (checkPlaybook's `readFile`). */
export function readWithTestDigests(file: string): string {
  const text = readFileSync(file, "utf8");
  return path.dirname(path.resolve(file)) === SHIPPED_TOPOLOGIES_DIR ? withTestDigests(text) : text;
}

/** A shipped topology's model, read with test digests; messages still name the shipped file. */
export function loadShippedTopology(name: string): TopologyModel {
  const file = path.join(SHIPPED_TOPOLOGIES_DIR, name);
  return parseTopology(readWithTestDigests(file), file);
}

/**
 * Copies of every shipped topology, with test digests, in a new directory: for code that reads a
 * topology by its path (the CLI, the Pulumi program). Call `remove` when done.
 */
export function shippedTopologiesWithTestDigests(): {
  readonly dir: string;
  path(name: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), "shipped-topologies-"));
  for (const name of readdirSync(SHIPPED_TOPOLOGIES_DIR).filter((file) => file.endsWith(".yaml"))) {
    writeFileSync(path.join(dir, name), readWithTestDigests(path.join(SHIPPED_TOPOLOGIES_DIR, name)));
  }
  return {
    dir,
    path: (name) => path.join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
