// The therapist's live console: the door (who waits, who is in), private alerts, the agenda,
// the steps, every answer privately as it arrives, revealing in turn, reflect-back, shared
// ground, breaks, pause, notes and ending.
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
  alerts: $("alerts"),
  breaks: $("breaks"),
  door: $("door"),
  joinPanel: $("join-panel"),
  joinDetails: $("join-details"),
  joining: $("joining"),
  people: $("people"),
  agenda: $("agenda"),
  steps: $("steps"),
  answers: $("answers"),
  turn: $("current-turn"),
  shared: $("shared"),
  timeline: $("timeline"),
  notes: $("notes"),
};
const library = JSON.parse($("add-exercise").dataset.library || "[]");
const banner = connectionBanner(el.banner);
fillTexts(root, t);
el.phase.textContent = t("connecting");
const regions = new Map();
let view = null;
let confirmingEnd = false;
let errorTimer = null;
let revealListener = "";
// Who each waiting person would be let in as, while the therapist is choosing.
const admitChoice = new Map();
// Commands sent and not yet acknowledged, by group: their buttons wait, so a double click
// (or an impatient second tap) never sends the same move twice.
const pending = new Set();
// The group of every command that moves the session on.
const MOVE = "move";

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
  const key = signature([value, [...pending].sort()]);
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

/**
 * Send a therapist action; a refusal is shown as a plain sentence. While it waits for its
 * acknowledgement, a second command of the same group is not sent.
 */
async function act(event, payload, group = event) {
  if (pending.has(group)) return { ok: false, pending: true };
  pending.add(group);
  if (view) render(view, view);
  let ack;
  try {
    ack = await live.send(event, payload);
  } finally {
    pending.delete(group);
    if (view) render(view, view);
  }
  if (!ack.ok) showError(t("errorPrefix", { message: t.error(ack.error) }));
  else showError("");
  return ack;
}

/** Where this screen says the session is: what a move names so that a repeat is refused. */
function position(v) {
  return { from_part: v.step ? v.step.part_id : null, from_step: v.step ? v.step.index : null };
}

function announce(text) {
  el.announcer.textContent = "";
  setTimeout(() => {
    el.announcer.textContent = text;
  }, 50);
}

/**
 * A button. `group` marks it as waiting while a command of that group is on its way;
 * `inert` keeps it in place (and focusable) but doing nothing, e.g. "Move up" at the top.
 */
function button(label, onclick, { cls = "button", key = null, disabled = false, group = null,
  inert = false, extra = {} } = {}) {
  const waiting = Boolean(group && pending.has(group));
  const state = inert ? " is-inert" : waiting ? " is-waiting" : "";
  return h("button", {
    type: "button", class: `${cls}${state}`, text: label,
    "data-focus-key": key || label, disabled, "aria-disabled": waiting || inert ? "true" : null,
    onclick: (event) => {
      if (event.currentTarget.getAttribute("aria-disabled") === "true") return;
      onclick(event);
    },
    ...extra,
  });
}

function person(v, id) {
  return v.people.find((p) => p.id === id);
}

function localTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(t.language, { hour: "numeric", minute: "2-digit" }).format(when);
}

// --- Asking first ------------------------------------------------------------------------------

const dialog = $("confirm-dialog");

