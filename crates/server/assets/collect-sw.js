// pingan 平安建设测评平台: the interviewer page's service worker. Keeps the
// page and its scripts so that /collect/ opens without a network; answers
// are kept by the page itself (IndexedDB) and posted by it, never here.
// The server writes the cache name and the file list into this script, so
// a new release replaces the kept files.
'use strict';
var CACHE = '__CACHE__';
var FILES = __FILES__;

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(FILES.map(function (f) {
      return fetch(f, { credentials: 'same-origin' }).then(function (r) {
        // A login page after an expired session is not the page.
        if (r.ok && !r.redirected) { return c.put(f, r); }
      });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf('pingan-collect-') === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === '/collect/') {
    // The network first (a new questionnaire, a new session), the kept
    // page when there is none.
    e.respondWith(fetch(req).then(function (r) {
      if (r.ok && !r.redirected) {
        var copy = r.clone();
        caches.open(CACHE).then(function (c) { return c.put('/collect/', copy); });
      }
      return r;
    }).catch(function () {
      return caches.match('/collect/').then(function (r) {
        return r || new Response('离线且本机没有保存采集页面：请联网后打开一次。',
          { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      });
    }));
    return;
  }
  if (url.pathname.indexOf('/static/') === 0 || FILES.indexOf(url.pathname) > 0) {
    e.respondWith(caches.match(req).then(function (r) { return r || fetch(req); }));
  }
});
