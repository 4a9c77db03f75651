// The therapist's live console: who is here, the steps, every answer privately as it arrives,
// revealing in turn, reflect-back, shared ground, breaks, pause, notes and ending.
import { h, replaceContent, show, fillTexts } from "../lib/dom.js";
import { strings } from "../lib/strings.js";
import { openLive, connectionBanner } from "../lib/live.js";
import { answerBody, turnCard, sharedGroundCard, roleLabel, signature } from "../lib/cards.js";
import { renderEarlierWordsNote } from "../lib/earlier-words.js";

const root = document.getElementById("console");
// A rehearsal is run exactly like a session, but the console calls it what it is.
const rehearsal = root.dataset.rehearsal === "true";
const t = strings(document.documentElement.lang);
const $ = (id) => document.getElementById(id);
const el = {
  banner: $("connection"),
  announcer: $("announcer"),
  error: $("console-error"),
  phase: $("phase-line"),
  pause: $("pause-button"),
  end: $("end-area"),
  breaks: $("breaks"),
  joinPanel: $("join-panel"),
  people: $("people"),
  steps: $("steps"),
  answers: $("answers"),
  turn: $("current-turn"),
  shared: $("shared"),
  timeline: $("timeline"),
  notes: $("notes"),
};
const banner = connectionBanner(el.banner);
fillTexts(root, t);
el.phase.textContent = t("connecting");
const regions = new Map();
let view = null;
let confirmingEnd = false;
let errorTimer = null;

const live = openLive({
  auth: { session_id: root.dataset.sessionId },
  onView(next) {
    const previous = view;
    view = next;
    render(next, previous);
  },
  onConnect: () => banner.clear(),
  onTrouble: () => banner.trouble(t("reconnectingShort")),
  onRefused({ code, message }) {
    banner.clear();
    if (code === "session_ended") {
      showEnded();
      return;
    }
    showError(t("refused", { message }));
  },
});

function renderOnce(region, value, build) {
  const key = signature(value);
  if (regions.get(region) === key) return;
  regions.set(region, key);
  replaceContent(region, ...[].concat(build()));
}

function showError(text) {
  el.error.textContent = text;
  show(el.error, Boolean(text));
  clearTimeout(errorTimer);
  if (text) errorTimer = setTimeout(() => showError(""), 8000);
}

/** Send a therapist action; a refusal is shown as a plain sentence. */
async function act(event, payload) {
  const ack = await live.send(event, payload);
  if (!ack.ok) showError(t("errorPrefix", { message: t.error(ack.error) }));
  else showError("");
  return ack;
}

function announce(text) {
  el.announcer.textContent = "";
  setTimeout(() => {
    el.announcer.textContent = text;
  }, 50);
}

function button(label, onclick, { cls = "button", key = null, disabled = false, extra = {} } = {}) {
  return h("button", { type: "button", class: cls, text: label, "data-focus-key": key || label,
    disabled, onclick, ...extra });
}

function person(v, id) {
  return v.people.find((p) => p.id === id);
}

// --- Rendering ---------------------------------------------------------------------------------

function render(v, previous) {
  if (v.session.phase === "ended") {
    showEnded();
    return;
  }
  renderHead(v);
  renderBreaks(v, previous);
  el.joinPanel.classList.toggle("is-compact", v.session.phase !== "lobby");
  renderPeople(v);
  renderEarlierWordsNote($("earlier-words-note"), v, t);
  renderSteps(v);
  renderAnswers(v);
  renderTurn(v);
  renderShared(v);
  renderTimeline(v);
  renderNotes(v);
}

