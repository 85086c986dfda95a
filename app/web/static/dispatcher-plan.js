// A plan on the dispatcher's board: solving progress, the routes on a map, moving a stop.
// Page data comes from <script type="application/json" id="page-data">; every piece of order,
// customer or courier data is rendered as text (textContent, DOM nodes), never as HTML.
// Every word people see comes from data.words, in the page's language (no English here).
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const words = data.words || {};

  // One of the page's words with its %(name)s places filled (and %% as %), as plain text.
  function say(key, values) {
    const template = words[key] === undefined ? key : String(words[key]);
    return template.replace(/%\((\w+)\)s|%%/g, (token, name) => {
      if (!name) { return "%"; }
      return values && values[name] !== undefined && values[name] !== null ? String(values[name]) : "";
    });
  }

  // Text made safe for the one place that takes HTML (the map's credit line).
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // A pop-up as DOM nodes: lines of [bold, plain] text pieces.
  function popup(lines) {
    const box = el("div", "plan-popup");
    lines.forEach((line, n) => {
      if (n > 0) { box.appendChild(document.createElement("br")); }
      line.forEach(([bold, text]) => box.appendChild(bold ? el("b", "", text) : document.createTextNode(text)));
    });
    return box;
  }

  function pollProgress() {
    fetch(data.status_url).then(r => r.json()).then(s => {
      if (s.status !== "solving") { window.location.reload(); return; }
      if (s.queued) {
        document.getElementById("progress-text").textContent = say("queued");
        setTimeout(pollProgress, 2000);
        return;
      }
      const pct = Math.min(99, Math.round(100 * s.elapsed_s / s.time_limit_s));
      document.getElementById("bar").style.width = pct + "%";
      const parts = [say("elapsed", {elapsed: Math.round(s.elapsed_s), limit: Math.round(s.time_limit_s)})];
      if (s.search) {
        parts.push(say("improvements", {count: s.search.improvements}));
        if (s.search.gain_percent > 0) { parts.push(say("gain", {percent: s.search.gain_percent})); }
      }
      const text = parts.join(" · ");
      document.getElementById("progress-text").textContent = text;
      setTimeout(pollProgress, 1000);
    }).catch(() => setTimeout(pollProgress, 3000));
  }

  function drawMap() {
    const depot = [data.depot.lat, data.depot.lon];
    // Leaflet's own words (zoom buttons, its credit, marker and pop-up labels) are English:
    // each is given in the page's language instead.
    const map = L.map("map", {zoomControl: false});
    L.control.zoom({zoomInTitle: say("zoom_in"), zoomOutTitle: say("zoom_out")}).addTo(map);
    map.attributionControl.setPrefix(
      '<a href="https://leafletjs.com" title="' + escapeHtml(say("leaflet")) + '">Leaflet</a>');
    map.on("popupopen", event => {
      const close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", say("close_popup")); }
    });
    if (data.tile_url) {
      L.tileLayer(data.tile_url, {maxZoom: 19, attribution: escapeHtml(say("map_credit"))}).addTo(map);
    }
    L.marker(depot, {title: say("depot"), alt: say("depot")}).addTo(map).bindPopup(popup([[[true, data.depot.name]]]));
    const bounds = L.latLngBounds([depot]);
    data.routes.forEach(r => {
      const line = [depot].concat(r.stops.map(s => [s.lat, s.lon])).concat([depot]);
      L.polyline(line, {color: r.colour, weight: 3, className: "route-line"}).addTo(map);
      r.stops.forEach(s => {
        bounds.extend([s.lat, s.lon]);
        const label = el("div", "stop-label", s.seq);
        label.style.borderColor = r.colour;
        L.marker([s.lat, s.lon], {icon: L.divIcon({className: "", html: label, iconSize: [22, 22]})})
          .addTo(map)
          .bindPopup(popup([
            [[true, s.number], [false, " · " + r.courier]],
            [[false, s.address]],
            [[false, say("stop_times", {eta: s.eta, window: s.window})]],
          ]));
      });
    });
    data.unassigned.forEach(u => {
      bounds.extend([u.lat, u.lon]);
      L.circleMarker([u.lat, u.lon], {radius: 6, color: "#555", fillOpacity: 0.2, className: "unassigned-marker"})
        .addTo(map)
        .bindPopup(popup([
          [[true, u.number], [false, " · " + say("not_planned")]],
          [[false, u.address]],
          [[false, u.message]],
        ]));
    });
    map.fitBounds(bounds, {padding: [20, 20]});
  }

  function colourSwatches() {
    document.querySelectorAll(".route-swatch[data-colour]").forEach(swatch => {
      swatch.style.backgroundColor = swatch.dataset.colour;
    });
  }

  function moveForm() {
    const form = document.getElementById("move-form");
    if (!form || !data.preview_url) { return; }
    const result = document.getElementById("move-result");
    const override = document.getElementById("override");
    const save = document.getElementById("move-save");
    const field = name => form.elements[name];
    let asked = 0;
    function show(cls, title, lines) {
      result.replaceChildren();
      const box = el("div", "alert py-1 px-2 mb-0 " + cls);
      box.appendChild(el("div", "", title));
      if (lines.length) {
        const list = el("ul", "mb-0");
        lines.forEach(text => {
          const item = el("li", "", text);
          item.dataset.testid = "violation";
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      result.appendChild(box);
    }
    function check() {
      const ticket = ++asked;
      const query = new URLSearchParams({stop_id: field("stop_id").value, shift_id: field("shift_id").value, position: field("position").value});
      save.disabled = true;
      show("alert-secondary", say("checking"), []);
      fetch(data.preview_url + "?" + query).then(r => r.json()).then(answer => {
        if (ticket !== asked) { return; }  // an older answer arriving late
        if (answer.errors) { show("alert-warning", say("cannot_move"), answer.errors); override.hidden = true; return; }
        if (answer.ok) {
          show("alert-success", say("move_holds", {summary: answer.summary}), []);
          override.hidden = true;
        } else {
          show("alert-danger", say("move_breaks", {summary: answer.summary}), answer.violations);
          override.hidden = false;
        }
        save.disabled = false;
      }).catch(() => show("alert-warning", say("checker_unreachable"), []));
    }
    ["stop_id", "shift_id", "position"].forEach(name => field(name).addEventListener("change", check));
    document.querySelectorAll(".move-pick").forEach(button => button.addEventListener("click", () => {
      field("stop_id").value = button.dataset.stop;
      field("shift_id").value = button.dataset.shift;
      field("position").value = button.dataset.seq;
      form.scrollIntoView({behavior: "smooth", block: "center"});
      check();
    }));
  }

  if (data.status === "solving") {
    pollProgress();
  }
  if (document.getElementById("map")) {
    drawMap();
  }
  colourSwatches();
  moveForm();
})();
