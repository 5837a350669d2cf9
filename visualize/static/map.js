/* laborgraph map: draws the MapModel held in #map-data with vis-network.
 * Every string from the data is shown with textContent (or on the canvas): never as markup.
 * Positions are computed in Python; physics is off, so the page is interactive at once. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("map-data").textContent);
  var container = document.getElementById("map");
  var panel = document.getElementById("panel");
  var big = data.nodes.length > 1500 || data.edges.length > 3000;
  var FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif";
  var DIM = { background: "#eceef1", border: "#d5d9df", text: "#b9c0c8", edge: "#e2e5e9" };
  var HIGHLIGHT = "#c2185b";

  var nodeById = new Map(data.nodes.map(function (n) { return [n.id, n]; }));
  var edgeById = new Map(data.edges.map(function (e) { return [e.id, e]; }));
  var pathByRank = new Map(data.paths.map(function (p) { return [p.rank, p]; }));

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function tooltip(text) {
    var box = el("div");
    String(text).split("\n").forEach(function (line) { box.appendChild(el("div", line, "tip-line")); });
    return box;
  }

  // Shared options live in vis groups and defaults, so each node and edge carries only what
  // is its own: building thousands of them stays fast.
  var INK = "#1b1f24";
  var LABEL_FONT = { face: FONT, size: 15, color: INK, strokeWidth: 4, strokeColor: "#fbfcfd" };
  var GROUPS = {
    organization: {
      shape: "box", font: { face: FONT, size: 17, color: "#ffffff" }, borderWidth: 1,
      widthConstraint: { minimum: 120 },
      margin: { top: 8, bottom: 8, left: 10, right: 10 }, shapeProperties: { borderRadius: 4 }
    },
    cohort: { shape: "dot", font: LABEL_FONT, borderWidth: 1.5 },
    cohort_group: { shape: "hexagon", font: LABEL_FONT, borderWidth: 1.5 },
    organization_group: { shape: "diamond", font: LABEL_FONT, borderWidth: 3 }
  };

  function nodeStyle(n, dimmed, emphasised, note) {
    var style = {
      id: n.id,
      label: note ? n.label + "\n" + note : n.label,
      color: {
        background: dimmed ? DIM.background : n.color,
        border: dimmed ? DIM.border : emphasised ? HIGHLIGHT : n.border,
        highlight: { background: n.color, border: HIGHLIGHT },
        hover: { background: n.color, border: HIGHLIGHT }
      },
      font: { color: dimmed ? DIM.text : GROUPS[n.kind].font.color }
    };
    if (emphasised || n.focus) style.borderWidth = emphasised ? 5 : 4;
    else style.borderWidth = GROUPS[n.kind].borderWidth;
    return style;
  }

  function visNode(n) {
    return {
      id: n.id, group: n.kind, label: n.label, title: tooltip(n.title), x: n.x, y: n.y,
      size: n.size, borderWidth: n.focus ? 4 : GROUPS[n.kind].borderWidth,
      color: { background: n.color, border: n.border, highlight: { background: n.color, border: HIGHLIGHT },
               hover: { background: n.color, border: HIGHLIGHT } }
    };
  }

  function edgeStyle(e, dimmed, emphasised) {
    return {
      id: e.id,
      color: { color: dimmed ? DIM.edge : emphasised ? HIGHLIGHT : e.color },
      width: emphasised ? Math.max(5, e.width * 2.2) : e.width,
      font: { color: dimmed ? DIM.text : "#3c434c" }
    };
  }

  function visEdge(e) {
    var edge = {
      id: e.id, from: e.source, to: e.target, label: e.label, title: tooltip(e.title),
      dashes: e.dashes, width: e.width, color: { color: e.color }
    };
    var a = nodeById.get(e.source), b = nodeById.get(e.target);
    if (!big && a && b && Math.abs(a.y - b.y) < 1) {
      // Within one row: arc over the boxes in between instead of running through them.
      var dx = b.x - a.x;
      edge.smooth = { enabled: true, type: dx > 0 ? "curvedCW" : "curvedCCW", roundness: Math.min(0.5, 150 / Math.abs(dx || 1)) };
    }
    // Worker links are many and short: their labels appear only once zoomed well in.
    if (e.type === "ENGAGES") edge.scaling = { label: { drawThreshold: 20 } };
    return edge;
  }

  var nodes = new vis.DataSet(data.nodes.map(visNode));
  var edges = new vis.DataSet(data.edges.map(visEdge));
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, {
    autoResize: true,
    physics: { enabled: false },
    layout: { improvedLayout: false, randomSeed: 1 },
    groups: GROUPS,
    nodes: { fixed: true },
    edges: {
      smooth: big ? false : { enabled: true, type: "cubicBezier", forceDirection: "vertical", roundness: 0.45 },
      selectionWidth: 2,
      arrows: { to: { enabled: true, scaleFactor: 0.6 } },
      color: { highlight: HIGHLIGHT, hover: HIGHLIGHT },
      font: { face: FONT, size: 12, color: "#3c434c", strokeWidth: 4, strokeColor: "#fbfcfd" },
      // Link labels appear only once zoomed in, where they no longer cover the labels of
      // nodes; their type is in the colour and the legend, their projects in the tooltip.
      scaling: { label: { drawThreshold: 16 } }
    },
    interaction: {
      hover: !big, tooltipDelay: 150, hideEdgesOnDrag: big, hideEdgesOnZoom: big,
      zoomSpeed: 0.6, multiselect: false, navigationButtons: false, keyboard: false
    }
  });

  // -- tier bands, drawn under the graph across the whole view; each label sits in its band's
  // header strip at the left edge of the view, at a fixed size on screen, drawn over the
  // graph on its own backdrop so that no link or label ever covers it ---------------------
  var xs = data.nodes.map(function (n) { return n.x; });
  var MARGIN = 180;  // room beside the outermost nodes for their labels
  var left = (xs.length ? Math.min.apply(null, xs) : 0) - MARGIN;
  var right = (xs.length ? Math.max.apply(null, xs) : 0) + MARGIN;
  var HEADER = 44;
  var MAX_FIT = 1.25;

  function viewEdges() {
    var rect = container.getBoundingClientRect();
    var a = network.DOMtoCanvas({ x: 0, y: 0 }), b = network.DOMtoCanvas({ x: rect.width, y: rect.height });
    return { left: Math.min(left, a.x), right: Math.max(right, b.x), viewLeft: a.x };
  }

  network.on("beforeDrawing", function (ctx) {
    var edges = viewEdges();
    data.bands.forEach(function (band, i) {
      ctx.fillStyle = i % 2 ? "#f0f3f7" : "#e5ebf3";
      ctx.fillRect(edges.left, band.top, edges.right - edges.left, band.bottom - band.top);
    });
  });

  network.on("afterDrawing", function (ctx) {
    var scale = network.getScale();
    var edges = viewEdges();
    var px = HEADER * scale >= 22 ? 15 : 12;
    data.bands.forEach(function (band, i) {
      if ((band.bottom - band.top) * scale < 14) return;
      var lines = band.label.split("\n");
      var x = Math.max(left, edges.viewLeft) + 10 / scale;
      var y = band.top + (HEADER / 2) - px / 2 / scale;
      ctx.textBaseline = "top";
      ctx.font = "700 " + px / scale + "px " + FONT;
      var first = ctx.measureText(lines[0] + "   ").width;
      ctx.font = "400 " + (px - 1) / scale + "px " + FONT;
      var rest = lines.slice(1).join(" · ");
      var width = first + ctx.measureText(rest).width;
      ctx.fillStyle = i % 2 ? "#f0f3f7" : "#e5ebf3";
      ctx.fillRect(x - 6 / scale, y - 4 / scale, width + 12 / scale, (px + 8) / scale);
      ctx.fillStyle = "#14213d";
      ctx.font = "700 " + px / scale + "px " + FONT;
      ctx.fillText(lines[0], x, y);
      ctx.fillStyle = "#4a5568";
      ctx.font = "400 " + (px - 1) / scale + "px " + FONT;
      ctx.fillText(rest, x + first, y + 1 / scale);
    });
  });

  function fitAll() {
    var top = data.bands.length ? data.bands[0].top : 0;
    var bottom = data.bands.length ? data.bands[data.bands.length - 1].bottom : 0;
    var width = Math.max(right - left, 1);
    var height = Math.max(bottom - top, 1);
    // A small map is not blown up past its natural size: its labels would outgrow the boxes.
    var scale = Math.min(container.clientWidth / width, container.clientHeight / height, MAX_FIT) * 0.98;
    network.moveTo({ position: { x: (left + right) / 2, y: (top + bottom) / 2 }, scale: scale, animation: false });
  }

  // -- side panel ---------------------------------------------------------------------------
  // Facts travel as [label, value, evidence?], sections as [heading, facts] (render._compact).
  // Each panel lists the sources its facts cite, from the page's one table of sources.
  function withSources(sections) {
    var seen = new Set();
    sections.forEach(function (section) {
      section[1].forEach(function (fact) {
        var cited = fact[2] && fact[2].indexOf(" · ") >= 0 ? fact[2].split(" · ")[1] : "";
        cited.split(", ").forEach(function (id) { if (data.sources[id]) seen.add(id); });
      });
    });
    if (!seen.size) return sections;
    var listed = Array.from(seen).map(function (id) { return [id, data.sources[id]]; });
    return sections.concat([["Sources", listed]]);
  }

  function facts(sections) {
    var out = document.createDocumentFragment();
    withSources(sections).forEach(function (section) {
      out.appendChild(el("h3", section[0]));
      var list = el("dl");
      section[1].forEach(function (fact) {
        list.appendChild(el("dt", fact[0]));
        var dd = el("dd", fact[1]);
        if (fact[2]) dd.appendChild(el("span", "evidence: " + fact[2], "evidence"));
        list.appendChild(dd);
      });
      out.appendChild(list);
    });
    return out;
  }

  var KIND_WORDS = {
    organization: "organization", organization_group: "group of organizations",
    cohort: "worker cohort", cohort_group: "group of worker cohorts"
  };

  function drillUrl(n) { return "map?" + new URLSearchParams(n.drill).toString(); }

  function drillCommand(n) {
    var args = Object.keys(n.drill).map(function (k) { return "--" + k + " " + n.drill[k]; });
    return "laborgraph map " + args.join(" ") + " -o map.html";
  }

  function showNode(id) {
    var n = nodeById.get(id);
    if (!n) return;
    var parts = [el("h2", n.name), el("div", KIND_WORDS[n.kind], "kind")];
    if (n.drill && data.served) {
      var open = el("a", "Open this group", "open-group");
      open.href = drillUrl(n);
      parts.push(open);
    } else if (n.drill) {
      parts.push(el("p", "To open this group, write its map: " + drillCommand(n), "open-group"));
    }
    parts.push(facts(n.facts));
    panel.replaceChildren.apply(panel, parts);
    panel.scrollTop = 0;
  }

  // A group opens where the page is served: a new view of what it holds, server side.
  function openGroup(id) {
    var n = nodeById.get(id);
    if (!n || !n.drill || !data.served) return false;
    panel.replaceChildren(el("h2", "Opening " + n.name + "…"));
    window.location.assign(drillUrl(n));
    return true;
  }

  function showEdge(id) {
    var e = edgeById.get(id);
    if (!e) return;
    var list = el("dl");
    e.title.split("\n").forEach(function (line) { list.appendChild(el("dd", line)); });
    var heading = e.count > 1 ? e.count.toLocaleString("en") + " links" : e.type + " link";
    panel.replaceChildren(el("h2", heading), el("div", "link between organizations or to workers", "kind"), list);
  }

  function showPath(p) {
    var explanation = el("p", p.explanation, "explanation");
    panel.replaceChildren(
      el("h2", "Risk path #" + p.rank),
      el("div", "severity " + p.severity + " · likelihood " + p.likelihood + " · confidence " + p.confidence.toFixed(2), "kind"),
      explanation,
      facts([["What the path rests on", p.steps]])
    );
    panel.scrollTop = 0;
  }

  network.on("click", function (params) {
    if (params.nodes.length) {
      if (!openGroup(params.nodes[0])) showNode(params.nodes[0]);
    } else if (params.edges.length) showEdge(params.edges[0]);
  });

  // -- risk path highlighting ------------------------------------------------------------------
  var select = document.getElementById("path-select");
  data.paths.forEach(function (p) {
    var option = el("option", p.summary);
    option.value = String(p.rank);
    select.appendChild(option);
  });

  var current = null;

  function highlight(rank) {
    var p = rank === null ? null : pathByRank.get(Number(rank));
    current = p ? p.rank : null;
    var onNodes = new Set(p ? p.node_ids : []);
    var onEdges = new Set(p ? p.edge_ids : []);
    var notes = new Map();
    if (p && p.maker_node) notes.set(p.maker_node, p.maker_note);
    if (p) notes.set(p.cohort_node, p.cohort_note);
    nodes.update(data.nodes.map(function (n) {
      return nodeStyle(n, !!p && !onNodes.has(n.id), onNodes.has(n.id), notes.get(n.id) || null);
    }));
    edges.update(data.edges.map(function (e) { return edgeStyle(e, !!p && !onEdges.has(e.id), onEdges.has(e.id)); }));
    select.value = p ? String(p.rank) : "";
    document.querySelectorAll("tr[data-rank]").forEach(function (row) {
      row.classList.toggle("active", !!p && row.getAttribute("data-rank") === String(p.rank));
    });
    if (p) showPath(p);
    return !!p;
  }

  select.addEventListener("change", function () { highlight(select.value === "" ? null : select.value); });
  document.getElementById("clear-path").addEventListener("click", function () { highlight(null); });
  document.getElementById("fit").addEventListener("click", fitAll);
  document.querySelectorAll("button.show-path").forEach(function (button) {
    button.addEventListener("click", function () {
      highlight(button.getAttribute("data-rank"));
      container.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });

  fitAll();
  var query = new URLSearchParams(window.location.search);
  var asked = query.get("path");
  if (!(asked && highlight(asked)) && data.highlight != null) highlight(data.highlight);
  var selected = query.get("select");
  if (selected && nodeById.has(selected)) {
    network.selectNodes([selected]);
    showNode(selected);
  }

  window.laborgraph = {
    data: data, network: network, nodes: nodes, edges: edges, ready: false,
    highlight: highlight, showNode: showNode, openGroup: openGroup, fit: fitAll,
    current: function () { return current; }
  };
  network.once("afterDrawing", function () {
    window.laborgraph.ready = true;
    document.body.setAttribute("data-ready", "true");
  });
  network.redraw();
})();
