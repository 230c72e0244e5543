/* drafting: restore. After a delete the clause list offers "Undo" in the deleted clause's place for a
   few seconds (documents/_clauses.html); the Deleted clauses section below the list keeps the way back
   for good (its list is fetched when it is opened). What the list says about a delete or a restore
   (its data-announce) is read out here, in a live region that stays in the page while the list
   around it is replaced. */
(function () {
  "use strict";

  let region = null;
  function liveRegion() {
    if (region && document.body.contains(region)) return region;
    region = document.createElement("div");
    region.id = "restore-announcer";
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    region.setAttribute("aria-atomic", "true");
    document.body.appendChild(region);
    return region;
  }

  function announce(message) {
    const box = liveRegion();
    box.textContent = "";
    // Written a moment later, so the same words twice in a row are still a change to read out.
    setTimeout(function () { box.textContent = message; }, 60);
  }

  // The Undo goes after its time, which stops while the pointer or the keyboard focus is on it.
  function countDown(item) {
    if (item.dataset.undoStarted) return;
    item.dataset.undoStarted = "true";
    let left = (parseFloat(item.dataset.undoSeconds) || 10) * 1000;
    let since = 0;
    let timer = null;
    item.style.setProperty("--undo-duration", left + "ms");
    function held() { return item.matches(":hover") || item.contains(document.activeElement); }
    function run() {
      if (timer || held()) return;
      since = Date.now();
      timer = setTimeout(expire, left);
      item.classList.remove("held");
    }
    function hold() {
      if (!timer) return;
      clearTimeout(timer);
      timer = null;
      left = Math.max(0, left - (Date.now() - since));
      item.classList.add("held");
    }
    function expire() {
      timer = null;
      if (!document.body.contains(item)) return;
      if (held()) { item.classList.add("held"); return; }
      item.remove();
    }
    item.addEventListener("focusin", hold);
    item.addEventListener("mouseenter", hold);
    item.addEventListener("focusout", function (event) { if (!item.contains(event.relatedTarget)) setTimeout(run, 0); });
    item.addEventListener("mouseleave", function () { setTimeout(run, 0); });
    run();
  }

  function settle() {
    const list = document.getElementById("clauses");
    if (!list) return;
    if (list.dataset.announce) {
      announce(list.dataset.announce);
      delete list.dataset.announce;
    }
    list.querySelectorAll("[data-undo]").forEach(countDown);
  }

  // The Deleted clauses section fetches its list each time it opens (also when a refresh of the clause
  // list keeps it open: the fresh section's list is fetched again). "toggle" does not bubble.
  document.addEventListener("toggle", function (event) {
    const details = event.target;
    if (!details.matches || !details.matches("details.deleted-clauses") || !details.open) return;
    const slot = details.querySelector("[data-deleted-url]");
    if (slot && typeof htmx !== "undefined") htmx.ajax("GET", slot.dataset.deletedUrl, { target: slot, swap: "innerHTML" });
  }, true);

  document.addEventListener("DOMContentLoaded", function () { liveRegion(); settle(); });
  document.addEventListener("htmx:afterSettle", settle);
})();
