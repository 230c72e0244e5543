/* drafting: the side-by-side translation page, live. app.js keeps the page connected and passes
   every change of the document on as a "drafting:live" event; here a translation saved by someone
   else (translation.updated, this language) or a changed source clause (clause.updated, which may
   make its translation stale) refreshes that clause's row, unless it is being edited: then a note
   says so and the typed text stays. Clauses added, moved or deleted: a note offers a reload. */
(function () {
  "use strict";
  const body = document.body;
  const lang = body.dataset.translationLang;
  if (!lang) return;

  function refreshRow(clauseId, note) {
    const row = document.getElementById("tr-" + clauseId);
    if (!row) return;
    if (row.classList.contains("editing")) {
      const holder = row.querySelector(".translation-form .error, .translation-form") ;
      let notice = row.querySelector(".translation-live-note");
      if (!notice && holder) {
        notice = document.createElement("p");
        notice.className = "translation-live-note notice";
        notice.setAttribute("role", "status");
        row.querySelector(".translation-form").prepend(notice);
      }
      if (notice) notice.textContent = note;
      return;
    }
    fetch(row.dataset.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        const holder = document.createElement("div");
        holder.innerHTML = html.trim();
        const fresh = holder.firstElementChild;
        if (!fresh) return;
        row.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        fresh.classList.add("flash");
        setTimeout(function () { fresh.classList.remove("flash"); }, 1500);
      })
      .catch(function () { /* the next change or a reload shows it */ });
  }

  document.addEventListener("drafting:live", function (event) {
    const name = event.detail.name;
    const change = event.detail.change || {};
    if (name === "translation.updated" && change.lang === lang && change.clause_id) {
      refreshRow(change.clause_id, draftingT("Someone else saved a new version of this translation: saving yours merges them, or shows both if you changed the same words."));
    } else if (name === "clause.updated" && change.clause_id) {
      refreshRow(change.clause_id, draftingT("The authentic text of this clause changed while you were translating it."));
    } else if (name === "clause.created" || name === "clause.deleted" || name === "clause.moved" || name === "clause.restored") {
      const bar = document.getElementById("toast");
      if (window.draftingToast) window.draftingToast(draftingT("Clauses were added, moved or deleted: reload the page to see them."));
      else if (bar) bar.textContent = draftingT("Clauses were added, moved or deleted: reload the page to see them.");
    }
  });
})();
