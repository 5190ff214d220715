/* Service worker of the intake page (served by logistics.intake_views.intake_service_worker).

   What it keeps for working without a network:
   - the page shell: the last intake page fetched online (with the day's prices and the recent
     households in it), its script, style, manifest and icon;
   - the point's households as the API answered them (the page also keeps them in IndexedDB for
     searching offline).
   Navigations under the intake page go to the network first and fall back to the shell; static
   files come from the cache first. Intakes themselves are never written here: the page keeps the
   ones made offline in IndexedDB and uploads them (logistics/intake-offline.js). */
"use strict";
var CACHE = "{{ version }}";
var SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var PAGE = "{{ page|escapejs }}";
var HOUSEHOLDS = "{{ households_api|escapejs }}";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(SHELL.map(function (url) {
        // one missing file must not stop the rest from being kept
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) return cache.put(url, response);
        }).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("intake-shell-") === 0 && k !== CACHE; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function networkFirst(request, cacheKey, fallbackKey) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && cacheKey) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(cacheKey, copy); });
    } else if (response.redirected && cacheKey === PAGE) {
      // sent to sign in: whoever holds the phone now must not get the last user's page (names,
      // households) from the cache; intakes waiting in IndexedDB are kept for the next upload
      caches.open(CACHE).then(function (cache) {
        cache.delete(PAGE);
        cache.keys().then(function (keys) {
          keys.forEach(function (k) { if (new URL(k.url).pathname === HOUSEHOLDS) cache.delete(k); });
        });
      });
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(cacheKey || request).then(function (hit) {
        return hit || (fallbackKey ? cache.match(fallbackKey) : undefined);
      });
    }).then(function (hit) {
      return hit || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;  // uploads go to the network, or the page keeps them
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate" && url.pathname.indexOf(PAGE) === 0) {
    // only the plain page becomes the shell; any other intake page offline falls back to it
    var key = url.pathname === PAGE && !url.search ? PAGE : null;
    event.respondWith(networkFirst(request, key, PAGE));
    return;
  }
  if (url.pathname === HOUSEHOLDS) {
    event.respondWith(networkFirst(request, request.url, null));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0 || url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.open(CACHE).then(function (cache) {
        return cache.match(request, { ignoreSearch: true }).then(function (hit) {
          // the cached copy now, a fresh one for next time (file names need not carry a hash)
          var fresh = fetch(request).then(function (response) {
            if (response.ok) cache.put(request, response.clone());
            return response;
          });
          if (hit) { fresh.catch(function () {}); return hit; }
          return fresh;
        });
      })
    );
  }
});
