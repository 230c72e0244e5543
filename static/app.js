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
    return text ? text.textContent : draftingT("The request failed (%(status)s).", { status: xhr.status });
  }

  document.addEventListener("htmx:responseError", function (event) {
    toast(messageOf(event.detail.xhr), true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast(draftingT("Could not reach the server. You seem to be offline; nothing was changed."), true);
  });

  // A form whose htmx target is not on this page (a discussion form on a page of its own, opened
  // in a new tab) is sent as a plain form: its server answer then leads back to the document.
  document.addEventListener("htmx:targetError", function (event) {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[action][method=post]");
    if (form) HTMLFormElement.prototype.submit.call(form);
  });

  // ---- swaps that race with live refreshes ------------------------------------------------
  // A live refresh may replace a clause while this page's own request for it is under way: the
  // answer then goes to the clause now in the page (not to the detached old one), and a live
  // refresh never replaces a clause with one that is not newer than what the page shows.
  // htmx announces an answer (htmx:beforeSwap) on the element it was to replace; once a refresh
  // has taken that element out of the page, the event no longer reaches the document, so each
  // target also carries this listener itself (it acts only while detached, the document's otherwise).
  function keepAnswerInPage(event) {
    const detail = event.detail;
    const target = detail.target;
    if (target && !document.body.contains(target)) {
      // The same target in the page now: by its id, or by the requesting element's hx-target
      // selector when that names one place (e.g. "#clauses .clause-list").
      const elt = detail.requestConfig && detail.requestConfig.elt;
      const spec = elt && elt.getAttribute && elt.getAttribute("hx-target");
      let now = target.id ? document.getElementById(target.id) : null;
      if (!now && spec && /^[#.][\w\s#.-]*$/.test(spec)) now = document.querySelector(spec);
      if (now) detail.target = now; else { detail.shouldSwap = false; return; }
    }
    const headers = detail.requestConfig && detail.requestConfig.headers;
    if (headers && headers["X-Live-Refresh"] && detail.target.dataset && detail.target.dataset.version) {
      const match = /data-version="(\d+)"/.exec(detail.serverResponse || "");
      if (match && parseInt(match[1], 10) <= parseInt(detail.target.dataset.version, 10)) detail.shouldSwap = false;
    }
  }
  document.addEventListener("htmx:beforeSwap", keepAnswerInPage);
  document.addEventListener("htmx:beforeSend", function (event) {
    const target = event.detail.target;
    if (!target || target === document.body || target.draftingKeepsAnswer) return;
    target.draftingKeepsAnswer = true;
    target.addEventListener("htmx:beforeSwap", function (swap) { if (!document.body.contains(target)) keepAnswerInPage(swap); });
  });

  // ---- focus after swaps ----------------------------------------------------------------
  // When a form closes (saved or cancelled), keyboard focus returns to that clause's first action.
  // A swapped-in clause list may name its own focus target (data-focus, data-focus-control: after a
  // move, the moved clause's same button; after a delete, the next clause): that wins.
  let focusWasIn = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    focusWasIn = target && target.contains(document.activeElement) ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusWasIn) return;
    const back = document.getElementById(focusWasIn);
    focusWasIn = null;
    if (back && back.dataset.focus) return;  // the list's own target, set in the next handler
    if (back && !back.classList.contains("editing") && (document.activeElement === document.body || !document.activeElement)) {
      const first = back.querySelector(".clause-actions [data-primary]") || back.querySelector(".clause-actions a.button");
      if (first) first.focus();
    }
  });
  // A field someone (or a script restoring a draft) focused between a swap and its settle, 20 ms
  // later, keeps the focus, and its caret or selection: the form's own autofocus would otherwise
  // send their keys elsewhere, or collapse a selection made to type over the text to its end.
  let swappedAt = 0;
  let chosenField = null;
  let chosenAt = -1;
  document.addEventListener("htmx:afterSwap", function () { swappedAt = performance.now(); });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input, textarea, select")) {
      chosenField = event.target;
      chosenAt = performance.now();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // Focus a newly swapped-in form field once (after "afterend" swaps too, so search the document).
    const auto = document.querySelector("[data-autofocus]:not([data-focused])");
    if (auto) {
      auto.dataset.focused = "true";
      const form = auto.closest("form");
      const chosen = chosenField && chosenAt >= swappedAt &&
        document.activeElement === chosenField && form && form.contains(chosenField);
      if (!chosen) {
        auto.focus();
        if (auto.setSelectionRange) auto.setSelectionRange(auto.value.length, auto.value.length);
      }
    }
    const list = document.getElementById("clauses");
    if (list && list.dataset.focus) {
      const target = document.getElementById(list.dataset.focus);
      const want = list.dataset.focusControl;
      delete list.dataset.focus;
      delete list.dataset.focusControl;
      const control = target && document.activeElement === document.body && focusControl(target, want);
      if (control) { reveal(control); control.focus(); }
    }
    announceEditing();
  });

  // The control of a clause that takes the focus: the button moved with ("up", "down"; the other
  // one at an end of the list), its first action ("first"), or a new clause's first move button.
  function focusControl(target, want) {
    if (target.matches("button, a[href]")) return target;
    const first = target.querySelector(".clause-actions [data-primary]") ||
      target.querySelector(".clause-actions a.button, .clause-actions button:not([disabled])");
    if (want === "up" || want === "down") {
      return target.querySelector("[data-move=\"" + want + "\"]:not([disabled])") ||
        target.querySelector("[data-move]:not([disabled])") || first;
    }
    if (want === "first") return first;
    return target.querySelector("[data-move]:not([disabled]), a.button");
  }
  // A control behind the clause's "More actions" button (narrow and touch screens) is not shown, so
  // it cannot take the focus: open that menu first, as the person did to reach the control.
  function reveal(control) {
    const li = control.closest("li.clause");
    const toggle = li && !control.getClientRects().length && li.querySelector(".more-toggle[aria-expanded=\"false\"]");
    if (toggle) toggle.click();
  }

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
      if (cancel) {  // a changed form asks first (drafts.js)
        event.preventDefault();
        if (window.draftingAskDiscard) window.draftingAskDiscard(form, cancel); else cancel.click();
      }
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
      button.title = offline ? draftingT("Offline: your text is kept here; save when the connection returns.") : "";
    });
  }

  function flashClause(id) {
    const li = document.getElementById("clause-" + id);
    if (li) { li.classList.remove("flash-update"); void li.offsetWidth; li.classList.add("flash-update"); }
  }

  // This page's requests under way, by the element that made them. A refresh of a clause, or of
  // the list, waits while one of its own controls has a request under way: that answer brings the
  // clause anyway, and swapping it first would take the control out of the page (keepAnswerInPage
  // then still places the answer, but the clause was fetched twice).
  const inFlight = new Map();
  document.addEventListener("htmx:beforeSend", function (event) { inFlight.set(event.detail.elt, Date.now()); });
  // (htmx announces the end of a request whose element its answer replaced on an ancestor still in
  // the page, with detail.elt set to that ancestor: the element that asked is requestConfig.elt.)
  document.addEventListener("htmx:afterRequest", function (event) {
    const config = event.detail.requestConfig;
    inFlight.delete(config ? config.elt : event.detail.elt);
  });
  function requestUnderWay(container) {
    const now = Date.now();
    for (const [elt, since] of inFlight) {
      if (!document.body.contains(elt) || now - since > 30000) { inFlight.delete(elt); continue; }
      // An open form is kept in place by a refresh (see refreshList), so its save may go on.
      if (container.contains(elt) && !(elt.closest && elt.closest("li.editing"))) return true;
    }
    return false;
  }

  function refreshClause(change) {
    const li = document.getElementById("clause-" + change.clause_id);
    if (!li) { refreshList(); return; }
    if (requestUnderWay(li)) { setTimeout(function () { refreshClause(change); }, 100); return; }
    if (li.classList.contains("editing")) {
      const notice = li.querySelector(".clause-notice");
      if (notice && parseInt(li.dataset.version, 10) < change.version) {
        notice.hidden = false;
        notice.textContent = draftingT("%(name)s saved version %(version)s while you were editing. When you save, your changes are merged with theirs; if you both changed the same words you will be asked to choose.",
          { name: window.draftingNameOf ? window.draftingNameOf(change.actor) : draftingT("Someone"), version: change.version });
      }
      return;
    }
    if (parseInt(li.dataset.version, 10) >= change.version) return;
    // From the clause itself, not the body: htmx queues a body-sourced request behind one under
    // way and keeps only the last one waiting, so of several clauses changed at once (a catch-up
    // after reconnecting) all but the first and the last went unrefreshed. Refreshes of one
    // clause wait for each other (requestUnderWay).
    htmx.ajax("GET", li.dataset.url, { source: li, target: li, swap: "outerHTML", headers: { "X-Live-Refresh": "1" } })
      .then(function () { flashClause(change.clause_id); });
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

  // Who deleted each clause (live events carry the actor): an open form of it names them.
  const deletedBy = {};
  let listRefresh = null;
  function refreshList() {
    if (listRefresh) return listRefresh;
    const section = document.getElementById("clauses");
    if (!section) return Promise.resolve();
    if (requestUnderWay(section)) {
      listRefresh = new Promise(function (resolve) { setTimeout(resolve, 100); })
        .then(function () { listRefresh = null; return refreshList(); });
      return listRefresh;
    }
    listRefresh = fetch(section.dataset.refreshUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const fresh = template.content.firstElementChild;
        const current = document.getElementById("clauses");
        // Moving a form out of the old list takes the keyboard focus from the field being typed
        // in; it is given back (caret included) before anything else can happen, so no keystroke
        // lands elsewhere.
        const typing = document.activeElement && document.activeElement.closest && document.activeElement.closest("#clauses li.editing")
          ? { field: document.activeElement, start: document.activeElement.selectionStart, end: document.activeElement.selectionEnd } : null;
        // A clause's status line ("Saved as version 2.") stays when the fresh list shows that same
        // version: a page's own save that renumbers the list answers before its refresh lands.
        current.querySelectorAll("li.clause[id] > article > .clause-status").forEach(function (status) {
          const li = status.closest("li.clause");
          const same = fresh.querySelector("#" + CSS.escape(li.id));
          const place = same && same.dataset.version === li.dataset.version && !same.querySelector(".clause-status") &&
            same.querySelector(".clause-editing");
          if (place) place.before(status);
        });
        // Keep every open form, with what its user typed, in its place.
        current.querySelectorAll("li.editing").forEach(function (open) {
          const same = open.id && fresh.querySelector("#" + CSS.escape(open.id));
          if (same) { same.replaceWith(open); return; }
          if (open.id !== "new-clause-form") {
            const notice = open.querySelector(".clause-notice");
            const deleter = deletedBy[open.dataset.clauseId];
            if (notice) {
              notice.hidden = false;
              notice.textContent = deleter !== undefined && window.draftingNameOf
                ? draftingT("%(name)s deleted this clause while you were editing it. Copy your text if you still need it.", { name: window.draftingNameOf(deleter) })
                : draftingT("This clause was deleted by someone else. Copy your text if you still need it.");
            }
          }
          fresh.querySelector(".clause-list").appendChild(open);
        });
        // Keep keyboard focus where it was (same control of the same clause).
        const active = document.activeElement;
        const holder = active && active.closest && active.closest("#clauses li[id]");
        const label = active && active.getAttribute && active.getAttribute("aria-label");
        if (window.draftingKeepOpen) window.draftingKeepOpen(current, fresh);  // consultation forms, see below
        current.replaceWith(fresh);
        if (typing && document.body.contains(typing.field) && document.activeElement !== typing.field) {
          typing.field.focus({ preventScroll: true });
          if (typeof typing.start === "number" && typing.field.setSelectionRange) {
            try { typing.field.setSelectionRange(typing.start, typing.end); } catch (error) { /* not a text field */ }
          }
        }
        htmx.process(fresh);
        if (holder && label && !holder.classList.contains("editing")) {
          const again = document.querySelector("#" + CSS.escape(holder.id) + " [aria-label=\"" + CSS.escape(label) + "\"]");
          if (again) again.focus();
        }
      })
      .catch(function () { toast(draftingT("Could not refresh the clauses; reload the page."), true); })
      .finally(function () { listRefresh = null; });
    return listRefresh;
  }

  function apply(name, change) {
    if (typeof change.seq === "number") {
      if (change.seq <= lastSeq) return;
      lastSeq = change.seq;
    }
    if (name === "clause.deleted" && change.clause_id) deletedBy[change.clause_id] = change.actor;
    document.dispatchEvent(new CustomEvent("drafting:live", { detail: { name: name, change: change } }));  // static/review.js
    // A clause whose kind changed renumbers the clauses after it: the whole list is refreshed.
    if (name === "clause.updated" && !change.renumbered) refreshClause(change);
    else if (name === "clause.updated" || name === "clause.created" || name === "clause.deleted" || name === "clause.moved" || name === "clause.restored") {
      listNeeds = Math.max(listNeeds, change.seq);
      if (listRequests === 0) refreshListIfBehind();
    }
    else if (name === "document.phase_changed") {
      if (document.querySelector("li.editing textarea")) {
        // Reloading would lose what is typed in the open form: say so, and let the person reload.
        toast(phaseMoved(change.phase, true), true);
        return;
      }
      toast(phaseMoved(change.phase, false));
      setTimeout(function () { window.location.reload(); }, 1200);
    }
    else if (name === "approval.changed" || name === "participant.withdrawn") {
      if (name === "participant.withdrawn") toast(draftingT("%(organisation)s has withdrawn from this document; adoption no longer waits for it.", { organisation: change.organisation }));
      if (window.draftingSignoff) window.draftingSignoff(change);
    }
    else if (window.draftingConsultation) window.draftingConsultation(name, change);
  }

  // One whole sentence per phase (a phase's name takes different forms in other languages).
  function phaseMoved(phase, formOpen) {
    const sentences = formOpen ? {
      drafting: draftingT("The document moved to the drafting phase. Your open form keeps its text; copy it if you need it, then reload the page."),
      consultation: draftingT("The document moved to the consultation phase. Your open form keeps its text; copy it if you need it, then reload the page."),
      final_review: draftingT("The document moved to the final review phase. Your open form keeps its text; copy it if you need it, then reload the page."),
      signing: draftingT("The document moved to the signing phase. Your open form keeps its text; copy it if you need it, then reload the page."),
      adopted: draftingT("The document moved to the adopted phase. Your open form keeps its text; copy it if you need it, then reload the page."),
    } : {
      drafting: draftingT("The document moved to the drafting phase. Reloading…"),
      consultation: draftingT("The document moved to the consultation phase. Reloading…"),
      final_review: draftingT("The document moved to the final review phase. Reloading…"),
      signing: draftingT("The document moved to the signing phase. Reloading…"),
      adopted: draftingT("The document moved to the adopted phase. Reloading…"),
    };
    if (Object.prototype.hasOwnProperty.call(sentences, phase)) return sentences[phase];
    const values = { phase: String(phase).replace("_", " ") };
    return formOpen
      ? draftingT("The document moved to the %(phase)s phase. Your open form keeps its text; copy it if you need it, then reload the page.", values)
      : draftingT("The document moved to the %(phase)s phase. Reloading…", values);
  }

  function catchUp() {
    return fetch(body.dataset.changesUrl + "?since=" + lastSeq, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (changes) { changes.forEach(function (change) { apply(change.event, change); }); applyEarly(true); },
            function () { if (early.size && !gapTimer) gapTimer = setTimeout(fillGap, GAP_RETRY_MS); });
  }

  // Two changes committed a moment apart are published by different threads (or processes), so
  // their events can arrive out of seq order. One that skips ahead waits here for those before it;
  // if they have not come within GAP_WAIT_MS, the page asks for the changes it missed. apply()
  // takes each seq once, in order: none is dropped for arriving late.
  const GAP_WAIT_MS = 400;
  const GAP_RETRY_MS = 5000;  // the request for missed changes failed (offline?): try again
  const early = new Map();  // seq -> [name, change], arrived before the events preceding it
  let gapTimer = null;

  function fillGap() { gapTimer = null; catchUp(); }

  function receive(name, change) {
    if (typeof change.seq !== "number") { apply(name, change); return; }
    if (change.seq <= lastSeq) return;
    if (change.seq > lastSeq + 1) {
      early.set(change.seq, [name, change]);
      if (!gapTimer) gapTimer = setTimeout(fillGap, GAP_WAIT_MS);
      return;
    }
    apply(name, change);
    applyEarly(false);
  }

  // What arrived early goes in seq order: the events that now follow on, or after a catch-up
  // (`all`) every one still ahead of it. apply() skips any the catch-up already applied.
  function applyEarly(all) {
    Array.from(early.keys()).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      if (!all && seq > lastSeq + 1) return;
      const next = early.get(seq);
      early.delete(seq);
      apply(next[0], next[1]);
    });
    if (early.size === 0 && gapTimer) { clearTimeout(gapTimer); gapTimer = null; }
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
        note.textContent = title ? draftingT("is editing %(clause)s", { clause: headingOf(title) }) : draftingT("is editing a clause");
        item.appendChild(note);
      }
      list.appendChild(item);
    });
    document.querySelectorAll(".clause-editing").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    users.forEach(function (user) {
      if (!user.editing_clause_id || String(user.id) === body.dataset.me) return;
      const el = document.querySelector("#clause-" + user.editing_clause_id + " .clause-editing");
      if (el) { el.hidden = false; el.textContent = draftingT("%(name)s, %(organisation)s, is editing this clause.", { name: user.name, organisation: user.organisation }); }
    });
  }
  // A clause's title without its hidden "Clause 3: " (read out before a heading), in any language.
  function headingOf(title) {
    let text = "";
    title.childNodes.forEach(function (node) { if (!(node.nodeType === 1 && node.classList.contains("visually-hidden"))) text += node.textContent; });
    return text;
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
        if (!answer || !answer.ok) {
          setConnection("offline", answer && answer.error ? draftingT("Not connected: %(reason)s", { reason: answer.error }) : draftingT("Not connected: refused"));
          return;
        }
        const wasBehind = answer.seq > lastSeq;
        setConnection("online", draftingT("Live: changes appear as they happen"));
        editingNow = null;
        announceEditing();
        if (wasBehind) catchUp();
      });
    });
    socket.on("disconnect", function () {
      setConnection("offline", draftingT("Offline: changes are paused until the connection returns"));
    });
    socket.on("connect_error", function () {
      setConnection("offline", draftingT("Offline: trying to reconnect…"));
    });
    ["clause.updated", "clause.created", "clause.deleted", "clause.moved", "clause.restored", "document.phase_changed", "approval.changed",
     "thread.created", "thread.resolved", "thread.reopened", "comment.created", "comment.updated", "comment.deleted",
     "amendment.created", "amendment.accepted", "amendment.rejected", "amendment.withdrawn",
     "amendment.closed", "contribution.created", "contribution.linked", "contribution.updated",
     "contribution.withdrawn", "participant.withdrawn", "translation.updated"].forEach(function (name) {
      socket.on(name, function (change) { if (change.document_id === documentId) receive(name, change); });
    });
    socket.on("presence", function (data) { if (data.document_id === documentId) renderPresence(data.users); });
  }

  document.addEventListener("DOMContentLoaded", connectLive);
})();

