// The entity page: its neighbourhood as a graph (Cytoscape.js), the statements behind a clicked edge.
import cytoscape from "cytoscape";
import "./common.css";
import { TYPE_COLOURS, api, colourOf, el, entityHref, root, setupSearch, typeDot } from "./common.js";

const SYMMETRIC = new Set(["meets", "partnerOf", "negotiatesWith"]);
const MODALITY_TEXT = { asserted: "asserted", hedged: "hedged", negated: "negated", planned: "planned" };

const card = document.getElementById("entity-card");
const panel = document.getElementById("statements");
const start = document.getElementById("start");
const state = { cy: null, entity: null };
window.newskg = state;

setupSearch(document.querySelector("form.search"));
drawLegend();
main().catch((error) => {
  card.replaceChildren(el("p", { class: "error" }, error.message));
  document.body.dataset.state = "error";
});

async function main() {
  const prefix = `${root}/ui/entity/`;
  const key = location.pathname.startsWith(prefix)
    ? location.pathname.slice(prefix.length).split("/").map(decodeURIComponent).join("/")
    : "";
  const iri = new URLSearchParams(location.search).get("iri");
  if (!key && !iri) return showStart();
  const entity = key
    ? await api(`/api/entities/${key.split("/").map(encodeURIComponent).join("/")}`)
    : await api("/api/entity", { iri });
  state.entity = entity;
  document.title = `${entity.label} · newskg`;
  drawCard(entity);
  drawGraph(entity);
  document.body.dataset.state = "ready";
}

// ---------------------------------------------------------------- the graph

function elementsOf(entity) {
  const nodes = new Map();
  const edges = [];
  const node = (ref, level) => {
    const known = nodes.get(ref.iri);
    if (known) known.data.level = Math.max(known.data.level, level);
    else nodes.set(ref.iri, { data: { id: ref.iri, label: ref.label, type: ref.type, key: ref.key, level } });
  };
  node(entity, 3);
  nodes.get(entity.iri).classes = "center";
  for (const group of [...entity.outgoing, ...entity.incoming]) {
    for (const link of group.links) {
      node(link.entity, 2);
      const [s, o] = group.direction === "outgoing" ? [entity, link.entity] : [link.entity, entity];
      edges.push(edge(`r|${group.relation}|${s.iri}|${o.iri}`, s, group.relation, o, link, "relation"));
    }
  }
  for (const claim of entity.claims) {
    node(claim.subject, 1);
    node(claim.object, 1);
    const id = `c|${claim.relation}|${claim.subject.iri}|${claim.object.iri}`;
    edges.push(edge(id, claim.subject, claim.relation, claim.object, claim, "claim", entity.iri));
  }
  return [...nodes.values(), ...edges];
}

function edge(id, subject, relation, object, counts, kind, speaker) {
  const classes = [kind];
  if (counts.negated === counts.statements) classes.push("negated");
  if (SYMMETRIC.has(relation)) classes.push("symmetric");
  const label = (counts.negated === counts.statements ? "not " : "") + relation;
  return {
    data: {
      id,
      source: subject.iri,
      target: object.iri,
      relation,
      speaker: speaker || null,
      statements: counts.statements,
      label: counts.statements > 1 ? `${label} ×${counts.statements}` : label,
    },
    classes: classes.join(" "),
  };
}

