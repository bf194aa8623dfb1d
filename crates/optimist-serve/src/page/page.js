"use strict";
// The playground: every change sends the state to the server, which races the
// optimizers with the lab's code; this script only draws what comes back.
// Tests read `window.playground` (the state, the plot's geometry, the trails drawn) and
// wait for `document.body.dataset.seq` to grow after each redraw.
(function () {
  const $ = (id) => document.getElementById(id);
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const MARGIN = { left: 58, top: 10, right: 14, bottom: 40 };
  const SIZE = 560;
  const canvas = $("plot");
  const ctx = canvas.getContext("2d");
  const state = { function: "article", start: null, steps: null, optimizers: [] };
  const pg = {
    state, catalogue: {}, landscape: null, race: null, plot: null, drawn: [],
    seq: 0, latency: null, error: null,
  };
  window.playground = pg;
  let step = 0, playing = null, contourImage = null;

  async function api(method, path, body) {
    const r = await fetch(path, {
      method, headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = r.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await r.json() : await r.blob();
    if (!r.ok) { const e = new Error(data.error || r.statusText); e.column = data.column; throw e; }
    return data;
  }

  // ---- the URL holds the state ----
  function readUrl() {
    const q = new URLSearchParams(location.search);
    if (q.has("f")) state.function = q.get("f");
    if (q.has("s")) {
      const s = q.get("s").split(",").map(Number);
      if (s.length === 2 && s.every(Number.isFinite)) state.start = s;
    }
    if (q.has("n")) state.steps = Number(q.get("n"));
    const specs = q.getAll("o");
    state.optimizers = (specs.length ? specs
      : ["sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3"]).map(parseSpec);
  }
  function writeUrl() {
    const q = new URLSearchParams();
    q.set("f", state.function);
    if (state.start) q.set("s", state.start.join(","));
    if (state.steps) q.set("n", String(state.steps));
    for (const o of state.optimizers) q.append("o", specText(o));
    history.replaceState(null, "", "?" + q.toString());
  }
  function parseSpec(text) {
    const [name, rest] = text.split(/:(.*)/s);
    const values = {};
    for (const kv of (rest || "").split(",").filter((s) => s.includes("="))) {
      const [k, v] = kv.split(/=(.*)/s);
      values[k.trim()] = v.trim();
    }
    return { name: name.trim(), values };
  }
  function specText(o) {
    const kv = Object.entries(o.values).map(([k, v]) => k + "=" + v);
    return kv.length ? o.name + ":" + kv.join(",") : o.name;
  }
  function request() {
    const r = { function: state.function, optimizers: state.optimizers.map(specText) };
    if (state.start) r.start = state.start;
    if (state.steps) r.steps = state.steps;
    return r;
  }

  // ---- geometry ----
  function layout(w) {
    const [x0, x1, y0, y1] = w;
    const ratio = (x1 - x0) / (y1 - y0);
    const width = Math.round(ratio >= 1 ? SIZE : Math.max(200, SIZE * ratio));
    const height = Math.round(ratio >= 1 ? Math.max(200, SIZE / ratio) : SIZE);
    return { left: MARGIN.left, top: MARGIN.top, width, height, window: w };
  }
  function toPixel(x, y) {
    const p = pg.plot, [x0, x1, y0, y1] = p.window;
    return [p.left + (x - x0) / (x1 - x0) * p.width, p.top + (y1 - y) / (y1 - y0) * p.height];
  }
  function toData(px, py) {
    const p = pg.plot, [x0, x1, y0, y1] = p.window;
    return [x0 + (px - p.left) / p.width * (x1 - x0), y1 - (py - p.top) / p.height * (y1 - y0)];
  }
  pg.toPixel = toPixel;
  function ticks(lo, hi, count) {
    const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const stepSize = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / stepSize) * stepSize; v <= hi + stepSize * 1e-9; v += stepSize) {
      out.push(Math.abs(v) < stepSize * 1e-9 ? 0 : v);
    }
    return out;
  }
  const label = (v) => String(Number(v.toPrecision(6)));

  // ---- drawing ----
  function sizeCanvas() {
    const p = pg.plot, dpr = window.devicePixelRatio || 1;
    const w = p.left + p.width + MARGIN.right, h = p.top + p.height + MARGIN.bottom;
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }
  function drawBackground() {
    const p = pg.plot, L = pg.landscape, q = L.quantum;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.save();
    ctx.beginPath(); ctx.rect(p.left, p.top, p.width, p.height); ctx.clip();
    ctx.lineWidth = 1;
    for (const line of L.contours) {
      ctx.strokeStyle = line.colour;
      for (const ring of line.rings) {
        ctx.beginPath();
        for (let i = 0; i < ring.length; i += 2) {
          const px = p.left + ring[i] / q * p.width, py = p.top + p.height - ring[i + 1] / q * p.height;
          if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        }
        ctx.stroke();
      }
    }
    for (const [mx, my] of L.minima) {
      const [px, py] = toPixel(mx, my);
      ctx.strokeStyle = "#222"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(px - 5, py - 5); ctx.lineTo(px + 5, py + 5);
      ctx.moveTo(px - 5, py + 5); ctx.lineTo(px + 5, py - 5); ctx.stroke();
    }
    ctx.restore();
    ctx.strokeStyle = "#444"; ctx.lineWidth = 1;
    ctx.strokeRect(p.left + 0.5, p.top + 0.5, p.width, p.height);
    ctx.fillStyle = "#333"; ctx.font = "12px 'DejaVu Sans', Verdana, sans-serif";
    const [x0, x1, y0, y1] = p.window;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const v of ticks(x0, x1, Math.max(2, Math.floor(p.width / 85)))) {
      const [px] = toPixel(v, y0);
      ctx.fillRect(px, p.top + p.height, 1, 5);
      ctx.fillText(label(v), px, p.top + p.height + 8);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const v of ticks(y0, y1, Math.max(2, Math.floor(p.height / 85)))) {
      const [, py] = toPixel(x0, v);
      ctx.fillRect(p.left - 5, py, 5, 1);
      ctx.fillText(label(v), p.left - 8, py);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    ctx.fillText("x", p.left + p.width / 2, p.top + p.height + 36);
    ctx.save(); ctx.translate(14, p.top + p.height / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText("y", 0, 0); ctx.restore();
  }
  function draw() {
    if (!pg.landscape) return;
    if (!contourImage) {
      drawBackground();
      contourImage = ctx.getImageData(0, 0, canvas.width, canvas.height);
    } else {
      ctx.putImageData(contourImage, 0, 0);
    }
    const p = pg.plot;
    ctx.save();
    ctx.beginPath(); ctx.rect(p.left, p.top, p.width, p.height); ctx.clip();
    pg.drawn = [];
    const runs = pg.race ? pg.race.runs : [];
    runs.forEach((run, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const last = Math.min(step, run.trajectory.length - 1);
      const points = run.trajectory.slice(0, last + 1).map(([x, y]) => toPixel(x, y));
      pg.drawn.push(points);
      ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(([px, py], k) => (k ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
      ctx.stroke();
      if (points.length <= 300) {
        for (const [px, py] of points) { ctx.beginPath(); ctx.arc(px, py, 2.2, 0, 2 * Math.PI); ctx.fill(); }
      }
      const [ex, ey] = points[points.length - 1];
      ctx.beginPath(); ctx.arc(ex, ey, 5, 0, 2 * Math.PI); ctx.fill();
    });
    if (state.start) {
      const [sx, sy] = toPixel(state.start[0], state.start[1]);
      ctx.fillStyle = "#fff"; ctx.strokeStyle = "#222"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(sx, sy, 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
    ctx.restore();
    $("step-label").textContent = "step " + step + " of " + $("step").max;
    pg.seq += 1;
    document.body.dataset.seq = String(pg.seq);
    document.body.dataset.ready = "true";
  }

  // ---- the optimizer cards ----
  function isLog(key) {
    const r = key.range;
    return key.kind === "number" && r.min === 0 && !r.min_included && r.max === null;
  }
  function sliderRange(key) {
    const r = key.range, d = Number(key.default);
    // Rates and epsilons: log-spaced, wide enough around the default.
    if (isLog(key)) return { log: true, lo: Math.log10(Math.min(1e-5, d / 100)), hi: Math.log10(Math.max(10, d * 100)) };
    const lo = r.min === null ? (d ? -10 * Math.abs(d) : -10) : r.min;
    const hi = r.max === null ? (d > 0 ? Math.max(10 * d, lo + 1) : lo + 1) : r.max;
    return { log: false, lo, hi };
  }
  function renderOptimizers() {
    const box = $("optimizers");
    box.textContent = "";
    state.optimizers.forEach((o, i) => {
      const info = pg.catalogue[o.name];
      const card = document.createElement("div");
      card.className = "opt"; card.id = "opt-" + i;
      card.style.borderLeftColor = COLOURS[i % COLOURS.length];
      const head = document.createElement("div"); head.className = "head";
      head.innerHTML = "<b></b><span class='final'></span>";
      head.querySelector("b").textContent = o.name;
      const remove = document.createElement("button");
      remove.className = "remove"; remove.id = "remove-" + i; remove.type = "button";
      remove.title = "remove"; remove.textContent = "×";
      remove.onclick = () => { state.optimizers.splice(i, 1); renderOptimizers(); changed(); };
      head.appendChild(remove);
      card.appendChild(head);
      for (const key of (info ? info.hyperparameters : [])) {
        if (key.kind === "bool" || key.kind === "pair") continue;
        const row = document.createElement("div"); row.className = "hp";
        const name = document.createElement("span"); name.textContent = key.name; name.title = key.doc + " (" + key.allowed + ")";
        const slider = document.createElement("input"); slider.type = "range";
        slider.id = "slider-" + i + "-" + key.name;
        const field = document.createElement("input"); field.type = "text";
        field.id = "field-" + i + "-" + key.name; field.title = key.allowed;
        const sr = sliderRange(key);
        slider.min = sr.lo; slider.max = sr.hi; slider.step = key.kind === "integer" ? 1 : (sr.hi - sr.lo) / 1000;
        const value = o.values[key.name] !== undefined ? o.values[key.name] : String(key.default);
        field.value = value;
        const v = Number(value);
        slider.value = sr.log ? Math.log10(v > 0 ? v : Math.pow(10, sr.lo)) : v;
        slider.oninput = () => {
          let x = Number(slider.value);
          if (sr.log) x = Math.pow(10, x);
          if (key.range.max !== null && !key.range.max_included && x >= key.range.max) x = key.range.max - (sr.hi - sr.lo) / 1000;
          const text = key.kind === "integer" ? String(Math.round(x)) : String(Number(x.toPrecision(3)));
          field.value = text; o.values[key.name] = text; changed();
        };
        field.onchange = () => { o.values[key.name] = field.value.trim(); changed(); };
        row.append(name, slider, field);
        card.appendChild(row);
      }
      box.appendChild(card);
    });
  }
  function showFinals() {
    const runs = pg.race ? pg.race.runs : [];
    runs.forEach((run, i) => {
      const el = document.querySelector("#opt-" + i + " .final");
      if (!el) return;
      const [x, y, f] = run.trajectory[run.trajectory.length - 1];
      el.textContent = "(" + x.toPrecision(4) + ", " + y.toPrecision(4) + ") f=" + f.toPrecision(4);
      el.classList.toggle("diverged", run.status === "diverged");
      if (run.status === "diverged") el.textContent = "diverged at step " + run.diverged_at;
    });
  }

  // ---- computing: every change races again; changes during a race are coalesced ----
  let inFlight = false, pending = false;
  function changed() {
    writeUrl();
    if (inFlight) { pending = true; return; }
    race();
  }
  async function race() {
    inFlight = true; pending = false;
    const t0 = performance.now();
    try {
      const answer = await api("POST", "/api/race", request());
      pg.latency = performance.now() - t0;
      $("latency").textContent = "round trip " + pg.latency.toFixed(1) + " ms";
      pg.race = answer; pg.error = null;
      $("status").textContent = ""; $("status").className = "";
      const longest = Math.max(0, ...answer.runs.map((r) => r.trajectory.length - 1));
      $("step").max = longest;
      if (!playing) step = longest;
      $("step").value = step;
      showFinals();
    } catch (e) {
      pg.error = e.message;
      $("status").textContent = e.message; $("status").className = "error";
    }
    inFlight = false;
    draw();
    if (pending) race();
  }

  // ---- the landscape ----
  let formulaTimer = null;
  async function loadLandscape(resetStart) {
    const text = state.function;
    try {
      const L = await api("POST", "/api/landscape", { function: text });
      if (text !== state.function) return;
      $("formula-error").hidden = true;
      pg.landscape = L; pg.plot = layout(L.window); contourImage = null;
      sizeCanvas();
      $("title").textContent = "f(x, y) = " + L.formula;
      if (resetStart || !state.start) { state.start = L.start.slice(); state.steps = L.steps; }
      $("steps").value = state.steps || L.steps;
      showStart();
      changed();
    } catch (e) {
      if (text !== state.function) return;
      const box = $("formula-error");
      box.textContent = e.message + (e.column ? "" : "");
      box.dataset.column = e.column || "";
      box.hidden = false;
      document.body.dataset.seq = String(++pg.seq);
    }
  }
  function showStart() {
    if (state.start) $("start-label").textContent =
      "(" + state.start.map((v) => Number(v.toPrecision(4))).join(", ") + ")";
  }

  // ---- events ----
  let dragging = false;
  function moveStart(ev) {
    const r = canvas.getBoundingClientRect();
    const [x, y] = toData(ev.clientX - r.left, ev.clientY - r.top);
    const [x0, x1, y0, y1] = pg.plot.window;
    state.start = [Math.min(x1, Math.max(x0, x)), Math.min(y1, Math.max(y0, y))]
      .map((v) => Number(v.toPrecision(6)));
    showStart(); changed();
  }
  canvas.addEventListener("pointerdown", (ev) => { dragging = true; canvas.setPointerCapture(ev.pointerId); moveStart(ev); });
  canvas.addEventListener("pointermove", (ev) => { if (dragging) moveStart(ev); });
  canvas.addEventListener("pointerup", () => { dragging = false; });
  $("function").addEventListener("input", () => {
    state.function = $("function").value;
    $("landscape").value = [...$("landscape").options].some((o) => o.value === state.function) ? state.function : "";
    clearTimeout(formulaTimer);
    formulaTimer = setTimeout(() => loadLandscape(false), 120);
  });
  $("landscape").addEventListener("change", () => {
    if (!$("landscape").value) return;
    state.function = $("function").value = $("landscape").value;
    loadLandscape(true);
  });
  $("steps").addEventListener("change", () => { state.steps = Number($("steps").value); changed(); });
  $("add").addEventListener("click", () => {
    state.optimizers.push({ name: $("add-name").value, values: {} });
    renderOptimizers(); changed();
  });
  $("step").addEventListener("input", () => { step = Number($("step").value); draw(); });
  $("play").addEventListener("click", () => {
    if (playing) { clearInterval(playing); playing = null; $("play").textContent = "Play"; $("play").setAttribute("aria-pressed", "false"); return; }
    const max = Number($("step").max);
    if (step >= max) step = 0;
    $("play").textContent = "Pause"; $("play").setAttribute("aria-pressed", "true");
    const stride = Math.max(1, Math.ceil(max / 150));
    playing = setInterval(() => {
      step = Math.min(Number($("step").max), step + stride);
      $("step").value = step; draw();
      if (step >= Number($("step").max)) $("play").click();
    }, 40);
  });
  $("tune").addEventListener("click", async () => {
    $("tune").disabled = true; $("tune-status").textContent = "searching…";
    try {
      const job = await api("POST", "/api/tune", request());
      let s;
      do {
        await new Promise((r) => setTimeout(r, 150));
        s = await api("GET", "/api/tune/" + job.id);
        $("tune-progress").max = s.total; $("tune-progress").value = s.done;
      } while (!s.finished);
      if (s.error) throw new Error(s.error);
      s.results.forEach((t, i) => { if (state.optimizers[i]) state.optimizers[i].values[t.key] = String(t.lr); });
      $("tune-status").textContent = "tuned";
      renderOptimizers(); changed();
    } catch (e) {
      $("tune-status").textContent = e.message;
    }
    $("tune").disabled = false;
  });
  for (const format of ["png", "svg", "gif", "csv"]) {
    $("export-" + format).addEventListener("click", async () => {
      try {
        const blob = await api("POST", "/api/export/" + format, request());
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = format === "csv" ? "trajectories.csv" : format === "gif" ? "compare.gif" : "overlay." + format;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      } catch (e) {
        $("status").textContent = e.message; $("status").className = "error";
      }
    });
  }

  // ---- start ----
  (async function init() {
    readUrl();
    const [landscapes, optimizers] = await Promise.all([
      api("GET", "/api/landscapes"), api("GET", "/api/optimizers")]);
    const select = $("landscape");
    select.add(new Option("(formula)", ""));
    for (const l of landscapes.landscapes) select.add(new Option(l.name + ": " + l.formula, l.name));
    for (const o of optimizers.optimizers) {
      if (!(o.name in pg.catalogue)) {
        pg.catalogue[o.name] = o;
        $("add-name").add(new Option(o.name + " (" + o.convention + ")", o.name));
      }
    }
    $("function").value = state.function;
    select.value = landscapes.landscapes.some((l) => l.name === state.function) ? state.function : "";
    renderOptimizers();
    await loadLandscape(false);
  })();
})();
