// The participant's phone: lobby, the private composer for each step, the reveals as cards,
// reflect-back, break requests, pause and end. Drafts live on the phone and on the server.
import { h, replaceContent, show, debounce } from "../lib/dom.js";
import { strings } from "../lib/strings.js";
import { openLive, connectionBanner } from "../lib/live.js";
import { turnCard, answerBody, sharedGroundCard, roleLabel, signature } from "../lib/cards.js";
import { createPicker } from "../lib/chips.js";
import { loadVocabulary } from "../lib/vocabulary.js";
import * as drafts from "../lib/drafts.js";
import { renderEarlierWords, shareLaterField } from "../lib/earlier-words.js";
import { renderTakeHome } from "../lib/summary.js";

const DRAFT_DELAY_MS = 600;

const root = document.getElementById("participant");
const sessionId = root.dataset.sessionId;
let t = strings(root.dataset.language || document.documentElement.lang);

const $ = (id) => document.getElementById(id);
const el = {
  banner: $("connection"),
  announcer: $("announcer"),
  title: $("screen-title"),
  meta: $("screen-meta"),
  connecting: $("connecting"),
  refused: $("refused"),
  lobby: $("lobby"),
  paused: $("paused"),
  ended: $("ended"),
  step: $("step"),
  prompt: $("prompt"),
  privacy: $("privacy-note"),
  composer: $("composer"),
  sent: $("sent"),
  stepNote: $("step-note"),
  answered: $("answered"),
  current: $("current"),
  reveals: $("reveals"),
  listen: $("listen"),
  confirm: $("confirm"),
  shared: $("shared"),
  bar: $("phone-bar"),
  breakButton: $("break-button"),
  breakNote: $("break-note"),
  languageButton: $("language-button"),
};

const banner = connectionBanner(el.banner);
const regions = new Map(); // region element -> signature of what it shows

let view = null;
let me = null;
let vocabulary = null;
let refusedForGood = false;

// The answer being written for the open step. `mode` is "compose" (first answer), "edit"
// (changing a sent answer) or "sent". Once set up for a step, incoming views never touch it.
const composer = {
  stepIndex: null,
  mode: "compose",
  answer: emptyAnswer(),
  language: null,
  built: null,
  inflight: null,
  closedUnsent: false,
};

// The named listener's "what I heard", per turn.
const listening = { key: null, text: "", verdict: null, dirty: false, reopened: false };
// The speaker's "is that what you meant?", per turn.
const confirming = { key: null, choice: null, clarification: "", reopened: false };

function emptyAnswer() {
  return { feelings: [], needs: [], text: "", request: "", therapist_only: false, share_later: false };
}

/** A view's answer (concepts as {id, label}) as the payload the server takes (ids). */
function answerPayload(answer) {
  if (!answer) return emptyAnswer();
  const ids = (list) => (list || []).map((c) => (typeof c === "string" ? c : c.id));
  return {
    feelings: ids(answer.feelings),
    needs: ids(answer.needs),
    text: answer.text || "",
    request: answer.request || "",
    therapist_only: Boolean(answer.therapist_only),
    share_later: Boolean(answer.share_later),
  };
}

function answerKey(index) {
  return drafts.draftKey(sessionId, me, index, "answer");
}

// --- The connection ------------------------------------------------------------------------

const live = openLive({
  auth: { token: root.dataset.token },
  onView: receive,
  onConnect() {
    banner.clear();
    if (el.banner.dataset.shown) {
      announce(t("reconnected"));
      delete el.banner.dataset.shown;
    }
    // Words typed while offline reach the server as soon as we are back.
    if (composer.stepIndex !== null && me) {
      const local = drafts.loadDraft(answerKey(composer.stepIndex));
      if (local && !local.synced && composer.mode !== "sent") saveToServer();
    }
    if (listening.key && listening.dirty) saveListeningToServer();
    updateSubmitAvailability();
  },
  onTrouble() {
    if (refusedForGood) return;
    banner.trouble(view ? t("reconnecting") : t("connecting"));
    el.banner.dataset.shown = "1";
    updateSubmitAvailability();
  },
  onRefused({ code, message }) {
    refusedForGood = true;
    banner.clear();
    if (code === "session_ended") {
      showEnded();
      return;
    }
    showOnly(el.refused);
    setTitle(t("cantConnect"), "");
    replaceContent(el.refused,
      h("p", { class: "lead", text: code === "unknown_token" ? t("notJoined") : t("refused", { message }) }),
      h("a", { class: "button primary big", href: "/join", text: t("joinAgain") }));
  },
});