/** Ask a question in a modal dialog; resolves true for yes. Escape or "no" answers no. */
function confirmFirst({ question, detail = "", yes, no }) {
  // One question at a time: a second tap while one is open does not ask again.
  if (dialog.open) return Promise.resolve(false);
  const opener = document.activeElement;
  const openerKey = opener && opener.getAttribute("data-focus-key");
  $("confirm-question").textContent = question;
  $("confirm-detail").textContent = detail;
  show($("confirm-detail"), Boolean(detail));
  $("confirm-yes").textContent = yes;
  $("confirm-no").textContent = no;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $("confirm-yes").onclick = null;
      $("confirm-no").onclick = null;
      dialog.oncancel = null;
      if (dialog.open) dialog.close();
      // Back to the control that asked, or to the one drawn in its place since.
      const again = openerKey && document.querySelector(`[data-focus-key="${CSS.escape(openerKey)}"]`);
      const target = again || (opener && opener.isConnected ? opener : null);
      if (target && !target.disabled) target.focus({ preventScroll: true });
      resolve(answer);
    };
    $("confirm-yes").onclick = () => finish(true);
    $("confirm-no").onclick = () => finish(false);
    dialog.oncancel = (event) => {
      event.preventDefault();
      finish(false);
    };
    dialog.showModal();
    // The calm choice is the one under the finger first.
    $("confirm-no").focus();
  });
}

/** People still writing an answer that a move would close. */
function stillWriting(v) {
  if (v.session.phase !== "collecting") return [];
  return v.people.filter((p) => p.status === "writing").map((p) => p.name);
}

/** Before a move that closes answering: if someone is still writing, ask first. */
async function askIfWriting(v, questionKey) {
  const writing = stillWriting(v);
  if (!writing.length) return true;
  const who = t(writing.length === 1 ? "isStillWriting" : "areStillWriting", { names: t.list(writing) });
  return confirmFirst({
    question: `${who} ${t(questionKey)}`,
    detail: t("writingIsLost"),
    yes: t("goAhead"),
    no: t("waitForThem"),
  });
}

/** A move of the session: asks first when someone is writing, then names where it is. */
async function move(event, questionKey, payloadOf = position) {
  const v = view;
  if (pending.has(MOVE)) return null;
  if (!(await askIfWriting(v, questionKey))) return null;
  // The view may have changed while the question was open; the move names the latest one.
  return act(event, payloadOf(view), MOVE);
}

// --- Rendering ---------------------------------------------------------------------------------

function render(v, previous) {
  if (v.session.phase === "ended") {
    showEnded();
    return;
  }
  renderHead(v);
  renderAlerts(v);
  renderBreaks(v, previous);
  renderDoor(v, previous);
  renderJoining(v);
  renderPeople(v);
  placeAgenda(v);
  renderAgenda(v);
  renderEarlierWordsNote($("earlier-words-note"), v, t);
  renderSteps(v);
  renderAnswers(v);
  renderTurn(v);
  renderShared(v);
  renderTimeline(v);
  renderNotes(v);
}

function agendaLine(v) {
  const where = v.session.agenda;
  if (!where || !where.part) return "";
  return t("partOf", { index: where.part, count: where.parts });
}

function renderHead(v) {
  const step = v.step;
  const parts = [t(`phase_${v.session.phase}`)];
  if (step) parts.unshift(`${t("stepOf", { index: step.index + 1, count: step.count })}: ${step.title}`);
  const part = agendaLine(v);
  if (part) parts.unshift(part);
  if (v.session.paused) parts.push(t("paused"));
  el.phase.textContent = parts.join(" · ");
  el.phase.classList.toggle("is-paused", v.session.paused);
  renderOnce(el.pause, [v.session.paused], () =>
    v.session.paused
      ? button(t("resume"), () => act("resume"), { cls: "button primary", key: "pause", group: "pause" })
      : button(t("pause"), () => act("pause"), { key: "pause", group: "pause" }));
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
      }, { cls: "button danger-solid", key: "end-yes", group: "end", extra: { "data-end-yes": "1" } }),
      button(t("endNo"), () => {
        confirmingEnd = false;
        regions.delete(el.end);
        render(view, view);
        const again = el.end.querySelector("button");
        if (again) again.focus();
      }, { key: "end-no" }));
  });
}

// Alerts are kept element by element: an alert already on screen is not announced again
// when another one arrives.
const alertElements = new Map();

