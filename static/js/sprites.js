// Procedural pixel art: a 3x5 pixel font, agent sprites per role and status icons.
// Everything is drawn with whole-pixel fillRect calls on small offscreen canvases, then
// scaled up by an integer factor with smoothing off, so nothing is ever blurred.

export const TILE = 16;

export const ROLE_COLOURS = {
  architect: "#9b6ee8",
  builder: "#f08c2e",
  verifier: "#3dbb5c",
  security: "#e0463f",
  doc_agent: "#3d8ef0",
  manager: "#f2cc3a",
};

export const ROLE_LETTERS = {
  architect: "A",
  builder: "B",
  verifier: "V",
  security: "S",
  doc_agent: "D",
  manager: "M",
};

/** Every role, in the order the charts and forms list them. */
export const ROLES = Object.keys(ROLE_LETTERS);

export const STATUS_COLOURS = {
  idle: "#9aa4b1",
  walking: "#d7e3f0",
  working: "#58d68d",
  reviewing: "#5dade2",
  in_meeting: "#c39bd3",
  waiting: "#f5b041",
  blocked: "#ec7063",
  off_duty: "#5d6d7e",
};

// 3x5 glyphs, one string of 15 bits per character (rows top to bottom).
const GLYPHS = {
  A: "010101111101101", B: "110101110101110", C: "011100100100011", D: "110101101101110",
  E: "111100110100111", F: "111100110100100", G: "011100101101011", H: "101101111101101",
  I: "111010010010111", J: "001001001101010", K: "101101110101101", L: "100100100100111",
  M: "101111111101101", N: "110101101101101", O: "010101101101010", P: "110101110100100",
  Q: "010101101110011", R: "110101110101101", S: "011100010001110", T: "111010010010010",
  U: "101101101101111", V: "101101101101010", W: "101101111111101", X: "101101010101101",
  Y: "101101010010010", Z: "111001010100111", 0: "111101101101111", 1: "010110010010111",
  2: "110001010100111", 3: "110001010001110", 4: "101101111001001", 5: "111100110001110",
  6: "011100111101111", 7: "111001010010010", 8: "111101111101111", 9: "111101111001110",
  " ": "000000000000000", "-": "000000111000000", ".": "000000000000010", ":": "000010000010000",
  "/": "001001010100100", "+": "000010111010000", "#": "101111101111101", "!": "010010010000010",
  "?": "110001010000010", "(": "010100100100010", ")": "010001001001010", "%": "101001010100101",
};

/** Draw ``text`` in the pixel font at (x, y); returns the width used. */
export function pixelText(ctx, text, x, y, colour, scale = 1) {
  ctx.fillStyle = colour;
  let cx = x;
  for (const ch of String(text).toUpperCase()) {
    const glyph = GLYPHS[ch] || GLYPHS["?"];
    for (let i = 0; i < 15; i += 1) {
      if (glyph[i] === "1") ctx.fillRect(cx + (i % 3) * scale, y + Math.floor(i / 3) * scale, scale, scale);
    }
    cx += 4 * scale;
  }
  return cx - x;
}

export function textWidth(text, scale = 1) {
  return String(text).length * 4 * scale - scale;
}

function canvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

function shade(hex, amount) {
  const n = parseInt(hex.slice(1), 16);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  const r = clamp(((n >> 16) & 255) * amount);
  const g = clamp(((n >> 8) & 255) * amount);
  const b = clamp((n & 255) * amount);
  return `rgb(${r},${g},${b})`;
}

const SKIN = ["#f1c27d", "#e0ac69", "#c68642", "#8d5524", "#ffdbac"];
const HAIR = ["#2c1b10", "#6b3e1f", "#d9a441", "#1d1d1d", "#a0522d", "#cfcfcf"];

