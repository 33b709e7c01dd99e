import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { INSTALLED_PKT_GEN, describePktGen, pktGenCommand } from "./pkt-gen-command";

describe("pktGenCommand", () => {
  it("runs the pkt-gen the user names, as given", () => {
    expect(pktGenCommand("/usr/local/bin/pkt-gen")).toEqual(["/usr/local/bin/pkt-gen"]);
    expect(describePktGen("/usr/local/bin/pkt-gen")).toBe("/usr/local/bin/pkt-gen");
  });

  it("by default prefers the installed pkt-gen and falls back to PATH, passing every argument", () => {
    const argv = pktGenCommand(undefined);
    expect(argv.join(" ")).toContain(INSTALLED_PKT_GEN);
    // Without the installed one (this machine has none), the one on PATH runs with the arguments.
    expect(fs.existsSync(INSTALLED_PKT_GEN)).toBe(false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-pkt-gen-"));
    try {
      fs.writeFileSync(path.join(dir, "pkt-gen"), '#!/bin/sh\necho "pkt-gen on PATH: $*"\n', { mode: 0o755 });
      expect(argv[0]).toBe("sh");
      const run = spawnSync("sh", [...argv.slice(1), "-i", "vale0:a b", "-f", "tx"], {
        env: { PATH: `${dir}:/usr/bin:/bin` },
        encoding: "utf8",
      });
      expect(run.stdout).toBe("pkt-gen on PATH: -i vale0:a b -f tx\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(describePktGen(undefined)).toBe(`${INSTALLED_PKT_GEN}, else pkt-gen on PATH`);
  });
});