function renderAlerts(v) {
  const wanted = new Map(v.alerts.map((a) => [`${a.kind}:${a.participant.id}:${a.since}`, a]));
  for (const [key, node] of alertElements) {
    if (!wanted.has(key)) {
      node.remove();
      alertElements.delete(key);
    }
  }
  for (const [key, alert] of wanted) {
    if (alertElements.has(key)) continue;
    const node = talkAloneAlert(alert);
    alertElements.set(key, node);
    el.alerts.appendChild(node);
  }
}

function talkAloneAlert(alert) {
  const name = alert.participant.name;
  const time = localTime(alert.since);
  return h("div", { class: "talk-alone-alert", role: "alert", "data-alert": alert.participant.id },
    h("span", { class: "alert-icon", "aria-hidden": "true", text: "!" }),
    h("div", { class: "alert-body" },
      h("p", { class: "alert-text" }, t("talkAloneAlert", { name }), time ? " " : "",
        time ? h("time", { datetime: alert.since, text: t("atTime", { time }) }) : null),
      h("p", { class: "alert-hint", text: t("talkAloneHint") })),
    h("button", { type: "button", class: "button", text: t("seen"),
      "aria-label": t("seenLabel", { name }),
      onclick: () => act("dismiss_talk_alone", { participant_id: alert.participant.id }, `seen-${alert.participant.id}`) }));
}

function renderBreaks(v, previous) {
  const asking = v.people.filter((p) => p.break_requested && !p.removed);
  show(el.breaks, asking.length > 0);
  renderOnce(el.breaks, [asking.map((p) => [p.id, p.name]), v.session.paused], () =>
    asking.map((p) => h("div", { class: "break-alert" },
      h("p", { class: "break-text" }, h("span", { class: "break-icon", "aria-hidden": "true", text: "!" }),
        t("breakAlert", { name: p.name })),
      v.session.paused ? null : button(t("pause"), () => act("pause"), { cls: "button primary", key: `break-pause-${p.id}`, group: "pause" }),
      button(t("dismiss"), () => act("dismiss_break", { participant_id: p.id }),
        { key: `break-dismiss-${p.id}`, extra: { "aria-label": t("dismissBreakLabel", { name: p.name }) } }))));
  const before = new Set(previous ? previous.people.filter((p) => p.break_requested).map((p) => p.id) : []);
  const fresh = asking.filter((p) => !before.has(p.id));
  if (fresh.length) announce(t("breakAlert", { name: t.list(fresh.map((p) => p.name)) }));
}

// --- The door ----------------------------------------------------------------------------------

/** Invited family members nobody has been let in as yet (only the invited can be let in). */
function freeMembers(v) {
  return v.members.filter((m) => !m.here && m.invited !== false);
}

function memberById(v, id) {
  return v.members.find((m) => m.id === id);
}

/** "member:<id>" or "self": who this person will be let in as, if the therapist does not say. */
function choiceFor(v, asking) {
  const chosen = admitChoice.get(asking.id);
  const free = freeMembers(v);
  if (chosen === "self") return chosen;
  if (chosen && free.some((m) => `member:${m.id}` === chosen)) return chosen;
  if (asking.suggested_member && free.some((m) => m.id === asking.suggested_member)) {
    return `member:${asking.suggested_member}`;
  }
  return "self";
}

function admitLabel(v, choice) {
  if (choice === "self") return t("letInAsThemselves");
  return t("letInAs", { name: memberById(v, Number(choice.slice(7))).name });
}

function renderDoor(v, previous) {
  const waiting = v.waiting;
  show(el.door, waiting.length > 0);
  renderOnce(el.door, [waiting, v.members, [...admitChoice]], () => [
    h("div", { class: "door-head" },
      h("h2", { id: "door-title", text: t("atTheDoor", { count: waiting.length }) }),
      waiting.length > 1
        ? button(t("letEveryoneIn"), () => act("admit_all", undefined, "door"),
          { cls: "button primary", key: "admit-all", group: "door" })
        : null),
    h("p", { class: "hint", text: t("doorHint") }),
    h("ul", { class: "waiting-list" }, waiting.map((asking) => waitingRow(v, asking))),
  ]);
  const before = new Set(previous ? previous.waiting.map((w) => w.id) : []);
  const fresh = waiting.filter((w) => !before.has(w.id));
  if (fresh.length) announce(t("isWaiting", { names: t.list(fresh.map((w) => w.name)) }));
}

