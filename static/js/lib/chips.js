// The chip picker: feelings or needs as real toggle buttons (aria-pressed), grouped by family
// in collapsible sections, with limits and a search filter shared by both pickers.
import { h, fold } from "./dom.js";
import { quadrantClass } from "./cards.js";
import { groupQuadrant } from "./vocabulary.js";

function limitHint(t, { min, max }) {
  if (min === max) return t("pickExactly", { max });
  if (min > 0) return t("pickRange", { min, max });
  return t("pickUpTo", { max });
}

/**
 * kind: "feelings" | "needs"; groups: the catalogue's groups; limits: {min, max};
 * selected: ids chosen so far; onChange(ids) after each change the person makes.
 */
export function createPicker({ t, kind, groups, limits, selected, onChange, idPrefix }) {
  let chosen = [...selected];
  const labels = new Map();
  const chips = new Map();
  const sections = [];
  const heading = kind === "feelings" ? t("feelingsHeading") : t("needsHeading");
  const pickedId = `${idPrefix}-${kind}-picked`;

  const picked = h("p", { class: "picked", id: pickedId, "aria-live": "polite" });
  const limitNote = h("p", { class: "picker-limit", role: "status" });
  limitNote.hidden = true;

  for (const group of groups) {
    const tint = kind === "feelings" ? groupQuadrant(group) : "need";
    const count = h("span", { class: "group-count" });
    const buttons = group.concepts.map((concept) => {
      labels.set(concept.id, concept.label);
      const chip = h("button", {
        type: "button",
        class: `chip ${kind === "feelings" ? quadrantClass(concept) : "need"}`,
        "aria-pressed": "false",
        "data-id": concept.id,
        "data-focus-key": `chip-${concept.id}`,
        text: concept.label,
        onclick: () => toggle(concept.id),
      });
      chip.dataset.search = fold(`${concept.label} ${group.label}`);
      chips.set(concept.id, chip);
      return chip;
    });
    const details = h("details", { class: `chip-group ${tint}`, "data-group": group.group },
      h("summary", null, h("span", { class: "dot", "aria-hidden": "true" }),
        h("span", { class: "group-label", text: group.label }), count),
      h("div", { class: "chips" }, buttons));
    sections.push({ details, count, buttons, wasOpen: false });
  }

  const element = h("fieldset", { class: `picker picker-${kind}`, "aria-describedby": pickedId },
    h("legend", null, h("span", { class: "legend-title", text: heading }),
      h("span", { class: "legend-hint", text: limitHint(t, limits) })),
    picked, limitNote,
    sections.map((s) => s.details));

  function toggle(id) {
    if (chosen.includes(id)) {
      chosen = chosen.filter((c) => c !== id);
    } else if (limits.max === 1) {
      chosen = [id]; // a single choice: the new one replaces the old
    } else if (chosen.length >= limits.max) {
      limitNote.textContent = t("maxReached", { max: limits.max });
      limitNote.hidden = false;
      return;
    } else {
      chosen = [...chosen, id];
    }
    limitNote.hidden = true;
    render();
    onChange([...chosen]);
  }

  function render() {
    for (const [id, chip] of chips) {
      const on = chosen.includes(id);
      chip.setAttribute("aria-pressed", on ? "true" : "false");
      chip.classList.toggle("is-full", !on && chosen.length >= limits.max && limits.max > 1);
    }
    for (const section of sections) {
      const n = section.buttons.filter((b) => chosen.includes(b.dataset.id)).length;
      section.count.textContent = n ? t("inGroup", { count: n }) : "";
      section.details.classList.toggle("has-chosen", n > 0);
    }
    const names = chosen.filter((id) => labels.has(id)).map((id) => labels.get(id));
    picked.textContent = names.length
      ? `${t("chosenCount", { count: names.length, max: limits.max })} · ${t("chosen", { list: names.join(", ") })}`
      : t("chosenNone");
  }

  /** Show only chips matching `query`; returns how many match. */
  function filter(query) {
    const needle = fold(query.trim());
    let total = 0;
    for (const section of sections) {
      if (!needle) {
        if (section.details.dataset.searching) {
          for (const b of section.buttons) b.hidden = false;
          section.details.hidden = false;
          section.details.open = section.wasOpen || section.details.classList.contains("has-chosen");
        }
        continue;
      }
      if (!section.details.dataset.searching) section.wasOpen = section.details.open;
      let matches = 0;
      for (const b of section.buttons) {
        const hit = b.dataset.search.includes(needle);
        b.hidden = !hit;
        if (hit) matches += 1;
      }
      section.details.hidden = matches === 0;
      section.details.open = matches > 0;
      total += matches;
    }
    for (const section of sections) {
      if (needle) section.details.dataset.searching = "1";
      else delete section.details.dataset.searching;
    }
    return total;
  }

  // Groups holding a choice start open, so a restored draft shows what was chosen.
  for (const section of sections) {
    section.details.open = section.buttons.some((b) => chosen.includes(b.dataset.id));
    section.wasOpen = section.details.open;
  }
  render();
  return { element, filter, get value() { return [...chosen]; } };
}
