/* Intake page: live household search, the grades a produce has, and the price and amount as the
   weight is typed. The page works without this file; the server computes the same figures.
   Money is done in integers (fen, grams) with half-up rounding, as core/money.py does. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  document.documentElement.classList.add("js");
  var pricesEl = document.getElementById("intake-prices");
  var prices = pricesEl ? JSON.parse(pricesEl.textContent) : {};
  var live = document.getElementById("live");
  var weightInput = document.getElementById("weight");

  function checked(name) {
    var el = form.querySelector('input[name="' + name + '"]:checked');
    return el ? el.value : "";
  }

  // "12.5" -> 125000 (ten-thousandths); null if not a plain non-negative decimal.
  function tenThousandths(text) {
    var s = String(text || "").trim().replace(",", ".");
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s) || s.length > 14) return null;
    var parts = s.split(".");
    var frac = ((parts[1] || "") + "0000").slice(0, 4);
    return Number(parts[0] || "0") * 10000 + Number(frac);
  }

  function fen(text) {
    var v = tenThousandths(text);
    return v === null ? null : Math.floor((v + 50) / 100);
  }

  function grams(text, unit) {
    var v = tenThousandths(text);
    if (v === null) return null;
    if (unit === "jin") return Math.floor((v * 5 + 50) / 100); // 1 jin = 0.5 kg, half up to the gram
    return Math.floor((v + 5) / 10);
  }

  function plain(milli) { // 12500 -> "12.5"
    var s = Math.floor(milli / 1000) + "." + String(milli % 1000).padStart(3, "0");
    return s.replace(/\.?0+$/, "");
  }

  function cny(f) {
    return "¥" + Math.floor(f / 100).toLocaleString("en-US") + "." + String(f % 100).padStart(2, "0");
  }

  function offeredGrades() {
    var produce = checked("produce");
    var grades = prices[produce] || {};
    form.querySelectorAll('input[name="grade"]').forEach(function (radio) {
      var offered = Object.prototype.hasOwnProperty.call(grades, radio.value);
      radio.disabled = !offered;
      if (!offered && radio.checked) radio.checked = false;
      var sub = form.querySelector('[data-grade-price="' + radio.value + '"]');
      if (sub) sub.textContent = offered ? cny(fen(grades[radio.value].jin)) + "/斤" : "";
    });
  }

  function update() {
    var price = (prices[checked("produce")] || {})[checked("grade")];
    var unit = checked("unit") || "jin";
    var g = grams(weightInput.value, unit);
    live.textContent = "";
    var line = document.createElement("span");
    var amount = document.createElement("span");
    amount.className = "amount";
    var bits = [];
    if (price) bits.push(cny(fen(price.jin)) + "/斤 (" + cny(fen(price.kg)) + "/kg)");
    if (g !== null && g > 0) bits.push(plain(g * 2) + " 斤 (" + plain(g) + " kg)");
    line.textContent = bits.join(" · ");
    live.appendChild(line);
    if (price && g !== null && g > 0) {
      amount.textContent = cny(Math.floor((g * fen(price.kg) + 500) / 1000));
      live.appendChild(amount);
    }
  }

  // Choosing a household folds the picker away and puts the cursor in the weight box, so the
  // weight and 登记收购 are on the first screen of a phone: household, weight, submit.
  var householdField = document.getElementById("household-field");
  var chosen = document.getElementById("chosen-household");
  var chosenText = document.getElementById("chosen-text");
  var change = document.getElementById("change-household");

  function showChosen(radio) {
    if (!householdField || !chosen) return;
    chosenText.textContent = "";
    var b = document.createElement("b");
    b.textContent = radio.dataset.name || radio.value;
    chosenText.appendChild(b);
    chosenText.appendChild(document.createTextNode(" · " + radio.value + " "));
    var sub = document.createElement("span");
    sub.className = "sub";
    sub.textContent = radio.dataset.village || "";
    chosenText.appendChild(sub);
    chosen.hidden = false;
    householdField.classList.add("has-choice");
  }

  function focusWeight() {
    weightInput.focus();
    weightInput.select();
  }

  if (change) {
    change.addEventListener("click", function () {
      householdField.classList.remove("has-choice");
      chosen.hidden = true;
      var q = document.getElementById("q");
      if (q) q.focus();
    });
  }

  form.addEventListener("change", function (e) {
    if (e.target.name === "produce") offeredGrades();
    if (e.target.name === "household" && e.target.checked) {
      showChosen(e.target);
      focusWeight();
    }
    update();
  });
  weightInput.addEventListener("input", update);
  offeredGrades();
  update();
  var preselected = form.querySelector('input[name="household"]:checked');
  if (preselected) showChosen(preselected);
  if (weightInput.hasAttribute("autofocus") && !document.querySelector("[data-error-summary]")) focusWeight();

  window.ReliefIntake = { update: update, focusWeight: focusWeight, checked: checked, showChosen: showChosen, fen: fen, grams: grams, plain: plain, cny: cny };

  // Live household search through the JSON API (session-authenticated GET).
  var search = document.getElementById("household-search");
  var q = document.getElementById("q");
  var options = document.getElementById("household-options");
  var legend = document.getElementById("household-legend");
  var hiddenQ = form.querySelector('input[name="q"]');
  if (!search || !q || !options || !window.fetch) return;
  var timer = null;
  var seq = 0;

  function render(rows) {
    var current = checked("household");
    options.textContent = "";
    if (!rows.length) {
      var p = document.createElement("p");
      p.className = "hint";
      p.textContent = options.dataset.empty || "—";
      options.appendChild(p);
      return;
    }
    rows.forEach(function (h) {
      var label = document.createElement("label");
      label.className = "choice";
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "household";
      input.value = h.number;
      input.dataset.name = h.head_name;
      input.dataset.village = h.village;
      input.checked = h.number === current;
      var span = document.createElement("span");
      var b = document.createElement("b");
      b.textContent = h.head_name;
      span.appendChild(b);
      span.appendChild(document.createTextNode(" " + h.number + " "));
      var sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = h.village + " · " + h.id_number;
      span.appendChild(sub);
      label.appendChild(input);
      label.appendChild(span);
      options.appendChild(label);
    });
    // even a single match waits for its tap: the tap is what folds the list and goes to the weight
  }

  function show(rows) {
    if (legend && legend.dataset.results) legend.textContent = legend.dataset.results;
    render(rows);
  }

  function local(term) {
    var offline = window.ReliefIntakeOffline;
    if (offline) offline.searchLocal(term).then(show);
  }

  function run() {
    var term = q.value.trim();
    if (hiddenQ) hiddenQ.value = term;
    if (!term) return;
    var mine = ++seq;
    if (!navigator.onLine) { local(term); return; }  // households kept on the phone
    var url = q.dataset.api + "?limit=20&search=" + encodeURIComponent(term);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (mine !== seq) return;
        show(data.results || []);
      })
      .catch(function () { if (mine === seq) local(term); });
  }

  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  search.addEventListener("submit", function (e) {
    if (!q.value.trim()) return;
    e.preventDefault();
    run();
  });
})();
