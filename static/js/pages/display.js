// The room display: the join QR and who has arrived, then each revealed card in large type,
// the reflect-back and the shared ground, all on one screen read from across the room. It only
// ever receives what has been revealed.
import { h, replaceContent, show, fillTexts } from "../lib/dom.js";
import { strings } from "../lib/strings.js";
import { openLive, connectionBanner } from "../lib/live.js";
import { turnCard, sharedGroundCard, roleLabel, signature } from "../lib/cards.js";

const root = document.getElementById("room-display");
const t = strings(document.documentElement.lang);
const $ = (id) => document.getElementById(id);
const el = {
  banner: $("connection"),
  announcer: $("announcer"),
  lobby: $("display-lobby"),
  arrived: $("arrived"),
  stage: $("display-stage"),
  title: $("display-title"),
  agenda: $("display-agenda"),
  answering: $("answering"),
  current: $("current-card"),
  shared: $("display-shared"),
  earlier: $("earlier-cards"),
  paused: $("display-paused"),
  ended: $("display-ended"),
};
const banner = connectionBanner(el.banner);
fillTexts(root, t);
const regions = new Map();
// The newest card's tighter layouts, tried in turn when it is too long for the screen: smaller
// type, then the reflect-back or reply beside the answer instead of under it.
const FIT_LEVELS = [["is-dense"], ["is-denser"], ["is-split", "is-dense"], ["is-split", "is-denser"]];
const FIT_CLASSES = ["is-dense", "is-denser", "is-split"];

function renderOnce(region, value, build) {
  const key = signature(value);
  if (regions.get(region) === key) return;
  regions.set(region, key);
  replaceContent(region, ...[].concat(build()));
}

function showOnly(...visible) {
  for (const panel of [el.lobby, el.stage, el.paused, el.ended]) show(panel, visible.includes(panel));
}

function showEnded() {
  showOnly(el.ended);
}

let view = null;

openLive({
  auth: { display: root.dataset.displayToken },
  onView(next) {
    const previous = view;
    view = next;
    render(next, previous);
  },
  onConnect: () => banner.clear(),
  onTrouble: () => banner.trouble(t("reconnectingShort")),
  onRefused({ code }) {
    banner.clear();
    if (code === "session_ended" || code === "unknown_token") showEnded();
  },
});

/** Names as large pills; `status` says in words what the mark shows (for screen readers). */
function peopleList(people, { on, status }) {
  return h("ul", { class: "display-people" }, people.map((p) => {
    const isOn = on(p);
    return h("li", { class: isOn ? "is-on" : "" },
      h("span", { class: "mark", "aria-hidden": "true", text: isOn ? "✓" : "○" }),
      h("span", { text: p.name }),
      h("span", { class: "visually-hidden", text: ` (${roleLabel(t, p.role)}${status ? `, ${status(p)}` : ""})` }));
  }));
}

function render(v, previous) {
  if (v.session.phase === "ended") {
    showEnded();
    return;
  }
  if (v.session.paused) {
    showOnly(el.paused);
    return;
  }
  if (v.session.phase === "lobby" || !v.step) {
    showOnly(el.lobby);
    renderJoining(v);
    renderArrived(v);
    return;
  }
  showOnly(el.stage);
  renderHead(v);
  renderAnswering(v);
  renderCards(v);
  announceReveal(v, previous);
  fitToScreen();
}

/** The join code and QR show only while the therapist lets new phones ask to join. */
function renderJoining(v) {
  const open = Boolean(v.session.join_code);
  for (const node of el.lobby.querySelectorAll(".qr, .code, .url, #join-heading")) {
    node.hidden = !open;
  }
}

function renderArrived(v) {
  const here = v.people.filter((p) => p.connected);
  renderOnce(el.arrived, [here.map((p) => [p.id, p.name, p.role])], () => [
    h("h2", { text: t("arrived") }),
    here.length ? peopleList(here, { on: () => true }) : h("p", { class: "muted", text: t("displayWaiting") }),
  ]);
}