function waitingRow(v, asking) {
  const choice = choiceFor(v, asking);
  const free = freeMembers(v);
  const selectId = `admit-as-${asking.id}`;
  const select = free.length
    ? h("select", { id: selectId, "data-focus-key": selectId },
      free.map((m) => h("option", { value: `member:${m.id}`, selected: choice === `member:${m.id}`,
        text: `${m.name} (${roleLabel(t, m.role)})` })),
      h("option", { value: "self", selected: choice === "self",
        text: t("asThemselves", { name: asking.name, role: roleLabel(t, asking.role) }) }))
    : null;
  if (select) {
    select.addEventListener("change", () => {
      admitChoice.set(asking.id, select.value);
      render(view, view);
    });
  }
  const admit = () => {
    const payload = { request_id: asking.id };
    if (choice !== "self") payload.member_id = Number(choice.slice(7));
    act("admit", payload, "door").then((ack) => {
      if (ack.ok) admitChoice.delete(asking.id);
    });
  };
  return h("li", { class: "waiting-person", "data-waiting": asking.id },
    h("div", { class: "waiting-who" },
      h("span", { class: `presence ${asking.connected ? "on" : "off"}`, "aria-hidden": "true" }),
      h("span", { class: "person-name", text: asking.name }),
      h("span", { class: "person-role", text: roleLabel(t, asking.role) }),
      h("span", { class: "person-lang", text: t(`language_${asking.language}`) }),
      h("span", { class: "person-presence", text: asking.connected ? t("connected") : t("away") })),
    h("div", { class: "waiting-actions" },
      select ? h("label", { for: selectId, class: "small-label", text: t("letInAsLabel", { name: asking.name }) }) : null,
      select,
      button(admitLabel(v, choice), admit, { cls: "button primary", key: `admit-${asking.id}`, group: "door" }),
      button(t("turnAway"), () => act("turn_away", { request_id: asking.id }, "door"),
        { cls: "button danger", key: `turn-away-${asking.id}`, group: "door",
          extra: { "aria-label": t("turnAwayLabel", { name: asking.name }) } })));
}

function renderJoining(v) {
  const open = v.session.joining_open;
  show(el.joinDetails, open);
  el.joinPanel.classList.toggle("is-compact", v.session.phase !== "lobby");
  el.joinPanel.classList.toggle("is-closed", !open);
  renderOnce(el.joining, [open], () => [
    h("p", { class: open ? "joining-state" : "joining-state is-closed", text: t(open ? "joiningOpen" : "joiningClosed") }),
    open
      ? button(t("closeJoining"), () => act("close_joining", undefined, "joining"), { key: "joining", group: "joining" })
      : button(t("openJoining"), () => act("open_joining", undefined, "joining"), { cls: "button primary", key: "joining", group: "joining" }),
  ]);
}

// --- People ------------------------------------------------------------------------------------

async function removePhone(p) {
  const yes = await confirmFirst({
    question: t("removeQuestion", { name: p.name }),
    detail: t("removeDetail", { name: p.name }),
    yes: t("removeYes"),
    no: t("cancel"),
  });
  if (yes) await act("remove", { participant_id: p.id }, `remove-${p.id}`);
}