function renderHead(v) {
  const step = v.step;
  const parts = [t(`phase_${v.session.phase}`)];
  if (step) parts.unshift(`${t("stepOf", { index: step.index + 1, count: step.count })}: ${step.title}`);
  if (v.session.paused) parts.push(t("paused"));
  el.phase.textContent = parts.join(" · ");
  el.phase.classList.toggle("is-paused", v.session.paused);
  renderOnce(el.pause, [v.session.paused], () =>
    v.session.paused
      ? button(t("resume"), () => act("resume"), { cls: "button primary", key: "pause" })
      : button(t("pause"), () => act("pause"), { key: "pause" }));
  renderOnce(el.end, [confirmingEnd], () => {
    if (!confirmingEnd) {
      return button(t(rehearsal ? "endRehearsal" : "end"), () => {
        confirmingEnd = true;
        regions.delete(el.end);
        render(view, view);
        const yes = el.end.querySelector("[data-end-yes]");
        if (yes) yes.focus();
      }, { cls: "button danger", key: "end" });
    }
    return h("div", { class: "end-confirm", role: "group", "aria-labelledby": "end-question" },
      h("p", { id: "end-question", text: t(rehearsal ? "endRehearsalConfirm" : "endConfirm") }),
      button(t("endYes"), async () => {
        const ack = await act("end");
        if (ack.ok) showEnded();
      }, { cls: "button danger-solid", key: "end-yes", extra: { "data-end-yes": "1" } }),
      button(t("endNo"), () => {
        confirmingEnd = false;
        regions.delete(el.end);
        render(view, view);
        const again = el.end.querySelector("button");
        if (again) again.focus();
      }, { key: "end-no" }));
  });
}

function renderBreaks(v, previous) {
  const asking = v.people.filter((p) => p.break_requested);
  show(el.breaks, asking.length > 0);
  renderOnce(el.breaks, [asking.map((p) => p.id), v.session.paused], () =>
    asking.map((p) => h("div", { class: "break-alert" },
      h("p", { class: "break-text" }, h("span", { class: "break-icon", "aria-hidden": "true", text: "!" }),
        t("breakAlert", { name: p.name })),
      v.session.paused ? null : button(t("pause"), () => act("pause"), { cls: "button primary", key: `break-pause-${p.id}` }),
      button(t("dismiss"), () => act("dismiss_break", { participant_id: p.id }), { key: `break-dismiss-${p.id}` }))));
  const before = new Set(previous ? previous.people.filter((p) => p.break_requested).map((p) => p.id) : []);
  const fresh = asking.filter((p) => !before.has(p.id));
  if (fresh.length) announce(t("breakAlert", { name: t.list(fresh.map((p) => p.name)) }));
}

function personRow(v, p) {
  return h("li", {
    class: `person${p.connected ? " is-connected" : " is-away"}${p.break_requested ? " wants-break" : ""}`,
    "data-person": p.id,
  },
  h("span", { class: `presence ${p.connected ? "on" : "off"}`, "aria-hidden": "true" }),
  h("span", { class: "person-name", text: p.name }),
  h("span", { class: "person-role", text: roleLabel(t, p.role) }),
  h("span", { class: "person-lang", text: (p.language || "").toUpperCase(), title: t("language") }),
  h("span", { class: "person-presence", text: p.connected ? t("connected") : t("away") }),
  v.step ? h("span", { class: `status status-${p.status}`, text: t(p.status) }) : null);
}

function renderPeople(v) {
  renderOnce(el.people, [v.people, Boolean(v.step)], () => [
    h("h2", { text: t("people") }),
    v.people.length === 0
      ? h("p", { class: "muted", text: t("nobodyJoined", { url: `${location.origin}/join` }) })
      : h("ul", { class: "people console-people" }, v.people.map((p) => personRow(v, p))),
  ]);
}

function renderSteps(v) {
  const step = v.step;
  const collecting = v.session.phase === "collecting";
  const last = step && step.index + 1 >= step.count;
  renderOnce(el.steps, [v.steps, step && [step.index, step.prompts, step.locked], v.session.phase, v.session.paused], () => [
    h("h2", { text: t("stepControls") }),
    h("ol", { class: "step-list" }, v.steps.map((s) => h("li", {
      class: step && s.index === step.index ? "is-current" : step && s.index < step.index ? "is-done" : "",
      "aria-current": step && s.index === step.index ? "step" : null,
      text: s.title,
    }))),
    step ? h("div", { class: "prompts" }, Object.entries(step.prompts).map(([role, prompt]) =>
      h("div", { class: "prompt-for" },
        h("h3", { text: t("promptFor", { role: roleLabel(t, role) }) }),
        h("p", { text: prompt })))) : null,
    h("div", { class: "actions" },
      collecting ? button(t("lockStep"), () => act("lock_step"), { key: "lock" }) : null,
      last
        ? h("p", { class: "muted", text: t("noMoreSteps") })
        : button(step ? t("openNextStep") : t("openFirstStep"), () => act("open_step"),
          { cls: "button primary", key: "open-step", disabled: v.session.paused })),
  ]);
}

