/* drafting: conflict (see base.html)
   The conflict view (templates/clauses/_conflict.html): "Use theirs" closes the editor keeping the current
   text (the view's own "Keep the current text" link, which Escape also follows); "Use mine" and "Edit
   combined" put a text, carried in the page as <template>s, into the resolved text box. Without JavaScript
   the buttons stay hidden: the box starts with your text and the link is shown. */
(function () {
  "use strict";

  function reveal(root) {
    const scope = root && root.querySelectorAll ? root : document;
    const groups = Array.from(scope.querySelectorAll("[data-conflict-choices][hidden]"));
    if (scope.matches && scope.matches("[data-conflict-choices][hidden]")) groups.push(scope);
    groups.forEach(function (group) {
      group.hidden = false;
      const form = group.closest("form");
      const keep = form && form.querySelector("[data-conflict-keep]");
      if (keep) keep.hidden = true; // "Use theirs" does the same; the link stays for Escape
    });
  }

  function put(form, kind) {
    const source = form.querySelector('template[data-conflict-text="' + kind + '"]');
    const box = form.querySelector("textarea[name=text]");
    if (!source || !box) return;
    box.value = source.content.textContent;
    const heading = form.querySelector("input[name=heading]");
    if (heading) heading.value = source.dataset.heading || "";
    // Let the other scripts (hidden-character warning, drafts) see the new text as if typed.
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    const start = parseInt(source.dataset.selectStart, 10);
    const end = parseInt(source.dataset.selectEnd, 10);
    if (kind === "combined" && !isNaN(start) && !isNaN(end)) box.setSelectionRange(start, end);
    else box.setSelectionRange(0, 0);
    const status = form.querySelector("[data-conflict-status]");
    if (status) {
      status.textContent = kind === "mine"
        ? draftingT("Your version is in the text box: save it, or edit it first.")
        : isNaN(start)
          ? draftingT("The combined text is in the text box. Then save.")
          : draftingT("The combined text is in the text box; the first place you both changed is selected: your words, check them. Then save.");
    }
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-conflict-use]");
    if (!button) return;
    const form = button.closest("form");
    if (!form) return;
    event.preventDefault();
    if (button.dataset.conflictUse === "theirs") {
      const keep = form.querySelector("[data-conflict-keep]");
      if (keep) keep.click(); // htmx swaps the clause back to its current text; nothing is saved
    } else {
      put(form, button.dataset.conflictUse);
    }
  });

  document.addEventListener("htmx:load", function (event) { reveal(event.detail && event.detail.elt); });
  // app.js (loaded first) has just focused the text box, scrolling to it: bring the message and both
  // versions back into view, the focus staying in the box.
  document.addEventListener("htmx:afterSettle", function () {
    const form = document.querySelector("form[data-conflict]:not([data-conflict-shown])");
    if (!form) return;
    form.dataset.conflictShown = "true";
    form.scrollIntoView({ block: "start" });
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
})();
