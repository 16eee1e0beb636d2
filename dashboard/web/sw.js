// The dashboard's service worker: it keeps the page's shell (the HTML, the
// modules, the style sheet and the icon) so that the page loads while the
// server is down, and then shows "offline, reconnecting" until it is back.
//
// The server fills in VERSION (a hash of every embedded asset, computed at
// startup) and SHELL (the shell's paths) when it serves this file, so a new
// build is a new service worker: it caches the new shell and, on activate,
// deletes the caches of older builds. Requests go to the network first and
// fall back to the cache only when the network fails, so a running server
// always serves its own assets. Nothing but the shell is ever cached here:
// REST and the feed always go to the server.

const VERSION = "{{VERSION}}";
const SHELL = {{SHELL}};
const PREFIX = "tickerfan-shell-";
const CACHE = PREFIX + VERSION;

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || !SHELL.includes(url.pathname)) return;
  e.respondWith(
    fetch(e.request).catch(async () => {
      const cached = await caches.match(url.pathname, { cacheName: CACHE });
      return cached || Response.error();
    }),
  );
});