function listenerPicker(v, speakerId, id, selected) {
  const select = h("select", { id, "data-focus-key": id },
    h("option", { value: "", text: t("suggestedListener") }),
    v.people.filter((p) => p.id !== speakerId).map((p) =>
      h("option", { value: p.id, text: `${p.name} (${roleLabel(t, p.role)})`, selected: p.id === selected })));
  return select;
}

let revealListener = "";

function renderAnswers(v) {
  const step = v.step;
  show(el.answers, Boolean(step));
  if (!step) return;
  const writing = v.people.filter((p) => p.status === "writing").map((p) => p.name);
  const waiting = v.people.filter((p) => p.status === "waiting").map((p) => p.name);
  const nextId = v.queue[0];
  const next = nextId ? person(v, nextId) : null;
  const followUp = step.follow_up !== "none";
  renderOnce(el.answers, [v.answers, v.queue, writing, waiting, v.people.map((p) => [p.id, p.name]),
    step.follow_up, v.session.paused, step.index, revealListener], () => {
    const status = [];
    if (v.session.phase === "collecting") {
      if (writing.length) status.push(h("p", { class: "status-line", text: t("stillWriting", { list: t.list(writing) }) }));
      if (waiting.length) status.push(h("p", { class: "status-line muted", text: t("stillWaiting", { list: t.list(waiting) }) }));
      if (!writing.length && !waiting.length && v.answers.length) status.push(h("p", { class: "status-line", text: t("allAnswered") }));
    }
    const listenerSelect = followUp && next ? listenerPicker(v, nextId, "reveal-listener", revealListener) : null;
    if (listenerSelect) {
      listenerSelect.addEventListener("change", () => {
        revealListener = listenerSelect.value;
      });
    }
    const revealNext = h("div", { class: "reveal-next" },
      listenerSelect
        ? h("label", { for: "reveal-listener", class: "small-label",
          text: step.follow_up === "reply" ? t("replierFor") : t("listenerFor") })
        : null,
      listenerSelect,
      next
        ? button(t("revealNext", { name: next.name }), () => reveal(nextId), { cls: "button primary", key: "reveal-next", disabled: v.session.paused })
        : h("p", { class: "muted", text: v.answers.length ? t("revealNobody") : "" }));
    return [
      h("h2", { text: t("privateAnswers") }),
      status,
      revealNext,
      v.answers.length === 0
        ? h("p", { class: "muted", text: t("noAnswersYet") })
        : h("ul", { class: "private-answers" }, v.answers.map((entry) => privateAnswer(v, entry))),
    ];
  });
}

async function reveal(participantId) {
  const payload = { participant_id: participantId };
  if (view.step.follow_up !== "none" && revealListener && revealListener !== participantId) {
    payload.listener_id = revealListener;
  }
  const ack = await act("reveal", payload);
  if (ack.ok) revealListener = "";
}

function privateAnswer(v, entry) {
  const who = entry.participant;
  const answer = entry.answer;
  const tags = [];
  if (answer.therapist_only) tags.push(h("span", { class: "badge private", text: t("therapistOnlyTag") }));
  if (entry.turn === "revealed") tags.push(h("span", { class: "badge done", text: t("revealed") }));
  if (entry.turn === "skipped") tags.push(h("span", { class: "badge", text: t("skipped") }));
  const actions = [];
  if (!entry.turn) {
    if (!answer.therapist_only) {
      actions.push(button(t("reveal"), () => reveal(who.id), { cls: "button", key: `reveal-${who.id}`, disabled: v.session.paused,
        extra: { "aria-label": `${t("reveal")}: ${who.name}` } }));
    }
    actions.push(button(t("skip"), () => act("skip", { participant_id: who.id }), { cls: "button quiet", key: `skip-${who.id}`,
      disabled: v.session.paused, extra: { "aria-label": `${t("skip")}: ${who.name}` } }));
  }
  return h("li", { class: `private-answer${entry.turn ? " has-turn" : ""}`, "data-participant": who.id },
    h("div", { class: "private-head" },
      h("h3", { class: "card-title" }, who.name, " ", h("span", { class: "role", text: roleLabel(t, who.role) })),
      tags),
    answerBody(t, answer, { headingLevel: "h4" }),
    actions.length ? h("div", { class: "actions" }, actions) : null);
}