function announce(text) {
  // Clearing first makes a repeated sentence announced again.
  el.announcer.textContent = "";
  setTimeout(() => {
    el.announcer.textContent = text;
  }, 50);
}

// --- Receiving a view ----------------------------------------------------------------------

function receive(next) {
  const previous = view;
  view = next;
  me = next.you.id;
  if (next.language !== t.language) {
    t = strings(next.language);
    document.documentElement.lang = t.language;
    regions.clear();
    composer.language = null; // rebuilt with labels in the new language
  }
  ensureVocabulary(next.language);
  render(next, previous);
}

function ensureVocabulary(language) {
  if (vocabulary && vocabulary.language === language) return;
  loadVocabulary(language).then((loaded) => {
    if (loaded.language !== language || (vocabulary && vocabulary.language === language)) return;
    vocabulary = loaded;
    if (view) render(view, view);
  }).catch(() => {});
}

function showOnly(...visible) {
  for (const panel of [el.connecting, el.refused, el.lobby, el.paused, el.ended, el.step]) {
    show(panel, visible.includes(panel));
  }
  root.dataset.screen = visible[0] ? visible[0].id : "";
}

function setTitle(title, meta) {
  if (el.title.textContent !== title) el.title.textContent = title;
  el.meta.textContent = meta;
  show(el.meta, Boolean(meta));
}

function render(v, previous) {
  renderBar(v);
  if (v.session.phase === "ended") {
    showEnded();
    renderTakeHome(el.ended, v, t, sessionId);
    return;
  }
  if (v.session.paused) {
    if (previous && !previous.session.paused) announce(t("pausedTitle"));
    showOnly(el.paused);
    setTitle(t("pausedTitle"), "");
    replaceContent(el.paused, h("p", { class: "lead", text: t("pausedLead") }));
    return;
  }
  if (v.session.phase === "lobby" || !v.step) {
    showOnly(el.lobby);
    setTitle(t("welcome", { name: v.you.name }), v.session.exercise.title);
    renderLobby(v);
    return;
  }
  showOnly(el.step);
  const step = v.step;
  setTitle(step.title, t("stepOf", { index: step.index + 1, count: step.count }));
  if (composer.stepIndex !== step.index) startStep(v);
  renderComposerArea(v);
  renderEarlierWords($("earlier-words"), v, { t, live, onUse: useEarlierWords });
  renderAnswered(v);
  renderReveals(v, previous);
  renderListening(v);
  renderConfirming(v);
}

function renderOnce(region, value, build) {
  const key = signature(value);
  if (regions.get(region) === key) return;
  regions.set(region, key);
  replaceContent(region, ...[].concat(build()));
}

function renderBar(v) {
  const ended = v.session.phase === "ended";
  show(el.bar, !ended);
  // During a pause everyone is already on a break.
  show(el.breakButton, !v.session.paused);
  const requested = v.you.break_requested;
  el.breakButton.textContent = t("needBreak");
  el.breakButton.setAttribute("aria-disabled", requested ? "true" : "false");
  el.breakButton.classList.toggle("is-requested", requested);
  el.breakNote.textContent = requested ? t("breakRequested") : "";
  el.languageButton.textContent = t("switchLanguage");
  el.languageButton.lang = t("switchLanguageTo");
}

