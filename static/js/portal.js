/* Partnership portal: the few behaviours that need a script. Everything works without it; this only
 * adds conveniences: buttons that need htmx are shown, and forms marked data-draft keep a draft in
 * the tab's sessionStorage, so an accidental reload loses nothing. sessionStorage (not localStorage)
 * because drafts may be confidential: they go when the tab is closed and on sign-out, and never reach
 * another tab or the next person at the computer.
 *
 * No inline script and no eval, so the pages can run under a strict Content-Security-Policy.
 */
(function () {
  "use strict";

  var PREFIX = "portal-draft:";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;

  function storage() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // private mode or storage blocked: drafts are simply not kept
    }
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && !/^(submit|button|file|reset)$/.test(el.type);
    });
  }

  function snapshot(form) {
    var values = {};
    draftFields(form).forEach(function (el) {
      if (!(el.name in values)) values[el.name] = [];
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values[el.name].push(el.value);
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { values[el.name].push(o.value); });
      } else {
        values[el.name].push(el.value);
      }
    });
    return values;
  }

  var restoring = false;

  function save(form) {
    var store = storage();
    if (!store || restoring) return;
    try {
      store.setItem(PREFIX + form.dataset.draft, JSON.stringify({ savedAt: Date.now(), values: snapshot(form) }));
    } catch (e) { /* quota exceeded: keep going without a draft */ }
  }

  function load(key) {
    var store = storage();
    if (!store) return null;
    try {
      var draft = JSON.parse(store.getItem(PREFIX + key) || "null");
      if (!draft || !draft.values) return null;
      if (Date.now() - draft.savedAt > MAX_AGE_MS) {
        store.removeItem(PREFIX + key);
        return null;
      }
      return draft;
    } catch (e) {
      return null;
    }
  }

  function forget(key) {
    var store = storage();
    if (store) store.removeItem(PREFIX + key);
  }

  function forgetAll() {
    var store = storage();
    if (!store) return;
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) store.removeItem(key);
    }
  }

  function apply(form, values) {
    var changed = false;
    draftFields(form).forEach(function (el) {
      if (!(el.name in values) || el.type === "hidden") return;
      var wanted = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        var on = wanted.indexOf(el.value) !== -1;
        if (el.checked !== on) { el.checked = on; changed = true; }
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = wanted.indexOf(o.value) !== -1; });
        changed = true;
      } else if (wanted.length && el.value !== wanted[0]) {
        el.value = wanted[0];
        changed = true;
      }
    });
    return changed;
  }

  // Rows added with htmx (follow-ups) must exist before their values can be put back.
  function addRows(form, wanted) {
    var total = form.querySelector("input[name$='-TOTAL_FORMS']");
    var button = form.querySelector("[data-add-row]");
    if (!total || !button || !window.htmx || Number(total.value) >= wanted) return Promise.resolve();
    return window.htmx
      .ajax("GET", button.getAttribute("data-hx-get"), { source: button, target: button.getAttribute("data-hx-target"), swap: "beforeend" })
      .then(function () {
        var now = form.querySelector("input[name$='-TOTAL_FORMS']");
        if (!now || Number(now.value) <= Number(total.value)) return undefined; // no progress: stop
        return addRows(form, wanted);
      });
  }

  function restore(form) {
    var draft = load(form.dataset.draft);
    if (!draft) return;
    var totalName = Object.keys(draft.values).filter(function (n) { return /-TOTAL_FORMS$/.test(n); })[0];
    var wanted = totalName ? Number(draft.values[totalName][0]) || 0 : 0;
    restoring = true; // the rows added on the way must not overwrite the draft before it is put back
    function finish() {
      restoring = false;
      if (apply(form, draft.values)) {
        var notice = document.querySelector("[data-draft-notice]");
        if (notice) notice.hidden = false;
      }
      save(form);
    }
    addRows(form, wanted).then(finish, finish); // a failed row request still puts back what fits
  }

  function setUpDraft(form) {
    var key = form.dataset.draft;
    if (form.hasAttribute("data-draft-restore")) restore(form);
    form.addEventListener("input", function () { save(form); });
    form.addEventListener("change", function () { save(form); });
    document.body.addEventListener("htmx:afterSettle", function () { save(form); });
    // Enter in the quick-add fields adds the person instead of sending the whole engagement.
    form.addEventListener("keydown", function (event) {
      var quick = event.target.closest && event.target.closest("[data-quick-add]");
      if (event.key !== "Enter" || !quick || event.target.tagName !== "INPUT") return;
      var add = quick.querySelector("button[data-hx-post]");
      if (add && !add.hidden) {
        event.preventDefault();
        add.click();
      }
    });
    // One click sends once: a second click while the page is on its way would log the engagement twice.
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
    var discard = document.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        forget(key);
        window.location.reload();
      });
    }
  }

  function start() {
    document.querySelectorAll("meta[name='portal-clear-draft']").forEach(function (meta) { forget(meta.content); });
    document.querySelectorAll(".js-only[hidden]").forEach(function (el) { if (window.htmx) el.hidden = false; });
    document.querySelectorAll("form[data-draft]").forEach(setUpDraft);
    if (document.querySelector("[data-signed-out]")) forgetAll(); // the sign-in page: nobody's drafts are kept
    document.querySelectorAll("form[data-clear-drafts-on-submit]").forEach(function (form) {
      form.addEventListener("submit", forgetAll); // signing out leaves no draft behind on a shared computer
    });
    // "Select all on this page": ticks every row's box of the bulk form it names.
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        var boxes = document.querySelectorAll("input[type='checkbox'][name='ids'][form='" + all.dataset.selectAll + "']");
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
    });
    var errors = document.getElementById("form-errors");
    if (errors) errors.focus();
  }

  // "/" anywhere but in a field goes to the search box (opening the menu on a phone first).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var search = document.getElementById("header-search");
    if (!search) return;
    event.preventDefault();
    var menu = search.closest("details");
    if (menu && !menu.open && search.offsetParent === null) menu.open = true;
    search.focus();
    search.select();
  });

  // Escape closes the phone menu and puts focus back on its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.site-menu[open]");
    if (!menu || menu.querySelector("summary").offsetParent === null) return; // wide screens show no menu button
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // Fragments swapped in by htmx may carry buttons of their own, a message to announce and where focus goes
  // (the button that was pressed may have been replaced).
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".js-only[hidden]").forEach(function (el) { if (window.htmx) el.hidden = false; });
    var live = document.getElementById("live-region");
    document.querySelectorAll("[data-announce]").forEach(function (el) {
      if (live) live.textContent = el.textContent.trim();
      el.removeAttribute("data-announce");
    });
    var target = document.querySelector("[data-focus]");
    if (target) {
      target.removeAttribute("data-focus");
      target.focus();
    }
  });
})();
