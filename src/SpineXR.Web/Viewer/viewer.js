// SpineXR viewer: upload a DICOM or PNG to the API, window/level the 16-bit view in the browser, draw the boxes.
// Plain JS and canvas, no build step, no external resources. The page's state is mirrored on <body>
// (data-state: idle | uploading | done | error; data-boxes: boxes drawn) for people and tests alike.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const S = {
    classes: [],          // [{id, name, color}] from /api/v1/models
    enabled: new Set(),   // class ids shown
    threshold: null,      // abnormal threshold from the models' provenance
    pred: null,           // ImagePrediction JSON
    meta: null,           // /api/v1/results/{id}
    raw: null,            // Uint16Array view samples
    maxRaw: 0,
    wc: 0, ww: 1, invert: false, minScore: 0,
    allBoxes: false,      // show the detector's boxes before the decision rule
  };
  // Boxes on display: those the decision rule kept, or all the detector found.
  const shown = () => (S.allBoxes && S.pred.detector_boxes ? S.pred.detector_boxes : S.pred.boxes);
  window.spinexrViewer = S;

  const keyInput = $('apiKey');
  keyInput.value = localStorage.getItem('spinexr.apiKey') || '';
  keyInput.addEventListener('change', () => { localStorage.setItem('spinexr.apiKey', keyInput.value.trim()); loadModels(); });
  const authHeaders = () => (keyInput.value.trim() ? { 'X-Api-Key': keyInput.value.trim() } : {});

  function setState(state, text, isError) {
    document.body.dataset.state = state;
    if (text !== undefined) {
      $('status').textContent = text;
      $('status').classList.toggle('error', !!isError);
    }
  }

  async function problemText(resp) {
    try {
      const p = await resp.json();
      return `${resp.status} ${p.title || resp.statusText}: ${p.detail || ''}`;
    } catch {
      return `${resp.status} ${resp.statusText}`;
    }
  }

  async function getJson(url) {
    const resp = await fetch(url, { headers: authHeaders() });
    if (!resp.ok) throw new Error(await problemText(resp));
    return resp.json();
  }

  async function loadModels() {
    try {
      const m = await getJson('/api/v1/models');
      S.classes = m.classes;
      S.threshold = m.abnormal_threshold;
      S.enabled = new Set(S.classes.map((c) => c.id));
      buildClassToggles();
      if (S.pred) drawOverlay();
      return true;
    } catch (e) {
      setState(document.body.dataset.state, `Models: ${e.message}`, true);
      return false;
    }
  }

  // ---- upload -------------------------------------------------------------------------------------------
  async function upload(file) {
    if (!S.classes.length && !(await loadModels())) return;
    setState('uploading', `Uploading ${file.name} (${(file.size / 1048576).toFixed(1)} MiB)…`);
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const resp = await fetch('/api/v1/predict', { method: 'POST', body: form, headers: authHeaders() });
      if (!resp.ok) throw new Error(await problemText(resp));
      const pred = await resp.json();
      const id = resp.headers.get('X-Result-Id');
      const meta = await getJson(`/api/v1/results/${encodeURIComponent(id)}`);
      const rawResp = await fetch(meta.raw_url, { headers: authHeaders() });
      if (!rawResp.ok) throw new Error(await problemText(rawResp));
      const raw = new Uint16Array(await rawResp.arrayBuffer());
      if (raw.length !== meta.view_width * meta.view_height) throw new Error('raw view has the wrong size');
      show(file.name, pred, meta, raw);
    } catch (e) {
      setState('error', `${file.name}: ${e.message}`, true);
    }
  }

  function show(name, pred, meta, raw) {
    S.pred = pred; S.meta = meta; S.raw = raw;
    let max = 0;
    for (let i = 0; i < raw.length; i++) if (raw[i] > max) max = raw[i];
    S.maxRaw = max;
    S.invert = !!meta.invert;
    $('invert').checked = S.invert;
    const lo = meta.raw_intercept, hi = meta.raw_intercept + meta.raw_slope * max, span = Math.max(1, hi - lo);
    const step = span > 2000 ? 1 : span / 2000;
    Object.assign($('wc'), { min: lo, max: hi, step });
    Object.assign($('ww'), { min: Math.min(1, span / 256), max: span * 2, step });
    resetWindow();

    for (const c of [$('image'), $('overlay')]) { c.width = meta.view_width; c.height = meta.view_height; }
    $('canvasWrap').hidden = false;
    $('drop').classList.add('compact');
    $('hint').hidden = false;
    $('windowing').disabled = false;
    $('filters').disabled = false;

    const v = $('verdict');
    v.hidden = false;
    v.className = 'verdict ' + (pred.verdict === 'abnormal' ? 'abnormal' : 'normal');
    $('verdictText').textContent = pred.verdict === 'abnormal' ? 'Abnormal' : 'Normal';
    $('probText').textContent = `P(abnormal) = ${pred.abnormal_prob.toFixed(3)}` +
      (S.threshold != null ? ` (threshold ${S.threshold.toFixed(3)})` : '');
    const links = $('links');
    links.replaceChildren(link(meta.overlay_url, 'overlay PNG'), link(meta.image_url, 'image PNG'));
    links.hidden = false;
    buildClassToggles();
    renderImage();
    drawOverlay();
    setState('done', `${name}: ${meta.width}×${meta.height}, ${pred.boxes.length} box(es) returned.`);
  }

  // A plain link cannot send X-Api-Key: with a key set, the PNG is fetched with it and opened from a blob: URL.
  function link(href, text) {
    const a = document.createElement('a');
    a.href = href; a.textContent = text; a.target = '_blank';
    a.addEventListener('click', async (e) => {
      if (!keyInput.value.trim()) return;
      e.preventDefault();
      const resp = await fetch(href, { headers: authHeaders() });
      if (!resp.ok) { setState('error', `${text}: HTTP ${resp.status}`, true); return; }
      const url = URL.createObjectURL(await resp.blob());
      window.open(url, '_blank');
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    });
    return a;
  }

  // ---- window / level -----------------------------------------------------------------------------------
  function resetWindow() {
    S.wc = S.meta.window_center; S.ww = S.meta.window_width;
    syncWindowInputs();
  }

  function syncWindowInputs() {
    $('wc').value = S.wc; $('ww').value = S.ww;
    $('wcOut').textContent = fmt(S.wc); $('wwOut').textContent = fmt(S.ww);
  }

  const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

  let pending = false;
  function scheduleImage() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; renderImage(); });
  }

  // DICOM PS3.3 C.11.2.1.2 linear window, through a lookup table over the raw samples.
  function renderImage() {
    const m = S.meta, raw = S.raw;
    if (!m || !raw) return;
    const lut = new Uint8Array(S.maxRaw + 1);
    const c = S.wc - 0.5, w = Math.max(1, S.ww) - 1 || 1;
    for (let s = 0; s <= S.maxRaw; s++) {
      const v = m.raw_intercept + m.raw_slope * s;
      let y = ((v - c) / w + 0.5) * 255;
      y = y < 0 ? 0 : y > 255 ? 255 : y;
      lut[s] = S.invert ? 255 - y : y;
    }
    const ctx = $('image').getContext('2d');
    const img = ctx.createImageData(m.view_width, m.view_height);
    const px = new Uint32Array(img.data.buffer);
    for (let i = 0; i < raw.length; i++) {
      const g = lut[raw[i]];
      px[i] = 0xff000000 | (g << 16) | (g << 8) | g;
    }
    ctx.putImageData(img, 0, 0);
  }

  $('wc').addEventListener('input', (e) => { S.wc = +e.target.value; syncWindowInputs(); scheduleImage(); });
  $('ww').addEventListener('input', (e) => { S.ww = +e.target.value; syncWindowInputs(); scheduleImage(); });
  $('wlReset').addEventListener('click', () => { resetWindow(); scheduleImage(); });
  $('invert').addEventListener('change', (e) => { S.invert = e.target.checked; scheduleImage(); });

  let drag = null;
  $('image').addEventListener('pointerdown', (e) => {
    if (!S.meta) return;
    drag = { x: e.clientX, y: e.clientY, wc: S.wc, ww: S.ww };
    e.target.setPointerCapture(e.pointerId);
  });
  $('image').addEventListener('pointermove', (e) => {
    if (!drag) return;
    const span = (+$('ww').max) / 2, r = e.target.getBoundingClientRect();
    S.ww = Math.max(+$('ww').min, drag.ww + ((e.clientX - drag.x) / r.width) * span);
    S.wc = drag.wc + ((e.clientY - drag.y) / r.height) * span;
    syncWindowInputs();
    scheduleImage();
  });
  $('image').addEventListener('pointerup', () => { drag = null; });
  $('image').addEventListener('dblclick', () => { resetWindow(); scheduleImage(); });

  // ---- findings ----------------------------------------------------------------------------------------
  function buildClassToggles() {
    const box = $('classes');
    box.replaceChildren();
    for (const c of S.classes) {
      const n = S.pred ? shown().filter((b) => b.class_id === c.id).length : 0;
      const label = document.createElement('label');
      const cb = document.createElement('input');
      cb.type = 'checkbox'; cb.checked = S.enabled.has(c.id); cb.dataset.classId = c.id;
      cb.addEventListener('change', () => { cb.checked ? S.enabled.add(c.id) : S.enabled.delete(c.id); drawOverlay(); });
      const sw = document.createElement('span');
      sw.className = 'swatch'; sw.style.background = c.color;
      label.append(cb, sw, ` ${c.name} (${n})`);
      box.append(label);
    }
  }

  $('minScore').addEventListener('input', (e) => {
    S.minScore = +e.target.value;
    $('minScoreOut').textContent = S.minScore.toFixed(2);
    drawOverlay();
  });

  $('allBoxes').addEventListener('change', (e) => { S.allBoxes = e.target.checked; buildClassToggles(); drawOverlay(); });

  function colorOf(id) {
    const c = S.classes.find((k) => k.id === id);
    return c ? c.color : '#ff00ff';
  }

  function drawOverlay() {
    const m = S.meta, p = S.pred;
    if (!m || !p) return;
    const cv = $('overlay'), ctx = cv.getContext('2d');
    ctx.clearRect(0, 0, cv.width, cv.height);
    const s = m.view_width / m.width;
    const visible = shown().filter((b) => b.score >= S.minScore && S.enabled.has(b.class_id));
    const font = Math.max(12, Math.round(Math.max(cv.width, cv.height) / 60));
    ctx.font = `${font}px system-ui, "DejaVu Sans", sans-serif`;
    ctx.lineWidth = Math.max(2, Math.max(cv.width, cv.height) / 400);
    // Lowest scores first so the most confident boxes end on top.
    for (const b of [...visible].sort((a, c) => a.score - c.score)) {
      const [x1, y1, x2, y2] = b.box.map((v) => v * s);
      const color = colorOf(b.class_id);
      ctx.strokeStyle = color;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const label = `${b.class} ${b.score.toFixed(2)}`;
      const tw = ctx.measureText(label).width + 6;
      const ty = y1 - font * 1.2 >= 0 ? y1 - font * 1.2 : y2;
      ctx.fillStyle = color;
      ctx.fillRect(x1, ty, tw, font * 1.2);
      ctx.fillStyle = '#000';
      ctx.fillText(label, x1 + 3, ty + font * 0.95);
    }
    const list = $('boxes');
    list.replaceChildren(...visible.map((b) => {
      const li = document.createElement('li');
      li.dataset.classId = b.class_id;
      const sw = document.createElement('span');
      sw.className = 'swatch'; sw.style.background = colorOf(b.class_id);
      li.append(sw, ` ${b.class} ${b.score.toFixed(2)} [${b.box.map((v) => v.toFixed(0)).join(', ')}]`);
      return li;
    }));
    document.body.dataset.boxes = String(visible.length);
  }

  // ---- file input and drag & drop ------------------------------------------------------------------------
  $('file').addEventListener('change', (e) => { if (e.target.files.length) upload(e.target.files[0]); e.target.value = ''; });
  const drop = $('drop');
  for (const ev of ['dragenter', 'dragover']) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  for (const ev of ['dragleave', 'drop']) drop.addEventListener(ev, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); if (e.dataTransfer.files.length) upload(e.dataTransfer.files[0]); });
  // A file dropped anywhere else must not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  loadModels();
})();
