// Read action.yml files and workflows with GitHub's own parser, @actions/workflow-parser (the
// template reader of actions/languageservices): what GitHub refuses here fails at "Set up job".
// Usage: node build/parse-actions/parse.cjs FILE...   Exit 1 when any file has an error.
// A file named action.yml or action.yaml is read as an action, any other as a workflow.
// scripts/test bundles this to CommonJS with esbuild: Node 20 cannot import the package's JSON
// schema as ESM, and an ESM bundle fails with "Dynamic require of process".
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  parseWorkflow,
} from "@actions/workflow-parser";
import { convertActionTemplate, parseAction } from "@actions/workflow-parser/actions/index";

async function errors(path) {
  const file = { name: path, content: readFileSync(path, "utf8") };
  const trace = new NoOperationTraceWriter();
  if (/^action\.ya?ml$/.test(basename(path))) {
    const parsed = parseAction(file, trace);
    if (parsed.value) convertActionTemplate(parsed.context, parsed.value);
    return parsed.context.errors.getErrors();
  }
  const parsed = parseWorkflow(file, trace);
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  return parsed.context.errors.getErrors();
}

async function main(paths) {
  let failed = 0;
  for (const path of paths) {
    const found = await errors(path);
    for (const error of found) console.log(error.message); // they name the file, line and column
    failed += found.length ? 1 : 0;
  }
  console.log(`workflow-parser: ${paths.length} files, ${failed} with errors`);
  return failed || !paths.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.log(`workflow-parser: ${error.stack ?? error}`);
    process.exit(2);
  },
);