function renderLobby(v) {
  renderOnce(el.lobby, [t.language, v.people], () => [
    h("p", { class: "lead", text: t("lobbyLead") }),
    h("h2", { text: t("whoIsHere") }),
    h("ul", { class: "people" },
      v.people.map((p) => personItem(v, p, p.connected ? t("connected") : t("away"), p.connected))),
    v.people.length < 2 ? h("p", { class: "muted", text: t("nobodyYet") }) : null,
  ]);
}

function personItem(v, person, status, good) {
  const name = person.id === me ? `${person.name} (${t("you")})` : person.name;
  return h("li", { class: `person${good ? " is-good" : ""}` },
    h("span", { class: "mark", "aria-hidden": "true", text: good ? "✓" : "·" }),
    h("span", { class: "person-name", text: name }),
    h("span", { class: "person-role", text: roleLabel(t, person.role) }),
    h("span", { class: "person-status", text: status }));
}

function showEnded() {
  drafts.forgetSession(sessionId);
  composer.stepIndex = null;
  showOnly(el.ended);
  show(el.bar, false);
  setTitle(t("endedTitle"), "");
  replaceContent(el.ended, h("p", { class: "lead", text: t("endedLead") }));
}

// --- The step: prompt, composer, sent answer ---------------------------------------------

function startStep(v) {
  const step = v.step;
  composer.stepIndex = step.index;
  composer.language = null;
  composer.closedUnsent = false;
  saveSoon.cancel();
  const local = drafts.loadDraft(answerKey(step.index));
  if (local && !local.synced) {
    // Typed here and not yet on the server: the phone's copy is the newer one.
    composer.answer = { ...emptyAnswer(), ...local.value };
    composer.mode = local.editing || v.your_answer ? "edit" : "compose";
    if (!step.locked) saveToServer();
  } else if (v.your_draft) {
    composer.answer = { ...emptyAnswer(), ...v.your_draft };
    composer.mode = v.your_answer ? "edit" : "compose";
  } else if (v.your_answer) {
    composer.answer = answerPayload(v.your_answer);
    composer.mode = "sent";
  } else if (local) {
    composer.answer = { ...emptyAnswer(), ...local.value };
    composer.mode = "compose";
  } else {
    composer.answer = emptyAnswer();
    composer.mode = "compose";
  }
}

function hasContent(answer) {
  return Boolean(answer.feelings.length || answer.needs.length || answer.text.trim() || answer.request.trim());
}

function renderComposerArea(v) {
  const step = v.step;
  el.prompt.textContent = step.you_answer ? step.prompt : "";
  show(el.prompt, step.you_answer);
  el.privacy.textContent = t("privacyNote");
  const open = step.you_answer && !step.locked && v.session.phase === "collecting";
  show(el.privacy, open && composer.mode !== "sent");

  if (!step.you_answer) {
    show(el.composer, false);
    show(el.sent, false);
    const roles = t.list(step.answered_by.map((r) => t(`roles_${r}`)));
    setStepNote(t("notYourStep", { roles }));
    return;
  }
  if (!open) {
    // Closed: what was sent stays visible to its author until its turn; a draft is gone.
    if (composer.mode !== "sent") {
      composer.closedUnsent = composer.closedUnsent || (!v.your_answer && hasContent(composer.answer));
      drafts.forgetDraft(answerKey(step.index));
      saveSoon.cancel();
      composer.mode = "sent";
    }
    composer.built = null;
    show(el.composer, false);
    const revealing = v.session.phase === "revealing";
    setStepNote(composer.closedUnsent ? t("stepClosedUnsent") : revealing ? t("revealingLead") : t("stepClosed"));
    const myTurn = v.turns.some((turn) => turn.speaker.id === me);
    if (myTurn) show(el.sent, false);
    else renderSent(v, false);
    return;
  }
  setStepNote("");
  if (composer.mode === "sent" && v.your_answer) {
    show(el.composer, false);
    renderSent(v, true);
    return;
  }
  if (composer.mode === "sent") composer.mode = "compose"; // nothing sent after all
  show(el.sent, false);
  show(el.composer, true);
  buildComposer(v);
  updateSubmitAvailability();
}

