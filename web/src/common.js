// Shared by both pages: the app's root path, JSON calls, a DOM helper, the entity search box.

export const root = document.body.dataset.root || "";

// One colour per entity class (Tableau 10), used by the graph, the legend and the search list.
export const TYPE_COLOURS = {
  Person: "#e15759",
  Organization: "#4e79a7",
  Country: "#59a14f",
  Location: "#f28e2b",
  Other: "#9c755f",
};
export const UNKNOWN_COLOUR = "#9aa0a6";

export function colourOf(type) {
  return TYPE_COLOURS[type] || UNKNOWN_COLOUR;
}

// GET a JSON view; throws an Error carrying the server's "detail" when the answer is not 2xx.
export async function api(path, params) {
  const url = new URL(root + path, location.href);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    const error = new Error(detail || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// el("a", {href: "/x", class: "y"}, "text", child): text is always set as text, never parsed as HTML.
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The page of an entity: /ui/entity/<key> (each path segment escaped), or ?iri= for entities off the base.
export function entityHref(entity) {
  if (entity.key) return `${root}/ui/entity/${entity.key.split("/").map(encodeURIComponent).join("/")}`;
  return `${root}/ui/entity?iri=${encodeURIComponent(entity.iri)}`;
}

export function typeDot(type) {
  return el("span", { class: "dot", style: `background:${colourOf(type)}`, title: type || "entity" });
}

// The search box in the top bar: suggestions as you type (/api/entities), arrows + Enter to pick one.
export function setupSearch(form) {
  const input = form.querySelector("input");
  const list = form.querySelector(".suggestions");
  let hits = [];
  let active = -1;
  let timer = 0;
  let sequence = 0;

  const hide = () => {
    list.hidden = true;
    active = -1;
  };
  const go = (hit) => {
    if (hit) location.href = entityHref(hit);
  };
  const render = () => {
    list.replaceChildren(
      ...hits.map((hit, i) =>
        el(
          "li",
          { role: "option", class: i === active ? "active" : null, onmousedown: (e) => (e.preventDefault(), go(hit)) },
          typeDot(hit.type),
          el("span", { class: "name" }, hit.label),
          hit.matched !== hit.label ? el("span", { class: "muted" }, ` “${hit.matched}”`) : null,
          el("span", { class: "meta" }, [hit.type, hit.qid].filter(Boolean).join(" · ")),
        ),
      ),
    );
    if (!hits.length) list.append(el("li", { class: "muted empty" }, "no entity with that name"));
    list.hidden = false;
  };
  const search = async () => {
    const q = input.value.trim();
    if (!q) return hide();
    const mine = ++sequence;
    try {
      const found = await api("/api/entities", { q, limit: 8 });
      if (mine !== sequence) return;
      hits = found;
      active = hits.length ? 0 : -1;
      render();
    } catch (error) {
      if (mine === sequence) list.replaceChildren(el("li", { class: "muted empty" }, error.message));
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (list.hidden || !hits.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
      render();
    } else if (e.key === "Escape") {
      hide();
    }
  });
  input.addEventListener("blur", () => setTimeout(hide, 150));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearTimeout(timer);
    if (!hits.length || list.hidden) await search();
    go(hits[Math.max(active, 0)]);
  });
}
