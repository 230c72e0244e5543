/* drafting: small screens and long documents. The header's menu; on the document page the sticky
   bar (live state mirrored from #connection) and its sheets, the outline of the clauses (search,
   go to a clause, where you are), the compact per-clause actions, and the reading mode.
   Everything is built from the page as it is and follows it when live refreshes replace the clauses. */
(function () {
  "use strict";

  const root = document.documentElement;
  const body = document.body;
  function matches(el, selector) { return !!(el && el.matches && el.matches(selector)); }

  // ---- the header's menu (below 45rem) --------------------------------------------------------------
  const menuButton = document.querySelector(".site-header .menu-button");
  const accountNav = menuButton && document.getElementById(menuButton.getAttribute("aria-controls"));
  function setMenu(open, focusBack) {
    if (!menuButton || !accountNav) return;
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    accountNav.classList.toggle("open", open);
    if (open) { const first = accountNav.querySelector("a, button"); if (first) first.focus(); }
    else if (focusBack) menuButton.focus();
  }
  if (menuButton && accountNav) {
    menuButton.addEventListener("click", function () { setMenu(menuButton.getAttribute("aria-expanded") !== "true", false); });
    accountNav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && accountNav.classList.contains("open")) { event.preventDefault(); setMenu(false, true); }
    });
    document.addEventListener("click", function (event) {
      if (!accountNav.classList.contains("open")) return;
      if (!accountNav.contains(event.target) && !menuButton.contains(event.target)) setMenu(false, false);
    });
    // Wider again: the links are in the header, the menu's state does not matter.
    window.matchMedia("(min-width: 45.01rem)").addEventListener("change", function (event) { if (event.matches) setMenu(false, false); });
  }

  const layout = document.querySelector(".document-layout");
  if (!layout) return;  // the rest is the document page's

  // ---- reading mode: the text alone, numbered; remembered on this device ----------------------------
  const READING_KEY = "drafting:reading-mode";
  function setReading(on, remember) {
    body.classList.toggle("reading-mode", on);
    document.querySelectorAll("[data-reading-mode]").forEach(function (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); });
    if (remember) { try { localStorage.setItem(READING_KEY, on ? "1" : ""); } catch (e) { /* private mode */ } }
  }
  let readingOn = false;
  try { readingOn = localStorage.getItem(READING_KEY) === "1"; } catch (e) { /* private mode */ }
  setReading(readingOn, false);
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-reading-mode]");
    if (button) setReading(button.getAttribute("aria-pressed") !== "true", true);
  });

  // ---- the sticky bar: the live state, mirrored from #connection ------------------------------------
  function short(state) {
    if (state === "online") return draftingT("Live");
    if (state === "offline") return draftingT("Offline");
    if (state === "connecting") return draftingT("Connecting…");
    return null;
  }
  const barLive = document.querySelector(".doc-bar-live");
  function mirror() {
    const badge = document.getElementById("connection");
    if (!badge || !barLive) return;
    const state = badge.dataset.state || "connecting";
    if (barLive.dataset.state === state && barLive.querySelector(".doc-bar-long").textContent === badge.textContent) return;
    barLive.dataset.state = state;
    barLive.querySelector(".doc-bar-short").textContent = short(state) || badge.textContent;
    barLive.querySelector(".doc-bar-long").textContent = badge.textContent;
    barLive.title = badge.textContent;
  }
  const badge = document.getElementById("connection");
  if (badge) {
    new MutationObserver(mirror).observe(badge, { attributes: true, attributeFilter: ["data-state"], childList: true, characterData: true, subtree: true });
    mirror();
  }

  // ---- sheets: the outline and the aside, opened from the bar below 72rem --------------------------
  const narrow = window.matchMedia("(max-width: 71.99rem)");
  const bar = document.getElementById("doc-bar");
  let openSheet = null;
  function sheetButtons(id) { return document.querySelectorAll("[data-sheet=\"" + id + "\"]"); }
  function closeSheet(focusBack) {
    if (!openSheet) return;
    const sheet = openSheet;
    openSheet = null;
    sheet.classList.remove("open");
    root.classList.remove("sheet-open");
    sheetButtons(sheet.id).forEach(function (b) { b.setAttribute("aria-expanded", "false"); });
    const article = layout.querySelector(".document");
    if (article) article.inert = false;
    if (focusBack) { const button = sheetButtons(sheet.id)[0]; if (button) button.focus(); }
  }
  function openSheetById(id, focusSelector) {
    const sheet = document.getElementById(id);
    if (!sheet || !narrow.matches) return false;
    if (openSheet && openSheet !== sheet) closeSheet(false);
    openSheet = sheet;
    if (bar) sheet.style.setProperty("--sheet-top", Math.max(0, Math.round(bar.getBoundingClientRect().bottom)) + "px");
    sheet.classList.add("open");
    root.classList.add("sheet-open");
    sheetButtons(id).forEach(function (b) { b.setAttribute("aria-expanded", "true"); });
    // The clauses behind the sheet are out of reach until it closes (the bar stays usable).
    const article = layout.querySelector(".document");
    if (article) article.inert = true;
    const target = (focusSelector && sheet.querySelector(focusSelector)) || sheet;
    target.focus();
    return true;
  }
  document.addEventListener("click", function (event) {
    const opener = event.target.closest && event.target.closest("[data-sheet]");
    if (opener) {
      const id = opener.dataset.sheet;
      if (openSheet && openSheet.id === id) closeSheet(false);
      else openSheetById(id, id === "outline" ? "#outline-search" : null);
      return;
    }
    if (event.target.closest && event.target.closest("[data-sheet-close]")) closeSheet(true);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openSheet && (openSheet.contains(event.target) || (bar && bar.contains(event.target)))) {
      event.preventDefault();
      closeSheet(true);
    }
  });
  narrow.addEventListener("change", function () { closeSheet(false); });

  // ---- the outline -----------------------------------------------------------------------------------
  const outline = document.getElementById("outline");
  const list = document.getElementById("outline-list");
  const search = document.getElementById("outline-search");
  const count = document.getElementById("outline-count");
  const goto = document.querySelector("[data-outline-goto]");
  let entries = [];     // { li (the clause), item (the outline's li), number, heading, text, lower }
  let signature = "";

  function clauseItems() { return Array.from(document.querySelectorAll("#clauses .clause-list > li.clause[data-clause-id]")); }
  function headingOf(li) {
    const title = li.querySelector(".clause-title");
    if (!title) return "";
    let text = "";
    title.childNodes.forEach(function (node) { if (!(node.nodeType === 1 && node.classList.contains("visually-hidden"))) text += node.textContent; });
    return text.trim();
  }

  // A clause being edited shows its form, not its heading: the outline keeps what it knew of it.
  const known = new Map();
  function build() {
    if (!list) return;
    const items = clauseItems();
    const sig = items.map(function (li) { return li.id + ":" + li.dataset.version + ":" + headingOf(li); }).join("|");
    if (sig === signature) return;
    signature = sig;
    const fresh = document.createDocumentFragment();
    entries = items.map(function (li, index) {
      const number = String(index + 1);
      const textEl = li.querySelector(".clause-text");
      let heading = headingOf(li), text = textEl ? textEl.textContent : "";
      // The number the clause shows (by its kind: "B", "2.1", "¶"); "go to" still takes positions.
      const shown = li.querySelector(".clause-number");
      let label = shown ? shown.textContent.trim() : "";
      if (li.querySelector(".clause-title")) known.set(li.id, { heading: heading, text: text, label: label });
      else {
        const before = known.get(li.id);
        heading = before ? before.heading : draftingT("Clause %(number)s", { number: number });
        text = before ? before.text : "";
        label = before ? before.label : "";
      }
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#" + li.id;
      link.dataset.clause = li.id;
      const no = document.createElement("span");
      no.className = "outline-number";
      no.textContent = label || number;
      const head = document.createElement("span");
      head.className = "outline-heading";
      head.textContent = heading || draftingT("Clause %(number)s", { number: number });
      link.append(no, " ", head);
      item.appendChild(link);
      fresh.appendChild(item);
      return { li: li, item: item, link: link, number: number, heading: heading, text: text,
               lower: (heading + "\n" + text).toLowerCase() };
    });
    list.replaceChildren(fresh);
    if (goto) goto.querySelector("input").max = String(Math.max(1, entries.length));
    filter(false);
    spy();
  }

  function excerpt(entry, query) {
    const at = entry.text.toLowerCase().indexOf(query);
    if (at < 0) return null;
    const start = Math.max(0, at - 30), end = Math.min(entry.text.length, at + query.length + 50);
    const span = document.createElement("span");
    span.className = "outline-excerpt";
    const mark = document.createElement("mark");
    mark.textContent = entry.text.slice(at, at + query.length);
    span.append((start > 0 ? "…" : "") + entry.text.slice(start, at).replace(/\s+/g, " "), mark,
                entry.text.slice(at + query.length, end).replace(/\s+/g, " ") + (end < entry.text.length ? "…" : ""));
    return span;
  }

  let lastAnnounced = null;
  function filter(announce) {
    if (!search) return;
    const query = search.value.trim().toLowerCase();
    let shown = 0;
    entries.forEach(function (entry) {
      const old = entry.link.querySelector(".outline-excerpt");
      if (old) old.remove();
      let hit = !query;
      if (query) {
        hit = entry.number === query || entry.lower.indexOf(query) >= 0;
        if (hit && entry.heading.toLowerCase().indexOf(query) < 0 && entry.number !== query) {
          const snippet = excerpt(entry, query);
          if (snippet) entry.link.querySelector(".outline-heading").appendChild(snippet);
        }
      }
      entry.item.hidden = !hit;
      if (hit) shown += 1;
    });
    const message = !query ? "" : shown === 0 ? draftingT("No clause matches “%(query)s”.", { query: search.value.trim() })
      : draftingT("%(shown)s of %(total)s clauses match “%(query)s”.", { shown: shown, total: entries.length, query: search.value.trim() });
    if (count && (announce || message !== lastAnnounced)) { count.textContent = message; lastAnnounced = message; }
  }

  // Choosing a clause: close the sheet, bring the clause into view, focus its heading.
  function jump(li) {
    if (!li) return;
    closeSheet(false);
    if (li.hidden || getComputedStyle(li).display === "none") {
      // Hidden by "only clauses with open threads": show them all first.
      const only = document.querySelector("[data-only-open-threads][aria-pressed=\"true\"]");
      if (only) only.click();
    }
    const heading = li.querySelector(".clause-title") || li;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.scrollIntoView({ block: "start" });
    heading.focus({ preventScroll: true });
    li.classList.remove("jumped"); void li.offsetWidth; li.classList.add("jumped");
    if (history.replaceState) history.replaceState(null, "", "#" + li.id);
  }
  if (list) {
    list.addEventListener("click", function (event) {
      const link = event.target.closest("a[href^='#clause-']");
      if (!link) return;
      event.preventDefault();
      jump(document.getElementById(link.getAttribute("href").slice(1)));
    });
  }
  if (search) {
    search.addEventListener("input", function () { filter(true); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter goes to the first match.
        event.preventDefault();
        const first = entries.find(function (entry) { return !entry.item.hidden; });
        if (first) jump(first.li);
      } else if (event.key === "Escape" && search.value) {
        event.preventDefault();
        event.stopPropagation();
        search.value = "";
        filter(true);
      }
    });
  }
  if (goto) {
    goto.addEventListener("submit", function (event) {
      event.preventDefault();
      const input = goto.querySelector("input");
      const number = input.value.trim();
      const entry = entries.find(function (e) { return e.number === number; });
      if (entry) { input.value = ""; jump(entry.li); }
      else if (count) { count.textContent = draftingT("There is no clause %(number)s; the document has %(count)s.", { number: number, count: entries.length }); input.focus(); }
    });
  }

  // Keyboard: Alt+Shift+O searches the outline, Alt+Shift+G goes to a clause by number.
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    const key = (event.code || "").replace("Key", "");
    if (key !== "O" && key !== "G") return;
    event.preventDefault();
    const field = key === "O" ? search : goto && goto.querySelector("input");
    if (!field) return;
    if (!openSheetById("outline", key === "O" ? "#outline-search" : "#outline-goto")) field.focus();
    if (field.select) field.select();
  });

  // Where you are: the outline marks the clause at the top of the window (aria-current).
  let spyObserver = null;
  const visible = new Map();
  function spy() {
    if (!("IntersectionObserver" in window)) return;
    if (spyObserver) spyObserver.disconnect();
    visible.clear();
    spyObserver = new IntersectionObserver(function (records) {
      records.forEach(function (record) {
        if (record.isIntersecting) visible.set(record.target, record.boundingClientRect.top); else visible.delete(record.target);
      });
      let best = null;
      visible.forEach(function (top, li) { if (!best || li.compareDocumentPosition(best) & Node.DOCUMENT_POSITION_FOLLOWING) best = li; });
      entries.forEach(function (entry) {
        if (entry.li === best) entry.link.setAttribute("aria-current", "location"); else entry.link.removeAttribute("aria-current");
      });
      const current = best && entries.find(function (entry) { return entry.li === best; });
      if (current && !narrow.matches && list.scrollHeight > list.clientHeight) {
        const top = current.item.offsetTop - list.offsetTop, bottom = top + current.item.offsetHeight;
        if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) list.scrollTop = Math.max(0, top - list.clientHeight / 3);
      }
    }, { rootMargin: "-10% 0px -55% 0px" });
    entries.forEach(function (entry) { spyObserver.observe(entry.li); });
  }

  // ---- compact actions of each clause ---------------------------------------------------------------
  // Closed, a clause's secondary actions (.act-more) are out of the Tab order. On a wide screen with a
  // mouse they show on hover or focus, and Tab stops once a clause, on its primary action: the arrow
  // keys (left, right) move on to "More actions" and the rest. On touch and narrow screens Tab stops on
  // the primary action and on "More actions", which shows the rest. Opened (that button, or focus
  // landing on one of them), all are in the Tab order until the focus leaves the clause.
  const wideHover = window.matchMedia("(min-width: 45.01rem) and (hover: hover) and (pointer: fine)");
  function secondaries(li) { return li.querySelectorAll(".act-more a, .act-more button"); }
  function controls(li) {
    return Array.from(li.querySelectorAll(".clause-actions a, .clause-actions button, .consult-actions a, .consult-actions button"))
      .filter(function (el) { return !el.disabled && el.closest("li.clause") === li && el.getClientRects().length > 0; });
  }
  function setMore(li, open) {
    li.classList.toggle("more-open", open);
    secondaries(li).forEach(function (el) { if (open) el.removeAttribute("tabindex"); else el.setAttribute("tabindex", "-1"); });
    li.querySelectorAll(".more-toggle").forEach(function (toggle) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open && wideHover.matches) toggle.setAttribute("tabindex", "-1"); else toggle.removeAttribute("tabindex");
    });
  }
  function compact(li) {
    const toggle = li.querySelector(".more-toggle");
    if (!toggle) return;
    // aria-controls: the groups the menu opens.
    const ids = [];
    li.querySelectorAll(".clause-actions, .consult-actions").forEach(function (group, i) {
      if (!group.querySelector(".act-more")) return;
      if (!group.id) group.id = li.id + "-actions-" + i;
      ids.push(group.id);
    });
    toggle.setAttribute("aria-controls", ids.join(" "));
    toggle.title = draftingT("More actions (on a wide screen, the arrow keys move between a clause's actions)");
    const primary = li.querySelector(".clause-actions [data-primary], .consult-actions [data-quote-from]");
    if (primary && !primary.closest(".act-more")) primary.setAttribute("aria-describedby", "more-keys-hint");
    const focused = li.contains(document.activeElement) && document.activeElement.closest(".act-more");
    setMore(li, !!focused);
  }
  function compactAll(scope) {
    if (!document.getElementById("more-keys-hint")) {
      const hint = document.createElement("p");
      hint.id = "more-keys-hint";
      hint.className = "visually-hidden";
      hint.textContent = draftingT("The arrow keys reach this clause's other actions.");
      layout.appendChild(hint);
    }
    (scope || document).querySelectorAll("li.clause").forEach(function (li) {
      const toggle = li.querySelector(".more-toggle");
      if (toggle && toggle.dataset.ready !== "1") { toggle.dataset.ready = "1"; compact(li); }
    });
  }
  wideHover.addEventListener("change", function () {
    document.querySelectorAll("li.clause").forEach(function (li) { if (li.querySelector(".more-toggle")) setMore(li, li.classList.contains("more-open")); });
  });
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest && event.target.closest(".more-toggle");
    if (!toggle) return;
    const li = toggle.closest("li.clause");
    if (!li) return;
    const open = !li.classList.contains("more-open");
    setMore(li, open);
    if (open) {
      // On to the first of the revealed actions that follow the button, else the first of them.
      const all = Array.from(secondaries(li)).filter(function (el) { return !el.disabled; });
      const after = all.find(function (el) { return toggle.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING; });
      const first = after || all[0];
      if (first && event.detail === 0) first.focus();  // by keyboard; a tap leaves the focus on the button
    }
  });
  document.addEventListener("focusin", function (event) {
    const target = event.target;
    if (!matches(target, ".act-more a, .act-more button")) return;
    const li = target.closest("li.clause");
    if (li && !li.classList.contains("more-open")) setMore(li, true);
  });
  document.addEventListener("focusout", function (event) {
    const li = event.target.closest && event.target.closest("li.clause.more-open");
    if (!li) return;
    // Closed again once the focus has left the clause (not while it moves between its actions).
    setTimeout(function () {
      if (!li.isConnected || li.contains(document.activeElement)) return;
      setMore(li, false);
    }, 0);
  });
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (!matches(target, ".clause-actions a, .clause-actions button, .consult-actions a, .consult-actions button")) return;
    const li = target.closest("li.clause");
    if (!li || !li.querySelector(".more-toggle")) return;
    if (event.key === "Escape" && li.classList.contains("more-open")) {
      event.preventDefault();
      setMore(li, false);
      li.querySelector(".more-toggle").focus();
    } else if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && !event.altKey && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      const all = controls(li);
      const at = all.indexOf(target);
      if (at < 0) return;
      const next = all[(at + (event.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
      event.preventDefault();
      next.focus();
    }
  });

  // ---- following the clauses: live refreshes and this page's own swaps replace them -----------------
  let pending = null;
  function refresh() {
    pending = null;
    compactAll(document);
    build();
  }
  function schedule() { if (!pending) pending = setTimeout(refresh, 60); }
  // Observe the article (the list itself is replaced whole): only added or removed nodes, batched.
  const article = layout.querySelector(".document");
  if (article) new MutationObserver(function (records) {
    for (const record of records) {
      if (record.addedNodes.length || record.removedNodes.length) { schedule(); return; }
    }
  }).observe(article, { childList: true, subtree: true });
  document.addEventListener("htmx:afterSettle", schedule);
  refresh();
})();
