// The participant's phone: waiting to be let in, lobby, the private composer for each step of
// each part, passing, the reveals as cards, reflect-back, a break or a word alone with the
// therapist, pause and end. Drafts live on the phone and on the server; an answer sent without
// a network is kept on the phone and goes out by itself when the phone is back.
import { h, replaceContent, show, debounce } from "../lib/dom.js";
import { strings } from "../lib/strings.js";
import { openLive, connectionBanner, isNetworkTrouble } from "../lib/live.js";
import { turnCard, answerBody, sharedGroundCard, roleLabel, signature } from "../lib/cards.js";
import { createPicker } from "../lib/chips.js";
import { loadVocabulary } from "../lib/vocabulary.js";
import * as drafts from "../lib/drafts.js";
import { ratingField, ratingMissing } from "../lib/rating.js";
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
  waiting: $("waiting"),
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
  talkAloneButton: $("talk-alone-button"),
  talkAloneNote: $("talk-alone-note"),
  languageButton: $("language-button"),
};

const banner = connectionBanner(el.banner);
const regions = new Map(); // region element -> signature of what it shows

let view = null;
let me = null;
let vocabulary = null;
let refusedForGood = false;

// The answer being written for the open step. `mode` is "compose" (first answer), "edit"
// (changing a sent answer or a pass), "pending" (sent with no network: it goes out when the
// phone is back) or "sent". Once set up for a step, incoming views never touch it.
const composer = {
  stepKey: null,
  mode: "compose",
  answer: emptyAnswer(),
  language: null,
  built: null,
  inflight: null,
  closedUnsent: false,
  resume: null,
};

// The named listener's "what I heard", per turn.
const listening = { key: null, text: "", verdict: null, dirty: false, reopened: false };
// The speaker's "is that what you meant?", per turn.
const confirming = { key: null, choice: null, clarification: "", reopened: false };
// Signals (a break, a word alone) tapped without a network, sent after the next connect.
const queuedSignals = new Set();

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
    rating: answer.rating ?? null,
    share_later: Boolean(answer.share_later),
  };
}

function answerKey(stepKey) {
  return drafts.draftKey(sessionId, me, stepKey, "answer");
}

/** Steps are numbered within their part: a step is known by both. */
function stepKeyOf(step) {
  return `${step.part_id}-${step.index}`;
}

// --- The connection ------------------------------------------------------------------------

const live = openLive({
  auth: { token: root.dataset.token },
  onView: receive,
  onConnect() {
    if (banner.shown) announce(t("reconnected"));
    banner.clear();
    catchUp();
  },
  onTrouble() {
    if (refusedForGood) return;
    // A phone still at the door has written nothing: it is only told it is offline.
    const waiting = view && view.kind === "waiting";
    const words = !navigator.onLine ? t(waiting ? "offlineWaiting" : "offline")
      : view ? t("reconnecting") : t("connecting");
    banner.trouble(words);
  },
  onRefused({ code, message }) {
    refusedForGood = true;
    banner.clear();
    if (code === "session_ended") {
      showEnded();
      return;
    }
    if (code === "unknown_token") {
      showShutOut();
      return;
    }
    showOnly(el.refused);
    setTitle(t("cantConnect"), "");
    replaceContent(el.refused,
      h("p", { class: "lead", text: t("refused", { message }) }),
      h("a", { class: "button primary big", href: "/join", text: t("joinAgain") }));
  },
});