function hash(text) {
  let h = 2166136261;
  for (const ch of String(text)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

const spriteCache = new Map();

/**
 * A 12x16 person: hair and face from the agent id, body in the role colour with the role's
 * letter on the chest. ``frame`` 0/1 alternates the legs while walking.
 */
export function agentSprite(role, id, frame = 0) {
  const key = `${role}|${hash(id) % 30}|${frame}`;
  let sprite = spriteCache.get(key);
  if (sprite) return sprite;
  sprite = canvas(12, 16);
  const ctx = sprite.getContext("2d");
  const h = hash(id);
  const skin = SKIN[h % SKIN.length];
  const hair = HAIR[(h >> 4) % HAIR.length];
  const body = ROLE_COLOURS[role] || "#cccccc";
  const outline = "#14161c";
  // outline then fill: head
  ctx.fillStyle = outline;
  ctx.fillRect(3, 0, 6, 6);
  ctx.fillRect(1, 6, 10, 7);
  ctx.fillStyle = hair;
  ctx.fillRect(4, 1, 4, 2);
  ctx.fillStyle = skin;
  ctx.fillRect(4, 3, 4, 2);
  ctx.fillRect(4, 2, 1, 1);
  ctx.fillStyle = outline;
  ctx.fillRect(5, 3, 1, 1);
  ctx.fillRect(7, 3, 1, 1);
  // body with a darker edge and the role letter
  ctx.fillStyle = body;
  ctx.fillRect(2, 7, 8, 5);
  ctx.fillStyle = shade(body, 0.7);
  ctx.fillRect(2, 11, 8, 1);
  ctx.fillStyle = skin;
  ctx.fillRect(1, 9, 1, 2);
  ctx.fillRect(10, 9, 1, 2);
  pixelText(ctx, ROLE_LETTERS[role] || "?", 4, 7, role === "manager" ? "#1b1b1b" : "#ffffff");
  // legs
  ctx.fillStyle = outline;
  if (frame === 0) {
    ctx.fillRect(3, 13, 2, 3);
    ctx.fillRect(7, 13, 2, 3);
  } else {
    ctx.fillRect(2, 13, 2, 2);
    ctx.fillRect(8, 13, 2, 3);
    ctx.fillRect(5, 13, 2, 2);
  }
  spriteCache.set(key, sprite);
  return sprite;
}

// 7x7 status icons, drawn inside a small bubble above the head.
const ICONS = {
  idle: null, // a grey dot: idle people should not clutter the view
  working: ["0000000", "1111111", "1000001", "1011101", "1000001", "1111111", "0011100"], // screen
  reviewing: ["0111000", "1000100", "1000100", "1000100", "0111100", "0000110", "0000011"], // lens
  in_meeting: ["0111110", "1000001", "1010101", "1000001", "0111110", "0100000", "1000000"], // speech
  waiting: ["1111111", "0100010", "0011100", "0001000", "0011100", "0100010", "1111111"], // hourglass
  blocked: ["1000001", "0100010", "0010100", "0001000", "0010100", "0100010", "1000001"], // cross
  off_duty: ["0011100", "0110000", "1100000", "1100000", "1100000", "0110000", "0011100"], // moon
  walking: null,
};

const iconCache = new Map();

/** A 9x9 bubble with the status icon, or null for statuses shown by motion alone. */
export function statusIcon(status) {
  if (iconCache.has(status)) return iconCache.get(status);
  const rows = ICONS[status];
  let icon = null;
  if (rows) {
    icon = canvas(9, 9);
    const ctx = icon.getContext("2d");
    ctx.fillStyle = "#14161c";
    ctx.fillRect(0, 0, 9, 9);
    ctx.fillStyle = "#f4f6f8";
    ctx.fillRect(1, 1, 7, 7);
    ctx.fillStyle = status === "blocked" ? "#c0392b" : status === "waiting" ? "#b9770e" : "#1f2a38";
    rows.forEach((row, y) => {
      for (let x = 0; x < 7; x += 1) if (row[x] === "1") ctx.fillRect(1 + x, 1 + y, 1, 1);
    });
  }
  iconCache.set(status, icon);
  return icon;
}

/** A small envelope: a contract riding the elevator. */
export function drawContract(ctx, x, y) {
  ctx.fillStyle = "#14161c";
  ctx.fillRect(x, y, 8, 6);
  ctx.fillStyle = "#fff3c4";
  ctx.fillRect(x + 1, y + 1, 6, 4);
  ctx.fillStyle = "#c0392b";
  ctx.fillRect(x + 2, y + 2, 1, 1);
  ctx.fillRect(x + 3, y + 3, 2, 1);
  ctx.fillRect(x + 5, y + 2, 1, 1);
}

export { shade };
