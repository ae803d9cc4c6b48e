// kaokore web: the few things a page cannot do alone. Everything works without this file;
// with it, faces can be picked for the board (kept in localStorage) and a page image that
// cannot be loaded is replaced by a plain sentence.
"use strict";
(function () {
  document.documentElement.classList.add("js");
  var KEY = "kaokore-board";

  function board() {
    try {
      var ids = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids.filter(function (x) { return /^\d+$/.test(String(x)); }).map(String) : [];
    } catch (e) { return []; }
  }
  function save(ids) { window.localStorage.setItem(KEY, JSON.stringify(ids)); refresh(); }
  function boardUrl(ids) { return ids.length ? "/board?ids=" + ids.join(",") : "/board"; }

  function refresh() {
    var ids = board();
    var link = document.getElementById("board-link");
    if (link) { link.setAttribute("href", boardUrl(ids)); }
    var count = document.getElementById("board-count");
    if (count) { count.textContent = ids.length ? String(ids.length) : ""; }
    document.querySelectorAll("button.pick").forEach(function (button) {
      var on = ids.indexOf(button.dataset.face) >= 0;
      button.classList.toggle("on", on);
      button.textContent = on ? "on the board ✓" : "+ board";
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function toggle(id) {
    var ids = board();
    var at = ids.indexOf(id);
    if (at >= 0) { ids.splice(at, 1); } else { ids.push(id); }
    save(ids);
  }

  function pageImage() {
    var image = document.getElementById("page-image");
    if (!image) { return; }
    function failed() {
      var figure = document.getElementById("page-figure");
      var note = document.getElementById("page-unreachable");
      if (figure) { figure.hidden = true; }
      if (note) { note.hidden = false; }
    }
    image.addEventListener("error", failed);
    if (image.complete && image.naturalWidth === 0) { failed(); }
  }

  function boardPage() {
    var grid = document.getElementById("board-grid");
    var empty = document.getElementById("board-empty");
    var params = new URLSearchParams(window.location.search);
    if (window.location.pathname === "/board" && !params.get("ids") && board().length) {
      window.location.replace(boardUrl(board()));  // show what this browser kept
      return;
    }
    if (grid && params.get("ids")) {
      // a shared board link: what it shows becomes this browser's board
      save(params.get("ids").split(",").filter(function (x) { return /^\d+$/.test(x); }));
    }
    var clear = document.getElementById("board-clear");
    if (clear) {
      clear.addEventListener("click", function () { save([]); window.location.assign("/board"); });
    }
    if (empty) { save([]); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("click", function (event) {
      var target = event.target.closest("button.pick");
      if (target) {
        toggle(target.dataset.face);
        if (window.location.pathname === "/board") { window.location.assign(boardUrl(board())); }
        return;
      }
      if (event.target.closest("button.pick-all")) {
        var ids = board();
        document.querySelectorAll("#grid button.pick").forEach(function (button) {
          if (ids.indexOf(button.dataset.face) < 0) { ids.push(button.dataset.face); }
        });
        save(ids);
      }
    });
    pageImage();
    boardPage();
    refresh();
  });
})();
