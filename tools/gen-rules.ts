/** Writes kernel-builds/lib/rules.sh from components/topology/shared-rules.ts (`npm run gen:rules`). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderShellRules } from "../components/topology/shared-rules";

const target = path.join(__dirname, "..", "kernel-builds", "lib", "rules.sh");
writeFileSync(target, renderShellRules(), { mode: 0o644 });
console.log(`wrote ${path.relative(process.cwd(), target)}`);