function setStepNote(text) {
  el.stepNote.textContent = text;
  show(el.stepNote, Boolean(text));
}

function renderSent(v, editable) {
  if (!v.your_answer) {
    show(el.sent, false);
    return;
  }
  show(el.sent, true);
  renderOnce(el.sent, [t.language, v.your_answer, editable], () => {
    const privateNote = v.your_answer.therapist_only
      ? h("p", { class: "badge private", text: t("onlyTherapistSees") })
      : null;
    const summary = h("div", { class: "answer-summary" }, answerBody(t, v.your_answer, { headingLevel: "h3" }));
    if (!editable) {
      // While the answers are shared, one's own stays folded away until its turn.
      return h("details", { class: "own-answer" },
        h("summary", { text: t("yourAnswer") }), privateNote, summary);
    }
    return [
      h("h2", { id: "sent-title", tabindex: "-1", text: t("sentTitle") }),
      h("p", { class: "muted", text: t("sentLead") }),
      privateNote,
      summary,
      h("button", { type: "button", class: "button big", "data-focus-key": "edit",
        text: t("edit"), onclick: startEditing }),
    ];
  });
}

/** The author tapped "Use these words": they become the draft's text, to change or send. */
function useEarlierWords(text) {
  composer.answer = { ...composer.answer, text };
  if (composer.mode === "sent") composer.mode = "edit";
  composer.built = null;
  changed();
  render(view, view);
}

function startEditing() {
  composer.mode = "edit";
  composer.answer = answerPayload(view.your_answer);
  composer.language = null;
  drafts.saveDraft(answerKey(composer.stepIndex), composer.answer, { synced: true, editing: true });
  regions.delete(el.sent);
  render(view, view);
  const first = el.composer.querySelector("h2, input, button");
  if (first) first.focus();
}

function cancelEditing() {
  saveSoon.cancel();
  showSent();
}

/** The server holds the answer: drop the phone's copy and show the sent answer, focused. */
function showSent() {
  drafts.forgetDraft(answerKey(composer.stepIndex));
  composer.mode = "sent";
  composer.built = null;
  regions.delete(el.sent);
  render(view, view);
  focusSent();
}

function focusSent() {
  const title = document.getElementById("sent-title");
  if (title) title.focus();
}

