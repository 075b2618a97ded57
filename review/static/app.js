// touthunt web app: keyboard shortcuts and in-place verdicts on the hit list, select-all for bulk actions,
// and the live lexicon test box. Hand-written, no libraries; text from the server is only ever set with
// textContent, never parsed as HTML.
"use strict";

(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || ("HTTP " + response.status)); }
        return data;
      });
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  // Hit list -------------------------------------------------------------------------------------------
  var table = document.getElementById("hits-table");
  if (table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tr.hit-row"));
    var current = -1;
    var status = el("p", "", "notice");
    status.setAttribute("role", "status");
    status.hidden = true;
    table.parentNode.insertBefore(status, table);

    function select(index) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (current >= 0) { rows[current].classList.remove("selected"); }
      current = index;
      rows[current].classList.add("selected");
      rows[current].scrollIntoView({ block: "nearest" });
    }

    function say(text) { status.hidden = false; status.textContent = text; }

    function decide(verdict) {
      if (current < 0) { select(0); }
      var row = rows[current];
      if (!row) { return; }
      var fields = { verdict: verdict };
      if (verdict === "dismissed") {
        var reason = document.getElementById("dismiss-reason");
        fields.reason = reason ? reason.value : "";
      }
      post("/hits/" + row.getAttribute("data-id") + "/verdict", fields).then(function (data) {
        row.classList.remove("status-new", "status-confirmed", "status-dismissed");
        row.classList.add("status-" + data.status);
        row.querySelector("td.status").textContent = data.status_label;
        row.querySelector("td.category").textContent = data.category_label;
        say("命中 #" + data.id + "：" + data.status_label);
        select(current + 1);
      }).catch(function (error) { say("操作失败：" + error.message); });
    }

    rows.forEach(function (row, index) {
      row.addEventListener("click", function (event) {
        if (event.target.tagName !== "A" && event.target.tagName !== "INPUT") { select(index); }
      });
    });

    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.tagName === "INPUT" && target.type !== "checkbox" || target.tagName === "SELECT" ||
                     target.tagName === "TEXTAREA")) { return; }
      if (event.key === "j") { select(current + 1); }
      else if (event.key === "k") { select(current - 1); }
      else if (event.key === "c") { decide("confirmed"); }
      else if (event.key === "d") { decide("dismissed"); }
      else if (event.key === "x" && current >= 0) {
        var box = rows[current].querySelector('input[type="checkbox"]');
        box.checked = !box.checked;
      }
      else if ((event.key === "o" || event.key === "Enter") && current >= 0) {
        window.location.href = rows[current].getAttribute("data-href");
      }
      else { return; }
      event.preventDefault();
    });

    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        rows.forEach(function (row) { row.querySelector('input[type="checkbox"]').checked = all.checked; });
      });
    }
  }

  // Hit detail: c confirm, d dismiss (with the chosen reason), n next new hit ------------------------------
  var confirmButton = document.getElementById("confirm-button");
  if (confirmButton) {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) {
        return;
      }
      var next = document.getElementById("next-hit");
      if (event.key === "c") { confirmButton.click(); }
      else if (event.key === "d") { document.getElementById("dismiss-button").click(); }
      else if (event.key === "n" && next) { window.location.href = next.getAttribute("href"); }
      else { return; }
      event.preventDefault();
    });
  }

  // Lexicon test box -----------------------------------------------------------------------------------
  var testForm = document.getElementById("test-form");
  if (testForm) {
    var text = document.getElementById("test-text");
    var url = document.getElementById("test-url");
    var out = document.getElementById("test-result");
    var timer = null;
    var sequence = 0;

    function show(data) {
      out.textContent = "";
      out.appendChild(el("p", "评分 " + data.score + "，" + (data.hit ? "达到命中阈值" : "未达到命中阈值") +
        "，类别：" + data.category_label + "，词库版本 " + data.lexicon_version, "summary"));
      var table = el("table", null, "reasons");
      var head = el("tr");
      ["规则编号", "权重", "匹配文字"].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      data.reasons.forEach(function (reason) {
        var tr = el("tr");
        tr.appendChild(el("td", reason.rule_id, "rule"));
        tr.appendChild(el("td", reason.weight));
        tr.appendChild(el("td", reason.text));
        table.appendChild(tr);
      });
      out.appendChild(table);
    }

    function run() {
      var mine = ++sequence;
      post("/lexicon/test", { text: text.value, url: url.value }).then(function (data) {
        if (mine === sequence) { show(data); }
      }).catch(function (error) { out.textContent = "评分失败：" + error.message; });
    }

    function later() { clearTimeout(timer); timer = setTimeout(run, 300); }
    text.addEventListener("input", later);
    url.addEventListener("input", later);
    testForm.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  }
})();
