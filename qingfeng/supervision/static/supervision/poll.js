/* Qingfeng supervision: keep open pages current without a reload.
 *
 * Elements with data-sv-poll="<fragment url>" are re-fetched every data-sv-interval seconds
 * (default 10) and their content replaced when it changed. Elements with
 * data-sv-unread="<unread.json url>" show the unread notification count.
 * When htmx is loaded and the element carries hx-get, htmx polls it instead.
 * Polling pauses while the tab is hidden and resumes at once when it is shown again; a
 * part the user is typing into is left alone until focus leaves it.
 */
(function () {
  "use strict";
  if (window.qingfengSupervisionPoll) {
    return;
  }
  window.qingfengSupervisionPoll = { refresh: tick };

  var HEADERS = { "X-Requested-With": "fetch", "X-Qingfeng-Fragment": "1" };

  function byHtmx(el) {
    return Boolean(window.htmx && el.hasAttribute("hx-get"));
  }

  function isEditing(el) {
    // Focus inside the part, or text typed into one of its fields: do not throw that away.
    var active = document.activeElement;
    if (active && el.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
      return true;
    }
    return Array.prototype.some.call(el.querySelectorAll("input[type=text], input:not([type]), textarea"), function (f) {
      return f.value !== "";
    });
  }

  function get(url, accept) {
    var headers = Object.assign({ Accept: accept }, HEADERS);
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers }).then(function (r) {
      // A redirect means the session ended: never paste the login page into a panel.
      if (!r.ok || r.redirected) {
        throw new Error("poll " + r.status);
      }
      return r;
    });
  }

  function refreshPart(el) {
    if (byHtmx(el) || isEditing(el)) {
      return;
    }
    get(el.getAttribute("data-sv-poll"), "text/html")
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (html === el.getAttribute("data-sv-last")) {
          return;
        }
        el.setAttribute("data-sv-last", html);
        el.innerHTML = html;
        el.dispatchEvent(new CustomEvent("sv:updated", { bubbles: true }));
      })
      .catch(function () {});
  }

  function refreshCount(el) {
    get(el.getAttribute("data-sv-unread"), "application/json")
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var n = Number(data.unread) || 0;
        el.textContent = n > 99 ? "99+" : String(n);
        el.hidden = n === 0;
      })
      .catch(function () {});
  }

  function tick() {
    if (document.hidden) {
      return;
    }
    document.querySelectorAll("[data-sv-poll]").forEach(refreshPart);
    document.querySelectorAll("[data-sv-unread]").forEach(refreshCount);
  }

  function start() {
    var seconds = 10;
    document.querySelectorAll("[data-sv-interval]").forEach(function (el) {
      var s = Number(el.getAttribute("data-sv-interval"));
      if (s > 0 && s < seconds) {
        seconds = s;
      }
    });
    window.setInterval(tick, seconds * 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) {
        tick();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