function personRow(v, p) {
  const status = p.removed ? "removed" : v.step ? p.status : null;
  return h("li", {
    class: `person${p.removed ? " is-removed" : p.connected ? " is-connected" : " is-away"}${p.break_requested ? " wants-break" : ""}`,
    "data-person": p.id,
  },
  h("span", { class: `presence ${p.connected && !p.removed ? "on" : "off"}`, "aria-hidden": "true" }),
  h("span", { class: "person-name", text: p.name }),
  h("span", { class: "person-role", text: roleLabel(t, p.role) }),
  h("span", { class: "person-lang", text: (p.language || "").toUpperCase(), title: t("language") }),
  p.removed ? null : h("span", { class: "person-presence", text: p.connected ? t("connected") : t("away") }),
  status ? h("span", { class: `status status-${status}`, text: t(status) }) : null,
  p.removed || p.simulated ? null
    : button(t("removePhone"), () => removePhone(p), { cls: "button quiet small", key: `remove-${p.id}`,
      group: `remove-${p.id}`, extra: { "aria-label": t("removePhoneLabel", { name: p.name }) } }));
}

function renderPeople(v) {
  const missing = freeMembers(v).map((m) => m.name);
  renderOnce(el.people, [v.people, Boolean(v.step), missing], () => [
    h("h2", { text: t("people") }),
    v.people.length === 0
      ? h("p", { class: "muted", text: t("nobodyJoined", { url: `${location.origin}/join` }) })
      : h("ul", { class: "people console-people" }, v.people.map((p) => personRow(v, p))),
    missing.length ? h("p", { class: "hint", text: t("notHereYet", { names: t.list(missing) }) }) : null,
  ]);
}

// --- The agenda --------------------------------------------------------------------------------

/** The exercises not started yet, in the order `move_exercise` counts them. */
function notStarted(v) {
  const started = v.agenda.map((p, i) => (p.status === "running" || p.status === "done" ? i : -1));
  return v.agenda.slice(Math.max(...started, -1) + 1);
}

function nextPart(v) {
  return v.agenda.find((p) => p.status === "pending") || null;
}

function runningPart(v) {
  return v.agenda.find((p) => p.status === "running") || null;
}

function partStatus(v, part) {
  if (part.status === "running") return "now";
  if (part.status === "pending") return part === nextPart(v) ? "next" : "later";
  return part.status; // done, skipped
}

function renderAgenda(v) {
  const later = notStarted(v);
  const running = runningPart(v);
  const following = nextPart(v);
  renderOnce(el.agenda, [v.agenda, v.steps, v.step && v.step.index, v.session.paused, agendaLine(v)], () => [
    h("div", { class: "agenda-head" },
      h("h2", { id: "agenda-title", text: t("agenda") }),
      agendaLine(v) ? h("span", { class: "muted", text: agendaLine(v) }) : null),
    h("ol", { class: "agenda-list" }, v.agenda.map((part) => agendaItem(v, part, later))),
    running && following
      ? h("div", { class: "agenda-next" },
        button(t("nextExercise"), () => move("next_exercise", "nextExerciseAnyway"),
          { key: "next-exercise", group: MOVE, disabled: v.session.paused }),
        h("p", { class: "hint", text: t("nextExerciseHint", { current: running.title, next: following.title }) }))
      : null,
  ]);
}