function buildComposer(v) {
  const step = v.step;
  const fields = step.fields;
  const needsChips = fields.feelings.max > 0 || fields.needs.max > 0;
  if (needsChips && (!vocabulary || vocabulary.language !== v.language)) {
    if (composer.built !== "loading") {
      composer.built = "loading";
      replaceContent(el.composer, h("p", { class: "muted", text: t("connecting") }));
    }
    return;
  }
  const signatureNow = `${step.index}:${composer.mode}:${t.language}`;
  if (composer.built === signatureNow) return;
  composer.built = signatureNow;
  composer.language = t.language;

  const answer = composer.answer;
  const pickers = [];
  const parts = [];
  parts.push(h("h2", { class: "visually-hidden", tabindex: "-1", text: t("yourAnswer") }));

  const noMatches = h("p", { class: "no-matches muted", role: "status" });
  noMatches.hidden = true;
  if (needsChips) {
    const search = h("input", {
      type: "search", id: "concept-search", class: "search", autocomplete: "off",
      placeholder: t("searchPlaceholder"), enterkeyhint: "search",
    });
    search.addEventListener("input", () => {
      const query = search.value;
      const total = pickers.reduce((n, p) => n + p.filter(query), 0);
      noMatches.textContent = query.trim() && total === 0 ? t("noMatches", { query: query.trim() }) : "";
      noMatches.hidden = !(query.trim() && total === 0);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") event.preventDefault();
    });
    parts.push(h("div", { class: "field search-field" },
      h("label", { for: "concept-search", text: t("searchLabel") }), search, noMatches));
  }
  for (const kind of ["feelings", "needs"]) {
    if (fields[kind].max <= 0) continue;
    const picker = createPicker({
      t, kind, idPrefix: "composer",
      groups: vocabulary[kind],
      limits: fields[kind],
      selected: answer[kind],
      onChange(ids) {
        composer.answer = { ...composer.answer, [kind]: ids };
        changed();
      },
    });
    pickers.push(picker);
    parts.push(picker.element);
  }
  for (const [name, spec, fallback] of [
    ["text", fields.text, t("textDefault")],
    ["request", fields.request, t("requestDefault")],
  ]) {
    if (spec.mode === "off") continue;
    parts.push(textField(name, spec, fallback));
  }
  const privateBox = h("input", { type: "checkbox", id: "therapist-only", "aria-describedby": "therapist-only-hint",
    checked: answer.therapist_only });
  privateBox.addEventListener("change", () => {
    composer.answer = { ...composer.answer, therapist_only: privateBox.checked };
    changed();
  });
  parts.push(h("div", { class: "toggle-field" },
    h("label", { for: "therapist-only", class: "toggle" }, privateBox,
      h("span", { class: "toggle-text", text: t("therapistOnly") })),
    h("p", { id: "therapist-only-hint", class: "hint", text: t("therapistOnlyHint") })));
  parts.push(shareLaterField(t, v, answer, (on) => { composer.answer = { ...composer.answer, share_later: on }; changed(); }));
  parts.push(h("p", { id: "composer-error", class: "form-error", role: "alert" }));
  parts.push(h("p", { id: "composer-offline", class: "hint offline-note" }));
  const submit = h("button", { type: "submit", id: "submit-answer", class: "button primary big",
    text: composer.mode === "edit" ? t("submitChanges") : t("submit") });
  parts.push(submit);
  if (composer.mode === "edit") {
    parts.push(h("button", { type: "button", class: "button quiet big", text: t("cancelEdit"), onclick: cancelEditing }));
  }
  const form = h("form", { class: "composer-form", novalidate: true }, parts);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAnswer();
  });
  replaceContent(el.composer, form);
}

function textField(name, spec, fallback) {
  const id = `answer-${name}`;
  const countId = `${id}-count`;
  const value = composer.answer[name] || "";
  const area = h("textarea", {
    id, name, rows: name === "text" ? 4 : 2, maxlength: spec.max_length,
    "aria-describedby": countId, required: spec.mode === "required",
  });
  area.value = value;
  const count = h("p", { id: countId, class: "char-count" });
  const showCount = () => {
    count.textContent = t("charCount", { count: area.value.length, max: spec.max_length });
    count.classList.toggle("is-near", area.value.length > spec.max_length * 0.9);
  };
  area.addEventListener("input", () => {
    composer.answer = { ...composer.answer, [name]: area.value };
    showCount();
    changed();
  });
  showCount();
  return h("div", { class: "field" },
    h("label", { for: id }, spec.label || fallback, " ",
      h("span", { class: "field-mode", text: `(${spec.mode === "required" ? t("required") : t("optional")})` })),
    area, count);
}

// --- Saving drafts and sending ---------------------------------------------------------------

const saveSoon = debounce(() => saveToServer(), DRAFT_DELAY_MS);

function changed() {
  drafts.saveDraft(answerKey(composer.stepIndex), composer.answer, {
    synced: false, editing: composer.mode === "edit",
  });
  const error = document.getElementById("composer-error");
  if (error) error.textContent = "";
  saveSoon();
}

function saveToServer() {
  if (!live.connected || composer.stepIndex === null) return Promise.resolve();
  const sent = { ...composer.answer };
  const key = answerKey(composer.stepIndex);
  const request = live.send("save_draft", sent).then((ack) => {
    if (ack.ok) drafts.markSynced(key, sent);
  });
  composer.inflight = request;
  return request;
}

function missing(step, answer) {
  const f = step.fields;
  if (answer.feelings.length < f.feelings.min) return t("needMinFeelings", { min: f.feelings.min });
  if (answer.needs.length < f.needs.min) return t("needMinNeeds", { min: f.needs.min });
  if (f.text.mode === "required" && !answer.text.trim()) return t("needText");
  if (f.request.mode === "required" && !answer.request.trim()) return t("needRequest");
  return "";
}

