// Small DOM helpers. Every piece of text goes in through textContent, never as markup, so a
// name or an answer can never become part of the page's code.

/** Build an element: h("p", {class: "hint", text: "…"}, child, [children], null). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "value" || key === "checked" || key === "disabled") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Replace a region's content, keeping keyboard focus on the "same" control afterwards
 * (matched by data-focus-key), so a live update never throws someone out of what they did.
 */
export function replaceContent(container, ...children) {
  const active = document.activeElement;
  const key =
    active && container.contains(active) ? active.getAttribute("data-focus-key") : null;
  container.replaceChildren();
  append(container, children);
  if (key) {
    const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

/** Show or hide an element with the hidden attribute. */
export function show(el, visible) {
  if (el) el.hidden = !visible;
}

/** Call fn at most once per `wait` ms of quiet; `.flush()` runs a pending call at once. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, wait);
  };
  debounced.flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
      fn();
    }
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

/** Lower-case text without accents, so "enojo" finds "Enojó" and "anxious" finds "Anxious". */
export function fold(text) {
  return String(text)
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

/** Fill elements marked data-text="key" with the screen's own words in its language. */
export function fillTexts(scope, t) {
  for (const node of scope.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
}