function renderTurn(v) {
  const turn = v.turns.length ? v.turns[v.turns.length - 1] : null;
  const follow = turn && turn.follow_up;
  // Once shown to the family, the reflection lives on in the timeline below.
  const open = Boolean(follow) && !follow.revealed && v.session.phase === "revealing";
  show(el.turn, open);
  if (!open) return;
  renderOnce(el.turn, [turn, v.people.map((p) => [p.id, p.name]), v.session.paused], () => {
    const reply = follow.kind === "reply";
    const listener = follow.listener.name;
    const select = listenerPicker(v, turn.speaker.id, "turn-listener", follow.listener.id);
    select.querySelector('option[value=""]').remove();
    const written = follow.submitted
      ? [h("p", { class: "follow-label", text: reply ? `${listener}: ${t(`verdict_${follow.verdict}`)}` : t("whatTheyHeard", { name: listener }) }),
        follow.text ? h("blockquote", { class: "follow-text", text: follow.text }) : null]
      : h("p", { class: "muted", text: reply ? t("writingReply", { name: listener }) : t("writingReflection", { name: listener }) });
    return [
      h("h2", { text: t("currentTurn") }),
      h("p", { class: "lead", text: reply ? t("replyBy", { name: listener }) : t("reflectionBy", { name: listener }) }),
      h("div", { class: "inline-field" },
        h("label", { for: "turn-listener", text: reply ? t("replierFor") : t("listenerFor") }), select,
        button(t("setListener"), () => {
          if (select.value && select.value !== follow.listener.id) act("set_listener", { listener_id: select.value });
        }, { key: "set-listener" })),
      written,
      button(reply ? t("revealReply") : t("revealReflection"), () => act("reveal_follow_up"),
        { cls: "button primary", key: "reveal-follow-up", disabled: !follow.submitted || v.session.paused }),
    ];
  });
}

function renderShared(v) {
  const revealing = v.session.phase === "revealing";
  show(el.shared, revealing || Boolean(v.shared_ground));
  renderOnce(el.shared, [v.shared_ground, revealing, v.session.paused], () => [
    v.shared_ground ? sharedGroundCard(t, v.shared_ground, { heading: "h2" }) : h("h2", { text: t("sharedGround") }),
    revealing ? button(t("showSharedGround"), () => act("reveal_shared_ground"), { key: "shared", disabled: v.session.paused }) : null,
  ]);
}

function renderTimeline(v) {
  show(el.timeline, v.turns.length > 0);
  renderOnce(el.timeline, [v.turns], () => [
    h("h2", { text: t("timeline") }),
    v.turns.map((turn, i) => turnCard(t, turn, { current: i === v.turns.length - 1 })).reverse(),
  ]);
}

function renderNotes(v) {
  renderOnce(el.notes, [v.notes], () => [
    h("h2", { text: t("notes") }),
    h("p", { class: "hint", text: t(rehearsal ? "notesHintRehearsal" : "notesHint") }),
    v.notes.length ? h("ul", { class: "notes-list" }, v.notes.map((n) => h("li", { text: n.text }))) : null,
  ]);
}

// The note form is built once, so typing is never interrupted by a live update.
const noteForm = $("note-form");
if (noteForm) {
  noteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const area = $("note-text");
    if (!area.value.trim()) return;
    const ack = await act("add_note", { text: area.value });
    if (ack.ok) area.value = "";
  });
}

function showEnded() {
  root.classList.add("is-ended");
  for (const region of [el.breaks, el.answers, el.turn, el.shared, el.steps, el.people, el.pause, el.end]) {
    show(region, false);
  }
  el.phase.textContent = t(rehearsal ? "rehearsalEnded" : "ended");
  show($("ended-panel"), true);
  show(el.joinPanel, false);
  show(noteForm, false);
  // The room display has nothing more to show, and the record is linked from the ended panel.
  for (const id of ["display-panel", "record-so-far"]) show($(id), false);
}
