// The SPARQL editor: YASGUI (editor + result table), talking to this server's /sparql.
import Yasgui from "@zazuko/yasgui";
import "@zazuko/yasgui/build/yasgui.min.css";
import "./common.css";
import { root, setupSearch } from "./common.js";

const EXAMPLE = `PREFIX kg: <https://w3id.org/newskg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Who supports whom, and how many statements say so
SELECT ?who ?whom (COUNT(?statement) AS ?statements) WHERE {
  ?statement a kg:Statement ; kg:relation kg:supports ;
             kg:subject ?s ; kg:object ?o .
  ?s rdfs:label ?who . FILTER (LANG(?who) = "de")
  ?o rdfs:label ?whom . FILTER (LANG(?whom) = "de")
}
GROUP BY ?who ?whom
ORDER BY DESC(?statements)
LIMIT 20`;

const endpoint = new URL(`${root}/sparql`, location.href).href;
document.querySelector(".endpoint").textContent = endpoint;
setupSearch(document.querySelector("form.search"));

// Offline: no prefix.cc or Linked Open Vocabularies look-ups, only the bundled prefixes and the
// query's own variables.
Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];

const yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: { endpoint, method: "POST" },
  copyEndpointOnNewTab: true,
  endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
  // Tabs and queries are kept per server (host and port) in the browser's local storage.
  persistenceId: `newskg_${location.host}`,
  yasqe: { value: EXAMPLE, editorHeight: "260px" },
  yasr: { defaultPlugin: "table" },
});
window.newskg = { yasgui, endpoint };
document.body.dataset.state = "ready";