function agendaItem(v, part, later) {
  const status = partStatus(v, part);
  const place = later.indexOf(part);
  const movable = place >= 0 && part.status === "pending";
  const actions = [];
  if (movable) {
    actions.push(
      button(t("moveUp"), () => act("move_exercise", { part_id: part.id, to: place - 1 }, "agenda"),
        { cls: "button quiet small", key: `up-${part.id}`, group: "agenda", inert: place === 0,
          extra: { "aria-label": t("moveUpLabel", { title: part.title }) } }),
      button(t("moveDown"), () => act("move_exercise", { part_id: part.id, to: place + 1 }, "agenda"),
        { cls: "button quiet small", key: `down-${part.id}`, group: "agenda", inert: place === later.length - 1,
          extra: { "aria-label": t("moveDownLabel", { title: part.title }) } }),
      button(t("skipExercise"), () => act("skip_exercise", { part_id: part.id }, "agenda"),
        { cls: "button quiet small", key: `skip-${part.id}`, group: "agenda",
          extra: { "aria-label": t("skipExerciseLabel", { title: part.title }) } }));
  }
  if (part.status === "skipped") {
    actions.push(button(t("restoreExercise"), () => act("restore_exercise", { part_id: part.id }, "agenda"),
      { cls: "button quiet small", key: `restore-${part.id}`, group: "agenda",
        extra: { "aria-label": t("restoreExerciseLabel", { title: part.title }) } }));
  }
  const steps = status === "now" && v.step
    ? h("ol", { class: "step-list" }, v.steps.map((s) => h("li", {
      class: s.index === v.step.index ? "is-current" : s.index < v.step.index ? "is-done" : "",
      "aria-current": s.index === v.step.index ? "step" : null,
      text: s.title,
    })))
    : null;
  return h("li", { class: `agenda-item is-${status}`, "data-part": part.id, "aria-current": status === "now" ? "true" : null },
    h("div", { class: "agenda-row" },
      h("span", { class: `agenda-status status-${status}`, text: t(`part_${status}`) }),
      h("span", { class: "agenda-title", text: part.title }),
      h("span", { class: "agenda-steps muted", text: t(part.steps === 1 ? "oneStep" : "manySteps", { count: part.steps }) })),
    steps,
    actions.length ? h("div", { class: "agenda-actions" }, actions) : null);
}

const agendaCard = $("add-exercise-form").closest(".agenda-card");

/** In the lobby the agenda is planned beside the first step; once running it sits by the people. */
function placeAgenda(v) {
  const after = v.session.phase === "lobby" ? el.steps : el.people;
  if (after.nextElementSibling !== agendaCard) after.after(agendaCard);
}

// Built once, so a live update never resets what the therapist is choosing.
const addForm = $("add-exercise-form");
const addSelect = $("add-exercise");
addSelect.appendChild(h("option", { value: "", text: t("chooseExercise") }));
for (const exercise of library) {
  addSelect.appendChild(h("option", { value: exercise.key, text: exercise.title }));
}
show(addForm, library.length > 0);
addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!addSelect.value) return;
  const title = addSelect.selectedOptions[0].textContent;
  const ack = await act("add_exercise", { exercise_key: addSelect.value }, "agenda");
  if (ack.ok) announce(t("exerciseAdded", { title }));
});

// --- The step ----------------------------------------------------------------------------------

function openStepLabel(v) {
  const step = v.step;
  if (!step) return t("openFirstStep");
  if (step.index + 1 < step.count) return t("openNextStep");
  const following = nextPart(v);
  return following ? t("startNextExercise", { title: following.title }) : null;
}

function renderSteps(v) {
  const step = v.step;
  const collecting = v.session.phase === "collecting";
  const label = openStepLabel(v);
  const part = runningPart(v) || (!step ? nextPart(v) : null);
  renderOnce(el.steps, [step && [step.part_id, step.index, step.prompts, step.locked, step.title], v.session.phase,
    v.session.paused, label, part && part.title], () => [
    h("h2", { text: part ? t(step ? "nowExercise" : "firstExercise", { title: part.title }) : t("stepControls") }),
    step ? h("p", { class: "step-now", text: `${t("stepOf", { index: step.index + 1, count: step.count })}: ${step.title}` }) : null,
    step ? h("div", { class: "prompts" }, Object.entries(step.prompts).map(([role, prompt]) =>
      h("div", { class: "prompt-for" },
        h("h3", { text: t("promptFor", { role: roleLabel(t, role) }) }),
        h("p", { text: prompt })))) : null,
    h("div", { class: "actions" },
      collecting
        ? button(t("lockStep"), () => move("lock_step", "lockAnyway",
          (now) => ({ part_id: now.step.part_id, step_index: now.step.index })),
        { key: "lock", group: MOVE, disabled: v.session.paused })
        : null,
      label
        ? button(label, () => move("open_step", step ? "openAnyway" : "openFirstAnyway"),
          { cls: "button primary", key: "open-step", group: MOVE, disabled: v.session.paused })
        : h("p", { class: "muted", text: t("noMoreSteps") })),
  ]);
}

