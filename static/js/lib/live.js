// One Socket.IO connection per screen: it receives the whole view after every change, sends
// events with an acknowledgement, and tells the person calmly when the network drops.
import { io } from "socket.io-client";

const ACK_TIMEOUT_MS = 10000;
// A connection attempt that hangs (a phone between networks) is given up and tried again.
const CONNECT_TIMEOUT_MS = 5000;
// The banner waits a moment before showing: a blip shorter than this is not worth a word.
const BANNER_DELAY_MS = 700;

/** One status banner ("Reconnecting…"): shown once while there is trouble, gone when it passes. */
export function connectionBanner(el) {
  let timer = null;
  let text = "";
  return {
    trouble(next) {
      text = next;
      if (!el.hidden) {
        if (el.textContent !== text) el.textContent = text;
        return;
      }
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        el.textContent = text;
        el.hidden = false;
      }, BANNER_DELAY_MS);
    },
    clear() {
      clearTimeout(timer);
      timer = null;
      el.hidden = true;
      el.textContent = "";
    },
    get shown() {
      return !el.hidden;
    },
  };
}

/**
 * Open the screen's connection.
 *   auth        who is connecting ({token} / {display} / {session_id})
 *   onView      called with every view
 *   onConnect   called after each (re)connection
 *   onTrouble   called when the connection is lost or cannot be made for now
 *   onRefused   called with {code, message} when the server refuses this screen for good
 */
export function openLive({ auth, onView, onConnect, onTrouble, onRefused }) {
  const socket = io({
    auth,
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
    timeout: CONNECT_TIMEOUT_MS,
  });
  // Refused for good (removed, turned away, ended): never knock again.
  let refused = false;
  const trouble = (reason) => {
    if (!refused && onTrouble) onTrouble(reason);
  };

  socket.on("view", (view) => onView(view));
  socket.on("connect", () => onConnect && onConnect());
  socket.on("disconnect", (reason) => {
    if (reason === "io client disconnect") return; // our own restart, below
    trouble(reason);
    // The server closed this socket on purpose (a restart, or it shut this phone out): ask
    // again ourselves, since the client does not retry after a server-side disconnect. A
    // phone shut out is then refused with a reason, and stops.
    if (reason === "io server disconnect" && !refused) socket.connect();
  });
  socket.on("connect_error", (error) => {
    const data = error && error.data;
    if (data && data.code) {
      refused = true;
      socket.disconnect();
      onRefused && onRefused({ code: data.code, message: error.message });
    } else {
      trouble("connect_error");
    }
  });

  // The Socket.IO client notices a lost network by itself (and after a missed heartbeat).
  // Back online, it may still be waiting out its back-off: start a fresh attempt at once.
  // (Closing the connection here ourselves could strand an attempt half-open.)
  window.addEventListener("offline", () => trouble("offline"));
  window.addEventListener("online", () => {
    if (refused || socket.connected) return;
    socket.disconnect();
    socket.connect();
  });

  return {
    socket,
    get connected() {
      return socket.connected;
    },
    /** Send an event; resolves to the server's acknowledgement (never rejects).
     *  Offline it resolves at once to {ok: false, error: {code: "offline"}}: the caller keeps
     *  what it meant to send and sends it again after the next connect. */
    send(event, payload) {
      if (!socket.connected) {
        return Promise.resolve({ ok: false, error: { code: "offline", message: "" } });
      }
      return new Promise((resolve) => {
        const reply = (error, ack) => {
          if (error) resolve({ ok: false, error: { code: "timeout", message: "" } });
          else resolve(ack || { ok: false, error: { code: "server_error", message: "" } });
        };
        if (payload === undefined) socket.timeout(ACK_TIMEOUT_MS).emit(event, reply);
        else socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, reply);
      });
    },
  };
}

/** Whether a refused send is only the network: worth trying again after reconnecting. */
export function isNetworkTrouble(ack) {
  const code = ack && ack.error && ack.error.code;
  return code === "offline" || code === "timeout";
}
