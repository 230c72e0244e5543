/* drafting: following the committee's work. Times in the viewer's own time zone, named: the zone
   chosen in their settings, else the browser's; deadlines typed in that zone as YYYY-MM-DD HH:MM;
   the "Show proposed changes" mode, which marks every open amendment in its clause's text with
   next/previous through the queue; clauses changed live by someone else, marked with who changed
   them until the viewer says they have seen them; and deletions, moves and restores by someone
   else, announced with their name. */
(function () {
  "use strict";
  const body = document.body;
  // The person's chosen zone (i18n.js reads body[data-timezone]), else the browser's.
  const zone = window.draftingZone || "UTC";
  const stamp = new Intl.DateTimeFormat(window.draftingLocale, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone: zone,
  });
  const clock = new Intl.DateTimeFormat(window.draftingLocale, { hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone: zone });
  const say = function (message, isError) { if (window.draftingToast) window.draftingToast(message, isError); };

  // ---- times ----------------------------------------------------------------------------------
  // The server writes "30 Nov 2026, 14:05 UTC"; here it becomes the viewer's time with its zone.
  // Records that must read the same for everyone (the certificate) carry data-utc-record.
  function localiseTimes(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      const value = el.getAttribute("datetime") || "";
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(value) || el.closest("[data-utc-record]")) return;
      if (el.textContent.indexOf(":") < 0) return;  // a date alone stays as written
      const date = new Date(value);
      if (isNaN(date.getTime())) return;
      el.dataset.local = "true";
      el.title = el.textContent.trim();
      el.textContent = stamp.format(date);
    });
  }

  // ---- deadlines typed in local time -----------------------------------------------------------
  // The wall clock of `zone`, which need not be the browser's: read through Intl, not getHours().
  const wall = new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone,
  });
  function partsOf(date) {
    const parts = {};
    wall.formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return parts;
  }
  function typed(date) {
    const p = partsOf(date);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }
  // How far `zone`'s wall clock is ahead of UTC at `date`, in milliseconds.
  function offsetAt(date) {
    const p = partsOf(date);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - Math.floor(date.getTime() / 60000) * 60000;
  }
  // The moment a wall-clock time in `zone` names (a time skipped by a clock change moves on).
  function inZone(year, month, day, hour, minute) {
    const asUtc = Date.UTC(year, month, day, hour, minute);
    let moment = new Date(asUtc - offsetAt(new Date(asUtc)));
    moment = new Date(asUtc - offsetAt(moment));
    return moment;
  }
  function setUpDeadlines(root) {
    root.querySelectorAll("input[data-deadline-input]:not([data-ready])").forEach(function (input) {
      input.dataset.ready = "true";
      const form = input.form;
      if (!form) return;
      form.querySelectorAll("[data-timezone-field]").forEach(function (field) { field.value = zone; });
      form.querySelectorAll("[data-local-zone]").forEach(function (el) { el.textContent = zone; });
      if (input.dataset.utc) {
        const stored = new Date(input.dataset.utc);
        if (!isNaN(stored.getTime())) input.value = typed(stored);
      }
      const preview = form.querySelector("[data-deadline-preview]");
      const show = function () {
        if (!preview) return;
        const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$/.exec(input.value.trim());
        const valid = m && +m[2] >= 1 && +m[2] <= 12 && +m[4] < 24 && +m[5] < 60 &&
          new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCMonth() === +m[2] - 1;
        const date = valid ? inZone(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]) : null;
        if (!date || isNaN(date.getTime())) { preview.hidden = true; return; }
        preview.hidden = false;
        preview.textContent = draftingT("That is %(date)s in %(zone)s (%(utc)s UTC).", {
          date: new Intl.DateTimeFormat(window.draftingLocale, { dateStyle: "full", timeStyle: "short", timeZone: zone }).format(date),
          zone: zone, utc: date.toISOString().slice(0, 16).replace("T", " "),
        });
      };
      input.addEventListener("input", show);
      show();
    });
  }

  // ---- who is who ------------------------------------------------------------------------------
  let names = {};
  function readNames() {
    const holder = document.getElementById("member-names");
    if (!holder) return;
    try { names = JSON.parse(holder.textContent) || {}; } catch (error) { names = {}; }
  }
  function nameOf(actor) {
    if (actor !== null && actor !== undefined && names[String(actor)]) return names[String(actor)];
    const present = document.querySelector("#presence li[data-user-id=\"" + actor + "\"]");
    return present ? present.textContent : draftingT("Someone");
  }
  window.draftingNameOf = nameOf;

  // ---- proposed changes in the text --------------------------------------------------------------
  const toggle = document.querySelector("[data-proposed-toggle]");
  const nav = document.querySelector(".review-bar .proposed-nav");
  const status = document.querySelector(".review-bar .proposed-status");
  let fragment = null;       // the last answer of /proposed-changes, kept to re-place after refreshes
  let current = -1;
  let loading = null;
  let reloadTimer = null;
  const modeKey = "drafting:proposed:" + (body.dataset.documentId || "");

  function sections() { return Array.from(document.querySelectorAll("#clauses .proposed-change")); }
  function announce(text) { if (status) status.textContent = text; }

  function place() {
    if (!fragment || !body.classList.contains("show-proposed")) return;
    const wanted = new Set();
    fragment.querySelectorAll(".proposed-change").forEach(function (section) {
      wanted.add(section.id);
      if (document.getElementById(section.id)) return;
      const li = document.getElementById("clause-" + section.dataset.clauseId);
      const text = li && !li.classList.contains("editing") && li.querySelector(":scope > article > .clause-text");
      if (!text) return;
      const placed = li.querySelectorAll(".proposed-change");
      const copy = section.cloneNode(true);
      (placed.length ? placed[placed.length - 1] : text).after(copy);
      li.classList.add("has-proposed");
    });
    sections().forEach(function (el) { if (!wanted.has(el.id)) el.remove(); });
    document.querySelectorAll("#clauses li.has-proposed").forEach(function (li) {
      if (!li.querySelector(".proposed-change")) li.classList.remove("has-proposed");
    });
  }

  function load() {
    if (!toggle) return Promise.resolve();
    if (loading) return loading;
    loading = fetch(toggle.dataset.url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(String(response.status)); return response.text(); })
      .then(function (html) {
        const template = document.createElement("template");
        template.innerHTML = html.trim();
        fragment = template.content.firstElementChild;
        sections().forEach(function (el) { el.remove(); });
        place();
        const total = parseInt(fragment.dataset.total || "0", 10);
        if (nav) nav.hidden = total === 0;
        announce(total === 0 ? draftingT("No open amendments: nothing is proposed.")
          : total === 1 ? draftingT("1 proposed change marked in the text.")
            : draftingT("%(count)s proposed changes marked in the text.", { count: total }));
      })
      .catch(function () { say(draftingT("Could not load the proposed changes; try again."), true); })
      .finally(function () { loading = null; });
    return loading;
  }

  function setMode(on, remember) {
    if (!toggle) return;
    body.classList.toggle("show-proposed", on);
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? draftingT("Hide proposed changes") : draftingT("Show proposed changes");
    if (remember) { try { sessionStorage.setItem(modeKey, on ? "1" : ""); } catch (error) { /* private mode */ } }
    current = -1;
    if (on) return load();
    sections().forEach(function (el) { el.remove(); });
    document.querySelectorAll("#clauses li.has-proposed").forEach(function (li) { li.classList.remove("has-proposed"); });
    if (nav) nav.hidden = true;
    announce("");
    return Promise.resolve();
  }

  // `origin`: the proposed change whose own Previous/Next was pressed (each has a pair, so the
  // next step is always within reach); on the page of its own (proposed_page.html) they step there.
  function step(by, origin) {
    const all = origin && !origin.closest("#clauses")
      ? Array.from(document.querySelectorAll("#proposed-changes .proposed-change")) : sections();
    if (!all.length) { announce(draftingT("No open amendments: nothing is proposed.")); return; }
    const active = document.activeElement && document.activeElement.closest && document.activeElement.closest(".proposed-change");
    const focused = all.indexOf(origin || active);
    const from = focused >= 0 ? focused : current;
    current = from < 0 ? (by > 0 ? 0 : all.length - 1) : (from + by + all.length) % all.length;
    const target = all[current];
    // Its start in view (below the sticky bar: scroll-margin-top), with its own Previous/Next;
    // centred when the whole of it fits.
    const fits = target.getBoundingClientRect().height < window.innerHeight * 0.6;
    target.scrollIntoView({ block: fits ? "center" : "start" });
    target.focus({ preventScroll: true });
    const title = target.querySelector(".proposed-title");
    announce(title ? title.textContent.replace(/\s+/g, " ").trim() : "");
  }

  function openAmendment(id) {
    const article = document.getElementById("amendment-" + id);
    const li = document.querySelector("#clauses .proposed-change[data-amendment-id=\"" + id + "\"]");
    const clause = li && li.closest("li.clause");
    const details = clause && clause.querySelector("details.consult-details");
    if (details && !details.open) details.open = true;
    let tries = 0;
    (function wait() {
      const found = document.getElementById("amendment-" + id) || article;
      if (found && found.offsetParent !== null) {
        found.scrollIntoView({ block: "center" });
        const action = found.querySelector(".item-actions button, .item-actions a");
        if (action) action.focus(); else { found.setAttribute("tabindex", "-1"); found.focus(); }
        return;
      }
      if (tries++ < 40) setTimeout(wait, 100);
    })();
  }

  if (toggle) {
    toggle.addEventListener("click", function (event) {
      event.preventDefault();
      setMode(!body.classList.contains("show-proposed"), true);
    });
    toggle.addEventListener("keydown", function (event) {
      if (event.key === " ") { event.preventDefault(); toggle.click(); }
    });
  }
  document.addEventListener("click", function (event) {
    const stepper = event.target.closest && event.target.closest("[data-proposed-step]");
    if (stepper) { step(parseInt(stepper.dataset.proposedStep, 10), stepper.closest(".proposed-change")); return; }
    const opener = event.target.closest && event.target.closest("#clauses [data-open-amendment]");
    if (opener) { event.preventDefault(); openAmendment(opener.dataset.openAmendment); }
    const seen = event.target.closest && event.target.closest("[data-live-seen]");
    if (seen) markSeen(seen.dataset.liveSeen);
  });

  // ---- clauses changed live by someone else: marked until seen -------------------------------------
  const marksKey = "drafting:live-marks:" + (body.dataset.documentId || "") + ":" + (body.dataset.me || "");
  let marks = {};
  try { marks = JSON.parse(sessionStorage.getItem(marksKey) || "{}") || {}; } catch (error) { marks = {}; }
  function saveMarks() { try { sessionStorage.setItem(marksKey, JSON.stringify(marks)); } catch (error) { /* full */ } }

  function showMarks() {
    Object.keys(marks).forEach(function (id) {
      const li = document.getElementById("clause-" + id);
      if (!li || li.classList.contains("editing")) return;  // an open form (or a conflict) has its own notices
      const mark = marks[id];
      const text = li.querySelector(":scope > article > .clause-text") || li.querySelector(".clause-text");
      if (!text) return;
      let holder = li.querySelector(".live-mark");
      const wording = mark.created
        ? draftingT("Added by %(who)s at %(time)s.", { who: mark.who, time: mark.at })
        : draftingT("Changed by %(who)s at %(time)s (now version %(version)s).", { who: mark.who, time: mark.at, version: mark.version });
      if (holder && holder.dataset.wording === wording) return;
      if (!holder) {
        holder = document.createElement("p");
        holder.className = "live-mark";
        text.before(holder);
      }
      holder.dataset.wording = wording;
      holder.replaceChildren();
      const words = document.createElement("strong");
      words.textContent = wording;
      holder.appendChild(words);
      if (!mark.created && mark.diff) {
        holder.appendChild(document.createTextNode(" "));
        const link = document.createElement("a");
        link.href = mark.diff;
        link.textContent = draftingT("See what changed");
        link.setAttribute("hx-get", mark.diff);
        link.setAttribute("hx-target", "#clause-" + id + "-panel");
        link.setAttribute("hx-swap", "innerHTML");
        holder.appendChild(link);
      }
      holder.appendChild(document.createTextNode(" "));
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.dataset.liveSeen = id;
      button.textContent = draftingT("Mark as seen");
      button.setAttribute("aria-label", draftingT("Mark as seen: the change to this clause"));
      holder.appendChild(button);
      li.classList.add("changed-live");
      if (window.htmx) htmx.process(holder);
    });
  }
  function markSeen(id) {
    delete marks[id];
    saveMarks();
    const li = document.getElementById("clause-" + id);
    if (li) {
      li.classList.remove("changed-live");
      const holder = li.querySelector(".live-mark");
      if (holder) holder.remove();
      const next = li.querySelector(".clause-actions a.button, .clause-actions button");
      if (next) next.focus();
    }
  }

  document.addEventListener("drafting:live", function (event) {
    const name = event.detail.name;
    const change = event.detail.change || {};
    const mine = String(change.actor) === body.dataset.me;
    if (!mine && (name === "clause.updated" || name === "clause.created") && change.clause_id) {
      const li = document.getElementById("clause-" + change.clause_id);
      const before = marks[change.clause_id];
      const from = before ? before.from : (li ? parseInt(li.dataset.version || "0", 10) : 0);
      const url = li && li.dataset.url ? li.dataset.url.replace(/\/?$/, "") + "/diff" : null;
      marks[change.clause_id] = {
        who: nameOf(change.actor), at: clock.format(new Date()), version: change.version || null,
        created: name === "clause.created" && !before, from: from,
        diff: url && from && change.version ? url + "?from=" + from + "&to=" + change.version : (before && before.diff) || null,
      };
      saveMarks();
      setTimeout(showMarks, 0);
    }
    if (name === "clause.deleted" && change.clause_id && marks[change.clause_id]) { delete marks[change.clause_id]; saveMarks(); }
    if (!mine && (name === "clause.deleted" || name === "clause.moved" || name === "clause.restored") && change.clause_id) {
      noteStructural(name, change);
    }
    if (body.classList.contains("show-proposed") && /^(amendment\.|clause\.)/.test(name)) {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(load, 300);
    }
  });

  // ---- deletions, moves and restores by someone else: said with their name -----------------------
  // The clause is named as its heading reads (its number, without one). A deleted or moved clause is
  // named before the list is refreshed; a restored one once it is back in the list. One reorder moves
  // several clauses at once: its events are said together.
  let structural = [];
  let structuralTimer = null;
  const known = {};  // names seen, by clause id: a clause deleted and restored keeps its name
  function clauseName(id) {
    const li = document.getElementById("clause-" + id);
    const title = li && li.querySelector(".clause-title");
    let text = "";
    if (title) {
      title.childNodes.forEach(function (node) { if (!(node.nodeType === 1 && node.classList.contains("visually-hidden"))) text += node.textContent; });
    } else if (li && li.classList.contains("editing")) {  // an open form: the heading it was opened with
      const heading = li.querySelector("input[name=heading]");
      text = heading ? heading.defaultValue : "";
    }
    text = text.replace(/\s+/g, " ").trim();
    if (text) known[id] = text;
    return text || known[id] || null;
  }
  function listed(names) {
    const quoted = names.map(function (n) { return draftingT("“%(clause)s”", { clause: n }); });
    try { return new Intl.ListFormat(window.draftingLocale, { type: "conjunction" }).format(quoted); } catch (error) { return quoted.join(", "); }
  }
  function noteStructural(name, change) {
    structural.push({ name: name, id: change.clause_id, who: nameOf(change.actor), at: Date.now(),
      clause: name === "clause.restored" ? null : clauseName(change.clause_id) });
    clearTimeout(structuralTimer);
    structuralTimer = setTimeout(sayStructural, 400);
  }
  function sayStructural() {
    structuralTimer = null;
    // A restored clause is named once the refreshed list shows it (or, after a while, without a name).
    const waiting = structural.some(function (e) {
      if (e.name !== "clause.restored" || e.clause) return false;
      e.clause = clauseName(e.id);
      return !e.clause && Date.now() - e.at < 5000;
    });
    if (waiting) { structuralTimer = setTimeout(sayStructural, 300); return; }
    const events = structural;
    structural = [];
    const sentences = [];
    const moves = {};
    events.forEach(function (e) {
      if (e.name === "clause.moved") { (moves[e.who] = moves[e.who] || []).push(e.clause); return; }
      if (e.name === "clause.deleted") {
        sentences.push(e.clause ? draftingT("%(who)s deleted “%(clause)s”.", { who: e.who, clause: e.clause })
          : draftingT("%(who)s deleted a clause.", { who: e.who }));
      } else {
        sentences.push(e.clause ? draftingT("%(who)s restored “%(clause)s”.", { who: e.who, clause: e.clause })
          : draftingT("%(who)s restored a deleted clause.", { who: e.who }));
      }
    });
    Object.keys(moves).forEach(function (who) {
      const named = moves[who].filter(Boolean);
      sentences.push(named.length === 1 ? draftingT("%(who)s moved “%(clause)s”.", { who: who, clause: named[0] })
        : named.length ? draftingT("%(who)s changed the order of the clauses: %(clauses)s moved.", { who: who, clauses: listed(named) })
          : draftingT("%(who)s changed the order of the clauses.", { who: who }));
    });
    if (sentences.length) say(sentences.join(" "));
  }

  // ---- keeping everything in place as parts of the page are replaced ------------------------------
  let pending = false;
  function settle(root) {
    localiseTimes(root || document);
    setUpDeadlines(root || document);
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; place(); showMarks(); });
  }
  document.addEventListener("htmx:afterSettle", function (event) { settle(event.detail.elt && event.detail.elt.parentNode ? event.detail.elt.parentNode : document); });
  document.addEventListener("DOMContentLoaded", function () {
    readNames();
    settle(document);
    const article = document.querySelector("article.document");
    // The list is also replaced outside htmx (a live refresh of the whole list): follow it.
    if (article && window.MutationObserver) {
      new MutationObserver(function () { settle(article); }).observe(article, { childList: true, subtree: false });
      const watchList = function () {
        const list = document.getElementById("clauses");
        if (list && !list.dataset.watched) {
          list.dataset.watched = "true";
          new MutationObserver(function () { settle(list); }).observe(list.querySelector(".clause-list") || list, { childList: true });
        }
      };
      watchList();
      new MutationObserver(watchList).observe(article, { childList: true });
    }
    let remembered = "";
    try { remembered = sessionStorage.getItem(modeKey) || ""; } catch (error) { remembered = ""; }
    if (toggle && remembered) setMode(true, false);
  });
})();