function drawGraph(entity) {
  const cy = cytoscape({
    container: document.getElementById("graph"),
    elements: elementsOf(entity),
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {
        selector: "node",
        style: {
          "background-color": (n) => colourOf(n.data("type")),
          label: "data(label)",
          "font-size": 12,
          "font-family": "system-ui, sans-serif",
          color: "#1f2328",
          "text-valign": "bottom",
          "text-margin-y": 5,
          "text-outline-color": "#fff",
          "text-outline-width": 2.5,
          "text-wrap": "wrap",
          "text-max-width": 140,
          width: 28,
          height: 28,
          "border-width": 2,
          "border-color": "#fff",
        },
      },
      {
        selector: "node.center",
        style: { width: 52, height: 52, "font-size": 15, "font-weight": "bold", "border-color": "#1f2328", "border-width": 3 },
      },
      {
        selector: "edge",
        style: {
          width: (e) => 1.5 + Math.min(4, Math.log2(e.data("statements"))),
          "curve-style": "bezier",
          "line-color": "#7d8590",
          "target-arrow-color": "#7d8590",
          "target-arrow-shape": "triangle",
          "arrow-scale": 1.1,
          label: "data(label)",
          "font-size": 10.5,
          "font-family": "system-ui, sans-serif",
          color: "#24292f",
          "text-rotation": "autorotate",
          "text-background-color": "#fff",
          "text-background-opacity": 0.9,
          "text-background-padding": 2,
          "text-background-shape": "roundrectangle",
        },
      },
      { selector: "edge.claim", style: { "line-style": "dashed", "line-color": "#b4bac3", "target-arrow-color": "#b4bac3", color: "#57606a" } },
      { selector: "edge.negated", style: { "line-color": "#cf222e", "target-arrow-color": "#cf222e", "line-style": "dotted", color: "#cf222e" } },
      { selector: "edge.symmetric", style: { "target-arrow-shape": "none" } },
      { selector: "edge.hidden", style: { display: "none" } },
      { selector: "node.hidden", style: { display: "none" } },
      { selector: "edge:selected", style: { "line-color": "#bf8700", "target-arrow-color": "#bf8700", width: 5, "z-index": 10 } },
      { selector: "node:selected", style: { "border-color": "#bf8700", "border-width": 4 } },
    ],
    layout: layoutOptions(),
  });
  cy.on("tap", "edge", (event) => {
    cy.elements().unselect();
    event.target.select();
    showStatements(event.target);
  });
  cy.on("tap", "node", (event) => {
    const data = event.target.data();
    if (data.id !== entity.iri) location.href = entityHref({ key: data.key, iri: data.id });
  });
  cy.on("mouseover", "node, edge", () => (cy.container().style.cursor = "pointer"));
  cy.on("mouseout", "node, edge", () => (cy.container().style.cursor = ""));
  document.getElementById("fit").addEventListener("click", () => cy.fit(undefined, 30));
  document.getElementById("show-claims").addEventListener("change", (event) => {
    cy.batch(() => {
      cy.edges(".claim").toggleClass("hidden", !event.target.checked);
      cy.nodes().forEach((n) => n.toggleClass("hidden", n.data("level") === 1 && !event.target.checked));
    });
    cy.layout(layoutOptions()).run();
  });
  state.cy = cy;
  state.showStatements = (id) => showStatements(cy.getElementById(id));
}

function layoutOptions() {
  // The entity in the middle, what it is linked with around it, what it only talks about outside.
  return {
    name: "concentric",
    concentric: (n) => (n.hasClass("hidden") ? 0 : n.data("level")),
    levelWidth: () => 1,
    minNodeSpacing: 64,
    spacingFactor: 1.05,
    avoidOverlap: true,
    animate: false,
    padding: 30,
    eles: undefined,
  };
}

function drawLegend() {
  const legend = document.getElementById("legend");
  legend.replaceChildren(
    ...Object.keys(TYPE_COLOURS).map((type) => el("li", {}, typeDot(type), type)),
    el("li", {}, el("span", { class: "line dashed" }), "claimed by the entity"),
    el("li", {}, el("span", { class: "line negated" }), "negated"),
  );
}

// ---------------------------------------------------------------- the side panel

