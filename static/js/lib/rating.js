// The 0–10 scale: on the phone, a group of eleven big radio buttons with the words at both
// ends; on every card, the chosen number with what its ends mean.
import { h } from "./dom.js";

/** The numbers of a scale (0 to 10, as the step says). */
function numbers(scale) {
  const low = scale.min ?? 0;
  const high = scale.max ?? 10;
  return Array.from({ length: high - low + 1 }, (_, i) => low + i);
}

/**
 * The composer's scale. Native radio buttons in a fieldset: a screen reader announces "3 of
 * 11", arrow keys move between them, and the legend says what is asked. `onChange` gets the
 * chosen number, or null when an optional scale is cleared.
 */
export function ratingField(t, scale, value, onChange) {
  const id = "answer-rating";
  const ends = `${id}-ends`;
  const options = numbers(scale).map((n) => {
    const input = h("input", {
      type: "radio", name: id, id: `${id}-${n}`, value: String(n),
      checked: value === n, "aria-describedby": ends,
    });
    input.addEventListener("change", () => {
      if (input.checked) onChange(n);
      clear.hidden = false;
    });
    return h("label", { class: "rating-option", for: `${id}-${n}` }, input,
      h("span", { class: "rating-number", text: String(n) }));
  });
  const clear = h("button", { type: "button", class: "button quiet rating-clear", text: t("ratingClear") });
  // Only an optional scale can be left empty again; the button shows once a number is chosen.
  clear.hidden = value === null || value === undefined;
  clear.addEventListener("click", () => {
    for (const option of options) option.querySelector("input").checked = false;
    clear.hidden = true;
    onChange(null);
  });
  const mode = scale.mode === "required" ? t("required") : t("optional");
  return h("fieldset", { class: "field rating-field", id: `${id}-field` },
    h("legend", {}, scale.question || t("ratingDefault"), " ",
      h("span", { class: "field-mode", text: `(${mode})` })),
    h("div", { class: "rating-scale" }, options),
    h("p", { class: "rating-ends", id: ends },
      h("span", { class: "rating-end rating-low", text: t("ratingEnd", { number: scale.min ?? 0, words: scale.low }) }),
      h("span", { class: "rating-end rating-high", text: t("ratingEnd", { number: scale.max ?? 10, words: scale.high }) })),
    scale.mode === "optional" ? clear : null);
}

/** What is still missing before the answer can be sent, or "". */
export function ratingMissing(t, scale, answer) {
  if (!scale || scale.mode !== "required") return "";
  return answer.rating === null || answer.rating === undefined ? t("needRating") : "";
}

/** A revealed (or one's own) rating on a card: the number, a quiet bar and the end words. */
export function ratingSummary(t, answer, headingLevel = "h4") {
  const scale = answer.rating_scale || { min: 0, max: 10, question: "", low: "", high: "" };
  const share = (answer.rating - scale.min) / ((scale.max - scale.min) || 1);
  const bar = h("span", { class: "rating-bar", "aria-hidden": "true" },
    h("span", { class: `rating-fill rating-fill-${Math.round(share * 10)}` }));
  const ends = scale.low || scale.high
    ? h("p", { class: "rating-ends" },
      h("span", { class: "rating-end", text: t("ratingEnd", { number: scale.min, words: scale.low }) }),
      h("span", { class: "rating-end", text: t("ratingEnd", { number: scale.max, words: scale.high }) }))
    : null;
  return h("div", { class: "answer-part answer-rating" },
    h(headingLevel, { class: "part-label", text: scale.question || t("ratingLabel") }),
    h("p", { class: "rating-value" },
      h("strong", { text: t("ratingOutOf", { value: answer.rating, max: scale.max }) }), " ", bar),
    ends);
}