/** After a (re)connection: whatever waited for the network goes out now, once. */
function catchUp() {
  if (!view || view.kind !== "participant") return;
  if (composer.stepKey !== null && composer.mode !== "sent" && composer.mode !== "pending") {
    const local = drafts.loadDraft(answerKey(composer.stepKey));
    if (local && !local.synced) saveToServer();
  }
  flushPending();
  if (listening.key && listening.dirty) saveListeningToServer();
  for (const signal of queuedSignals) sendSignal(signal);
}

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
  if (previous && previous.kind === "waiting" && next.kind === "participant") {
    announce(t("welcome", { name: next.you.name }));
  }
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
  for (const panel of [el.connecting, el.waiting, el.refused, el.lobby, el.paused, el.ended, el.step]) {
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
  if (v.kind === "waiting") {
    renderWaiting(v);
    return;
  }
  if (v.session.phase === "ended") {
    showEnded();
    renderTakeHome(el.ended, v, t, sessionId);
    return;
  }
  if (v.session.paused) {
    if (previous && previous.session && !previous.session.paused) announce(t("pausedTitle"));
    showOnly(el.paused);
    setTitle(t("pausedTitle"), "");
    replaceContent(el.paused, h("p", { class: "lead", text: t("pausedLead") }));
    return;
  }
  if (v.session.phase === "lobby" || !v.step) {
    showOnly(el.lobby);
    const parts = v.session.agenda ? v.session.agenda.parts : 1;
    setTitle(t("welcome", { name: v.you.name }), parts > 1 ? t("partsToday", { count: parts }) : "");
    renderLobby(v);
    return;
  }
  showOnly(el.step);
  const step = v.step;
  setTitle(step.title, whereInSession(v));
  if (composer.stepKey !== stepKeyOf(step)) startStep(v);
  renderComposerArea(v);
  renderEarlierWords($("earlier-words"), v, { t, live, onUse: useEarlierWords });
  renderAnswered(v);
  renderReveals(v, previous);
  renderListening(v);
  renderConfirming(v);
  flushPending();
}

/** "Part 2 of 3 · Step 1 of 4", in plain words; the part only when there is more than one. */
function whereInSession(v) {
  const agenda = v.session.agenda;
  const step = t("stepOf", { index: v.step.index + 1, count: v.step.count });
  if (!agenda || agenda.parts < 2 || !agenda.part) return step;
  return `${t("partOf", { index: agenda.part, count: agenda.parts })} · ${step}`;
}

/** Until the therapist lets this phone in it shows the person's own name and nothing else. */
function renderWaiting(v) {
  showOnly(el.waiting);
  setTitle(t("welcome", { name: v.you.name }), "");
  renderOnce(el.waiting, [t.language, "waiting"], () => [
    h("p", { class: "lead", text: t("waitingLead") }),
    h("p", { class: "muted", text: t("waitingHint") }),
  ]);
}

/** Turned away or removed: a calm last word, and nothing of the session stays on the phone. */
function showShutOut() {
  drafts.forgetSession(sessionId);
  composer.stepKey = null;
  showOnly(el.refused);
  showBarButtons(false);
  setTitle(t("shutOutTitle"), "");
  replaceContent(el.refused, h("p", { class: "lead", text: t("shutOut") }));
}

function renderOnce(region, value, build) {
  const key = signature(value);
  if (regions.get(region) === key) return;
  regions.set(region, key);
  replaceContent(region, ...[].concat(build()));
}

function showBarButtons(visible) {
  for (const button of [el.breakButton, el.talkAloneButton, el.languageButton]) show(button, visible);
  if (!visible) el.breakNote.textContent = el.talkAloneNote.textContent = "";
}

function renderBar(v) {
  // Someone still waiting at the door is not in the session yet: nobody to signal to.
  const inSession = v.kind === "participant" && v.session.phase !== "ended";
  showBarButtons(inSession);
  if (!inSession) return;
  // During a pause everyone is already on a break; a word alone is always in reach.
  show(el.breakButton, !v.session.paused);
  renderSignal(el.breakButton, el.breakNote, "request_break", t("needBreak"),
    v.you.break_requested, t("breakRequested"));
  renderSignal(el.talkAloneButton, el.talkAloneNote, "request_talk_alone", t("talkAlone"),
    v.you.talk_alone_requested, t("talkAloneSent"));
  el.languageButton.textContent = t("switchLanguage");
  el.languageButton.lang = t("switchLanguageTo");
}

function renderSignal(button, note, signal, label, requested, requestedNote) {
  button.textContent = label;
  const queued = queuedSignals.has(signal) && !requested;
  button.setAttribute("aria-disabled", requested || queued ? "true" : "false");
  button.classList.toggle("is-requested", requested);
  if (requested) note.textContent = requestedNote;
  else if (queued) note.textContent = t("signalQueued");
  else if (note.dataset.error !== "1") note.textContent = "";
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
  composer.stepKey = null;
  showOnly(el.ended);
  showBarButtons(false);
  setTitle(t("endedTitle"), "");
  replaceContent(el.ended, h("p", { class: "lead", text: t("endedLead") }));
}

// --- The step: prompt, composer, sent answer ---------------------------------------------

