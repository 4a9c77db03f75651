// The phone's help screen: a dialog whose words the server already wrote into the page, in
// every language, so it opens with the network off. It sends nothing: nobody learns it was opened.
// Self-contained (no imports), so a failure anywhere else on the page cannot take it down.

const LANGUAGE = "data-help-language";

/** Wire the Help button to the help dialog; shows the parts in the phone's language. */
export function initHelp(doc = document) {
  const dialog = doc.getElementById("help-screen");
  const openButton = doc.getElementById("help-button");
  if (!dialog || !openButton) return;
  let returnTo = null;
  let language = dialog.dataset.language || doc.documentElement.lang;

  const visibleTitle = () =>
    dialog.querySelector(`[${LANGUAGE}="${language}"] h2`) || dialog.querySelector("h2");

  function showLanguage(next) {
    const parts = doc.querySelectorAll(`[${LANGUAGE}]`);
    // A language the page has no help text for keeps the one shown now.
    if (![...parts].some((part) => part.getAttribute(LANGUAGE) === next)) return;
    language = next;
    for (const part of parts) part.hidden = part.getAttribute(LANGUAGE) !== language;
    const title = visibleTitle();
    if (title) dialog.setAttribute("aria-labelledby", title.id);
  }

  function open() {
    if (dialog.open) return;
    returnTo = doc.activeElement;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", ""); // browsers before <dialog>: the same, not modal
    // The title first, so a screen reader reads the help from its top; Tab reaches Close.
    visibleTitle()?.focus();
  }

  function giveFocusBack() {
    const target = returnTo && doc.contains(returnTo) ? returnTo : openButton;
    returnTo = null;
    target.focus();
  }

  function close() {
    if (!dialog.open) return;
    if (typeof dialog.close === "function") {
      dialog.close();
      return;
    }
    dialog.removeAttribute("open");
    giveFocusBack();
  }

  // Every way out of a modal dialog (Close, Escape, the phone's back gesture) ends here.
  dialog.addEventListener("close", giveFocusBack);
  dialog.addEventListener("keydown", (event) => {
    // Escape closes a modal dialog by itself; this is for the fallback without one.
    if (event.key === "Escape" && typeof dialog.showModal !== "function") {
      event.preventDefault();
      close();
    }
  });
  for (const button of dialog.querySelectorAll("[data-help-close]")) {
    button.addEventListener("click", close);
  }
  openButton.addEventListener("click", open);

  // The page script sets <html lang> when the phone switches language mid-session.
  new MutationObserver(() => showLanguage(doc.documentElement.lang)).observe(
    doc.documentElement,
    { attributes: true, attributeFilter: ["lang"] },
  );
  showLanguage(language);
  return { open, close };
}
