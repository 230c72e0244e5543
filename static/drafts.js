/* drafting: no typed word is lost (issue 15).
   - Drafts: the text of every open clause form and discussion form is kept in localStorage as it is
     typed, per user (body[data-user]); it is removed when the form is saved (2xx) or discarded, and
     offered back after a reload, a crash or a login. At most MAX_DRAFTS drafts are kept; all of a
     user's drafts are removed at logout. Nothing is kept on pages without a logged-in user.
   - Escape or Cancel on a changed form asks first (app.js calls draftingAskDiscard); leaving the page with
     changed text asks the browser's question (beforeunload).
   - An ended session (401 marked HX-Session-Ended) shows a lasting banner: log in again in a new
     tab, then Retry, which fetches a fresh CSRF token and sends the refused request again. */
(function () {
  "use strict";
  const body = document.body;
  const user = body.dataset.user;
  const PREFIX = "drafting.draft.";
  const MAX_DRAFTS = 100;          // the most recent drafts kept, over all users of this browser
  const MAX_FIELD_CHARS = 200000;  // a field longer than this is kept cut to this length
  const SAVE_AFTER_MS = 400;
  const TRACKED = "li.clause.editing form.clause-form, form[data-keep][id], form.contribution-form[id]";
  const toast = function (message, isError) { if (window.draftingToast) window.draftingToast(message, isError); };

  // ---- storage -----------------------------------------------------------------------------------
  function storage() { try { return window.localStorage; } catch (e) { return null; } }
  function storageKey(key) { return PREFIX + user + "." + key; }
  function read(key) {
    const store = storage();
    if (!store || !user) return null;
    try { return JSON.parse(store.getItem(storageKey(key)) || "null"); } catch (e) { return null; }
  }
  function allDrafts(ofUser) {
    const store = storage();
    const found = [];
    if (!store) return found;
    for (let i = 0; i < store.length; i++) {
      const name = store.key(i);
      if (!name || name.indexOf(PREFIX) !== 0) continue;
      if (ofUser && name.indexOf(PREFIX + ofUser + ".") !== 0) continue;
      let record = null;
      try { record = JSON.parse(store.getItem(name)); } catch (e) { /* not ours */ }
      found.push({ name: name, record: record || { at: 0 } });
    }
    return found;
  }
  function prune(keep) {
    const store = storage();
    const drafts = allDrafts(null).sort(function (a, b) { return (b.record.at || 0) - (a.record.at || 0); });
    drafts.slice(keep).forEach(function (d) { store.removeItem(d.name); });
  }
  function write(key, record) {
    const store = storage();
    if (!store || !user) return;
    const text = JSON.stringify(record);
    try { store.setItem(storageKey(key), text); }
    catch (e) {  // full: drop the oldest half, then try once more
      prune(Math.floor(MAX_DRAFTS / 2));
      try { store.setItem(storageKey(key), text); } catch (again) { return; }
    }
    prune(MAX_DRAFTS);
  }
  function remove(key) { const store = storage(); if (store && user && key) store.removeItem(storageKey(key)); }
  function clearUser() { allDrafts(user).forEach(function (d) { storage().removeItem(d.name); }); }

  // ---- forms -------------------------------------------------------------------------------------
  function clauseItem(form) { return form.closest("li.clause.editing"); }
  function keyOf(form) {
    if (form.dataset.draftKey) return form.dataset.draftKey;
    let key = null;
    const li = form.matches(".clause-form") ? clauseItem(form) : null;
    if (li && li.dataset.clauseId) key = "clause-" + li.dataset.clauseId;
    else if (li && li.id === "new-clause-form") key = "new-clause-" + (body.dataset.documentId || location.pathname);
    else if (form.id) key = form.id;
    if (key) form.dataset.draftKey = key;
    return key;
  }
  function kindOf(key) {
    const match = /^(clause|new-clause|thread-form|comment-form|reply-form|amendment-form|contribution)-/.exec(key || "");
    return match ? match[1] : "";
  }
  function fieldsOf(form) {
    return Array.from(form.elements).filter(function (el) {
      return el.name && el.name !== "csrf_token" && el.type !== "hidden" && el.type !== "submit" && el.type !== "button";
    });
  }
  function changed(form) {
    return fieldsOf(form).some(function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") return Array.from(el.options).some(function (o) { return o.selected !== o.defaultSelected; });
      return el.value !== el.defaultValue;
    });
  }
  function valuesOf(form) {
    const values = {};
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") values[el.name + "=" + el.value] = el.checked;
      else values[el.name] = String(el.value).slice(0, MAX_FIELD_CHARS);
    });
    return values;
  }
  function sameAsForm(form, record) {
    return fieldsOf(form).every(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        const kept = record.fields[el.name + "=" + el.value];
        return kept === undefined || kept === el.checked;
      }
      return record.fields[el.name] === undefined || record.fields[el.name] === el.value;
    });
  }
  function fill(form, record) {
    fieldsOf(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        const kept = record.fields[el.name + "=" + el.value];
        if (kept !== undefined) el.checked = kept;
      } else if (record.fields[el.name] !== undefined) el.value = record.fields[el.name];
    });
    // Saved from the version the text was first edited from: others' changes since are merged.
    const base = form.querySelector("input[name=base_version]");
    if (base && record.base_version) base.value = record.base_version;
    const field = form.querySelector("textarea") || fieldsOf(form)[0];
    if (field) field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  // The field a restored draft gives the focus to: the form's own autofocus field (a comment
  // form's first textarea is its quote), else its first textarea.
  function mainField(form) { return form.querySelector("[data-autofocus]") || form.querySelector("textarea"); }
  function isConflict(form) { const li = clauseItem(form); return !!(li && li.classList.contains("conflict")); }

  function recordOf(form) {
    const key = keyOf(form);
    const section = form.closest("section.consult");
    const li = form.closest("li.clause[data-clause-id]");
    const base = form.querySelector("input[name=base_version]");
    const earlier = read(key);
    return {
      v: 1, key: key, at: Date.now(), fields: valuesOf(form),
      // The version the person started from: kept from the first draft (a conflict form starts later).
      base_version: earlier && earlier.base_version ? earlier.base_version : (base ? base.value : null),
      doc: body.dataset.documentId || null,
      clauseId: li ? li.dataset.clauseId : (section ? section.id.replace("consult-", "") : null),
      after: (form.querySelector("input[name=after]") || {}).value || null,
      openUrl: form.dataset.openUrl || null, openTarget: form.dataset.openTarget || null,
      openSwap: form.dataset.openSwap || null, path: location.pathname,
    };
  }
  const timers = new Map();
  function keep(form) {
    clearTimeout(timers.get(form));
    timers.delete(form);
    const key = keyOf(form);
    if (!key || !user || loggedOut) return;
    // Once something was typed, the draft follows the form (even back to its first text) until saved.
    if (changed(form) || isConflict(form) || read(key)) write(key, recordOf(form));
  }
  function keepSoon(form) {
    clearTimeout(timers.get(form));
    timers.set(form, setTimeout(function () { keep(form); }, SAVE_AFTER_MS));
  }
  function forget(form) {
    clearTimeout(timers.get(form));
    timers.delete(form);
    remove(keyOf(form));
  }
  function openForms() { return Array.from(document.querySelectorAll(TRACKED)); }
  function keepAll() { openForms().forEach(function (form) { if (timers.has(form)) keep(form); }); }

  // ---- offering a draft back ---------------------------------------------------------------------
  function when(at) {
    try { return new Date(at).toLocaleString(window.draftingLocale || [], { dateStyle: "medium", timeStyle: "short", timeZone: window.draftingZone }); }
    catch (e) { return new Date(at).toLocaleString(); }
  }
  // What the offer says, one whole sentence for each kind of form.
  function offerText(kind, at) {
    const values = { when: at };
    switch (kind) {
      case "clause": return draftingT("You have unsaved text from %(when)s for this clause.", values);
      case "new-clause": return draftingT("You have unsaved text from %(when)s for a new clause.", values);
      case "thread-form":
      case "comment-form": return draftingT("You have unsaved text from %(when)s for this comment.", values);
      case "reply-form": return draftingT("You have unsaved text from %(when)s for this reply.", values);
      case "amendment-form": return draftingT("You have unsaved text from %(when)s for this amendment.", values);
      case "contribution": return draftingT("You have unsaved text from %(when)s for this contribution.", values);
      default: return draftingT("You have unsaved text from %(when)s for this form.", values);
    }
  }
  function notice(record, onRestore) {
    const box = document.createElement("div");
    box.className = "draft-offer";
    box.dataset.draftFor = record.key;
    const text = document.createElement("p");
    text.textContent = offerText(kindOf(record.key), when(record.at));
    const restore = document.createElement("button");
    restore.type = "button";
    restore.className = "primary";
    restore.textContent = draftingT("Restore it");
    const discard = document.createElement("button");
    discard.type = "button";
    discard.textContent = draftingT("Discard it");
    const actions = document.createElement("p");
    actions.className = "draft-offer-actions";
    actions.append(restore, " ", discard);
    box.append(text, actions);
    restore.addEventListener("click", function () { box.remove(); onRestore(); });
    discard.addEventListener("click", function () {
      remove(record.key);
      const form = box.closest("form");
      if (form) delete form.dataset.draftOffered;
      box.remove();
      toast(draftingT("The unsaved text was discarded."));
    });
    return box;
  }
  function restoredNote(form, record) {
    const note = document.createElement("p");
    note.className = "draft-restored";
    note.setAttribute("role", "status");
    note.textContent = record.base_version
      ? draftingT("Restored your unsaved text from %(when)s. Saving merges it with any changes made since version %(version)s.",
        { when: when(record.at), version: record.base_version })
      : draftingT("Restored your unsaved text from %(when)s.", { when: when(record.at) });
    const title = form.querySelector(".form-title");
    if (title) title.after(note); else form.prepend(note);
  }
  // A form just opened (or there on load) for which a draft exists: offer it inside the form.
  function offerInForm(form) {
    if (form.dataset.draftChecked) return;
    form.dataset.draftChecked = "1";
    const key = keyOf(form);
    const record = key && read(key);
    if (!record || !record.fields) return;
    // The form already shows this text (a refused save shows it again; a conflict form shows the
    // person's text): nothing to offer, and the draft stays until the form is saved.
    if (sameAsForm(form, record) || isConflict(form)) return;
    form.dataset.draftOffered = "1";
    const box = notice(record, function () {
      delete form.dataset.draftOffered;
      fill(form, record);
      restoredNote(form, record);
      const field = mainField(form);
      if (field) field.focus();
    });
    const title = form.querySelector(".form-title, h3");
    if (title) title.after(box); else form.prepend(box);
  }
  function waitFor(find, ms) {
    return new Promise(function (resolve) {
      const until = Date.now() + (ms || 5000);
      (function look() {
        const found = find();
        if (found || Date.now() > until) { resolve(found || null); return; }
        setTimeout(look, 100);
      })();
    });
  }
  // Open the form the draft was typed in (as the person would), then put the draft in it.
  function reopen(record) {
    let target = record.openTarget && document.getElementById(record.openTarget);
    let url = record.openUrl;
    let swap = record.openSwap || "innerHTML";
    const kind = kindOf(record.key);
    if (kind === "clause") {
      const li = document.getElementById("clause-" + record.clauseId);
      const edit = li && li.querySelector(".clause-actions [data-primary]");
      if (edit) { target = li; url = edit.getAttribute("hx-get"); swap = "outerHTML"; }
    } else if (kind === "new-clause") {
      const li = record.after && document.getElementById("clause-" + record.after);
      const add = li && li.querySelector(".clause-actions a[hx-swap=afterend]");
      if (add) { target = li; url = add.getAttribute("hx-get"); swap = "afterend"; }
    }
    const opening = target || !record.clauseId ? Promise.resolve(target) : expandDiscussion(record);
    return opening.then(function (found) {
      target = found || (record.openTarget && document.getElementById(record.openTarget));
      if (!target || !url) { toast(draftingT("This form cannot be opened here any more; the text is still kept."), true); return; }
      return htmx.ajax("GET", url, { target: target, swap: swap }).then(function () {
        return waitFor(function () { return findForm(record); });
      }).then(function (form) {
        if (!form) return;
        form.querySelectorAll(".draft-offer").forEach(function (box) { box.remove(); });
        delete form.dataset.draftOffered;
        form.dataset.draftChecked = "1";
        fill(form, record);
        restoredNote(form, record);
        const field = mainField(form);
        if (field) field.focus();
      });
    });
  }
  // A reply's slot lives inside the clause's discussion, which may load only when opened.
  function expandDiscussion(record) {
    const details = document.getElementById("consult-" + record.clauseId + "-details");
    if (details && !details.open) details.open = true;
    return waitFor(function () { return record.openTarget && document.getElementById(record.openTarget); }, 5000);
  }
  function findForm(record) {
    const kind = kindOf(record.key);
    if (kind === "clause") return document.querySelector("#clause-" + record.clauseId + ".editing form.clause-form");
    if (kind === "new-clause") return document.querySelector("#new-clause-form form.clause-form");
    return document.getElementById(record.key);
  }
  // Where a draft whose form is closed is offered: in its clause, its discussion or its card.
  function anchorOf(record) {
    const kind = kindOf(record.key);
    if (kind === "clause") {
      const li = document.getElementById("clause-" + record.clauseId);
      return li && !li.classList.contains("editing") ? li.querySelector(".clause-actions") : null;
    }
    if (kind === "new-clause") {
      if (document.getElementById("new-clause-form") || String(record.doc) !== String(body.dataset.documentId)) return null;
      const li = record.after && document.getElementById("clause-" + record.after);
      return li && !li.classList.contains("editing") ? li.querySelector(".clause-actions") : null;
    }
    if (!record.openUrl) return null;
    if (kind === "contribution") return document.getElementById(record.key);
    const section = record.clauseId && document.getElementById("consult-" + record.clauseId);
    return section ? section.querySelector(":scope > .consult-slot") : null;
  }
  let offering = false;
  function offerAll() {
    if (!user || offering) return;
    offering = true;
    try {
      openForms().forEach(offerInForm);
      allDrafts(user).forEach(function (d) {
        const record = d.record;
        if (!record || !record.key || !record.fields) return;
        if (findForm(record)) return;  // open: offered inside the form, or being typed in
        if (record.submitted) { remove(record.key); return; }  // sent as a page: a refusal shows the form again
        if (document.querySelector('.draft-offer[data-draft-for="' + CSS.escape(record.key) + '"]')) return;
        const anchor = anchorOf(record);
        if (!anchor) return;
        anchor.before(notice(record, function () { reopen(record); }));
      });
    } finally { offering = false; }
  }

  // ---- Escape, Cancel, leaving -------------------------------------------------------------------
  let dialog = null;
  let onDiscard = null;
  let returnFocus = null;
  function confirmDialog() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "draft-confirm";
    dialog.setAttribute("aria-labelledby", "draft-confirm-title");
    dialog.setAttribute("aria-describedby", "draft-confirm-text");
    dialog.innerHTML = '<h2 id="draft-confirm-title"></h2>' +
      '<p id="draft-confirm-text"></p>' +
      '<div class="form-actions"><button type="button" class="primary" data-answer="keep" autofocus></button> ' +
      '<button type="button" class="danger" data-answer="discard"></button></div>';
    // The words are set as text: a translation is never read as HTML.
    dialog.querySelector("#draft-confirm-title").textContent = draftingT("Discard your changes?");
    dialog.querySelector("[data-answer=keep]").textContent = draftingT("Keep editing");
    dialog.querySelector("[data-answer=discard]").textContent = draftingT("Discard changes");
    dialog.addEventListener("click", function (event) {
      const button = event.target.closest("[data-answer]");
      if (!button) return;
      dialog.close(button.dataset.answer);
    });
    dialog.addEventListener("close", function () {
      const discard = dialog.returnValue === "discard" ? onDiscard : null;
      onDiscard = null;
      if (discard) { discard(); return; }
      if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
    });
    body.appendChild(dialog);
    return dialog;
  }
  function ask(question, discard) {
    const box = confirmDialog();
    box.querySelector("#draft-confirm-text").textContent = question;
    returnFocus = document.activeElement;
    onDiscard = discard;
    box.returnValue = "";
    box.showModal();
    box.querySelector("[data-answer=keep]").focus();
  }
  // The Cancel being followed after the question (or with nothing to ask): not asked about again.
  let answered = null;
  function proceed(cancel) {
    answered = cancel;
    try { cancel.click(); } finally { answered = null; }
  }
  // Called by app.js when Escape is pressed in a clause or discussion form, and below for Cancel.
  window.draftingAskDiscard = function (form, cancel) {
    if (!changed(form) && !(isConflict(form) && read(keyOf(form)))) { proceed(cancel); return; }
    ask(draftingT("What you typed in this form will be lost. Press Keep editing to go on writing."), function () {
      form.dataset.draftDiscarded = "1";
      forget(form);
      proceed(cancel);
    });
  };
  // Cancel pressed on a changed form asks first, as Escape does (capturing: before htmx follows the
  // link); once answered, the person chose to throw the text away (unless a draft is still offered).
  document.addEventListener("click", function (event) {
    const cancel = event.target.closest && event.target.closest("[data-cancel]");
    const form = cancel && cancel.closest(TRACKED);
    if (!form) return;
    if (cancel !== answered && changed(form) && !form.dataset.draftDiscarded) {
      event.preventDefault();
      event.stopPropagation();
      window.draftingAskDiscard(form, cancel);
      return;
    }
    if (!form.dataset.draftOffered) forget(form);
  }, true);

  let leaving = false;
  let loggedOut = false;  // nothing more is kept once the person logs out
  window.addEventListener("beforeunload", function (event) {
    keepAll();
    if (leaving || !user) return;
    if (openForms().some(function (form) { return changed(form) && !form.dataset.draftDiscarded; })) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("pagehide", keepAll);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") keepAll(); });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!user) return;
    if (body.dataset.logoutUrl && form.action === new URL(body.dataset.logoutUrl, location.href).href) {
      const open = openForms().filter(changed);
      if (open.length && !form.dataset.confirmed) {
        event.preventDefault();
        ask(open.length === 1
          ? draftingT("You have unsaved text in an open form. Logging out removes it from this browser.")
          : draftingT("You have unsaved text in %(count)s open forms. Logging out removes it from this browser.", { count: open.length }), function () {
          form.dataset.confirmed = "1";
          form.requestSubmit();
        });
        return;
      }
      loggedOut = leaving = true;
      timers.forEach(function (timer) { clearTimeout(timer); });
      timers.clear();
      clearUser();
      return;
    }
    if (!form.matches(TRACKED)) return;
    keep(form);  // sent now: kept until the answer says it is saved
    if (!form.hasAttribute("hx-post") && !event.defaultPrevented) {
      // Sent as a whole page: a refusal shows the form again with the text; success leads elsewhere.
      const record = read(keyOf(form));
      if (record) { record.submitted = true; write(keyOf(form), record); }
      leaving = true;
    }
  });

  // ---- typing and htmx ---------------------------------------------------------------------------
  function trackedOf(el) { return el && el.closest && el.closest(TRACKED); }
  document.addEventListener("input", function (event) { const form = trackedOf(event.target); if (form) keepSoon(form); });
  document.addEventListener("change", function (event) { const form = trackedOf(event.target); if (form) keepSoon(form); });

  // Remember which request opened a form, so a draft can open it again after a reload.
  const opened = {};
  document.addEventListener("htmx:afterRequest", function (event) {
    const detail = event.detail;
    const config = detail.requestConfig || {};
    const status = detail.xhr ? detail.xhr.status : 0;
    const ok = status >= 200 && status < 300;
    if (ok && config.verb === "get" && detail.target && detail.target.id && detail.pathInfo) {
      const elt = config.elt || detail.elt;
      opened[detail.target.id] = { url: detail.pathInfo.requestPath, swap: (elt && elt.getAttribute && elt.getAttribute("hx-swap")) || "innerHTML" };
    }
    // Saved: the draft has done its work.
    const form = config.elt && config.elt.matches && config.elt.matches("form") ? config.elt : null;
    if (ok && form && config.verb !== "get" && (form.matches(TRACKED) || form.dataset.draftKey)) forget(form);
  });
  document.addEventListener("htmx:afterSettle", function () {
    openForms().forEach(function (form) {
      if (form.dataset.openUrl) return;
      const li = form.matches(".clause-form") ? clauseItem(form) : null;
      const targetId = li ? (li.id === "new-clause-form" ? null : li.id) : (form.matches(".contribution-form") ? form.id : form.parentElement && form.parentElement.id);
      const how = targetId && opened[targetId];
      if (how) { form.dataset.openUrl = how.url; form.dataset.openTarget = targetId; form.dataset.openSwap = how.swap; }
    });
  });

  // Other parts of the page are replaced by live refreshes: offer drafts again where they belong.
  let offerTimer = null;
  function offerSoon() { clearTimeout(offerTimer); offerTimer = setTimeout(offerAll, 150); }
  if (user) {
    document.addEventListener("htmx:afterSettle", offerSoon);
    document.addEventListener("DOMContentLoaded", function () {
      offerAll();
      new MutationObserver(function (records) {
        if (records.some(function (r) { return r.addedNodes.length && !(r.target.closest && r.target.closest(".draft-offer, dialog")); })) offerSoon();
      }).observe(document.getElementById("main") || body, { childList: true, subtree: true });
    });
  } else {
    // A page without a logged-in user keeps nothing; a logout from another page of this browser
    // has already cleared its drafts.
  }

  // ---- an ended session ----------------------------------------------------------------------------
  let banner = null;
  let failed = null;      // the request refused because the session had ended
  let ended = false;
  let lastBadge = null;   // the live badge as app.js last set it
  function endedBadgeText() { return draftingT("Session ended: not live. Log in again to see others' changes and save yours."); }

  function badge() { return document.getElementById("connection"); }
  function showEndedBadge() {
    const b = badge();
    if (!b) return;
    if (b.dataset.sessionEnded !== "1") lastBadge = { state: b.dataset.state, text: b.textContent };
    b.dataset.sessionEnded = "1";
    b.dataset.state = "offline";
    b.textContent = endedBadgeText();
  }
  function watchBadge() {
    const b = badge();
    if (!b) return;
    let checking = null;
    new MutationObserver(function () {
      // The live connection dropped: a session ended elsewhere (a logout) refuses it. Ask, and say so.
      if (!ended && b.dataset.state === "offline") {
        clearTimeout(checking);
        checking = setTimeout(function () {
          checkSession().then(function (state) {
            if (!ended && (!state.authenticated || String(state.user_id) !== String(user))) showBanner(null);
          }).catch(function () { /* offline: the badge says so */ });
        }, 800);
      }
      if (!ended || b.dataset.sessionEnded !== "1") return;
      if (b.dataset.state !== "offline" || b.textContent !== endedBadgeText()) {
        lastBadge = { state: b.dataset.state, text: b.textContent };  // app.js's news, for later
        b.dataset.state = "offline";
        b.textContent = endedBadgeText();
      }
    }).observe(b, { childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
  }
  document.addEventListener("DOMContentLoaded", watchBadge);

  function showBanner(request) {
    if (request) failed = request;
    keepAll();
    ended = true;
    body.classList.add("session-ended");
    showEndedBadge();
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "session-banner";
      banner.className = "session-banner";
      banner.setAttribute("role", "alert");
      const text = document.createElement("p");
      text.className = "session-banner-text";
      text.textContent = draftingT("Your session has ended. Nothing you typed is lost: log in again in a new tab, then come back here and press Retry.");
      const actions = document.createElement("p");
      actions.className = "session-banner-actions";
      const login = document.createElement("a");
      login.className = "button";
      login.href = body.dataset.loginAgainUrl || "/login";
      login.target = "_blank";
      login.rel = "noopener";
      login.textContent = draftingT("Log in again in a new tab");
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "primary";
      retry.textContent = draftingT("Retry");
      retry.addEventListener("click", onRetry);
      actions.append(login, " ", retry);
      const status = document.createElement("p");
      status.className = "session-banner-status";
      banner.append(text, actions, status);
      const header = document.querySelector(".site-header");
      if (header) header.after(banner); else body.prepend(banner);
    }
    banner.hidden = false;
  }
  function hideBanner() {
    ended = false;
    body.classList.remove("session-ended");
    if (banner) { banner.hidden = true; banner.querySelector(".session-banner-status").textContent = ""; }
    const b = badge();
    if (b && b.dataset.sessionEnded === "1") {
      delete b.dataset.sessionEnded;
      if (lastBadge) { b.dataset.state = lastBadge.state; b.textContent = lastBadge.text; }
    }
  }
  function bannerStatus(text) { if (banner) banner.querySelector(".session-banner-status").textContent = text; }

  // A fresh CSRF token for every form and for htmx's own header.
  function useToken(token) {
    let headers = {};
    try { headers = JSON.parse(body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    headers["X-CSRFToken"] = token;
    body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
  }
  function checkSession() {
    return nativeFetch(body.dataset.sessionUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (state) {
        if (state.authenticated && String(state.user_id) === String(user)) useToken(state.csrf_token);
        return state;
      });
  }
  function resend(request) {
    if (!request) return false;
    const elt = request.elt;
    if (!elt || !document.body.contains(elt)) return false;
    if (elt.tagName === "FORM") { elt.requestSubmit(); return true; }
    const target = request.target && document.body.contains(request.target) ? request.target : undefined;
    htmx.ajax(request.verb.toUpperCase(), request.path, { source: elt, target: target });
    return true;
  }
  function onRetry() {
    bannerStatus(draftingT("Checking your session…"));
    checkSession().then(function (state) {
      if (!state.authenticated) {
        bannerStatus(draftingT("You are not logged in yet. Log in in the new tab (link above), then press Retry again."));
        return;
      }
      if (String(state.user_id) !== String(user)) {
        bannerStatus(draftingT("This browser is now logged in as someone else. Log in again as yourself, then press Retry; your text is kept."));
        return;
      }
      const request = failed;
      failed = null;
      hideBanner();
      if (!resend(request)) toast(draftingT("You are logged in again. Press Save again to send your text."));
    }).catch(function () {
      bannerStatus(draftingT("Could not reach the server. Check your connection, then press Retry again; your text is kept."));
    });
  }
  window.draftingSessionEnded = function () { showBanner(null); };

  function requestOf(detail) {
    const config = detail.requestConfig || {};
    return { elt: config.elt || detail.elt, verb: config.verb || "get", path: config.path || (detail.pathInfo && detail.pathInfo.requestPath), target: detail.target };
  }
  const retried = new WeakSet();
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    const xhr = event.detail.xhr;
    if (!xhr || !user) return;
    if (xhr.getResponseHeader("HX-Session-Ended")) {
      // Nothing open to keep: htmx follows HX-Redirect to the login page, which leads back here.
      if (!ended && openForms().length === 0) return;
      event.preventDefault();  // no redirect to the login page: the page and its forms stay
      showBanner(requestOf(event.detail));
      return;
    }
    if (xhr.getResponseHeader("HX-CSRF-Stale")) {
      // This page holds the token of an earlier session of this browser: take the current one, send again once.
      const request = requestOf(event.detail);
      if (!request.elt || retried.has(request.elt)) return;  // a second refusal shows its message
      event.preventDefault();
      retried.add(request.elt);
      checkSession().then(function (state) {
        if (!state.authenticated || String(state.user_id) !== String(user)) { showBanner(request); return; }
        if (ended) { failed = null; hideBanner(); }
        if (!resend(request)) toast(draftingT("Press Save again to send your text."));
        setTimeout(function () { retried.delete(request.elt); }, 2000);
      }).catch(function () { showBanner(request); });
    }
  });

  // The page's own fetches (live refreshes, suggestions) see an ended session too.
  const nativeFetch = window.fetch.bind(window);
  if (user) {
    window.fetch = function () {
      return nativeFetch.apply(window, arguments).then(function (response) {
        if (response.status === 401 && response.headers.get("HX-Session-Ended")) showBanner(null);
        return response;
      });
    };
  }
})();
