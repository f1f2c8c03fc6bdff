// Parses each Mermaid diagram given on stdin as JSON (a list of texts) with mermaid.js itself,
// in a jsdom window: prints each diagram's type, or fails with the parser's error. Run with
// `node --input-type=module` from build/mermaid (scripts/test installs mermaid and jsdom there).
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const diagrams = JSON.parse(process.env.MERMAID_DIAGRAMS);
for (const text of diagrams) {
  const parsed = await mermaid.parse(text);
  console.log(parsed.diagramType);
}