/* ---- consultation: threads, amendments, quoting, live refresh, filters, countdown ------------------
   Forms of the discussion carry data-keep: a refresh of their clause (live, or after someone's own
   action elsewhere in it) keeps them open, with what was typed and the keyboard focus. */
(function () {
  "use strict";
  const body = document.body;
  const toast = function (message, isError) { if (window.draftingToast) window.draftingToast(message, isError); };

  // ---- keeping open forms and expanded discussions across refreshes --------------------------
  function keepOpen(oldRoot, newRoot, except) {
    if (!oldRoot || !newRoot) return;
    oldRoot.querySelectorAll("details[id]").forEach(function (old) {
      const same = newRoot.id === old.id ? newRoot : newRoot.querySelector("#" + CSS.escape(old.id));
      if (same && old.open) same.open = true;
    });
    const active = document.activeElement;
    oldRoot.querySelectorAll("form[data-keep][id]").forEach(function (form) {
      if (except && (form === except || form.contains(except))) return;
      const same = newRoot.querySelector("#" + CSS.escape(form.id));
      const hadFocus = form.contains(active);
      if (same) same.replaceWith(form);
      else {
        const slot = form.parentElement && form.parentElement.id && newRoot.querySelector("#" + CSS.escape(form.parentElement.id));
        if (!slot) return;  // its thread or amendment is gone
        slot.appendChild(form);
      }
      if (hadFocus) setTimeout(function () { active.focus(); }, 0);
    });
  }
  window.draftingKeepOpen = function (oldRoot, newRoot) { keepOpen(oldRoot, newRoot, null); };

  // htmx swaps of a clause or its discussion (this page's own actions, and live clause refreshes).
  let stash = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    stash = null;
    if (!target || !target.id || !(target.matches("section.consult, li.clause"))) return;
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    stash = { id: target.id, root: target.cloneNode(false), except: elt };
    // Move the live nodes into the stash root so they keep their typed text.
    stash.forms = Array.from(target.querySelectorAll("form[data-keep][id]")).filter(function (form) {
      return !(elt && (form === elt || form.contains(elt)));
    }).map(function (form) {
      const active = form.contains(document.activeElement) ? document.activeElement : null;
      return { form: form, slotId: form.parentElement && form.parentElement.id, focus: !!active, field: active,
               start: active && active.selectionStart, end: active && active.selectionEnd };
    });
    stash.details = Array.from(target.querySelectorAll("details[id]")).filter(function (d) { return d.open; }).map(function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!stash) return;
    const fresh = document.getElementById(stash.id);
    const kept = stash;
    stash = null;
    if (!fresh) return;
    kept.details.forEach(function (id) { const d = document.getElementById(id); if (d) d.open = true; });
    kept.forms.forEach(function (item) {
      const same = document.getElementById(item.form.id);
      if (same) same.replaceWith(item.form);
      else if (item.slotId && document.getElementById(item.slotId)) document.getElementById(item.slotId).appendChild(item.form);
      else return;
      if (item.focus) {  // the same field, caret included: typing goes on where it was
        const field = item.field && item.form.contains(item.field) ? item.field : item.form.querySelector("textarea, input:not([type=hidden])");
        if (field) {
          field.focus({ preventScroll: true });
          if (typeof item.start === "number" && field.setSelectionRange) { try { field.setSelectionRange(item.start, item.end); } catch (error) { /* not text */ } }
        }
      }
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    const root = target && target.id ? document.getElementById(target.id) : null;
    const focus = root && root.querySelector("[data-focus-after]");
    if (focus) { focus.removeAttribute("data-focus-after"); focus.focus(); }
    highlightQuotes(root || document);
  });

  // A second click on Comment/Reply/Edit… while its form is open goes to that form instead of replacing it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    if (!target || !target.classList.contains("consult-slot") || event.detail.requestConfig.verb !== "get") return;
    const open = target.querySelector("form");
    if (!open) return;
    event.preventDefault();
    const quote = open.querySelector(".quote-input");
    if (quote && pendingQuote && pendingQuote.clauseId === (event.detail.elt.dataset.quoteFrom || "")) quote.value = pendingQuote.text;
    const field = open.querySelector("textarea[data-autofocus], textarea");
    if (field) field.focus();
  });

  // Keyboard in discussion forms: Ctrl+Enter sends, Escape cancels.
  document.addEventListener("keydown", function (event) {
    const form = event.target.closest && event.target.closest(".consult-form");
    if (!form) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    else if (event.key === "Escape") {
      const cancel = form.querySelector("[data-cancel]");
      if (cancel) {  // a changed form asks first (drafts.js)
        event.preventDefault();
        if (window.draftingAskDiscard) window.draftingAskDiscard(form, cancel); else cancel.click();
      }
    }
  });

  // ---- quoting: select words in a clause, then comment on them ----------------------------------
  let pendingQuote = null;
  let quoteButton = null;
  function selectionInClause() {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
    const range = selection.getRangeAt(0);
    const node = range.commonAncestorContainer.nodeType === 1 ? range.commonAncestorContainer : range.commonAncestorContainer.parentElement;
    const text = node && node.closest(".clause-text");
    const item = text && text.closest("li.clause[data-clause-id]");
    const quote = selection.toString().trim();
    if (!item || !quote) return null;
    return { clauseId: item.dataset.clauseId, text: quote.slice(0, 2000), range: range };
  }
  function commentLink(clauseId) {
    return document.querySelector("#consult-" + CSS.escape(clauseId) + " [data-quote-from]");
  }
  function hideQuoteButton() { if (quoteButton) quoteButton.hidden = true; }
  document.addEventListener("selectionchange", function () {
    const found = selectionInClause();
    if (!found || !commentLink(found.clauseId)) { hideQuoteButton(); return; }
    if (!quoteButton) {
      quoteButton = document.createElement("button");
      quoteButton.type = "button";
      quoteButton.className = "quote-button";
      quoteButton.textContent = draftingT("Comment on the selected words");
      quoteButton.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep the selection
      quoteButton.addEventListener("click", function () {
        const current = selectionInClause();
        if (current) pendingQuote = { clauseId: current.clauseId, text: current.text };
        hideQuoteButton();
        const link = pendingQuote && commentLink(pendingQuote.clauseId);
        if (link) link.click();
      });
      body.appendChild(quoteButton);
    }
    const rect = found.range.getBoundingClientRect();
    quoteButton.style.top = Math.max(0, rect.top + window.scrollY - 44) + "px";
    quoteButton.style.left = Math.max(8, rect.left + window.scrollX) + "px";
    quoteButton.hidden = false;
  });
  // Pressing Comment (mouse or keyboard) while words of that clause are selected quotes them.
  document.addEventListener("mousedown", function (event) {
    const link = event.target.closest && event.target.closest("[data-quote-from]");
    const found = link && selectionInClause();
    if (found && found.clauseId === link.dataset.quoteFrom) pendingQuote = { clauseId: found.clauseId, text: found.text };
  }, true);
  document.addEventListener("htmx:configRequest", function (event) {
    const link = event.detail.elt;
    if (!link || !link.dataset || !link.dataset.quoteFrom) return;
    const found = selectionInClause();
    if (found && found.clauseId === link.dataset.quoteFrom) pendingQuote = { clauseId: found.clauseId, text: found.text };
    if (pendingQuote && pendingQuote.clauseId === link.dataset.quoteFrom) event.detail.parameters.quote = pendingQuote.text;
    pendingQuote = null;
  });

  // Quoted passages of open threads are marked in the clause text (text nodes only, never HTML).
  function highlightQuotes(root) {
    const sections = root.matches && root.matches("section.consult") ? [root] : Array.from((root.querySelectorAll ? root : document).querySelectorAll("section.consult"));
    sections.forEach(function (section) {
      const item = section.closest("li.clause");
      const text = item && item.querySelector(".clause-text");
      if (!text) return;
      text.querySelectorAll("mark.quoted").forEach(function (mark) { mark.replaceWith(document.createTextNode(mark.textContent)); });
      text.normalize();
      section.querySelectorAll(".thread-open[data-quote]").forEach(function (thread) {
        markIn(text, thread.dataset.quote, thread.id);
      });
    });
  }
  function markIn(container, quote, threadId) {
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      if (node.parentElement && node.parentElement.closest("mark.quoted")) continue;
      const at = node.data.indexOf(quote);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + quote.length);
      const mark = document.createElement("mark");
      mark.className = "quoted";
      mark.title = draftingT("Quoted in a comment");
      mark.dataset.thread = threadId;
      range.surroundContents(mark);
      return;
    }
  }

  // ---- live: refresh a clause's discussion and the open-threads panel ---------------------------
  // While this page's own request on a clause is under way, its refresh waits for the answer.
  const refreshing = {};
  const busy = {};
  const waiting = {};
  function busyTarget(event) {
    const target = event.detail.target;
    return target && target.id && target.matches("section.consult, li.clause") ? target.id.replace(/^(consult|clause)-/, "") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    const id = busyTarget(event);
    if (id && !event.defaultPrevented) busy[id] = (busy[id] || 0) + 1;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    const id = busyTarget(event);
    if (!id || !busy[id]) return;
    busy[id] -= 1;
    if (!busy[id] && waiting[id]) {
      const seq = waiting[id];
      delete waiting[id];
      setTimeout(function () { refreshSection(id, seq); }, 50);  // after the swap has settled
    }
  });
  function refreshSection(clauseId, seq) {
    const section = document.getElementById("consult-" + clauseId);
    if (!section || refreshing[clauseId]) return;
    if (busy[clauseId]) { waiting[clauseId] = Math.max(waiting[clauseId] || 0, seq || 0); return; }
    if (seq && parseInt(section.dataset.seq || "0", 10) >= seq) return;
    refreshing[clauseId] = fetch(section.dataset.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const current = document.getElementById("consult-" + clauseId);
        if (!current) return;
        if (busy[clauseId]) { waiting[clauseId] = Math.max(waiting[clauseId] || 0, seq || 0); return; }
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const fresh = template.content.firstElementChild;
        // This page's own action may have swapped in the same or a newer state meanwhile.
        if (parseInt(current.dataset.seq || "0", 10) >= parseInt(fresh.dataset.seq || "0", 10)) return;
        keepOpen(current, fresh, null);
        current.replaceWith(fresh);
        htmx.process(fresh);
        highlightQuotes(fresh);
      })
      .catch(function () { toast(draftingT("Could not refresh the discussion; reload the page."), true); })
      .finally(function () { delete refreshing[clauseId]; });
  }
  function refreshPanel(seq) {
    const panel = document.getElementById("open-threads");
    if (!panel || (seq && parseInt(panel.dataset.seq || "0", 10) >= seq)) return;
    const focused = document.activeElement && panel.contains(document.activeElement) ? document.activeElement.id : null;
    fetch(panel.dataset.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const current = document.getElementById("open-threads");
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const fresh = template.content.firstElementChild;
        if (!current || parseInt(current.dataset.seq || "0", 10) >= parseInt(fresh.dataset.seq || "0", 10)) return;
        current.replaceWith(fresh);
        htmx.process(fresh);
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      })
      .catch(function () {});
  }
  window.draftingConsultation = function (name, change) {
    const ids = change.clause_ids || (change.clause_id ? [change.clause_id] : []);
    if (name.indexOf("contribution.") === 0) {
      document.querySelectorAll("section.consult .consult-contributions").forEach(function (el) {
        const section = el.closest("section.consult");
        const id = section.id.replace("consult-", "");
        if (ids.indexOf(parseInt(id, 10)) < 0) ids.push(parseInt(id, 10));
      });
    }
    ids.forEach(function (id) { refreshSection(id, change.seq); });
    if (name.indexOf("thread.") === 0 || name.indexOf("comment.") === 0) refreshPanel(change.seq);
    // Someone may have mentioned this user, or decided their amendment: the header's count.
    if (/^(thread\.created|comment\.(created|updated)|amendment\.(accepted|rejected))$/.test(name) &&
        String(change.actor) !== body.dataset.me) refreshNotificationCount();
  };
  function refreshNotificationCount() {
    const link = document.getElementById("notifications-link");
    if (!link) return;
    fetch(link.dataset.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        const fresh = template.content.firstElementChild;
        const current = document.getElementById("notifications-link");
        if (fresh && current && fresh.textContent !== current.textContent) {
          current.replaceWith(fresh);
          toast(draftingT("You have a new notification."));
        }
      })
      .catch(function () {});
  }

  // ---- only clauses with open threads ------------------------------------------------------
  function applyOnlyOpen(on, announce) {
    body.classList.toggle("only-open-threads", on);
    document.querySelectorAll("[data-only-open-threads]").forEach(function (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); });
    const status = document.getElementById("only-open-status");
    if (announce && status) {
      const shown = document.querySelectorAll(".clause-list > li.clause:has([data-open-threads])").length;
      status.textContent = on ? draftingT("Showing only the %(count)s clauses with open threads.", { count: shown }) : draftingT("Showing all clauses.");
    }
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-only-open-threads]");
    if (!button) return;
    const on = button.getAttribute("aria-pressed") !== "true";
    try { sessionStorage.setItem("only-open-threads:" + body.dataset.documentId, on ? "1" : ""); } catch (e) { /* private mode */ }
    applyOnlyOpen(on, true);
  });

  // ---- going to a thread: open its discussion first --------------------------------------
  function reveal(id) {
    const target = id && document.getElementById(id);
    if (!target) return;
    let details = target.closest("details");
    while (details) { details.open = true; details = details.parentElement.closest("details"); }
    if (body.classList.contains("only-open-threads") && target.closest("li.clause") && !target.closest("li.clause").querySelector("[data-open-threads]")) applyOnlyOpen(false, true);
    target.scrollIntoView({ block: "center" });
    target.classList.remove("target-flash"); void target.offsetWidth; target.classList.add("target-flash");
  }
  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a[href*='#thread-'], a[href*='#amendment-'], a[href*='#comment-']");
    if (!link || link.origin !== window.location.origin || link.pathname !== window.location.pathname) return;
    const id = link.hash.slice(1);
    if (!document.getElementById(id)) return;
    event.preventDefault();
    history.replaceState(null, "", link.hash);
    reveal(id);
  });
  window.addEventListener("hashchange", function () { reveal(window.location.hash.slice(1)); });

  // ---- the deadline countdown -------------------------------------------------------------
  function dayCount(n) { return n === 1 ? draftingT("1 day") : draftingT("%(n)s days", { n: n }); }
  function hourCount(n) { return n === 1 ? draftingT("1 hour") : draftingT("%(n)s hours", { n: n }); }
  function minuteCount(n) { return n === 1 ? draftingT("1 minute") : draftingT("%(n)s minutes", { n: n }); }
  function remaining(deadline) {
    let seconds = Math.floor((deadline - Date.now()) / 1000);
    if (seconds <= 0) return null;
    const days = Math.floor(seconds / 86400); seconds -= days * 86400;
    const hours = Math.floor(seconds / 3600); seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    if (days) return hours ? draftingT("%(days)s %(hours)s", { days: dayCount(days), hours: hourCount(hours) }) : dayCount(days);
    if (hours) return minutes ? draftingT("%(hours)s %(minutes)s", { hours: hourCount(hours), minutes: minuteCount(minutes) }) : hourCount(hours);
    if (minutes) return minuteCount(minutes);
    return draftingT("less than a minute");
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const left = remaining(Date.parse(el.dataset.countdown));
      if (left) { el.textContent = left; return; }
      el.removeAttribute("data-countdown");
      el.textContent = draftingT("no time: the deadline has passed");
      toast(draftingT("The consultation deadline has passed. Reload the page to see it closed."));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    let on = false;
    try { on = !!sessionStorage.getItem("only-open-threads:" + body.dataset.documentId); } catch (e) { /* private mode */ }
    if (on) applyOnlyOpen(true, false);
    highlightQuotes(document);
    if (window.location.hash) reveal(window.location.hash.slice(1));
    if (document.querySelector("[data-countdown]")) setInterval(tick, 30000);
  });
})();

