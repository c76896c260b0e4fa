// Web phone of the Telegram sandbox: chat with a bot as a simulated user.
// Everything shown is built with DOM nodes and text nodes: message text is untrusted input.
"use strict";

const API = "/sandbox/api";
const FAKE_PHONE = "+994501234567";
const EVENTS_WAIT_SECONDS = 25;
const BOT_LIST_RETRY_MS = 2000;

// answersSeen is null until the chat's existing callback answers have been counted once.
const state = { botId: null, userId: null, seq: -1, answersSeen: null };
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function chatPath() {
  return `/bots/${state.botId}/users/${state.userId}`;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

let toastTimer = null;

function toast(text, isAlert = false) {
  const box = $("toast");
  box.textContent = text;
  box.setAttribute("dir", "auto");
  box.classList.toggle("alert", isAlert);
  box.hidden = false;
  clearTimeout(toastTimer);
  // An alert (show_alert) waits for a tap, like Telegram's dialog; a notice fades by itself.
  if (!isAlert) toastTimer = setTimeout(() => { box.hidden = true; }, 3000);
}

async function act(promise) {
  try {
    await promise;
  } catch (error) {
    toast(error.message);
  }
}

// --- rendering Telegram text --------------------------------------------------------------

const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  blockquote: "blockquote", expandable_blockquote: "blockquote",
};

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(url) ? url : null;
}

function entityElement(entity, text) {
  if (entity.type === "text_link" || entity.type === "url") {
    const href = safeUrl(entity.type === "url" ? text : entity.url || "");
    if (href) return element("a", { href, target: "_blank", rel: "noopener noreferrer" });
  }
  if (entity.type === "spoiler") {
    const node = element("span", { class: "spoiler", title: "Spoiler: tap to reveal" });
    node.addEventListener("click", () => node.classList.add("revealed"));
    return node;
  }
  return element(ENTITY_TAGS[entity.type] || "span");
}

// Entity offsets count UTF-16 code units, which is exactly how JavaScript indexes strings.
function renderRange(parent, text, entities, start, end) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const stop = Math.min(entity.offset + entity.length, end);
    const inner = [];
    index += 1;
    while (index < entities.length && entities[index].offset < stop) inner.push(entities[index++]);
    if (entity.offset > position) parent.append(text.slice(position, entity.offset));
    const node = entityElement(entity, text.slice(entity.offset, stop));
    renderRange(node, text, inner, entity.offset, stop);
    parent.append(node);
    position = stop;
  }
  if (position < end) parent.append(text.slice(position, end));
}

function richText(text, entities) {
  const container = element("div", { dir: "auto" });
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  renderRange(container, text, sorted, 0, text.length);
  return container;
}

// --- rendering messages ---------------------------------------------------------------------

function mediaLine(message) {
  switch (message.kind) {
    case "venue":
      return [
        element("div", { class: "title", dir: "auto" }, "\u{1F4CD} " + message.venue.title),
        element("div", { dir: "auto" }, message.venue.address),
      ];
    case "location":
      return [element("div", {}, `\u{1F4CD} ${message.location.latitude}, ${message.location.longitude}`)];
    case "document": {
      const name = message.document.file_name || "document";
      const link = element("a", { href: message.document.url, download: name, dir: "auto" }, name);
      return [element("div", { class: "title" }, "\u{1F4C4} ", link)];
    }
    case "contact":
      return [element("div", { dir: "auto" }, `\u{1F464} ${message.contact.first_name || ""} ${message.contact.phone_number}`)];
    case "photo":
      return [element("div", {}, "\u{1F5BC} Photo")];
    case "sticker":
      return [element("div", {}, "\u{1F44D} Sticker")];
    case "voice":
      return [element("div", {}, "\u{1F3A4} Voice message")];
    default:
      return [];
  }
}

function pressInline(message, button) {
  if (button.callback_data !== undefined) {
    act(api("POST", `${chatPath()}/press`, { message_id: message.message_id, callback_data: button.callback_data }));
  } else if (button.url && safeUrl(button.url)) {
    window.open(button.url, "_blank", "noopener");
  } else {
    toast("The sandbox phone cannot press this kind of button.");
  }
}

function inlineKeyboard(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length || message.deleted) return null;
  const keyboard = element("div", { class: "inline-keyboard" });
  for (const row of rows) {
    const line = element("div", { class: "keyboard-row" });
    for (const button of row) {
      const node = element("button", { type: "button", dir: "auto" }, button.text);
      node.addEventListener("click", () => pressInline(message, button));
      line.append(node);
    }
    keyboard.append(line);
  }
  return keyboard;
}

function messageNode(message) {
  const classes = ["message", message.from, message.deleted ? "deleted" : ""].join(" ");
  const bubble = element("div", { class: "bubble", dir: "auto" }, ...mediaLine(message));
  if (message.text) bubble.append(richText(message.text, message.entities));
  const flags = [message.edited ? "edited" : "", message.deleted ? "deleted" : ""].filter(Boolean);
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const node = element("div", { class: classes }, bubble, element("div", { class: "meta" }, [time, ...flags].join(" \u00B7 ")));
  const keyboard = inlineKeyboard(message);
  if (keyboard) node.append(keyboard);
  return node;
}

function pressReply(button) {
  if (button.request_contact) {
    if (!window.confirm(`Share your phone number ${FAKE_PHONE} with the bot?`)) return;
    act(api("POST", `${chatPath()}/press`, { text: button.text, phone_number: FAKE_PHONE }));
    return;
  }
  act(api("POST", `${chatPath()}/press`, { text: button.text }));
}

function renderReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  $("text").placeholder = (markup && markup.input_field_placeholder) || "Message";
  if (!markup) return;
  for (const row of markup.keyboard) {
    const line = element("div", { class: "keyboard-row" });
    for (const button of row) {
      const node = element("button", { type: "button", dir: "auto" }, button.text);
      node.addEventListener("click", () => pressReply(button));
      line.append(node);
    }
    box.append(line);
  }
}

function showNewAnswers(answers) {
  for (const answer of answers.slice(state.answersSeen ?? answers.length)) {
    if (answer.text) toast(answer.text, answer.show_alert);
  }
  state.answersSeen = answers.length;
}

async function refreshChat() {
  if (state.botId === null || state.userId === null) return;
  const transcript = await api("GET", `${chatPath()}/transcript`);
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...transcript.messages.map(messageNode));
  if (atBottom) list.scrollTop = list.scrollHeight;
  renderReplyKeyboard(transcript.reply_keyboard);
  showNewAnswers(transcript.callback_answers);
  $("block-toggle").textContent = transcript.blocked ? "Unblock bot" : "Block bot";
  $("block-toggle").dataset.blocked = transcript.blocked ? "1" : "";
}

// --- choosing bot and user ------------------------------------------------------------------

function fillSelect(select, items, label, selected) {
  select.replaceChildren(...items.map((item) => {
    const option = element("option", { value: String(item.id), dir: "auto" }, label(item));
    option.selected = item.id === selected;
    return option;
  }));
}

async function loadUsers() {
  const users = await api("GET", "/users");
  const remembered = Number(localStorage.getItem("sandbox-user"));
  const chosen = users.find((u) => u.id === state.userId) || users.find((u) => u.id === remembered) || users[0];
  state.userId = chosen ? chosen.id : null;
  fillSelect($("user-select"), users, (u) => `${u.first_name} (${u.language_code || "?"}) #${u.id}`, state.userId);
  const enabled = state.userId !== null && state.botId !== null;
  $("block-toggle").disabled = !enabled;
  $("chat-title").textContent = chosen ? `${chosen.first_name} \u2194 bot` : "Choose or create a user";
  $("chat-title").setAttribute("dir", "auto");
  return users;
}

async function loadBots() {
  const bots = await api("GET", "/bots");
  const wanted = Number(new URLSearchParams(location.search).get("bot"));
  const chosen = bots.find((b) => b.id === wanted) || bots.find((b) => b.id === state.botId) || bots[0];
  state.botId = chosen ? chosen.id : (wanted || null);
  fillSelect($("bot-select"), bots, (b) => `@${b.username} #${b.id}`, state.botId);
  $("bot-status").hidden = Boolean(chosen);
  return bots;
}

async function waitForBot() {
  while (!(await loadBots()).length && state.botId === null) {
    await new Promise((resolve) => setTimeout(resolve, BOT_LIST_RETRY_MS));
  }
}

// The events long poll answers as soon as any chat of the bot changes: no busy polling.
async function followEvents() {
  const botId = state.botId;
  while (botId === state.botId) {
    try {
      const changes = await api("GET", `/bots/${botId}/events?after=${state.seq}&timeout=${EVENTS_WAIT_SECONDS}`);
      if (botId !== state.botId) return;
      const grewBack = changes.seq < state.seq;
      state.seq = changes.seq;
      const knownUsers = [...$("user-select").options].map((o) => Number(o.value));
      if (grewBack || changes.user_ids.some((id) => !knownUsers.includes(id))) await loadUsers();
      if (grewBack || changes.user_ids.includes(state.userId)) await refreshChat();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function switchBot(botId) {
  state.botId = botId;
  state.seq = -1;
  state.answersSeen = null;
  await loadUsers();
  await refreshChat();
  followEvents();
}

// --- wiring ---------------------------------------------------------------------------------

function send(payload) {
  if (state.userId === null || state.botId === null) {
    toast("Create or choose a user first.");
    return;
  }
  act(api("POST", `${chatPath()}/messages`, payload));
}

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({ text });
  });
  $("send-sticker").addEventListener("click", () => send({ sticker: true }));
  $("send-photo").addEventListener("click", () => send({ photo: true }));
  $("share-contact").addEventListener("click", () => {
    if (window.confirm(`Share your phone number ${FAKE_PHONE} with the bot?`)) {
      send({ contact: { phone_number: FAKE_PHONE } });
    }
  });
  $("new-user").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    act(api("POST", "/users", Object.fromEntries(form)).then(async (user) => {
      state.userId = user.id;
      state.answersSeen = null;
      localStorage.setItem("sandbox-user", String(user.id));
      event.target.reset();
      await loadUsers();
      await refreshChat();
    }));
  });
  $("user-select").addEventListener("change", (event) => {
    state.userId = Number(event.target.value);
    state.answersSeen = null;
    localStorage.setItem("sandbox-user", String(state.userId));
    act(loadUsers().then(refreshChat));
  });
  $("bot-select").addEventListener("change", (event) => act(switchBot(Number(event.target.value))));
  $("block-toggle").addEventListener("click", () => {
    const action = $("block-toggle").dataset.blocked ? "unblock" : "block";
    act(api("POST", `${chatPath()}/${action}`));
  });
  $("toast").addEventListener("click", () => { $("toast").hidden = true; });
}

async function main() {
  wire();
  await waitForBot();
  await switchBot(state.botId);
}

main().catch((error) => toast(error.message));
