// How revealed answers look on every screen: a card per turn with its feelings, needs, words
// and the reflect-back that followed. Used by the phones, the console and the room display.
import { h } from "./dom.js";
import { ratingSummary } from "./rating.js";

/** The colour family of a feeling: pleasant/unpleasant × high/low energy. */
export function quadrantClass(concept) {
  if (!concept || !concept.pleasantness) return "";
  return `q-${concept.pleasantness}-${concept.energy}`;
}

/** Chosen concepts as a list of quiet tags (not buttons: nothing to press here). */
export function conceptTags(concepts, kind) {
  return h(
    "ul",
    { class: `tags tags-${kind}` },
    concepts.map((c) => h("li", { class: `tag-concept ${quadrantClass(c)}`, text: c.label })),
  );
}

export function roleLabel(t, role) {
  return t(`role_${role}`);
}

/** The content of one answer: feelings, needs, the person's words and request. */
export function answerBody(t, answer, { headingLevel = "h4" } = {}) {
  const parts = [];
  if (answer.feelings && answer.feelings.length) {
    parts.push(
      h("div", { class: "answer-part" },
        h(headingLevel, { class: "part-label", text: t("feelsLabel") }),
        conceptTags(answer.feelings, "feelings")),
    );
  }
  if (answer.needs && answer.needs.length) {
    parts.push(
      h("div", { class: "answer-part" },
        h(headingLevel, { class: "part-label", text: t("needsLabel") }),
        conceptTags(answer.needs, "needs")),
    );
  }
  if (answer.rating !== null && answer.rating !== undefined) parts.push(ratingSummary(t, answer, headingLevel));
  if (answer.text) parts.push(h("blockquote", { class: "answer-text", text: answer.text }));
  if (answer.request) {
    parts.push(
      h("div", { class: "answer-part" },
        h(headingLevel, { class: "part-label", text: t("requestLabel") }),
        h("p", { class: "answer-request", text: answer.request })),
    );
  }
  return parts;
}

/**
 * A turn whose answer the family does not see. A skipped turn, a pass and a therapist-only
 * answer arrive to the family as one outcome, so that nobody can tell which it was; the
 * therapist's own view names which ("skipped", "withheld").
 */
export function isNotShared(turn) {
  return turn.outcome !== "revealed";
}

/**
 * One turn as the family sees it. `me` is the viewer's participant id (or null); the card
 * never shows more than the view holds, and the view holds only what this viewer may see.
 */
export function turnCard(t, turn, { me = null, heading = "h3", current = false } = {}) {
  const speaker = turn.speaker;
  const isMe = me && speaker.id === me;
  const notShared = isNotShared(turn);
  const title = h(heading, { class: "card-title" },
    isMe ? `${speaker.name} (${t("you")})` : speaker.name,
    " ",
    h("span", { class: "role", text: roleLabel(t, speaker.role) }));
  // A pass, a therapist-only answer and a skipped turn read the same, calmly, on every screen.
  const card = h("article", {
    class: `reveal-card${current ? " is-current" : ""}${notShared ? " is-not-shared" : ""}`,
    "data-speaker": speaker.id,
  }, title);
  if (notShared) {
    card.appendChild(h("p", { class: "muted not-shared", text: t("notShared") }));
    return card;
  }
  if (turn.answer) {
    card.append(...answerBody(t, turn.answer, { headingLevel: heading === "h2" ? "h3" : "h4" }));
  }
  // The listener's own phone has the composer for this; the card need not say it again.
  const listening = turn.follow_up && !turn.follow_up.revealed && me && turn.follow_up.listener.id === me;
  if (turn.follow_up && !listening) card.appendChild(followUpBlock(t, turn));
  return card;
}

/** The reflect-back (or reply) under a card, as far as it has been shown. */
export function followUpBlock(t, turn) {
  const follow = turn.follow_up;
  const listener = follow.listener;
  const block = h("div", { class: "follow-up" });
  const reply = follow.kind === "reply";
  if (follow.revealed && follow.text !== null && follow.text !== undefined) {
    block.appendChild(h("p", { class: "follow-label",
      text: reply ? t("replyBy", { name: listener.name }) : t("whatTheyHeard", { name: listener.name }) }));
    if (reply && follow.verdict) {
      block.appendChild(h("p", { class: "verdict", text: t(`verdict_${follow.verdict}`) }));
    }
    if (follow.text) block.appendChild(h("blockquote", { class: "follow-text", text: follow.text }));
    if (follow.confirmation) {
      block.appendChild(h("p", { class: `confirmation confirmation-${follow.confirmation}`,
        text: t("theyConfirmed", { name: turn.speaker.name, answer: t(`confirmation_${follow.confirmation}`) }) }));
      if (follow.clarification) {
        block.appendChild(h("blockquote", { class: "clarification", text: follow.clarification }));
      }
    }
  } else {
    const key = follow.submitted
      ? reply ? "replyReady" : "reflectionReady"
      : reply ? "writingReply" : "writingReflection";
    block.appendChild(h("p", { class: "follow-waiting muted", text: t(key, { name: listener.name }) }));
  }
  return block;
}

/** The shared-ground card: needs named by more than one person. */
export function sharedGroundCard(t, needs, { heading = "h3" } = {}) {
  return h("section", { class: "shared-ground", "aria-label": t("sharedGround") },
    h(heading, { class: "card-title", text: t("sharedGround") }),
    needs.length
      ? [h("p", { text: t("sharedNeeds") }),
         conceptTags(needs, "needs")]
      : h("p", { text: t("noSharedNeeds") }));
}

/** A short fingerprint of a view fragment, to redraw a region only when it changed. */
export function signature(value) {
  return JSON.stringify(value);
}
