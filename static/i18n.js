/* drafting: the scripts' strings in the page's language. base.html loads /i18n/<lang>.js first,
   which sets window.draftingMessages: their translations keyed by the English text (drafting/i18n.py,
   JS_MESSAGES; cached by the browser). window.draftingT("Saved.") gives the translation, or the English text.
   Placeholders are written %(name)s, as in the catalogues: draftingT("Saved as version %(v)s.", {v: 3}). */
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
