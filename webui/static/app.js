/* vnsearch: search-as-you-type suggestions from /api/suggest.
 * Progressive enhancement only: the page works without this file.
 * Suggestions are inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var DELAY_MS = 120;

  function setup(input) {
    var form = input.form;
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.getAttribute("data-suggest-url");
    if (!form || !list || !url || !window.fetch) return;

    var items = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var typed = input.value;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      items.forEach(function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].id);
        input.value = items[index].textContent;
      } else {
        input.removeAttribute("aria-activedescendant");
        input.value = typed;
      }
    }

    function choose(text) {
      input.value = text;
      close();
      form.submit();
    }

    function render(suggestions) {
      list.textContent = "";
      items = [];
      active = -1;
      suggestions.forEach(function (text, i) {
        var li = document.createElement("li");
        li.id = "suggestion-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = text;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); /* keep the focus in the box */
          choose(text);
        });
        list.appendChild(li);
        items.push(li);
      });
      var open = items.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
    }

    function fetchSuggestions(value) {
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var address = url + "?q=" + encodeURIComponent(value);
      fetch(address, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value !== value || document.activeElement !== input) return; /* stale */
          render(Array.isArray(data.suggestions) ? data.suggestions : []);
        })
        .catch(function () { /* aborted or offline: no suggestions */ });
    }

    input.addEventListener("input", function () {
      typed = input.value;
      clearTimeout(timer);
      if (!typed.trim()) { close(); return; }
      timer = setTimeout(function () { fetchSuggestions(typed); }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      if (list.hidden || !items.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight(active + 1 < items.length ? active + 1 : -1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active > -1 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(items[active].textContent);
      } else if (event.key === "Escape") {
        event.preventDefault();
        input.value = typed;
        close();
      }
    });

    input.addEventListener("blur", function () { close(); });
    form.addEventListener("submit", function () { clearTimeout(timer); close(); });
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-suggest-url]");
    for (var i = 0; i < inputs.length; i++) setup(inputs[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