/** The step's title and, when the agenda has more than one part, where in it we are. */
function renderHead(v) {
  el.title.textContent = v.step.title;
  // Every view names its place in the agenda; "Part 1 of 1" would be noise, as on the phones.
  const agenda = v.session.agenda;
  const many = Boolean(agenda && agenda.part && agenda.parts > 1);
  show(el.agenda, many);
  el.agenda.textContent = many ? t("agendaPart", { part: agenda.part, parts: agenda.parts }) : "";
}

/** Who has answered, never what: shown until the first turn is shared. */
function renderAnswering(v) {
  const step = v.step;
  const waiting = v.session.phase === "collecting" || v.turns.length === 0;
  show(el.answering, waiting);
  if (!waiting) return;
  const answering = v.people.filter((p) => step.answered_by.includes(p.role));
  renderOnce(el.answering, [answering.map((p) => [p.id, p.name, p.role, p.answered])], () => [
    h("h2", { text: t("answering") }),
    peopleList(answering, {
      on: (p) => p.answered,
      status: (p) => (p.answered ? t("answered") : t("notYetAnswered")),
    }),
  ]);
}

/**
 * The newest thing shared is the largest: the latest turn, or the shared ground once it is
 * shown. The answers shared before it sit beside it, newest first.
 */
function renderCards(v) {
  const turns = v.turns;
  const sharing = Boolean(v.shared_ground);
  const newest = !sharing && turns.length ? turns[turns.length - 1] : null;
  const earlier = (newest ? turns.slice(0, -1) : turns).filter((turn) => turn.outcome === "revealed");
  show(el.shared, sharing);
  if (sharing) renderOnce(el.shared, [v.shared_ground], () => sharedGroundCard(t, v.shared_ground, { heading: "h2" }));
  show(el.current, Boolean(newest));
  if (newest) renderOnce(el.current, [newest], () => turnCard(t, newest, { heading: "h2", current: true }));
  renderOnce(el.earlier, [earlier], () => [
    h("h2", { class: "visually-hidden", text: t("sharedSoFar") }),
    earlier.map((turn) => turnCard(t, turn, { heading: "h3" })).reverse(),
  ]);
}

function announceReveal(v, previous) {
  const turns = v.turns;
  const before = previous && previous.step && previous.step.index === v.step.index ? previous.turns.length : 0;
  const current = turns[turns.length - 1];
  if (turns.length > before && current.outcome === "revealed") {
    el.announcer.textContent = t("newReveal", { name: current.speaker.name });
  }
}

/**
 * A TV has nobody to scroll it. When the newest card is too long for the screen its type
 * steps down; if it is still too long, the earlier cards step aside to give it the whole
 * width. When the earlier cards are too many, the oldest step aside. Type never goes under
 * 28 px (display.css).
 */
function fitToScreen() {
  const card = el.current.querySelector(".reveal-card");
  const earlier = [...el.earlier.querySelectorAll(".reveal-card")];
  for (const old of earlier) old.hidden = false;
  showEarlier(earlier.length > 0);
  if (card && !fitNewest(card) && earlier.length) {
    showEarlier(false);
    fitNewest(card);
  }
  for (let i = earlier.length - 1; i >= 0 && overflows(el.earlier); i -= 1) earlier[i].hidden = true;
}

function showEarlier(visible) {
  show(el.earlier, visible);
  el.stage.classList.toggle("has-earlier", visible);
}

/** Tries the newest card's layouts, roomiest first; false when even the tightest overflows. */
function fitNewest(card) {
  card.classList.remove(...FIT_CLASSES);
  const splits = Boolean(card.querySelector(".follow-up"));
  for (const level of FIT_LEVELS) {
    if (!overflows(el.current)) return true;
    if (level.includes("is-split") && !splits) break;
    card.classList.remove(...FIT_CLASSES);
    card.classList.add(...level);
  }
  return !overflows(el.current);
}

function overflows(region) {
  const page = document.querySelector("main");
  const limit = window.innerHeight - parseFloat(getComputedStyle(page).paddingBottom);
  return region.getBoundingClientRect().bottom > limit + 0.5;
}

window.addEventListener("resize", () => {
  if (view && !el.stage.hidden) fitToScreen();
});
