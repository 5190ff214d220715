/* 离线收购: the intake page without a network.

   - registers the service worker (/intake/sw.js), which keeps the page, its prices and the
     point's households for when the network is gone;
   - keeps the point's households in IndexedDB for the household search offline;
   - an intake made offline is stored in IndexedDB with its client_id (UUID) and the time it was
     weighed, shown as 待上传 with a count, and a provisional receipt (临时凭证) is shown;
   - when the network returns (the "online" event, and on every load) each waiting intake is
     posted to POST /api/v1/intakes/ with its client_id and recorded_at. The server's client_id
     idempotency makes a repeated upload harmless; an intake leaves IndexedDB only after a 200/201,
     and one the server refuses (400/409) stays, marked, with the server's message.
   The server prices an intake by the day it was weighed; the amount shown offline is an estimate. */
(function () {
  "use strict";
  var app = document.getElementById("intake-app");
  var form = document.getElementById("intake-form");
  if (!app || !form || !window.indexedDB) return;

  var POINT = app.dataset.point;
  var USER = app.dataset.user;
  var DB_NAME = "relief-intake";
  var queueBox = document.getElementById("offline-queue");
  var queueList = document.getElementById("queue-list");
  var queueCount = document.getElementById("queue-count");
  var netState = document.getElementById("net-state");
  var uploadButton = document.getElementById("queue-upload");
  var receiptBox = document.getElementById("provisional-receipt");
  var texts = {};
  var tpl = document.getElementById("offline-texts");
  if (tpl) tpl.content.querySelectorAll("[data-k]").forEach(function (el) { texts[el.dataset.k] = el.textContent.trim(); });

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(app.dataset.sw, { scope: app.dataset.scope }).catch(function () {});
  }

  // --- IndexedDB --------------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = function () {
      var db = open.result;
      if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "client_id" });
      if (!db.objectStoreNames.contains("households")) db.createObjectStore("households", { keyPath: "key" });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });

  function tx(store, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result = work(t.objectStore(store));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function queued() {
    return tx("queue", "readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).filter(function (r) { return r.point === POINT && r.user === USER; })
        .sort(function (a, b) { return a.recorded_at < b.recorded_at ? -1 : 1; });
    });
  }

  // --- the point's households, for searching offline ------------------------------------------
  function cacheHouseholds() {
    if (!navigator.onLine || !window.fetch) return;
    var api = app.dataset.householdsApi;
    var all = [];
    function page(offset) {
      return fetch(api + "?limit=500&offset=" + offset, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          all = all.concat(data.results || []);
          if (data.next && all.length < 20000) return page(all.length);
        });
    }
    page(0).then(function () {
      return tx("households", "readwrite", function (s) { s.put({ key: POINT, at: new Date().toISOString(), rows: all }); });
    }).then(function () {
      document.documentElement.dataset.householdsKept = String(all.length);
    }).catch(function () {});
  }

  function searchLocal(term) {
    term = String(term || "").trim().toLowerCase();
    return tx("households", "readonly", function (s) { return s.get(POINT); }).then(function (entry) {
      var rows = (entry && entry.rows) || [];
      var tail = /^\d{3}[\dx]$/.test(term);
      return rows.filter(function (h) {
        return String(h.number).toLowerCase().indexOf(term) >= 0 || String(h.head_name).toLowerCase().indexOf(term) >= 0 ||
          (tail && String(h.id_number).toLowerCase().slice(-4) === term);
      }).slice(0, 20);
    }).catch(function () { return []; });
  }
  window.ReliefIntakeOffline = { searchLocal: searchLocal };

  // --- the waiting list -------------------------------------------------------------------------
  function render() {
    return queued().then(function (rows) {
      var offline = !navigator.onLine;
      queueBox.hidden = !rows.length && !offline;
      queueBox.classList.toggle("offline", offline);
      netState.textContent = offline ? texts.offline : texts.online;
      queueCount.textContent = String(rows.length);
      uploadButton.hidden = offline || !rows.some(function (r) { return !r.error; });
      queueList.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.dataset.clientId = r.client_id;
        if (r.error) li.className = "refused";
        var what = document.createElement("span");
        what.textContent = r.household_name + " · " + r.produce_name + r.grade_name + " · " + r.weight + " " + (r.unit === "kg" ? "kg" : "斤");
        var state = document.createElement("span");
        state.className = "right";
        state.textContent = r.error ? texts.refused : texts.pending;
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = new Date(r.recorded_at).toLocaleString() + (r.error ? " · " + r.error : "");
        li.appendChild(what);
        li.appendChild(state);
        li.appendChild(meta);
        if (r.error) {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "btn small";
          drop.textContent = texts.discard;
          drop.addEventListener("click", function () {
            tx("queue", "readwrite", function (s) { s.delete(r.client_id); }).then(render);
          });
          meta.appendChild(drop);
        }
        queueList.appendChild(li);
      });
      document.documentElement.dataset.queueCount = String(rows.length);
      return rows;
    });
  }

  // --- upload -----------------------------------------------------------------------------------
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function refusal(body) {
    if (!body || typeof body !== "object") return "";
    var parts = [];
    if (body.detail) parts.push(String(body.detail));
    Object.keys(body).forEach(function (k) {
      if (k !== "detail" && k !== "code" && Array.isArray(body[k])) parts.push(body[k].join(" "));
    });
    return parts.join(" ");
  }

  var syncing = null;
  function sync() {
    if (syncing) return syncing;
    if (!navigator.onLine || !window.fetch) return render();
    syncing = queued().then(function (rows) {
      var waiting = rows.filter(function (r) { return !r.error; });
      var chain = Promise.resolve(true);
      waiting.forEach(function (r) {
        chain = chain.then(function (goOn) {
          if (!goOn) return false;
          var body = { client_id: r.client_id, household: r.household, produce: r.produce, grade: r.grade, recorded_at: r.recorded_at };
          body[r.unit === "kg" ? "weight_kg" : "weight_jin"] = r.weight;
          return fetch(app.dataset.intakesApi, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify(body)
          }).then(function (resp) {
            if (resp.status === 200 || resp.status === 201) {
              return tx("queue", "readwrite", function (s) { s.delete(r.client_id); }).then(function () { return true; });
            }
            if (resp.status === 400 || resp.status === 409) {
              return resp.json().catch(function () { return {}; }).then(function (b) {
                r.error = refusal(b) || String(resp.status);
                return tx("queue", "readwrite", function (s) { s.put(r); }).then(function () { return true; });
              });
            }
            if (resp.status === 401 || resp.status === 403) netState.textContent = texts.signin;
            return false;  // signed out or the server is unwell: keep everything, try again later
          }, function () { return false; });  // the network went again
        });
      });
      return chain;
    }).then(render, render).then(function (rows) {
      syncing = null;
      return rows;
    });
    return syncing;
  }

  // --- recording offline ------------------------------------------------------------------------
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function showErrors(problems) {
    var old = form.querySelector("[data-error-summary]");
    if (old) old.remove();
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    if (!problems.length) return;
    var box = document.createElement("div");
    box.className = "error-summary";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-live", "assertive");
    box.tabIndex = -1;
    box.dataset.errorSummary = "";
    var h = document.createElement("h2");
    h.textContent = form.dataset.msgTitle;
    var ul = document.createElement("ul");
    problems.forEach(function (p) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + p[0];
      a.textContent = p[1];
      li.appendChild(a);
      ul.appendChild(li);
      var el = document.getElementById(p[0]);
      if (el) el.setAttribute("aria-invalid", "true");
    });
    box.appendChild(h);
    box.appendChild(ul);
    form.insertBefore(box, form.querySelector("fieldset"));
    box.focus();
    box.scrollIntoView({ block: "start" });
  }

  function chosenLabel(name) {
    var el = form.querySelector('input[name="' + name + '"]:checked');
    return el ? (el.dataset.name || el.value) : "";
  }

  function provisionalReceipt(r, amountFen) {
    receiptBox.textContent = "";
    var h = document.createElement("h2");
    h.textContent = texts.provisional;
    var p = document.createElement("p");
    p.className = "hint";
    p.textContent = texts.saved;
    var dl = document.createElement("dl");
    [[texts.household, r.household_name + " · " + r.household],
     [texts.produce, r.produce_name + " " + r.grade_name],
     [texts.weight, r.weight + " " + (r.unit === "kg" ? "kg" : "斤")],
     [texts.estimate, amountFen === null ? "—" : window.ReliefIntake.cny(amountFen)],
     [texts.time, new Date(r.recorded_at).toLocaleString()]].forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    receiptBox.appendChild(h);
    receiptBox.appendChild(dl);
    receiptBox.appendChild(p);
    receiptBox.hidden = false;
  }

  // A page served from the worker's cache carries the client_id it was rendered with, which may
  // have been sent already: every id that left this page is remembered, and never offered twice.
  var USED = "relief-intake-used-ids";
  function usedIds() {
    try { return JSON.parse(localStorage.getItem(USED) || "[]"); } catch (err) { return []; }
  }
  function markUsed(id) {
    var ids = usedIds().filter(function (x) { return x !== id; });
    ids.push(id);
    try { localStorage.setItem(USED, JSON.stringify(ids.slice(-500))); } catch (err) { /* private mode: the queue check below still holds */ }
  }
  var idInput = form.querySelector('input[name="client_id"]');
  var idChecked = queued().then(function (rows) {
    var current = idInput.value;
    var inQueue = rows.some(function (r) { return r.client_id === current; });
    var refreshed = form.querySelector("[data-error-summary]") === null;  // a refused form keeps its id on purpose
    if (inQueue || (refreshed && usedIds().indexOf(current) >= 0)) idInput.value = uuid4();
  }).catch(function () {});

  form.addEventListener("submit", function (e) {
    markUsed(idInput.value);
    if (navigator.onLine) return;  // online, the server records it and shows the real receipt
    e.preventDefault();
    var intake = window.ReliefIntake;
    var household = intake.checked("household"), produce = intake.checked("produce"), grade = intake.checked("grade");
    var unit = intake.checked("unit") || "jin";
    var weightInput = document.getElementById("weight");
    var raw = String(weightInput.value || "").trim().replace(",", ".");
    var g = intake.grams(raw, unit);
    var problems = [];
    if (!household) problems.push(["household-field", form.dataset.msgHousehold]);
    if (!produce) problems.push(["produce-field", form.dataset.msgProduce]);
    if (!grade) problems.push(["grade-field", form.dataset.msgGrade]);
    if (g === null || g <= 0) problems.push(["weight", form.dataset.msgWeight]);
    showErrors(problems);
    if (problems.length) return;
    // the API takes up to 3 decimals of the unit typed; finer input goes as the grams it rounds to
    var decimals = (raw.split(".")[1] || "").length;
    var weight = decimals <= 3 ? raw : intake.plain(g);
    var r = {
      client_id: "",
      point: POINT,
      user: USER,
      household: household,
      household_name: chosenLabel("household"),
      produce: produce,
      produce_name: chosenLabel("produce"),
      grade: grade,
      grade_name: chosenLabel("grade"),
      unit: decimals <= 3 ? unit : "kg",
      weight: weight,
      recorded_at: new Date().toISOString()
    };
    var pricesEl = document.getElementById("intake-prices");
    var prices = pricesEl ? JSON.parse(pricesEl.textContent) : {};
    var price = (prices[produce] || {})[grade];
    var amountFen = price ? Math.floor((g * intake.fen(price.kg) + 500) / 1000) : null;
    idChecked.then(function () {
      r.client_id = idInput.value;
      return tx("queue", "readwrite", function (s) { s.add(r); }).catch(function () {
        r.client_id = uuid4();  // that id is already waiting: this weighing is another intake
        return tx("queue", "readwrite", function (s) { s.add(r); });
      });
    }).then(function () {
      idInput.value = uuid4();  // the next intake is a new one
      provisionalReceipt(r, amountFen);
      weightInput.value = "";
      intake.update();
      return render();
    }).then(function () {
      intake.focusWeight();  // same household again: only the weight to type
    });
  });

  if (uploadButton) uploadButton.addEventListener("click", sync);
  window.addEventListener("online", function () { sync(); cacheHouseholds(); });
  window.addEventListener("offline", render);
  render().then(function () {
    if (navigator.onLine) {
      sync();
      cacheHouseholds();
    }
  });
})();
