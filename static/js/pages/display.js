// The room display: the join QR and who has arrived, then each revealed card in large type,
// the reflect-back and the shared ground. It only ever receives what has been revealed.
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

function peopleList(people, mark) {
  return h("ul", { class: "display-people" }, people.map((p) => {
    const on = mark(p);
    return h("li", { class: on ? "is-on" : "" },
      h("span", { class: "mark", "aria-hidden": "true", text: on ? "✓" : "·" }),
      h("span", { text: p.name }),
      h("span", { class: "visually-hidden", text: ` (${roleLabel(t, p.role)})` }));
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
    const here = v.people.filter((p) => p.connected);
    renderOnce(el.arrived, [here.map((p) => [p.id, p.name, p.role])], () => [
      h("h2", { text: t("arrived") }),
      here.length ? peopleList(here, () => true) : h("p", { class: "muted", text: t("displayWaiting") }),
    ]);
    return;
  }
  showOnly(el.stage);
  const step = v.step;
  el.title.textContent = step.title;
  const collecting = v.session.phase === "collecting";
  const answering = v.people.filter((p) => step.answered_by.includes(p.role));
  show(el.answering, collecting);
  if (collecting) {
    renderOnce(el.answering, [answering.map((p) => [p.id, p.name, p.answered])], () => [
      h("h2", { text: t("answering") }),
      peopleList(answering, (p) => p.answered),
    ]);
  }
  const turns = v.turns;
  const current = turns.length ? turns[turns.length - 1] : null;
  show(el.current, Boolean(current));
  if (current) {
    renderOnce(el.current, [current], () => turnCard(t, current, { heading: "h2", current: true }));
  }
  show(el.shared, Boolean(v.shared_ground));
  if (v.shared_ground) renderOnce(el.shared, [v.shared_ground], () => sharedGroundCard(t, v.shared_ground, { heading: "h2" }));
  const earlier = turns.slice(0, -1).filter((turn) => turn.outcome === "revealed");
  show(el.earlier, earlier.length > 0);
  renderOnce(el.earlier, [earlier], () => earlier.map((turn) => turnCard(t, turn, { heading: "h3" })).reverse());
  const before = previous && previous.step && previous.step.index === step.index ? previous.turns.length : 0;
  if (turns.length > before && current.outcome === "revealed") {
    el.announcer.textContent = t("newReveal", { name: current.speaker.name });
  }
}
