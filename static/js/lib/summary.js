// The take-home summary on the phone's last screen, once the therapist has given it: what the
// family saw revealed, in this person's language, with a printable page and a file to save.
import { h } from "./dom.js";

function labels(concepts) {
  return concepts.map((c) => c.label).join(", ");
}

function itemBody(t, item) {
  if (item.kind === "shared_ground") {
    return [h("p", { class: "summary-kind", text: t("summarySharedGround") }),
      h("p", { class: "summary-needs", text: labels(item.needs) })];
  }
  const reply = item.reply;
  return [
    h("p", { class: "summary-who", text: item.speaker.name }),
    item.feelings.length ? h("p", { class: "summary-concepts" },
      h("span", { class: "summary-label", text: `${t("feelingsHeading")}: ` }), labels(item.feelings)) : null,
    item.needs.length ? h("p", { class: "summary-concepts" },
      h("span", { class: "summary-label", text: `${t("needsHeading")}: ` }), labels(item.needs)) : null,
    item.text ? h("p", { class: "summary-text", text: item.text }) : null,
    item.request ? h("p", { class: "summary-request" },
      h("span", { class: "summary-label", text: `${t("summaryAsked", { name: item.speaker.name })}: ` }),
      item.request) : null,
    reply ? h("p", { class: "summary-reply" },
      h("span", { class: "summary-who", text: `${t("summaryReplied", { name: reply.listener.name })}: ` }),
      h("strong", { text: t(`verdict_${reply.verdict}`) }),
      reply.text ? ` ${reply.text}` : "") : null,
  ];
}

function grouped(items) {
  const sections = [];
  for (const item of items) {
    const last = sections[sections.length - 1];
    if (last && last.round === item.round) last.items.push(item);
    else sections.push({ round: item.round, step: item.step, items: [item] });
  }
  return sections;
}

/** Adds the released summary under the ended screen's words; nothing before it is given. */
export function renderTakeHome(container, view, t, sessionId) {
  if (!container || !view || !view.summary) return;
  const sections = grouped(view.summary);
  container.append(h("section", { class: "take-home", "aria-labelledby": "take-home-title" },
    h("h2", { id: "take-home-title", text: t("summaryTitle") }),
    h("p", { class: "hint", text: t("summaryLead") }),
    sections.length ? null : h("p", { class: "empty", text: t("summaryEmpty") }),
    sections.map((section, i) => h("section", { class: "summary-section", "aria-labelledby": `take-home-${i}` },
      h("h3", { id: `take-home-${i}`, text: section.step }),
      h("ul", { class: "summary-items" }, section.items.map((item) =>
        h("li", { class: `summary-item summary-${item.kind}` },
          h("div", { class: "summary-body" }, itemBody(t, item))))))),
    h("p", { class: "summary-actions" },
      h("a", { class: "button primary", href: `/s/${sessionId}/summary`, text: t("summaryPrintable") }),
      h("a", { class: "button", href: `/s/${sessionId}/summary.txt`, download: "", text: t("summaryDownload") }))));
}