async function submitAnswer() {
  const error = document.getElementById("composer-error");
  const button = document.getElementById("submit-answer");
  const problem = missing(view.step, composer.answer);
  if (problem) {
    error.textContent = problem;
    return;
  }
  if (!live.connected) {
    error.textContent = t("offlineSubmit");
    return;
  }
  saveSoon.cancel();
  if (composer.inflight) await composer.inflight; // a late draft must not land after the answer
  const sent = { ...composer.answer };
  const label = button.textContent;
  button.disabled = true;
  button.textContent = t("sending");
  const ack = await live.send("submit_answer", sent);
  button.disabled = false;
  button.textContent = label;
  if (!ack.ok) {
    error.textContent = t.error(ack.error);
    return;
  }
  showSent();
}

function updateSubmitAvailability() {
  const note = document.getElementById("composer-offline");
  if (note) note.textContent = live.connected ? "" : t("offlineSubmit");
}

// --- Who has answered (names only, never content) ------------------------------------------

function renderAnswered(v) {
  const step = v.step;
  const answering = v.people.filter((p) => step.answered_by.includes(p.role));
  const visible = v.session.phase === "collecting" && answering.length > 0;
  show(el.answered, visible);
  if (!visible) return;
  renderOnce(el.answered, [t.language, answering.map((p) => [p.id, p.name, p.role, p.answered])], () => [
    h("h2", { text: t("answersSoFar") }),
    h("ul", { class: "people" }, answering.map((p) =>
      personItem(v, p, p.answered ? t("answered") : t("notYetAnswered"), p.answered))),
  ]);
}

// --- Reveals, reflect-back, shared ground ---------------------------------------------------

function renderReveals(v, previous) {
  const turns = v.turns;
  const current = turns.length ? turns[turns.length - 1] : null;
  const earlier = turns.slice(0, -1);
  show(el.current, Boolean(current));
  show(el.reveals, earlier.length > 0);
  show(el.shared, Boolean(v.shared_ground));
  if (v.shared_ground) {
    renderOnce(el.shared, [t.language, v.shared_ground], () => sharedGroundCard(t, v.shared_ground, { heading: "h2" }));
  }
  if (current) {
    renderOnce(el.current, [t.language, current], () => [
      h("h2", { class: "visually-hidden", text: t("sharingNow") }),
      turnCard(t, current, { me, current: true }),
    ]);
  }
  renderOnce(el.reveals, [t.language, earlier], () => [
    h("h2", { text: t("sharedSoFar") }),
    earlier.map((turn) => turnCard(t, turn, { me })).reverse(),
  ]);
  const before = previous && previous.step && previous.step.index === v.step.index ? previous.turns : [];
  if (turns.length > before.length && current.outcome === "revealed") {
    announce(t("newReveal", { name: current.speaker.name }));
  }
}

function currentTurn(v) {
  return v.turns.length ? v.turns[v.turns.length - 1] : null;
}

function listeningKey(v) {
  return drafts.draftKey(sessionId, me, `${v.step.index}-${v.turns.length - 1}`, "heard");
}

function renderListening(v) {
  const turn = currentTurn(v);
  const follow = turn && turn.follow_up;
  const mine = follow && follow.listener.id === me && !follow.revealed && v.session.phase === "revealing";
  show(el.listen, Boolean(mine));
  if (!mine) {
    listening.key = null;
    return;
  }
  const key = listeningKey(v);
  if (listening.key !== key) {
    const local = drafts.loadDraft(key);
    listening.key = key;
    listening.reopened = false;
    listening.dirty = Boolean(local && !local.synced);
    if (local && !local.synced) {
      listening.text = local.value.text || "";
      listening.verdict = local.value.verdict || null;
    } else {
      listening.text = follow.your_draft || follow.text || (local ? local.value.text : "") || "";
      listening.verdict = follow.verdict || (local ? local.value.verdict : null) || null;
    }
    regions.delete(el.listen);
  }
  const sent = follow.submitted && !listening.reopened;
  renderOnce(el.listen, [t.language, key, sent, follow.kind, follow.submitted], () =>
    sent ? listeningSent(turn) : listeningComposer(turn));
}

