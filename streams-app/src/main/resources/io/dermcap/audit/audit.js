// The audit page: the token stays in this tab's sessionStorage and goes out only as a bearer
// header to this origin. Every value is put in the page as text (textContent), never as HTML.
"use strict";
(() => {
  const KEY = "dermcap-audit-token";
  const $ = (id) => document.getElementById(id);
  let info = null;
  let next = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function api(path) {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) }, cache: "no-store" });
    if (r.status === 401) { logout("The token was refused."); throw new Error("unauthorized"); }
    return r;
  }

  function logout(message) {
    sessionStorage.removeItem(KEY);
    info = null;
    $("app").hidden = true;
    $("logout").hidden = true;
    $("who").textContent = "";
    $("results").replaceChildren();
    $("latest").tBodies[0].replaceChildren();
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function login() {
    const r = await api("/v1/info");
    if (!r.ok) { $("login-error").textContent = "The service answered " + r.status + "; try again shortly."; return; }
    info = await r.json();
    $("login-view").hidden = true;
    $("login-error").textContent = "";
    $("app").hidden = false;
    $("logout").hidden = false;
    $("who").textContent = "instance " + info.instance;
    const pt = $("kind").querySelector("option[value=passthrough]");
    pt.disabled = !info.passthrough_field;
    pt.textContent = info.passthrough_field ? "Passthrough " + info.passthrough_field : "Passthrough (not indexed)";
    latest();
  }

  // Flattens an event into rows: "model.bundle_name" → value; lists of scalars joined.
  function rows(prefix, value, out) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const k of Object.keys(value)) rows(prefix ? prefix + "." + k : k, value[k], out);
    } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object")) {
      value.forEach((v, i) => rows(prefix + "[" + i + "]", v, out));
    } else {
      out.push([prefix, Array.isArray(value) ? value.join(", ") : value]);
    }
    return out;
  }

  const GROUPS = [["Lineage", ["model", "bundle"]], ["Generation", ["generation"]], ["Timings", ["timings"]],
    ["Runtime", ["runtime", "instance_id", "service_version", "bundle_name", "bundle_version"]],
    ["Request", null]];

  function fieldTable(title, pairs) {
    const t = el("table", "fields " + title.toLowerCase());
    const cap = el("caption", null, title);
    t.append(cap);
    for (const [k, v] of pairs) {
      const tr = el("tr");
      tr.append(el("th", null, k), el("td", null, v === null ? "—" : v));
      t.append(tr);
    }
    return t;
  }

  function render(o, requestId) {
    const ev = o.event;
    const failed = o.kind === "failure";
    const card = el("article", "outcome " + (failed ? "failure" : "caption-ok"));
    const thumb = el("div", "thumb", failed ? "no image (failed request)" : "loading image…");
    const body = el("div");
    body.append(el("h3", null, (failed ? "Failed" : "Captioned") + " · " + (ev.request_id || requestId || "") + " · "
      + (failed ? ev.failed_at : ev.captioned_at)));
    if (failed) {
      const p = el("p");
      p.append(el("span", "failure-code", ev.code), document.createTextNode(": "), el("span", "failure-message", ev.message));
      body.append(p);
    } else {
      body.append(el("p", "caption", ev.caption));
      loadThumb(thumb, ev.request_id, o.position);
    }
    const all = rows("", ev, []).filter(([k]) => k !== "caption" && k !== "token_ids" && k !== "raw_key" && k !== "raw_value");
    const used = new Set();
    for (const [title, tops] of GROUPS) {
      const pairs = all.filter(([k]) => !used.has(k) && (tops === null || tops.includes(k.split(/[.[]/)[0])));
      pairs.forEach(([k]) => used.add(k));
      if (pairs.length) body.append(fieldTable(title, pairs));
    }
    card.append(thumb, body);
    return card;
  }

  async function loadThumb(box, requestId, position) {
    try {
      const r = await api("/v1/outcomes/" + encodeURIComponent(requestId) + "/thumbnail?position=" + encodeURIComponent(position));
      if (!r.ok) { const e = await r.json(); box.textContent = "image: " + e.message; return; }
      const img = el("img", "thumbnail");
      img.alt = "image of request " + requestId;
      img.src = URL.createObjectURL(await r.blob());
      box.replaceChildren(img);
    } catch (e) { box.textContent = "image unavailable"; }
  }

  async function search(more) {
    const q = $("query").value.trim();
    const kind = $("kind").value;
    let path;
    if (kind === "request") path = "/v1/outcomes/" + encodeURIComponent(q);
    else if (kind === "image") path = "/v1/outcomes?image_sha256=" + encodeURIComponent(q.toLowerCase());
    else path = "/v1/outcomes?passthrough." + encodeURIComponent(info.passthrough_field) + "=" + encodeURIComponent(q);
    if (more && next) path += "&cursor=" + encodeURIComponent(next);
    if (!more) $("results").replaceChildren();
    $("status").textContent = "Searching…";
    const r = await api(path);
    const body = await r.json();
    if (!r.ok) {
      $("status").textContent = (r.status === 404 ? "Not found: " : "Error " + r.status + ": ") + body.message
        + (r.headers.get("Retry-After") ? " (retry in " + r.headers.get("Retry-After") + " s)" : "");
      $("more").hidden = true;
      return;
    }
    for (const o of body.outcomes) $("results").append(render(o, body.request_id));
    next = body.next_cursor || null;
    $("more").hidden = !next;
    $("status").textContent = $("results").children.length + " outcome(s), served by " + body.served_by;
  }

  async function latest() {
    const r = await api("/v1/latest?limit=20");
    const tbody = $("latest").tBodies[0];
    tbody.replaceChildren();
    if (!r.ok) { const tr = el("tr"); tr.append(el("td", null, "unavailable (" + r.status + ")")); tbody.append(tr); return; }
    for (const o of (await r.json()).outcomes) {
      const ev = o.event;
      const tr = el("tr");
      const link = el("button", null, ev.request_id);
      link.type = "button";
      link.addEventListener("click", () => { $("kind").value = "request"; $("query").value = ev.request_id; search(false); });
      const idCell = el("td");
      idCell.append(link);
      tr.append(el("td", null, ev.captioned_at || ev.failed_at), idCell,
        el("td", null, o.kind === "failure" ? ev.code : ev.caption),
        el("td", null, (ev.runtime && ev.runtime.instance_id) || ev.instance_id));
      tbody.append(tr);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, $("token").value.trim());
      $("token").value = "";
      login().catch(() => {});
    });
    $("search-form").addEventListener("submit", (e) => { e.preventDefault(); search(false).catch(() => {}); });
    $("more").addEventListener("click", () => search(true).catch(() => {}));
    $("logout").addEventListener("click", () => logout(""));
    if (sessionStorage.getItem(KEY)) login().catch(() => {});
  });
})();
