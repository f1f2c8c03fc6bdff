// The job summary as GitHub shows it: GitHub-flavoured Markdown (marked), the alert blocks
// (https://github.com/orgs/community/discussions/16925) and the ```mermaid``` chart (mermaid.js),
// all from local files. The page's height goes to the title when done (scripts/gallery).
const ALERTS = { NOTE: "Note", TIP: "Tip", IMPORTANT: "Important", WARNING: "Warning", CAUTION: "Caution" };
const source = JSON.parse(document.getElementById("source").textContent);
const root = document.getElementById("markdown");
root.innerHTML = marked.parse(source, { gfm: true, breaks: false });

for (const quote of root.querySelectorAll("blockquote")) {
  const first = quote.querySelector("p");
  const match = first && first.innerHTML.match(/^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*(<br>)?\s*/);
  if (!match) continue;
  first.innerHTML = first.innerHTML.slice(match[0].length);
  if (!first.innerHTML.trim()) first.remove();
  const title = document.createElement("p");
  title.className = "alert-title";
  title.textContent = ALERTS[match[1]];
  quote.prepend(title);
  quote.classList.add("alert", "alert-" + match[1].toLowerCase());
}

for (const code of root.querySelectorAll("pre > code.language-mermaid")) {
  const chart = document.createElement("pre");
  chart.className = "mermaid";
  chart.textContent = code.textContent;
  code.parentElement.replaceWith(chart);
}

mermaid.initialize({ startOnLoad: false, theme: "default", securityLevel: "strict" });
mermaid
  .run({ querySelector: "pre.mermaid" })
  .catch((error) => {
    document.body.insertAdjacentHTML("afterbegin", '<p id="error"></p>');
    document.getElementById("error").textContent = "mermaid: " + error;
  })
  .finally(() => {
    document.title = String(Math.ceil(document.documentElement.getBoundingClientRect().height));
  });
