/* drafting: the page's own behaviour. htmx does the requests; this adds keyboard, feedback and live updates. */
(function () {
  "use strict";

  // ---- feedback -------------------------------------------------------------------------
  let toastTimer = null;
  function toast(message, isError) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("error", !!isError);
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, isError ? 8000 : 4000);
  }
  window.draftingToast = toast;

  function messageOf(xhr) {
    const holder = document.createElement("div");
    holder.innerHTML = xhr.responseText || "";
    const text = holder.querySelector(".error-message");
    return text ? text.textContent : "The request failed (" + xhr.status + ").";
  }

  document.addEventListener("htmx:responseError", function (event) {
    toast(messageOf(event.detail.xhr), true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. You seem to be offline; nothing was changed.", true);
  });

  // ---- focus after swaps ----------------------------------------------------------------
  // When a form closes (saved or cancelled), keyboard focus returns to that clause's first action.
  let focusWasIn = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    focusWasIn = target && target.contains(document.activeElement) ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusWasIn) return;
    const back = document.getElementById(focusWasIn);
    focusWasIn = null;
    if (back && !back.classList.contains("editing") && (document.activeElement === document.body || !document.activeElement)) {
      const first = back.querySelector(".clause-actions [data-primary]") || back.querySelector(".clause-actions a.button");
      if (first) first.focus();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // Focus a newly swapped-in form field once (after "afterend" swaps too, so search the document).
    const auto = document.querySelector("[data-autofocus]:not([data-focused])");
    if (auto) {
      auto.dataset.focused = "true";
      auto.focus();
      if (auto.setSelectionRange) auto.setSelectionRange(auto.value.length, auto.value.length);
    }
    const list = document.getElementById("clauses");
    if (list && list.dataset.focus) {
      const target = document.getElementById(list.dataset.focus);
      delete list.dataset.focus;
      const move = target && document.activeElement === document.body && target.querySelector("[data-move]:not([disabled]), a.button");
      if (move) move.focus();
    }
    announceEditing();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  // ---- keyboard in clause forms ---------------------------------------------------------
  document.addEventListener("keydown", function (event) {
    const form = event.target.closest && event.target.closest(".clause-form");
    if (!form) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      const cancel = form.querySelector("[data-cancel]");
      if (cancel) { event.preventDefault(); cancel.click(); }
    }
  });

  document.addEventListener("click", function (event) {
    const remover = event.target.closest && event.target.closest("[data-remove]");
    if (!remover) return;
    event.preventDefault();
    const gone = document.querySelector(remover.dataset.remove);
    if (gone) gone.remove();
    announceEditing();
  });

  // ---- drag to reorder (move up/down buttons are the keyboard way) -----------------------
  let dragged = null;
  document.addEventListener("dragstart", function (event) {
    const item = event.target.closest && event.target.closest("[data-sortable] > li.clause[draggable]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id);
  });
  document.addEventListener("dragover", function (event) {
    const over = dragged && event.target.closest && event.target.closest("[data-sortable] > li.clause");
    if (!over || over === dragged) return;
    event.preventDefault();
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    over.classList.add("drop-target");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    dragged = null;
  });
  document.addEventListener("drop", function (event) {
    const over = dragged && event.target.closest && event.target.closest("[data-sortable] > li.clause");
    if (!over || over === dragged) return;
    event.preventDefault();
    over.parentNode.insertBefore(dragged, over);
    const section = document.getElementById("clauses");
    const order = Array.from(section.querySelectorAll(".clause-list > li[data-clause-id]")).map(function (li) { return li.dataset.clauseId; });
    htmx.ajax("POST", section.dataset.orderUrl, { target: "#clauses", swap: "outerHTML", values: { order: order } });
  });

  // ---- live updates ---------------------------------------------------------------------
  const body = document.body;
  const documentId = body.dataset.documentId ? parseInt(body.dataset.documentId, 10) : null;
  let lastSeq = body.dataset.seq ? parseInt(body.dataset.seq, 10) : 0;
  let socket = null;

  function setConnection(state, text) {
    const badge = document.getElementById("connection");
    if (badge) { badge.dataset.state = state; badge.textContent = text; }
    const offline = state === "offline";
    body.classList.toggle("offline", offline);
    // Open forms keep what was typed; saving waits until the connection is back.
    document.querySelectorAll(".clause-form button[type=submit]").forEach(function (button) {
      button.disabled = offline;
      button.title = offline ? "Offline: your text is kept here; save when the connection returns." : "";
    });
  }

  function flashClause(id) {
    const li = document.getElementById("clause-" + id);
    if (li) { li.classList.remove("flash-update"); void li.offsetWidth; li.classList.add("flash-update"); }
  }

  function refreshClause(change) {
    const li = document.getElementById("clause-" + change.clause_id);
    if (!li) { refreshList(); return; }
    if (li.classList.contains("editing")) {
      const notice = li.querySelector(".clause-notice");
      if (notice && parseInt(li.dataset.version, 10) < change.version) {
        notice.hidden = false;
        notice.textContent = "Someone saved version " + change.version + " while you were editing. " +
          "When you save, your changes are merged with theirs; if you both changed the same words you will be asked to choose.";
      }
      return;
    }
    if (parseInt(li.dataset.version, 10) >= change.version) return;
    htmx.ajax("GET", li.dataset.url, { target: li, swap: "outerHTML" }).then(function () { flashClause(change.clause_id); });
  }

  // The list shows changes up to its data-seq. While this page's own request for the list is
  // under way, events wait for its answer, which may already include them.
  let listNeeds = 0;
  let listRequests = 0;
  function targetsList(event) { const t = event.detail.target; return t && t.id === "clauses"; }
  document.addEventListener("htmx:beforeRequest", function (event) { if (targetsList(event)) listRequests += 1; });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!targetsList(event)) return;
    listRequests = Math.max(0, listRequests - 1);
    setTimeout(refreshListIfBehind, 50);  // after the swap has settled
  });
  function refreshListIfBehind() {
    const section = document.getElementById("clauses");
    if (listRequests === 0 && section && parseInt(section.dataset.seq || "0", 10) < listNeeds) refreshList();
  }

  let listRefresh = null;
  function refreshList() {
    if (listRefresh) return listRefresh;
    const section = document.getElementById("clauses");
    if (!section) return Promise.resolve();
    listRefresh = fetch(section.dataset.refreshUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const fresh = template.content.firstElementChild;
        const current = document.getElementById("clauses");
        // Keep every open form, with what its user typed, in its place.
        current.querySelectorAll("li.editing").forEach(function (open) {
          const same = open.id && fresh.querySelector("#" + CSS.escape(open.id));
          if (same) { same.replaceWith(open); return; }
          if (open.id !== "new-clause-form") {
            const notice = open.querySelector(".clause-notice");
            if (notice) { notice.hidden = false; notice.textContent = "This clause was deleted by someone else. Copy your text if you still need it."; }
          }
          fresh.querySelector(".clause-list").appendChild(open);
        });
        // Keep keyboard focus where it was (same control of the same clause).
        const active = document.activeElement;
        const holder = active && active.closest && active.closest("#clauses li[id]");
        const label = active && active.getAttribute && active.getAttribute("aria-label");
        current.replaceWith(fresh);
        htmx.process(fresh);
        if (holder && label && !holder.classList.contains("editing")) {
          const again = document.querySelector("#" + CSS.escape(holder.id) + " [aria-label=\"" + CSS.escape(label) + "\"]");
          if (again) again.focus();
        }
      })
      .catch(function () { toast("Could not refresh the clauses; reload the page.", true); })
      .finally(function () { listRefresh = null; });
    return listRefresh;
  }

  function apply(name, change) {
    if (typeof change.seq === "number") {
      if (change.seq <= lastSeq) return;
      lastSeq = change.seq;
    }
    if (name === "clause.updated") refreshClause(change);
    else if (name === "clause.created" || name === "clause.deleted" || name === "clause.moved") {
      listNeeds = Math.max(listNeeds, change.seq);
      if (listRequests === 0) refreshListIfBehind();
    }
    else if (name === "document.phase_changed") {
      toast("The document moved to the " + change.phase.replace("_", " ") + " phase. Reloading…");
      setTimeout(function () { window.location.reload(); }, 1200);
    }
  }

  function catchUp() {
    return fetch(body.dataset.changesUrl + "?since=" + lastSeq, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (changes) { changes.forEach(function (change) { apply(change.event, change); }); });
  }

  function renderPresence(users) {
    const list = document.getElementById("presence");
    if (!list) return;
    list.replaceChildren();
    users.forEach(function (user) {
      const item = document.createElement("li");
      item.textContent = user.name + ", " + user.organisation;
      if (user.editing_clause_id) {
        const li = document.getElementById("clause-" + user.editing_clause_id);
        const title = li ? li.querySelector(".clause-title") : null;
        const note = document.createElement("span");
        note.className = "editing";
        note.textContent = "is editing " + (title ? title.textContent.replace(/^Clause \d+: /, "") : "a clause");
        item.appendChild(note);
      }
      list.appendChild(item);
    });
    document.querySelectorAll(".clause-editing").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    users.forEach(function (user) {
      if (!user.editing_clause_id || String(user.id) === body.dataset.me) return;
      const el = document.querySelector("#clause-" + user.editing_clause_id + " .clause-editing");
      if (el) { el.hidden = false; el.textContent = user.name + ", " + user.organisation + ", is editing this clause."; }
    });
  }

  let editingNow = null;
  function announceEditing() {
    if (!socket || !socket.connected || !documentId) return;
    const open = document.querySelector("li.clause.editing[data-clause-id]");
    const clauseId = open ? parseInt(open.dataset.clauseId, 10) : null;
    if (clauseId === editingNow) return;
    editingNow = clauseId;
    socket.emit("editing", { document_id: documentId, clause_id: clauseId });
  }

  function connectLive() {
    if (!documentId || typeof io === "undefined") return;
    socket = io({ transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      socket.emit("join", { document_id: documentId }, function (answer) {
        if (!answer || !answer.ok) { setConnection("offline", "Not connected: " + ((answer && answer.error) || "refused")); return; }
        const wasBehind = answer.seq > lastSeq;
        setConnection("online", "Live: changes appear as they happen");
        editingNow = null;
        announceEditing();
        if (wasBehind) catchUp();
      });
    });
    socket.on("disconnect", function () {
      setConnection("offline", "Offline: changes are paused until the connection returns");
    });
    socket.on("connect_error", function () {
      setConnection("offline", "Offline: trying to reconnect…");
    });
    ["clause.updated", "clause.created", "clause.deleted", "clause.moved", "document.phase_changed"].forEach(function (name) {
      socket.on(name, function (change) { if (change.document_id === documentId) apply(name, change); });
    });
    socket.on("presence", function (data) { if (data.document_id === documentId) renderPresence(data.users); });
  }

  document.addEventListener("DOMContentLoaded", connectLive);
})();