// --- Answers and turns -------------------------------------------------------------------------

function listenerPicker(v, speakerId, id, selected) {
  return h("select", { id, "data-focus-key": id },
    h("option", { value: "", text: t("suggestedListener") }),
    v.people.filter((p) => p.id !== speakerId && !p.removed).map((p) =>
      h("option", { value: p.id, text: `${p.name} (${roleLabel(t, p.role)})`, selected: p.id === selected })));
}

/** Why an answer will not be shown to the family, or null when it can be. */
function notShared(answer) {
  if (answer.passed) return "passed";
  if (answer.therapist_only) return "therapist_only";
  return null;
}

function answerOf(v, participantId) {
  const entry = v.answers.find((a) => a.participant.id === participantId);
  return entry ? entry.answer : null;
}

function revealNextLabel(name, answer) {
  const why = answer && notShared(answer);
  return why ? t(`revealNext_${why}`, { name }) : t("revealNext", { name });
}

function renderAnswers(v) {
  const step = v.step;
  show(el.answers, Boolean(step));
  if (!step) return;
  const writing = v.people.filter((p) => p.status === "writing").map((p) => p.name);
  const waiting = v.people.filter((p) => p.status === "waiting").map((p) => p.name);
  const nextId = v.queue[0];
  const next = nextId ? person(v, nextId) : null;
  const nextAnswer = nextId ? answerOf(v, nextId) : null;
  const followUp = step.follow_up !== "none" && nextAnswer && !notShared(nextAnswer);
  renderOnce(el.answers, [v.answers, v.queue, writing, waiting, v.people.map((p) => [p.id, p.name, p.removed]),
    step.follow_up, v.session.paused, v.session.phase, step.index, revealListener], () => {
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
        ? button(revealNextLabel(next.name, nextAnswer), () => reveal(nextId),
          { cls: "button primary", key: "reveal-next", group: MOVE, disabled: v.session.paused })
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
  const answer = answerOf(view, participantId);
  const payload = () => {
    const sent = { participant_id: participantId };
    const shareable = answer && !notShared(answer);
    if (shareable && view.step.follow_up !== "none" && revealListener && revealListener !== participantId) {
      sent.listener_id = revealListener;
    }
    return sent;
  };
  const ack = await move("reveal", "revealAnyway", payload);
  if (ack && ack.ok) revealListener = "";
}

function turnTag(entry) {
  if (entry.turn === "revealed") return h("span", { class: "badge done", text: t("revealed") });
  if (entry.turn === "skipped") return h("span", { class: "badge", text: t("skipped") });
  if (entry.turn === "withheld") {
    return h("span", { class: "badge private", text: t(`withheld_${notShared(entry.answer)}`) });
  }
  return null;
}

function privateAnswer(v, entry) {
  const who = entry.participant;
  const answer = entry.answer;
  const why = notShared(answer);
  const tags = [];
  if (answer.passed && !entry.turn) tags.push(h("span", { class: "badge private", text: t("passedTag") }));
  if (answer.therapist_only && !entry.turn) tags.push(h("span", { class: "badge private", text: t("therapistOnlyTag") }));
  tags.push(turnTag(entry));
  const actions = [];
  if (!entry.turn) {
    actions.push(button(t(why ? "giveTurn" : "reveal"), () => reveal(who.id),
      { cls: "button", key: `reveal-${who.id}`, group: MOVE, disabled: v.session.paused,
        extra: { "aria-label": `${t(why ? "giveTurn" : "reveal")}: ${who.name}` } }));
    actions.push(button(t("skip"), () => move("skip", "revealAnyway", () => ({ participant_id: who.id })),
      { cls: "button quiet", key: `skip-${who.id}`, group: MOVE, disabled: v.session.paused,
        extra: { "aria-label": `${t("skip")}: ${who.name}` } }));
  }
  return h("li", { class: `private-answer${entry.turn ? " has-turn" : ""}`, "data-participant": who.id },
    h("div", { class: "private-head" },
      h("h3", { class: "card-title" }, who.name, " ", h("span", { class: "role", text: roleLabel(t, who.role) })),
      tags),
    answer.passed ? h("p", { class: "muted", text: t("passedBody") }) : answerBody(t, answer, { headingLevel: "h4" }),
    actions.length ? h("div", { class: "actions" }, actions) : null);
}

function renderTurn(v) {
  const turn = v.turns.length ? v.turns[v.turns.length - 1] : null;
  const follow = turn && turn.follow_up;
  // Once shown to the family, the reflection lives on in the timeline below.
  const open = Boolean(follow) && !follow.revealed && v.session.phase === "revealing";
  show(el.turn, open);
  if (!open) return;
  renderOnce(el.turn, [turn, v.people.map((p) => [p.id, p.name, p.removed]), v.session.paused], () => {
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
          if (select.value && select.value !== follow.listener.id) act("set_listener", { listener_id: select.value }, MOVE);
        }, { key: "set-listener", group: MOVE })),
      written,
      button(reply ? t("revealReply") : t("revealReflection"), () => act("reveal_follow_up", undefined, MOVE),
        { cls: "button primary", key: "reveal-follow-up", group: MOVE, disabled: !follow.submitted || v.session.paused }),
    ];
  });
}