function drawCard(entity) {
  const counts = [
    `${entity.articles} article${entity.articles === 1 ? "" : "s"}`,
    `${entity.statements} statement${entity.statements === 1 ? "" : "s"}`,
    entity.claims.length ? `${entity.claims.reduce((n, c) => n + c.statements, 0)} as speaker` : null,
  ].filter(Boolean);
  const groups = [...entity.outgoing, ...entity.incoming];
  card.replaceChildren(
    el("h1", {}, typeDot(entity.type), entity.label),
    el(
      "p",
      { class: "meta" },
      el("span", {}, entity.type || "entity"),
      entity.qid ? el("a", { href: entity.wikidata_url, rel: "noopener", target: "_blank" }, `Wikidata ${entity.qid}`) : null,
    ),
    el("p", { class: "meta" }, counts.map((text) => el("span", {}, text))),
    entity.description ? el("p", {}, entity.description) : null,
    entity.aliases.length ? el("p", { class: "aliases" }, "Written as: ", entity.aliases.join(", ")) : null,
    groups.length
      ? el(
          "ul",
          { class: "relations" },
          groups.flatMap((group) =>
            group.links.map((link) =>
              el(
                "li",
                {},
                el(
                  "a",
                  {
                    href: "#",
                    onclick: (e) => {
                      e.preventDefault();
                      const [s, o] = group.direction === "outgoing" ? [entity, link.entity] : [link.entity, entity];
                      const edge = state.cy.getElementById(`r|${group.relation}|${s.iri}|${o.iri}`);
                      state.cy.elements().unselect();
                      edge.select();
                      showStatements(edge);
                    },
                  },
                  group.direction === "outgoing" ? `${group.relation} → ` : `← ${group.relation} `,
                ),
                typeDot(link.entity.type),
                el("a", { href: entityHref(link.entity) }, link.entity.label),
                el("span", { class: "muted" }, ` ${link.statements}`),
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, "No statements with it as subject or object."),
    el("p", { class: "hint" }, "Click an edge to read the statements behind it; click a node to open it."),
  );
}

async function showStatements(edge) {
  if (!edge || edge.empty()) return;
  const data = edge.data();
  const source = edge.source().data();
  const target = edge.target().data();
  panel.hidden = false;
  panel.replaceChildren(el("p", { class: "muted" }, "Loading statements…"));
  const title = el(
    "h2",
    {},
    source.label,
    el("span", { class: "relation" }, ` ${data.relation} `),
    target.label,
    data.speaker ? el("span", { class: "muted" }, ` — according to ${state.entity.label}`) : null,
  );
  try {
    const statements = await api("/api/statements", {
      subject: source.key || source.id,
      relation: data.relation,
      object: target.key || target.id,
      speaker: data.speaker,
    });
    panel.replaceChildren(
      title,
      el("p", { class: "meta" }, `${statements.length} statement${statements.length === 1 ? "" : "s"}`),
      el("ol", { class: "statements" }, statements.map(statementItem)),
    );
    panel.dataset.edge = data.id;
    document.body.dataset.statements = String(statements.length);
  } catch (error) {
    panel.replaceChildren(title, el("p", { class: "error" }, error.message));
  }
}

function statementItem(st) {
  const article = st.article;
  const articleName = article.title || article.file_name;
  return el(
    "li",
    { class: "statement" },
    el(
      "div",
      { class: "meta" },
      el("span", { class: `badge ${st.modality}` }, MODALITY_TEXT[st.modality] || st.modality),
      el("span", { class: "speaker" }, st.speaker ? ["says ", el("a", { href: entityHref(st.speaker) }, st.speaker.label)] : "the article’s own voice"),
      el("span", { class: "muted" }, `confidence ${st.confidence}`),
    ),
    el("blockquote", { class: "evidence" }, highlight(st.evidence.trim(), st.trigger)),
    el(
      "div",
      { class: "source" },
      article.url ? el("a", { href: article.url, rel: "noopener", target: "_blank" }, articleName) : articleName,
      article.date ? ` · ${article.date}` : null,
    ),
  );
}

// The evidence sentence with the trigger words (when the sentence contains them) in bold.
function highlight(sentence, trigger) {
  const at = trigger ? sentence.indexOf(trigger) : -1;
  if (at < 0) return [sentence];
  return [sentence.slice(0, at), el("mark", {}, trigger), sentence.slice(at + trigger.length)];
}

// ---------------------------------------------------------------- no entity chosen yet

async function showStart() {
  start.hidden = false;
  start.replaceChildren(el("p", { class: "muted" }, "Loading the most connected entities…"));
  const query = `SELECT ?e (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) ?n WHERE {
  { SELECT ?e (COUNT(DISTINCT ?st) AS ?n) WHERE { { ?st kg:subject ?e } UNION { ?st kg:object ?e } }
    GROUP BY ?e ORDER BY DESC(?n) LIMIT 20 }
  OPTIONAL { ?e rdfs:label ?l FILTER (LANGMATCHES(LANG(?l), "de")) }
  OPTIONAL { ?e a ?t FILTER (STRSTARTS(STR(?t), STR(kg:))) }
} GROUP BY ?e ?n ORDER BY DESC(?n)`;
  const response = await fetch(`${root}/sparql?${new URLSearchParams({ query })}`, {
    headers: { Accept: "application/sparql-results+json" },
  });
  if (!response.ok) throw new Error(`the SPARQL endpoint answered ${response.status}`);
  const rows = (await response.json()).results.bindings;
  start.replaceChildren(
    el("h2", {}, "Most connected entities"),
    el(
      "ul",
      { class: "relations" },
      rows.map((row) => {
        const type = row.type ? row.type.value.split("#").pop() : null;
        const label = row.label ? row.label.value : row.e.value;
        return el(
          "li",
          {},
          typeDot(type),
          el("a", { href: entityHref({ iri: row.e.value }) }, label),
          el("span", { class: "muted" }, ` ${row.n.value} statements`),
        );
      }),
    ),
  );
  document.body.dataset.state = "ready";
}