function listeningSent(turn) {
  return [
    h("h2", { text: t("yourTurnToListen") }),
    h("p", { class: "lead", text: t("reflectionSent") }),
    turn.follow_up.text ? h("blockquote", { class: "follow-text", text: turn.follow_up.text }) : null,
    h("button", { type: "button", class: "button", "data-focus-key": "reopen-listen", text: t("changeReflection"),
      onclick: () => {
        listening.reopened = true;
        listening.text = turn.follow_up.text || listening.text;
        regions.delete(el.listen);
        renderListening(view);
        const area = document.getElementById("heard-text");
        if (area) area.focus();
      } }),
  ];
}

const saveListeningSoon = debounce(() => saveListeningToServer(), DRAFT_DELAY_MS);

function saveListeningToServer() {
  if (!live.connected || !listening.key) return;
  const key = listening.key;
  const value = { text: listening.text, verdict: listening.verdict };
  live.send("save_follow_up_draft", { text: listening.text }).then((ack) => {
    if (ack.ok) {
      drafts.markSynced(key, value);
      if (listening.key === key) listening.dirty = false;
    }
  });
}

function listeningComposer(turn) {
  const follow = turn.follow_up;
  const reply = follow.kind === "reply";
  const max = 600;
  const area = h("textarea", { id: "heard-text", rows: 4, maxlength: max, "aria-describedby": "heard-count" });
  area.value = listening.text;
  const count = h("p", { id: "heard-count", class: "char-count" });
  const error = h("p", { class: "form-error", role: "alert" });
  const showCount = () => {
    count.textContent = t("charCount", { count: area.value.length, max });
  };
  const remember = () => {
    listening.dirty = true;
    drafts.saveDraft(listening.key, { text: listening.text, verdict: listening.verdict });
    saveListeningSoon();
  };
  area.addEventListener("input", () => {
    listening.text = area.value;
    showCount();
    error.textContent = "";
    remember();
  });
  showCount();
  const verdicts = reply
    ? h("div", { class: "choice-row", role: "group", "aria-label": t("replyPrompt", { name: turn.speaker.name }) },
      ["yes", "yes_if", "not_now"].map((verdict) => h("button", {
        type: "button", class: "choice-button", "aria-pressed": listening.verdict === verdict ? "true" : "false",
        "data-verdict": verdict, text: t(`verdict_${verdict}`),
        onclick: (event) => {
          listening.verdict = verdict;
          for (const b of event.currentTarget.parentElement.children) {
            b.setAttribute("aria-pressed", b.dataset.verdict === verdict ? "true" : "false");
          }
          remember();
        },
      })))
    : null;
  const send = h("button", { type: "submit", class: "button primary big", text: t("sendReflection") });
  const form = h("form", { class: "listen-form", novalidate: true },
    h("h2", { text: t("yourTurnToListen") }),
    h("p", { class: "lead", text: reply ? t("replyPrompt", { name: turn.speaker.name }) : t("reflectPrompt", { name: turn.speaker.name }) }),
    verdicts,
    h("div", { class: "field" },
      h("label", { for: "heard-text", text: reply ? t("replyLabel") : t("reflectLabel") }), area, count),
    error, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (reply && !listening.verdict) {
      error.textContent = t("chooseVerdict");
      return;
    }
    if (!reply && !listening.text.trim()) {
      error.textContent = t("needText");
      return;
    }
    saveListeningSoon.cancel();
    const payload = reply ? { text: listening.text, verdict: listening.verdict } : { text: listening.text };
    send.disabled = true;
    const ack = await live.send("submit_follow_up", payload);
    send.disabled = false;
    if (!ack.ok) {
      error.textContent = t.error(ack.error);
      return;
    }
    drafts.forgetDraft(listening.key);
    listening.dirty = false;
    listening.reopened = false;
    regions.delete(el.listen);
    renderListening(view);
  });
  return form;
}