function renderShared(v) {
  const revealing = v.session.phase === "revealing";
  show(el.shared, revealing || Boolean(v.shared_ground));
  renderOnce(el.shared, [v.shared_ground, revealing, v.session.paused], () => [
    v.shared_ground ? sharedGroundCard(t, v.shared_ground, { heading: "h2" }) : h("h2", { text: t("sharedGround") }),
    revealing ? button(t("showSharedGround"), () => act("reveal_shared_ground", undefined, MOVE),
      { key: "shared", group: MOVE, disabled: v.session.paused }) : null,
  ]);
}

/** A turn the family saw as "not shared this time"; the therapist is told why. */
function notSharedCard(v, turn) {
  const answer = answerOf(v, turn.speaker.id);
  const why = turn.outcome === "withheld" && answer ? `withheld_${notShared(answer)}` : "skipped";
  return h("article", { class: "reveal-card is-skipped", "data-speaker": turn.speaker.id },
    h("h3", { class: "card-title" }, turn.speaker.name, " ", h("span", { class: "role", text: roleLabel(t, turn.speaker.role) })),
    h("p", { class: "not-shared-why", text: t(why) }),
    h("p", { class: "hint", text: t("familySawNotShared") }));
}

function renderTimeline(v) {
  show(el.timeline, v.turns.length > 0);
  renderOnce(el.timeline, [v.turns, v.answers], () => [
    h("h2", { text: t("timeline") }),
    v.turns.map((turn, i) => (turn.outcome === "revealed"
      ? turnCard(t, turn, { current: i === v.turns.length - 1 })
      : notSharedCard(v, turn))).reverse(),
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
  for (const region of [el.alerts, el.breaks, el.door, el.answers, el.turn, el.shared, el.steps, el.people, el.pause, el.end]) {
    show(region, false);
  }
  el.phase.textContent = t(rehearsal ? "rehearsalEnded" : "ended");
  show($("ended-panel"), true);
  show(el.joinPanel, false);
  show(noteForm, false);
  if (dialog.open) dialog.close();
  // The room display has nothing more to show, and the record is linked from the ended panel.
  for (const id of ["display-panel", "record-so-far"]) show($(id), false);
  show(agendaCard, false);
}
