/* drafting: the scripts' strings in the page's language. base.html loads /i18n/<lang>.js first,
   which sets window.draftingMessages: their translations keyed by the English text (drafting/i18n.py,
   JS_MESSAGES; cached by the browser). window.draftingT("Saved.") gives the translation, or the English text.
   Placeholders are written %(name)s, as in the catalogues: draftingT("Saved as version %(v)s.", {v: 3}).
   window.draftingZone: the time zone the scripts show times in (the person's setting, else the browser's). */
(function () {
  "use strict";
  let messages = null;
  function load() {
    if (messages === null) messages = window.draftingMessages || {};
    return messages;
  }
  // The locale dates and times are written in: the page's language (English the European way,
  // as the server writes it), not the browser's.
  const lang = document.documentElement.lang || "en";
  window.draftingLocale = lang === "en" ? "en-GB" : lang;
  // The time zone times are shown and deadlines typed in: the one the person chose in their
  // settings (body[data-timezone], base.html), else the browser's own.
  function usable(zone) {
    if (!zone) return null;
    try { new Intl.DateTimeFormat("en", { timeZone: zone }); return zone; } catch (error) { return null; }
  }
  window.draftingZone = usable(document.body && document.body.dataset.timezone) ||
    usable(window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
  window.draftingT = function (english, values) {
    let text = load()[english] || english;
    if (values) {
      text = text.replace(/%\((\w+)\)s/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
      });
    }
    return text;
  };
})();