/* ---- hidden characters: warn while typing (the server marks them on display) ------------ */
(function () {
  "use strict";
  // Keep in step with drafting/text/reveal.py.
  const HIDDEN = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u200B\u2060\uFEFF\u00AD\u180E\u2061-\u2064\u034F]|\uDB40[\uDC00-\uDC7F]|(?<=[\x00-\x7F])[\u200C\u200D]|[\u200C\u200D](?=[\x00-\x7F])/g;
  document.addEventListener("input", function (event) {
    const field = event.target;
    if (!field.id) return;
    const warning = document.querySelector('[data-hidden-chars-for="' + field.id + '"]');
    if (!warning) return;
    const found = (field.value.match(HIDDEN) || []);
    warning.hidden = found.length === 0;
    const codes = found.slice(0, 8).map(function (c) { return "U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0"); }).join(", ");
    warning.textContent = found.length === 0 ? "" : found.length === 1
      ? draftingT("This text contains 1 hidden or direction-changing character: %(codes)s. They are shown as ⟦…⟧ badges in the document.", { codes: codes })
      : draftingT("This text contains %(count)s hidden or direction-changing characters: %(codes)s. They are shown as ⟦…⟧ badges in the document.",
        { count: found.length, codes: codes });
  });
})();

/* ---- sign-off: the board, the phase card and the banner follow approvals live ------------ */
(function () {
  "use strict";
  // Called by the live section above on approval.changed; each part re-fetches its own fragment.
  window.draftingSignoff = function (change) {
    ["signoff-board", "phase-card", "signoff-banner"].forEach(function (id) {
      const part = document.getElementById(id);
      if (part && part.dataset.refreshUrl) htmx.ajax("GET", part.dataset.refreshUrl, { target: part, swap: "outerHTML" });
    });
    if (window.draftingToast && change.organisation && change.actor !== parseInt(document.body.dataset.me || "0", 10)) {
      window.draftingToast(draftingT("Sign-off changed for %(organisation)s.", { organisation: change.organisation }));
    }
  };
})();

