// The courier page's service worker: the page and its files come from the network when there
// is one (and are kept), and from what was kept when there is none, so a reload on a dead
// network still shows the route and the actions waiting in the outbox. API calls are never
// answered from here: the page's outbox owns them.
"use strict";

const CACHE = "roundtrip-courier-v1";
const scope = new URL(self.registration.scope);

self.addEventListener("install", event => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", event => {
  event.waitUntil(
    caches.keys()
      .then(keys => Promise.all(keys.filter(k => k.startsWith("roundtrip-courier-") && k !== CACHE).map(k => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function keep(request, response) {
  if (response.ok && response.type === "basic") {
    const copy = response.clone();
    caches.open(CACHE).then(cache => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", event => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== scope.origin || url.pathname.startsWith("/api/")) { return; }
  const page = request.mode === "navigate" && url.pathname.startsWith(scope.pathname);
  const asset = url.pathname.startsWith("/static/") || url.pathname.startsWith("/vendor/");
  if (!page && !asset) { return; }
  event.respondWith(
    fetch(request)
      .then(response => keep(request, response))
      .catch(() => caches.match(request, {ignoreSearch: page}).then(found => found || Response.error()))
  );
});

// The page names itself and its files once the worker runs, so that the first visit is kept
// too (it was loaded before any worker could see it).
self.addEventListener("message", event => {
  const urls = (event.data && event.data.keep) || [];
  event.waitUntil(caches.open(CACHE).then(cache => Promise.all(urls.map(u =>
    fetch(u, {credentials: "same-origin"}).then(r => { if (r.ok) { return cache.put(u, r); } }).catch(() => {})
  ))));
});
