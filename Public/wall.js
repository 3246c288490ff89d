// Live wall screen: tiles follow the server's events; the page works without this file.
(function () {
  "use strict";
  var labels = { running: "Running", idle: "Idle", unplanned_stop: "Down", setup: "Setup", planned_stop: "Planned stop", offline: "Offline" };
  var live = document.getElementById("live");
  var alarms = document.getElementById("alarms");
  var tiles = document.getElementById("tiles");
  var site = tiles.getAttribute("data-site");
  function minutes(ms) {
    var m = Math.max(0, Math.floor((Date.now() - ms) / 60000));
    return m < 60 ? m + " min" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function tick() {
    document.querySelectorAll(".tile[data-since]").forEach(function (tile) {
      var since = parseInt(tile.getAttribute("data-since"), 10);
      if (since) tile.querySelector(".since").textContent = minutes(since);
    });
  }
  function machine(update) {
    if (update.site && update.site !== site) return;
    var tile = document.getElementById("tile-" + update.machine);
    if (!tile) return;
    tile.className = tile.className.replace(/state-\S+/, "state-" + update.state);
    tile.querySelector(".label").textContent = labels[update.state] || update.state;
    tile.querySelector(".reason").textContent = update.reason || (update.state === "unplanned_stop" ? "No reason given" : "");
    tile.setAttribute("data-since", String(update.since));
    var andon = (update.state === "unplanned_stop" && !update.reason) || !!tile.querySelector(".alarm");
    tile.classList.toggle("andon", andon);
    tick();
  }
  function alarm(a) {
    if (a.site && a.site !== site) return;
    if (document.getElementById("alarm-" + a.id)) return;  // already on the page, or replayed
    var none = alarms.querySelector(".none");
    if (none) none.remove();
    var item = document.createElement("li");
    item.id = "alarm-" + a.id;
    item.textContent = (a.machine || "–") + " · " + a.characteristic + " · " + a.rules.join(", ") + " · " + new Date(a.raised_at).toISOString().slice(0, 16).replace("T", " ") + " UTC";
    alarms.insertBefore(item, alarms.firstChild);
    var tile = a.machine && document.getElementById("tile-" + a.machine);
    if (tile && !tile.querySelector(".alarm")) {
      var badge = document.createElement("p");
      badge.className = "alarm";
      badge.textContent = "SPC alarm";
      tile.appendChild(badge);
      tile.classList.add("andon");
    }
  }
  function connect() {
    // The stream starts where the page was rendered (the page may be a few seconds old).
    var after = tiles.getAttribute("data-after");
    var source = new EventSource("/events" + (after ? "?after=" + encodeURIComponent(after) : ""));
    var lost = false;
    // Back after a network loss or a server restart: what changed meanwhile is not known,
    // so the page starts afresh from the server's state.
    source.addEventListener("open", function () { if (lost) { location.reload(); } else { live.textContent = "Live."; } });
    source.addEventListener("update", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      (data.machines || []).forEach(machine);
      (data.spc_alarms || []).forEach(alarm);
    });
    // The server says updates were missed (its database link came back): start afresh.
    source.addEventListener("reload", function () { location.reload(); });
    // Too far behind for the server to replay what was missed: start afresh too.
    source.addEventListener("reset", function () { location.reload(); });
    source.addEventListener("shutdown", function () { live.textContent = "Server restarting…"; });
    source.onerror = function () { lost = true; live.textContent = "Reconnecting…"; };
  }
  setInterval(tick, 30000);
  connect();
})();