function renderConfirming(v) {
  const turn = currentTurn(v);
  const follow = turn && turn.follow_up;
  const mine = follow && turn.speaker.id === me && follow.kind === "reflect_back" && follow.revealed
    && v.session.phase === "revealing";
  show(el.confirm, Boolean(mine));
  if (!mine) return;
  const key = `${v.step.index}-${v.turns.length - 1}`;
  if (confirming.key !== key) {
    confirming.key = key;
    confirming.choice = follow.confirmation;
    confirming.clarification = follow.clarification || "";
    confirming.reopened = false;
    regions.delete(el.confirm);
  }
  const done = Boolean(follow.confirmation) && !confirming.reopened;
  renderOnce(el.confirm, [t.language, key, done, follow.confirmation], () => {
    if (done) {
      return [
        h("h2", { text: t("isThatIt") }),
        h("p", { class: "lead", text: t("youSaid", { answer: t(`confirmation_${follow.confirmation}`) }) }),
        h("button", { type: "button", class: "button", text: t("changeReflection"), "data-focus-key": "reopen-confirm",
          onclick: () => {
            confirming.reopened = true;
            regions.delete(el.confirm);
            renderConfirming(view);
          } }),
      ];
    }
    return confirmForm();
  });
}

function confirmForm() {
  const error = h("p", { class: "form-error", role: "alert" });
  const choices = h("div", { class: "choice-row", role: "group", "aria-labelledby": "confirm-title" },
    ["yes", "partly", "not_quite"].map((choice) => h("button", {
      type: "button", class: "choice-button", "data-confirmation": choice,
      "aria-pressed": confirming.choice === choice ? "true" : "false", text: t(`confirmation_${choice}`),
      onclick: (event) => {
        confirming.choice = choice;
        error.textContent = "";
        for (const b of choices.children) {
          b.setAttribute("aria-pressed", b === event.currentTarget ? "true" : "false");
        }
      },
    })));
  const area = h("textarea", { id: "clarification", rows: 3, maxlength: 600 });
  area.value = confirming.clarification;
  area.addEventListener("input", () => {
    confirming.clarification = area.value;
  });
  const send = h("button", { type: "submit", class: "button primary big", text: t("sendConfirmation") });
  const form = h("form", { class: "confirm-form", novalidate: true },
    h("h2", { id: "confirm-title", text: t("isThatIt") }),
    choices,
    h("div", { class: "field" }, h("label", { for: "clarification", text: t("clarifyLabel") }), area),
    error, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!confirming.choice) {
      error.textContent = t("chooseVerdict");
      return;
    }
    send.disabled = true;
    const ack = await live.send("confirm_reflection", {
      confirmation: confirming.choice, clarification: confirming.clarification,
    });
    send.disabled = false;
    if (!ack.ok) {
      error.textContent = t.error(ack.error);
      return;
    }
    confirming.reopened = false;
    regions.delete(el.confirm);
    if (view) renderConfirming(view);
  });
  return form;
}

// --- The bar: break and language --------------------------------------------------------------

el.breakButton.addEventListener("click", async () => {
  if (el.breakButton.getAttribute("aria-disabled") === "true") return;
  el.breakButton.setAttribute("aria-disabled", "true");
  const ack = await live.send("request_break");
  if (ack.ok) {
    el.breakNote.textContent = t("breakSent");
  } else {
    el.breakButton.setAttribute("aria-disabled", "false");
    el.breakNote.textContent = t.error(ack.error);
  }
});

el.languageButton.addEventListener("click", async () => {
  const target = t("switchLanguageTo");
  const ack = await live.send("set_language", { language: target });
  if (!ack.ok) el.breakNote.textContent = t.error(ack.error);
});

// Leaving the page or locking the phone: send what is pending now rather than in 600 ms.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    saveSoon.flush();
    saveListeningSoon.flush();
  }
});

ensureVocabulary(t.language);
