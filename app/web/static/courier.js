// The courier's day on a phone: stops in one hand, and nothing lost offline.
//
// Every action gets its own id and the phone's time the moment it is confirmed, waits a few
// seconds for an undo, then goes into an outbox in IndexedDB. The outbox survives a reload and
// a closed browser; it is sent in order whenever the network is there, and the server applies
// each action once however often it arrives. Page data comes from
// <script type="application/json" id="page-data">; everything is built with textContent.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("page-data").textContent);
  const words = data.words;
  const UNDO_MS = data.undo_seconds * 1000;
  const RETRY_MS = 15000;
  const KEPT_DAY = "roundtrip-courier-day";
  // The newest day the phone has seen: a page reloaded from the worker's cache may be older
  // than what was fetched since.
  let day = data.day;
  try {
    const kept = JSON.parse(localStorage.getItem(KEPT_DAY) || "null");
    if (kept && kept.user === data.user && kept.generated_at > day.generated_at) { day = kept; }
  } catch (e) { /* nothing kept */ }
  let csrf = day.csrf_token;
  let outbox = [];  // queued actions, oldest first
  let held = null;  // the action waiting out its undo time
  // What the server would not record, with its reason: kept until the courier has read it.
  const REFUSED = "roundtrip-courier-refused-" + data.user;
  let refused = [];
  try { refused = JSON.parse(localStorage.getItem(REFUSED) || "[]"); } catch (e) { refused = []; }
  function keepRefused() {
    try { localStorage.setItem(REFUSED, JSON.stringify(refused)); } catch (e) { /* full */ }
  }
  let sending = false;

  function say(key, params) {
    return (words[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(params && name in params ? params[name] : ""));
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function hhmm(iso) {
    if (!iso) { return ""; }
    return new Intl.DateTimeFormat(data.language, {hour: "2-digit", minute: "2-digit", hour12: false, timeZone: day.timezone}).format(new Date(iso));
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- IndexedDB: the outbox -------------------------------------------------------------
  let dbPromise = null;
  function database() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        // One outbox per person: a phone passed to another courier never sends, or drops,
        // the first one's actions under the second one's name.
        const request = indexedDB.open("roundtrip-courier-" + data.user, 1);
        request.onupgradeneeded = () => request.result.createObjectStore("outbox", {keyPath: "seq", autoIncrement: true});
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }
  function store(mode, work) {
    return database().then(db => new Promise((resolve, reject) => {
      const tx = db.transaction("outbox", mode);
      const result = work(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    }));
  }
  function loadOutbox() { return store("readonly", s => s.getAll()).then(rows => { outbox = rows || []; }); }
  function enqueue(action) { return store("readwrite", s => s.add(action)).then(loadOutbox); }
  function drop(seqs) { return store("readwrite", s => seqs.forEach(seq => s.delete(seq))).then(loadOutbox); }
  function update(action) { return store("readwrite", s => s.put(action)); }

  // ---- what the courier sees ---------------------------------------------------------------
  function pendingFor(stopId) {
    return outbox.filter(a => a.stop_id === stopId);
  }

  // A stop as the server last said, with the actions not yet heard of laid over it.
  function state(stop) {
    const s = {arrived: stop.arrived_at, done: stop.completed_at, outcome: stop.outcome, waiting: false};
    pendingFor(stop.stop_id).forEach(a => {
      s.waiting = true;
      if (a.kind === "arrived") { s.arrived = s.arrived || a.at; }
      else { s.arrived = s.arrived || a.at; s.done = a.at; s.outcome = a.kind; }
    });
    return s;
  }

  function button(cls, label, testid, onClick) {
    const b = el("button", "btn btn-lg " + cls, label);
    b.type = "button";
    if (testid) { b.dataset.testid = testid; }
    b.addEventListener("click", onClick);
    return b;
  }

  function link(cls, label, href, testid) {
    const a = el("a", "btn btn-lg " + cls, label);
    a.href = href;
    if (testid) { a.dataset.testid = testid; }
    return a;
  }

  function stopCard(route, stop) {
    const s = state(stop);
    const card = el("li", "list-group-item courier-stop");
    card.id = "stop-" + stop.stop_id;
    card.dataset.testid = "route-stop";
    card.dataset.stopId = stop.stop_id;
    if (stop.at_risk && !s.done) { card.classList.add("at-risk"); }

    const head = el("div", "d-flex justify-content-between align-items-baseline gap-2");
    head.appendChild(el("span", "fw-bold fs-5", say("stop_number", {n: stop.sequence})));
    head.appendChild(el("span", "text-nowrap", say("window", {start: hhmm(stop.window_start), end: hhmm(stop.window_end)})));
    card.appendChild(head);
    if (!s.done) {
      const eta = el("div", stop.at_risk ? "text-danger fw-semibold" : "text-muted",
        stop.eta ? say(stop.at_risk ? "eta_late" : "eta", {time: hhmm(stop.eta)}) : say("planned", {time: hhmm(stop.planned_at)}));
      eta.dataset.testid = "eta";
      card.appendChild(eta);
    }
    if (stop.kind !== "delivery") {
      const kind = el("div", "badge text-bg-warning fs-6 align-self-start", say("kind_" + stop.kind));
      kind.dataset.testid = "stop-kind";
      card.appendChild(kind);
    }
    if (stop.customer) { card.appendChild(el("div", "fs-5", stop.customer)); }
    card.appendChild(el("div", "fw-semibold", stop.address));
    if (stop.instructions) { card.appendChild(el("div", "small", stop.instructions)); }
    if (stop.hand_over.length) {
      card.appendChild(el("div", "small", say("hand_over", {items: stop.hand_over.map(i => i.quantity + " × " + i.name).join(", ")})));
    }
    if (stop.collect.length) {
      card.appendChild(el("div", "small fw-semibold", say("collect", {items: stop.collect.map(i => i.quantity + " × " + i.name).join(", ")})));
    }
    card.appendChild(el("div", "small text-muted", stop.number));

    const tools = el("div", "courier-tools");
    if (stop.phone && !s.done) { tools.appendChild(link("btn-outline-primary", say("call"), "tel:" + stop.phone.replace(/[^+\d]/g, ""), "call")); }
    tools.appendChild(link("btn-outline-secondary", say("navigate"), stop.navigator_url, "navigate"));
    tools.appendChild(link("btn-outline-secondary", say("map_app"), stop.geo_uri, "geo"));
    card.appendChild(tools);

    if (s.done) {
      const result = el("div", "courier-result " + (s.outcome === "failed" ? "text-danger" : "text-success"),
        say(s.outcome === "failed" ? "not_delivered_at" : doneWord(stop) + "_at", {time: hhmm(s.done)}));
      result.dataset.testid = "stop-result";
      card.appendChild(result);
    } else if (route.today && route.inspected) {
      card.appendChild(actions(stop, s));
    }
    if (s.waiting) {
      const w = el("div", "small text-warning-emphasis", say("waiting_to_send"));
      w.dataset.testid = "stop-waiting";
      card.appendChild(w);
    }
    return card;
  }

  // What "done" is called at this stop: a return is collected or exchanged, not delivered.
  function doneWord(stop) {
    return {pickup: "collected", exchange: "exchanged"}[stop.kind] || "delivered";
  }

  function actions(stop, s) {
    const box = el("div", "courier-actions");
    const panel = el("div", "courier-panel");
    if (!s.arrived) {
      box.appendChild(button("btn-outline-secondary", say("arrived"), "arrived", () => act(stop, {kind: "arrived"})));
    }
    box.appendChild(button("btn-success", say(doneWord(stop)), "delivered", () => deliveredPanel(stop, panel)));
    box.appendChild(button("btn-outline-danger", say("failed"), "failed", () => failedPanel(stop, panel)));
    const wrap = el("div");
    wrap.appendChild(box);
    wrap.appendChild(panel);
    return wrap;
  }

  function deliveredPanel(stop, panel) {
    panel.replaceChildren();
    const name = el("input", "form-control form-control-lg mb-2");
    name.placeholder = say("recipient");
    name.setAttribute("aria-label", say("recipient"));
    name.maxLength = 120;
    name.dataset.testid = "recipient";
    const photoLabel = el("label", "form-label mb-1", say("photo"));
    const photo = el("input", "form-control form-control-lg mb-2");
    photo.type = "file";
    photo.accept = "image/jpeg,image/png,image/webp";
    photo.setAttribute("capture", "environment");
    photo.id = "photo-" + stop.stop_id;
    photo.dataset.testid = "photo";
    photoLabel.htmlFor = photo.id;
    panel.append(name, photoLabel, photo,
      button("btn-success w-100", say("confirm_" + doneWord(stop)), "confirm", () => {
        const file = photo.files && photo.files[0];
        if (file && file.size > data.max_photo_bytes) { panel.appendChild(el("div", "text-danger", say("photo_too_big"))); return; }
        act(stop, {kind: "delivered", recipient: name.value.trim() || null, photoBlob: file || null});
      }));
    name.focus();
  }

  function failedPanel(stop, panel) {
    panel.replaceChildren();
    const list = el("fieldset", "mb-2");
    list.appendChild(el("legend", "fs-6", say("why_failed")));
    data.reasons.forEach(([code, label]) => {
      const row = el("div", "form-check courier-reason");
      const radio = el("input", "form-check-input");
      radio.type = "radio";
      radio.name = "reason-" + stop.stop_id;
      radio.value = code;
      radio.id = "reason-" + stop.stop_id + "-" + code;
      radio.dataset.testid = "reason-" + code;
      const lab = el("label", "form-check-label", label);
      lab.htmlFor = radio.id;
      row.append(radio, lab);
      list.appendChild(row);
    });
    const note = el("textarea", "form-control mb-2");
    note.rows = 2;
    note.maxLength = 500;
    note.placeholder = say("what_happened");
    note.setAttribute("aria-label", say("what_happened"));
    note.dataset.testid = "note";
    const problem = el("div", "text-danger mb-2");
    panel.append(list, note, problem,
      button("btn-danger w-100", say("confirm_failed"), "confirm", () => {
        const chosen = list.querySelector("input:checked");
        if (!chosen) { problem.textContent = say("choose_reason"); return; }
        if (chosen.value === "other" && !note.value.trim()) { problem.textContent = say("say_what"); return; }
        act(stop, {kind: "failed", reason: chosen.value, note: note.value.trim() || null});
      }));
  }

  // Confirmed: saved on the phone at once (a reload or a closed browser keeps it), shown at
  // once, and sent once its undo time is over.
  function act(stop, action) {
    const saved = Object.assign({
      id: newId(), stop_id: stop.stop_id, at: new Date().toISOString(), sequence: stop.sequence,
      not_before: Date.now() + UNDO_MS,
    }, action);
    if (held) { clearTimeout(held.timer); }
    enqueue(saved).then(() => {
      held = outbox.find(a => a.id === saved.id) || null;
      if (held) { held.timer = setTimeout(endUndo, UNDO_MS); }
      render();
      if (held) { showToast(); }
    });
  }

  function endUndo() {
    held = null;
    hideToast();
    flush();
  }

  function undo() {
    if (!held) { return; }
    const seq = held.seq;
    clearTimeout(held.timer);
    held = null;
    hideToast();
    drop([seq]).then(render);
  }

  const toast = document.getElementById("courier-toast");
  function showToast() {
    toast.replaceChildren();
    const key = held.kind === "arrived" ? "toast_arrived" : held.kind === "delivered" ? "toast_delivered" : "toast_failed";
    toast.appendChild(el("span", "me-2", say(key, {n: held.sequence})));
    toast.appendChild(button("btn-light", say("undo"), "undo", undo));
    toast.hidden = false;
  }
  function hideToast() { toast.hidden = true; toast.replaceChildren(); }

  function renderSync() {
    const bar = document.getElementById("courier-sync");
    bar.replaceChildren();
    const online = navigator.onLine;
    const count = outbox.length;
    bar.className = "courier-sync " + (count ? "alert alert-warning" : online ? "text-success small" : "alert alert-secondary");
    let text = count ? say(online ? "pending_online" : "pending_offline", {n: count}) : online ? say("all_sent") : say("offline");
    const line = el("div", "", text);
    line.dataset.testid = "pending";
    line.dataset.count = String(count);
    bar.appendChild(line);
    refused.forEach(r => {
      const item = el("div", "text-danger", say("refused", {n: r.sequence, reason: r.detail}));
      item.dataset.testid = "refused";
      bar.appendChild(item);
    });
    if (refused.length) {
      bar.appendChild(button("btn-outline-secondary mt-1", say("understood"), "refused-read", () => {
        refused = [];
        keepRefused();
        renderSync();
      }));
    }
  }

  function render() {
    renderSync();
    const root = document.getElementById("courier-app");
    root.replaceChildren();
    day.routes.forEach(route => {
      if (route.today && !route.inspected) { return; }  // the check above the list opens it
      const section = el("section", "mb-4");
      section.dataset.testid = "route";
      section.appendChild(el("h2", "h5", say(route.today ? "route_today" : "route_later", {
        day: new Intl.DateTimeFormat(data.language, {weekday: "short", day: "numeric", month: "short", timeZone: day.timezone}).format(new Date(route.start_at)),
        start: hhmm(route.start_at), end: hhmm(route.end_at), vehicle: route.vehicle})));
      if (route.break_start_at) {
        const b = el("p", "small mb-2", say("break", {start: hhmm(route.break_start_at), end: hhmm(route.break_end_at)}));
        b.dataset.testid = "route-break";
        section.appendChild(b);
      }
      const list = el("ol", "list-group mb-3");
      list.dataset.testid = "route-stops";
      route.stops.forEach(stop => list.appendChild(stopCard(route, stop)));
      section.appendChild(list);
      root.appendChild(section);
    });
  }

  // ---- sending -------------------------------------------------------------------------------
  function headers(extra) {
    return Object.assign({"X-CSRFToken": csrf, "Accept-Language": data.language}, extra || {});
  }

  function refreshDay() {
    return fetch(data.urls.day, {credentials: "same-origin", headers: {"Accept": "application/json", "Accept-Language": data.language}})
      .then(r => { if (!r.ok) { throw new Error("day " + r.status); } return r.json(); })
      .then(fresh => {
        day = fresh;
        csrf = fresh.csrf_token || csrf;
        try { localStorage.setItem(KEPT_DAY, JSON.stringify(Object.assign({user: data.user}, fresh))); } catch (e) { /* full */ }
      });
  }

  function uploadPhoto(action) {
    if (!action.photoBlob || action.photo) { return Promise.resolve(); }
    const form = new FormData();
    form.append("photo", action.photoBlob, "proof");
    return fetch(data.urls.photos, {method: "POST", body: form, credentials: "same-origin", headers: headers()})
      .then(r => r.json().then(body => ({ok: r.ok, body})))
      .then(({ok, body}) => {
        if (!ok) { action.photoBlob = null; action.photoProblem = body.detail; return update(action); }
        action.photo = body.photo;
        action.photoBlob = null;
        return update(action);
      });
  }

  function flush() {
    // In order, and only what is past its undo time.
    const due = [];
    for (const a of outbox) {
      const waiting = (a.not_before || 0) > Date.now() || (held && held.id === a.id);
      if (waiting || due.length >= data.max_events) { break; }
      due.push(a);
    }
    if (sending || !due.length || !navigator.onLine) { renderSync(); return Promise.resolve(); }
    sending = true;
    const batch = due;
    return refreshDay()
      .then(() => batch.reduce((p, a) => p.then(() => uploadPhoto(a)), Promise.resolve()))
      .then(() => fetch(data.urls.events, {
        method: "POST",
        credentials: "same-origin",
        headers: headers({"Content-Type": "application/json"}),
        body: JSON.stringify({events: batch.map(a => ({
          id: a.id, stop_id: a.stop_id, kind: a.kind, at: a.at,
          reason: a.reason || null, note: a.note || null, recipient: a.recipient || null, photo: a.photo || null,
        }))}),
      }))
      .then(r => {
        // A request the server can never take (not a lost network, not a sign-in to renew)
        // would block the queue for ever: each of its actions is set aside with the reason.
        if (r.status >= 400 && r.status < 500 && ![401, 403, 408, 429].includes(r.status)) {
          return r.json().catch(() => ({})).then(body => ({results: batch.map(a => ({
            id: a.id, status: "refused", error: {detail: body.detail || say("not_taken")},
          }))}));
        }
        if (!r.ok) { throw new Error("events " + r.status); }
        return r.json();
      })
      .then(answer => {
        const bySeq = new Map(batch.map(a => [a.id, a]));
        answer.results.forEach(result => {
          if (result.status === "refused") {
            const a = bySeq.get(result.id);
            refused.push({sequence: a ? a.sequence : "?", detail: result.error.detail});
          }
        });
        keepRefused();
        // Applied, replayed or refused: each is settled and leaves the outbox.
        return drop(batch.map(a => a.seq));
      })
      .then(refreshDay)
      .catch(() => { /* the network went away again: the outbox keeps everything */ })
      .finally(() => {
        sending = false;
        render();
        if (held) { showToast(); }
        if (outbox.length && navigator.onLine) { setTimeout(flush, 1000); }
      });
  }

  // Signing out clears what the phone kept (Clear-Site-Data): not while actions wait.
  document.querySelectorAll("form[action$='/logout']").forEach(form => form.addEventListener("submit", event => {
    if (outbox.length && !window.confirm(say("signout_pending", {n: outbox.length}))) { event.preventDefault(); }
  }));

  window.addEventListener("online", () => { renderSync(); flush(); });
  window.addEventListener("offline", renderSync);
  setInterval(flush, RETRY_MS);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(data.urls.worker, {scope: data.urls.scope})
      .then(() => navigator.serviceWorker.ready)
      .then(reg => {
        const files = Array.from(document.querySelectorAll("script[src], link[rel=stylesheet]"), n => n.src || n.href);
        reg.active.postMessage({keep: [data.urls.scope].concat(files)});
      })
      .catch(() => {});
  }
  loadOutbox().then(() => { render(); flush(); }).catch(() => render());
})();