function startStep(v) {
  const step = v.step;
  composer.stepKey = stepKeyOf(step);
  composer.language = null;
  composer.closedUnsent = false;
  composer.resume = null;
  saveSoon.cancel();
  const local = drafts.loadDraft(answerKey(composer.stepKey));
  if (local && local.submit) {
    // Sent with no network, before a reload: it still goes out by itself.
    composer.answer = { ...emptyAnswer(), ...local.value };
    composer.mode = "pending";
  } else if (local && !local.synced) {
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
  return Boolean(answer.feelings.length || answer.needs.length || answer.text.trim() || answer.request.trim() || answer.rating != null);
}

function renderComposerArea(v) {
  const step = v.step;
  el.prompt.textContent = step.you_answer ? step.prompt : "";
  show(el.prompt, step.you_answer);
  el.privacy.textContent = t("privacyNote");
  const open = step.you_answer && !step.locked && v.session.phase === "collecting";
  show(el.privacy, open && (composer.mode === "compose" || composer.mode === "edit"));

  if (!step.you_answer) {
    show(el.composer, false);
    show(el.sent, false);
    const roles = t.list(step.answered_by.map((r) => t(`roles_${r}`)));
    setStepNote(t("notYourStep", { roles }));
    return;
  }
  if (!open) {
    renderClosedStep(v);
    return;
  }
  setStepNote("");
  if (composer.mode === "pending") {
    show(el.composer, false);
    renderPending();
    return;
  }
  if (composer.mode === "sent" && v.your_answer) {
    show(el.composer, false);
    renderSent(v, true);
    return;
  }
  if (composer.mode === "sent") composer.mode = "compose"; // nothing sent after all
  show(el.sent, false);
  show(el.composer, true);
  buildComposer(v);
}

/** Closed: what was sent stays visible to its author; a draft (or an undelivered send) is gone. */
function renderClosedStep(v) {
  if (composer.mode !== "sent") {
    const pending = drafts.loadDraft(answerKey(composer.stepKey));
    const undelivered = composer.mode === "pending" && !(pending && delivered(pending, v));
    composer.closedUnsent = composer.closedUnsent || undelivered
      || (!v.your_answer && hasContent(composer.answer));
    drafts.forgetDraft(answerKey(composer.stepKey));
    saveSoon.cancel();
    composer.mode = "sent";
  }
  composer.built = null;
  show(el.composer, false);
  const revealing = v.session.phase === "revealing";
  setStepNote(composer.closedUnsent ? t("stepClosedUnsent") : revealing ? t("revealingLead") : t("stepClosed"));
  // Once one's own turn is shared, the card says it all; a turn not shared keeps one's own
  // answer at hand, marked as one's own.
  const myTurn = v.turns.find((turn) => turn.speaker.id === me);
  if (myTurn && myTurn.outcome === "revealed") show(el.sent, false);
  else renderSent(v, false);
}

function setStepNote(text) {
  el.stepNote.textContent = text;
  show(el.stepNote, Boolean(text));
}

/** One's own answer as one's own: its words, and whether it was a pass or for the therapist. */
function ownAnswer(answer) {
  if (answer.passed) return [h("p", { class: "badge private", text: t("yourPass") })];
  return [
    answer.therapist_only ? h("p", { class: "badge private", text: t("onlyTherapistSees") }) : null,
    h("div", { class: "answer-summary" }, answerBody(t, answer, { headingLevel: "h3" })),
  ];
}

function renderSent(v, editable) {
  if (!v.your_answer) {
    show(el.sent, false);
    return;
  }
  show(el.sent, true);
  renderOnce(el.sent, [t.language, v.your_answer, editable], () => {
    const passed = v.your_answer.passed;
    if (!editable) {
      // While the answers are shared, one's own stays folded away until its turn.
      return h("details", { class: "own-answer" },
        h("summary", { text: t("yourAnswer") }), ownAnswer(v.your_answer));
    }
    return [
      h("h2", { id: "sent-title", tabindex: "-1", text: passed ? t("passedTitle") : t("sentTitle") }),
      h("p", { class: "muted", text: passed ? t("passedLead") : t("sentLead") }),
      passed ? null : ownAnswer(v.your_answer),
      h("button", { type: "button", class: "button big", "data-focus-key": "edit",
        text: passed ? t("answerAfterAll") : t("edit"), onclick: startEditing }),
    ];
  });
}

/** Sent with no network: kept on the phone, and it goes out by itself once the phone is back. */
function renderPending() {
  show(el.sent, true);
  const pass = isPendingPass();
  renderOnce(el.sent, [t.language, "pending", pass, composer.answer], () => [
    h("h2", { id: "sent-title", tabindex: "-1", text: pass ? t("pendingPassTitle") : t("pendingTitle") }),
    h("p", { class: "muted", text: t("pendingLead") }),
    pass ? null : h("div", { class: "answer-summary" }, answerBody(t, labelled(composer.answer), { headingLevel: "h3" })),
    h("button", { type: "button", class: "button big", "data-focus-key": "edit",
      text: pass ? t("answerAfterAll") : t("edit"), onclick: startEditing }),
  ]);
}

function isPendingPass() {
  const local = composer.stepKey !== null && drafts.loadDraft(answerKey(composer.stepKey));
  return Boolean(local && local.submit === "pass");
}

/** An answer held as ids, with the labels of the vocabulary, to show it as a card would. */
function labelled(answer) {
  const label = (kind) => (id) => {
    for (const group of (vocabulary && vocabulary[kind]) || []) {
      const found = group.concepts.find((c) => c.id === id);
      if (found) return found;
    }
    return { id, label: id };
  };
  return { ...answer, feelings: answer.feelings.map(label("feelings")), needs: answer.needs.map(label("needs")) };
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
  const from = composer.mode === "pending" ? composer.answer : answerPayload(view.your_answer);
  const pass = composer.mode === "pending" ? isPendingPass() : view.your_answer && view.your_answer.passed;
  // What the server holds is the sent answer; an unsent one is the phone's alone, as a draft.
  const synced = composer.mode !== "pending" && !pass;
  // "Keep what I sent" after changing an answer still waiting for the network sends it as it was.
  composer.resume = composer.mode === "pending" ? { kind: pass ? "pass" : "answer", value: { ...from } } : null;
  composer.mode = "edit";
  composer.answer = pass ? emptyAnswer() : { ...emptyAnswer(), ...from };
  composer.language = null;
  drafts.saveDraft(answerKey(composer.stepKey), composer.answer, { synced, editing: true });
  regions.delete(el.sent);
  render(view, view);
  const first = el.composer.querySelector("h2, input, button");
  if (first) first.focus();
}

function cancelEditing() {
  saveSoon.cancel();
  const resume = composer.resume;
  composer.resume = null;
  if (resume) send(resume.kind, resume.value);
  else showSent();
}

/** The server holds the answer: drop the phone's copy and show the sent answer, focused. */
function showSent() {
  drafts.forgetDraft(answerKey(composer.stepKey));
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
  const signatureNow = `${composer.stepKey}:${composer.mode}:${t.language}`;
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
  if (fields.rating && fields.rating.mode !== "off") {
    parts.push(ratingField(t, fields.rating, answer.rating, (rating) => { composer.answer = { ...composer.answer, rating }; changed(); }));
  }
  if (fields.therapist_only) {
    // The whole step is for the therapist: nothing to choose, only to be told plainly.
    parts.push(h("p", { class: "badge private", text: t("onlyTherapistSees") }));
  } else {
    parts.push(privateToggle(answer, changed));
  }
  parts.push(shareLaterField(t, v, answer, (on) => { composer.answer = { ...composer.answer, share_later: on }; changed(); }));
  parts.push(h("p", { id: "composer-error", class: "form-error", role: "alert" }));
  const changing = composer.mode === "edit" && !(view.your_answer && view.your_answer.passed);
  const submit = h("button", { type: "submit", id: "submit-answer", class: "button primary big",
    text: changing ? t("submitChanges") : t("submit") });
  parts.push(submit);
  if (composer.mode === "edit") {
    parts.push(h("button", { type: "button", class: "button quiet big", text: t("cancelEdit"), onclick: cancelEditing }));
  }
  // One tap, no reason asked: passing is always as easy as answering.
  if (!(view.your_answer && view.your_answer.passed && composer.mode === "edit")) {
    parts.push(h("div", { class: "pass-field" },
      h("button", { type: "button", id: "pass-step", class: "button big pass-button",
        "aria-describedby": "pass-hint", text: t("passStep"), onclick: passStep }),
      h("p", { id: "pass-hint", class: "hint", text: t("passHint") })));
  }
  const form = h("form", { class: "composer-form", novalidate: true }, parts);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitAnswer();
  });
  replaceContent(el.composer, form);
}

