// Words a person kept "for later" in a session with part of the family, offered back to them
// alone when a step of a later joint session asks for them; and the box that keeps them.
// Nothing moves without the author's tap: "Use these words" puts them in their own draft,
// which only they see until they send it; "Not now" sets them aside.
import { h, replaceContent, show } from "./dom.js";

function longDate(t, isoDay) {
  if (!isoDay) return "";
  const day = new Date(`${isoDay}T12:00:00`);
  return Number.isNaN(day.getTime())
    ? isoDay
    : day.toLocaleDateString(t.language, { day: "numeric", month: "long", year: "numeric" });
}

/**
 * The offer, in `container` (hidden when there is nothing to offer).
 * `onUse(text)` puts the words in the phone's composer once the server has them in the draft.
 */
export function renderEarlierWords(container, view, { t, live, onUse }) {
  if (!container) return;
  const words = (view && view.earlier_words) || [];
  const open = view && view.step && view.step.you_answer && !view.step.locked;
  const key = JSON.stringify([t.language, words, open]);
  if (container.dataset.shown === key) return;
  container.dataset.shown = key;
  show(container, Boolean(open && words.length));
  if (!open || !words.length) {
    replaceContent(container);
    return;
  }
  const error = h("p", { class: "form-error", role: "alert" });
  const act = async (event, payload, after) => {
    const ack = await live.send(event, payload);
    if (!ack.ok) error.textContent = t.error(ack.error);
    else after();
  };
  replaceContent(container,
    h("h2", { text: t("earlierWordsTitle") }),
    h("p", { class: "hint", text: t("earlierWordsLead") }),
    h("ul", {}, words.map((w) => h("li", {},
      h("p", { class: "muted", text: t("earlierWordsAsked", { step: w.asked, day: longDate(t, w.written_on) }) }),
      h("blockquote", { text: w.text }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-focus-key": `use-${w.index}`,
          text: t("earlierWordsUse"),
          onclick: () => act("use_earlier_words", { index: w.index }, () => onUse(w.text)) }),
        h("button", { type: "button", class: "button quiet", "data-focus-key": `aside-${w.index}`,
          text: t("earlierWordsAside"),
          onclick: () => act("set_aside_earlier_words", { index: w.index }, () => {}) }))))),
    error);
}

/** The "I might share this with my family later" box of the composer, where it is offered. */
export function shareLaterField(t, view, answer, onChange) {
  if (!view || !view.you || !view.you.may_share_later) return null;
  const box = h("input", { type: "checkbox", id: "share-later", "aria-describedby": "share-later-hint",
    checked: Boolean(answer.share_later) });
  box.addEventListener("change", () => onChange(box.checked));
  return h("div", { class: "toggle-field" },
    h("label", { for: "share-later", class: "toggle" }, box,
      h("span", { class: "toggle-text", text: t("shareLater") })),
    h("p", { id: "share-later-hint", class: "hint", text: t("shareLaterHint") }));
}

/** For the console: the names of the people with words waiting, never the words. */
export function renderEarlierWordsNote(el, view, t) {
  if (!el) return;
  const names = ((view && view.people) || [])
    .filter((p) => p.has_earlier_words && !p.removed)
    .map((p) => p.name);
  const text = names.length ? t("hasEarlierWords", { names: t.list(names) }) : "";
  if (el.textContent !== text) el.textContent = text;
  show(el, Boolean(text));
}