/* ---- mentions: "@" and letters in a comment or reply suggest members; Enter or Tab inserts the full name ---- */
(function () {
  "use strict";
  // "@" after a space or the start, then up to three words of letters, right before the caret.
  const TRIGGER = /(?:^|[^\p{L}\p{N}_@])@(\p{L}[\p{L}\p{M}.'’-]*(?: [\p{L}\p{M}.'’-]+){0,2})$/u;
  const FIELD = "textarea[data-mentions]";
  let open = null;   // { field, list, start, active }
  let timer = null;
  let asked = 0;     // the newest request; older answers are dropped

  // The textarea becomes a combobox controlling a listbox placed right under it (ARIA combobox pattern).
  function setUp(field) {
    let list = field.id && document.getElementById(field.id + "-mentions");
    if (list) return list;
    list = document.createElement("ul");
    list.id = field.id + "-mentions";
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", draftingT("Members to mention"));
    list.hidden = true;
    field.insertAdjacentElement("afterend", list);
    field.setAttribute("role", "combobox");
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-expanded", "false");
    field.setAttribute("aria-controls", list.id);
    return list;
  }

  function close() {
    clearTimeout(timer);
    asked += 1;
    if (!open) return;
    open.list.hidden = true;
    open.list.replaceChildren();
    open.field.setAttribute("aria-expanded", "false");
    open.field.removeAttribute("aria-activedescendant");
    open = null;
  }

  function options() { return open ? Array.from(open.list.querySelectorAll("[role=option]")) : []; }

  function highlight() {
    options().forEach(function (option, i) { option.setAttribute("aria-selected", i === open.active ? "true" : "false"); });
    const active = options()[open.active];
    open.field.setAttribute("aria-activedescendant", active.id);
    if (active.scrollIntoView) active.scrollIntoView({ block: "nearest" });
  }

  function show(field, list, start, people) {
    if (!people.length) { close(); return; }
    list.replaceChildren();
    people.forEach(function (person, i) {
      const option = document.createElement("li");
      option.id = list.id + "-" + i;
      option.setAttribute("role", "option");
      option.dataset.name = person.name;
      option.textContent = person.name;
      const org = document.createElement("span");
      org.className = "org-line";
      org.textContent = person.organisation;
      option.appendChild(org);
      list.appendChild(option);
    });
    list.hidden = false;
    field.setAttribute("aria-expanded", "true");
    open = { field: field, list: list, start: start, active: 0 };
    highlight();
  }

  function typedQuery(field) {
    const match = field.value.slice(0, field.selectionStart).match(TRIGGER);
    return match ? { query: match[1], start: field.selectionStart - match[1].length - 1 } : null;
  }

  function ask(field, list, typed) {
    const mine = ++asked;
    const url = new URL(field.dataset.mentions, window.location.href);
    url.searchParams.set("q", typed.query);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (people) {
        const now = typedQuery(field);
        if (mine !== asked || document.activeElement !== field || !now || now.start !== typed.start) return;
        show(field, list, typed.start, people);
      })
      .catch(function () { /* offline: no suggestions, the text stays as typed */ });
  }

  // Replace "@" and the letters typed so far with "@Full Name ", keeping everything around it.
  function insert(index) {
    const option = options()[index];
    if (!option) return;
    const field = open.field, start = open.start, end = field.selectionStart;
    const after = field.value.slice(end);
    const text = "@" + option.dataset.name + (/^\s/.test(after) ? "" : " ");
    close();
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(FIELD) && event.target.id) setUp(event.target);
  });
  document.addEventListener("input", function (event) {
    const field = event.target;
    if (!field.matches || !field.matches(FIELD) || !field.id) return;
    const typed = typedQuery(field);
    if (!typed) { close(); return; }
    const list = setUp(field);
    clearTimeout(timer);
    timer = setTimeout(function () { ask(field, list, typed); }, 120);
  });
  // Capturing, so these keys work the list before the form's own keys (Escape would cancel the form).
  document.addEventListener("keydown", function (event) {
    if (!open || event.target !== open.field) return;
    const count = options().length;
    const key = event.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      open.active = (open.active + (key === "ArrowDown" ? 1 : count - 1)) % count;
      highlight();
    } else if ((key === "Enter" && !event.ctrlKey && !event.metaKey && !event.shiftKey) || (key === "Tab" && !event.shiftKey)) {
      insert(open.active);
    } else if (key === "Escape") {
      close();
    } else {
      if (["ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"].indexOf(key) >= 0) close();
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest(".mention-list")) event.preventDefault();  // keep the focus
  });
  document.addEventListener("click", function (event) {
    const option = event.target.closest && event.target.closest(".mention-list [role=option]");
    if (option && open && open.list.contains(option)) insert(options().indexOf(option));
  });
  document.addEventListener("focusout", function (event) {
    if (open && event.target === open.field) close();
  });
  document.addEventListener("submit", close, true);
})();