/** "For my therapist only": this answer is never shown to the family. */
function privateToggle(answer, changed) {
  const privateBox = h("input", { type: "checkbox", id: "therapist-only", "aria-describedby": "therapist-only-hint",
    checked: answer.therapist_only });
  privateBox.addEventListener("change", () => {
    composer.answer = { ...composer.answer, therapist_only: privateBox.checked };
    changed();
  });
  return h("div", { class: "toggle-field" },
    h("label", { for: "therapist-only", class: "toggle" }, privateBox,
      h("span", { class: "toggle-text", text: t("therapistOnly") })),
    h("p", { id: "therapist-only-hint", class: "hint", text: t("therapistOnlyHint") }));
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
  drafts.saveDraft(answerKey(composer.stepKey), composer.answer, {
    synced: false, editing: composer.mode === "edit",
  });
  const error = document.getElementById("composer-error");
  if (error) error.textContent = "";
  saveSoon();
}

function saveToServer() {
  if (!live.connected || composer.stepKey === null) return Promise.resolve();
  const sent = { ...composer.answer };
  const key = answerKey(composer.stepKey);
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
  return ratingMissing(t, f.rating, answer);
}

function submitAnswer() {
  const problem = missing(view.step, composer.answer);
  if (problem) {
    document.getElementById("composer-error").textContent = problem;
    return;
  }
  send("answer", { ...composer.answer });
}

function passStep() {
  send("pass", emptyAnswer());
}

/**
 * Send an answer or a pass. It is written down on the phone first, marked as sent: if the
 * network is gone, or goes before the server answers, it stays "pending" on the phone and
 * goes out by itself after the next connect (flushPending). Nobody needs to press anything.
 */
async function send(kind, value) {
  saveSoon.cancel();
  composer.resume = null;
  const key = answerKey(composer.stepKey);
  drafts.saveDraft(key, value, { synced: false, editing: composer.mode === "edit", submit: kind });
  composer.answer = { ...emptyAnswer(), ...value };
  if (!live.connected) {
    goPending();
    return;
  }
  const button = document.getElementById(kind === "pass" ? "pass-step" : "submit-answer");
  if (button) {
    button.disabled = true;
    button.textContent = t("sending");
  }
  await deliver(key, kind, value);
}

/** Send what the phone holds as sent; true when the server has it. */
async function deliver(key, kind, value) {
  if (composer.inflight) await composer.inflight; // a late draft must not land after the answer
  const ack = kind === "pass" ? await live.send("pass_step") : await live.send("submit_answer", value);
  const still = drafts.loadDraft(key);
  if (answerKey(composer.stepKey) !== key || !still || still.submit !== kind) return false;
  if (ack.ok) {
    const wasPending = composer.mode === "pending";
    showSent();
    if (wasPending) announce(t("nowSent"));
    return true;
  }
  if (isNetworkTrouble(ack)) {
    goPending();
    return false;
  }
  // Refused (the step closed, or something is missing): back to the answer, with the reason.
  drafts.saveDraft(key, value, { synced: false, editing: Boolean(view.your_answer) });
  composer.mode = view.your_answer ? "edit" : "compose";
  composer.built = null;
  regions.delete(el.sent);
  render(view, view);
  const error = document.getElementById("composer-error");
  if (error) error.textContent = t.error(ack.error);
  return false;
}

function goPending() {
  const focused = composer.mode !== "pending";
  composer.mode = "pending";
  composer.built = null;
  regions.delete(el.sent);
  render(view, view);
  if (focused) focusSent();
}

let flushing = false;

/** An answer sent without a network goes out once connected, unless the server has it already. */
async function flushPending() {
  if (flushing || composer.mode !== "pending" || !live.connected || !view || !view.step) return;
  const key = answerKey(composer.stepKey);
  const local = drafts.loadDraft(key);
  if (!local || !local.submit) return;
  const open = !view.step.locked && view.session.phase === "collecting" && !view.session.paused;
  if (!open) return; // closed: renderClosedStep says it was not sent; paused: after the pause
  if (delivered(local, view)) {
    showSent();
    announce(t("nowSent"));
    return;
  }
  flushing = true;
  try {
    await deliver(key, local.submit, local.value);
  } finally {
    flushing = false;
  }
}

/** Whether the server already holds what the phone sent (its acknowledgement may have been
 *  lost with the network): then it is not sent twice. */
function delivered(local, v) {
  const theirs = v.your_answer;
  if (!theirs) return false;
  if (local.submit === "pass") return Boolean(theirs.passed);
  if (theirs.passed) return false;
  const mine = { ...emptyAnswer(), ...local.value };
  const held = answerPayload(theirs);
  const private_ = Boolean(mine.therapist_only || (v.step.fields && v.step.fields.therapist_only));
  return JSON.stringify(held.feelings) === JSON.stringify(mine.feelings)
    && JSON.stringify(held.needs) === JSON.stringify(mine.needs)
    && held.text === mine.text.trim() && held.request === mine.request
    && held.therapist_only === private_;
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
  const sameStep = previous && previous.kind === "participant" && previous.step
    && stepKeyOf(previous.step) === stepKeyOf(v.step);
  const before = sameStep ? previous.turns : [];
  if (turns.length > before.length && current.outcome === "revealed") {
    announce(t("newReveal", { name: current.speaker.name }));
  }
}

function currentTurn(v) {
  return v.turns.length ? v.turns[v.turns.length - 1] : null;
}

function turnKey(v) {
  return `${stepKeyOf(v.step)}-${v.turns.length - 1}`;
}

function listeningKey(v) {
  return drafts.draftKey(sessionId, me, turnKey(v), "heard");
}

/**
 * It is this person's turn to act: bring the action into view, move focus to its heading and
 * say it to screen readers. Once per turn, so a new view never pulls anyone away from typing.
 */
function callToAction(panel, words) {
  const heading = panel.querySelector("h2");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  panel.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
  heading.focus({ preventScroll: true });
  announce(words);
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
  const fresh = listening.key !== key;
  if (fresh) {
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
  if (fresh && !follow.submitted) {
    const reply = follow.kind === "reply";
    const ask = reply ? t("replyPrompt", { name: turn.speaker.name }) : t("reflectPrompt", { name: turn.speaker.name });
    callToAction(el.listen, `${reply ? t("yourTurnToReply") : t("yourTurnToListen")}. ${ask}`);
  }
}

function listeningSent(turn) {
  return [
    h("h2", { text: turn.follow_up.kind === "reply" ? t("yourTurnToReply") : t("yourTurnToListen") }),
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
    h("h2", { id: "listen-title", text: reply ? t("yourTurnToReply") : t("yourTurnToListen") }),
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
    // "Not now" and "yes" need no words; "yes, if…" says what would make it a yes.
    if (reply && listening.verdict === "yes_if" && !listening.text.trim()) {
      error.textContent = t("needYesIf");
      area.focus();
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
  const key = turnKey(v);
  const fresh = confirming.key !== key;
  if (fresh) {
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
  if (fresh && !follow.confirmation) {
    callToAction(el.confirm, `${t("isThatIt")} ${t("whatTheyHeard", { name: follow.listener.name })}`);
  }
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

// --- The bar: a break, a word alone with the therapist, the language ----------------------

/** Send a private signal; without a network it waits on the phone and goes after reconnecting. */
async function sendSignal(signal) {
  const [button, note] = signal === "request_break"
    ? [el.breakButton, el.breakNote] : [el.talkAloneButton, el.talkAloneNote];
  queuedSignals.add(signal);
  button.setAttribute("aria-disabled", "true");
  delete note.dataset.error;
  const ack = await live.send(signal);
  if (ack.ok) {
    queuedSignals.delete(signal);
    note.textContent = signal === "request_break" ? t("breakSent") : t("talkAloneSent");
  } else if (isNetworkTrouble(ack)) {
    note.textContent = t("signalQueued");
  } else {
    queuedSignals.delete(signal);
    button.setAttribute("aria-disabled", "false");
    note.dataset.error = "1";
    note.textContent = t.error(ack.error);
  }
}

for (const [button, signal] of [[el.breakButton, "request_break"], [el.talkAloneButton, "request_talk_alone"]]) {
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-disabled") === "true") return;
    sendSignal(signal);
  });
}

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
