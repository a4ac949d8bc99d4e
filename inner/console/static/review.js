// The mask review editor (templates/review.html). Frames come one at a time
// as JPEG from the console (decoded by a worker process, never the whole
// video); boxes come per window of frames; every edit is sent to the console,
// which keeps the draft plan until it is saved.
(() => {
  'use strict';
  const ed = document.getElementById('editor');
  if (!ed) return;
  if (ed.dataset.state === 'analysing') {
    setTimeout(() => location.reload(), 2000);
    return;
  }
  if (ed.dataset.state !== 'ready') return;

  const base = '/reviews/' + ed.dataset.id;
  const L = JSON.parse(document.getElementById('labels').textContent);
  const csrf = document.getElementById('csrf').value;
  const $ = (id) => document.getElementById(id);
  const canvas = $('view'), g = canvas.getContext('2d');
  const scrub = $('scrub'), pos = $('pos'), preview = $('preview'), status = $('status');
  const tbody = document.querySelector('#tracks tbody');

  const HANDLE = 10; // the resize handle's size on the canvas
  let clip = null, tracks = [], frame = 0, edited = false;
  let img = null, want = -1, loading = false, version = 0;
  let boxes = new Map(), win = [0, 0], boxesVersion = -1;
  let drag = null, drawn = null;
  // sel is the selected manual track; adjust is its box on this frame while
  // the reviewer moves or resizes it.
  let sel = null, adjust = null;

  const say = (msg, bad) => { status.textContent = msg; status.className = bad ? 'error' : ''; };

  async function api(method, path, body) {
    const init = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(base + path, init);
    if (!r.ok) {
      const text = await r.text();
      let msg = text;
      try { msg = JSON.parse(text).message || text; } catch (_) { /* not JSON */ }
      throw new Error(r.status + ': ' + msg.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200));
    }
    return r.status === 204 ? null : r.json();
  }

  function time(s) {
    const m = Math.floor(s / 60), sec = (s - 60 * m).toFixed(2).padStart(5, '0');
    return m + ':' + sec;
  }

  // --- frames ---
  function show(n) {
    frame = Math.max(0, Math.min(clip.frames - 1, n | 0));
    scrub.value = frame;
    pos.textContent = `${L['frame']} ${frame + 1} / ${clip.frames} · ${time(clip.times[frame])}`;
    want = frame;
    pump();
    loadBoxes();
    draw();
  }

  // pump loads the latest wanted frame, one request at a time, so scrubbing
  // never queues up frames nobody looks at any more.
  function pump() {
    if (loading || want < 0) return;
    const n = want, v = version, masked = preview.checked;
    loading = true;
    const im = new Image();
    im.onload = () => {
      loading = false;
      img = { im, n };
      if (canvas.width !== im.naturalWidth || canvas.height !== im.naturalHeight) {
        canvas.width = im.naturalWidth;
        canvas.height = im.naturalHeight;
      }
      draw();
      if (n === want && v === version && masked === preview.checked) {
        want = -1;
        canvas.dataset.frame = n;
        canvas.dataset.masked = masked ? '1' : '0';
      }
      pump();
    };
    im.onerror = () => { loading = false; want = -1; say(L['frame'] + ' ' + (n + 1) + ': ?', true); };
    im.src = `${base}/frame?n=${n}&masked=${masked ? 1 : 0}&v=${v}`;
  }

  async function loadBoxes(force) {
    if (!force && boxesVersion === version && frame >= win[0] + 30 && frame < win[1] - 30) return;
    const from = Math.max(0, frame - 150), to = Math.min(clip.frames, frame + 450);
    const v = version;
    const list = await api('GET', `/boxes?from=${from}&to=${to}`);
    const m = new Map();
    for (const b of list) {
      if (!m.has(b.f)) m.set(b.f, []);
      m.get(b.f).push(b);
    }
    boxes = m; win = [from, to]; boxesVersion = v;
    draw();
  }

  function draw() {
    if (!img) return;
    g.drawImage(img.im, 0, 0);
    const k = canvas.width / clip.width;
    const byID = new Map(tracks.map((t) => [t.id, t]));
    g.lineWidth = 2;
    g.font = '14px sans-serif';
    for (const b of boxes.get(frame) || []) {
      const t = byID.get(b.t);
      if (!t) continue;
      const r = adjust && t.id === sel ? adjust : b;
      g.setLineDash(t.excluded ? [6, 4] : []);
      g.strokeStyle = t.excluded ? '#ff5050' : (t.source === 'manual' ? '#30d070' : '#ffd000');
      g.lineWidth = t.id === sel ? 4 : 2;
      g.strokeRect(r.x * k, r.y * k, r.w * k, r.h * k);
      g.fillStyle = g.strokeStyle;
      g.fillText('#' + t.id, r.x * k + 2, Math.max(14, r.y * k - 4));
      if (t.id === sel) g.fillRect((r.x + r.w) * k - HANDLE, (r.y + r.h) * k - HANDLE, HANDLE, HANDLE);
    }
    g.setLineDash([]);
    g.lineWidth = 2;
    const r = drag || drawn;
    if (r) {
      g.strokeStyle = '#40c0ff';
      g.strokeRect(r.x * k, r.y * k, r.w * k, r.h * k);
    }
  }

  // --- drawing a box ---
  function point(e) {
    const rect = canvas.getBoundingClientRect();
    const k = clip.width / rect.width;
    return { x: Math.max(0, Math.min(clip.width, (e.clientX - rect.left) * k)), y: Math.max(0, Math.min(clip.height, (e.clientY - rect.top) * k)) };
  }
  // hit finds the manual track's box under p on this frame, and whether p
  // is on its resize handle (the bottom-right corner).
  function hit(p) {
    const k = canvas.width / clip.width;
    const manual = new Set(tracks.filter((t) => t.source === 'manual').map((t) => t.id));
    for (const b of (boxes.get(frame) || []).slice().reverse()) {
      if (!manual.has(b.t)) continue;
      const corner = Math.abs((b.x + b.w - p.x) * k) <= HANDLE && Math.abs((b.y + b.h - p.y) * k) <= HANDLE;
      if (corner || (p.x >= b.x && p.x < b.x + b.w && p.y >= b.y && p.y < b.y + b.h)) return { b, corner };
    }
    return null;
  }
  function select(id) {
    sel = id;
    $('edit-row').hidden = sel === null;
    if (sel !== null) $('selected').textContent = L['msg.selected'].replace('%s', sel);
    draw();
  }
  canvas.addEventListener('mousedown', (e) => {
    const p = point(e);
    const h = hit(p);
    if (h) {
      select(h.b.t);
      drawn = null;
      adjust = { x: h.b.x, y: h.b.y, w: h.b.w, h: h.b.h, from: p, orig: h.b, corner: h.corner, f: frame };
      return;
    }
    select(null);
    drag = { x0: p.x, y0: p.y, x: p.x, y: p.y, w: 0, h: 0 };
  });
  canvas.addEventListener('mousemove', (e) => {
    const p = point(e);
    if (adjust) {
      const o = adjust.orig, dx = p.x - adjust.from.x, dy = p.y - adjust.from.y;
      if (adjust.corner) {
        adjust.w = Math.max(8, Math.min(clip.width - o.x, o.w + dx));
        adjust.h = Math.max(8, Math.min(clip.height - o.y, o.h + dy));
      } else {
        adjust.x = Math.max(0, Math.min(clip.width - o.w, o.x + dx));
        adjust.y = Math.max(0, Math.min(clip.height - o.h, o.y + dy));
      }
      draw();
      return;
    }
    if (!drag) return;
    Object.assign(drag, { x: Math.min(drag.x0, p.x), y: Math.min(drag.y0, p.y), w: Math.abs(p.x - drag.x0), h: Math.abs(p.y - drag.y0) });
    draw();
  });
  window.addEventListener('mouseup', async () => {
    if (adjust) {
      const a = adjust, o = a.orig;
      const box = { x: Math.round(a.x), y: Math.round(a.y), w: Math.round(a.w), h: Math.round(a.h) };
      if (box.x === o.x && box.y === o.y && box.w === o.w && box.h === o.h) { adjust = null; draw(); return; }
      try {
        const op = (async () => {
          await api('POST', `/tracks/${sel}/box`, { frame: a.f, ...box, seconds: 0 });
          await edited_();
        })();
        settled = op;
        await op;
      } catch (err) { say(err.message, true); }
      adjust = null;
      draw();
      return;
    }
    if (!drag) return;
    drawn = drag.w >= 8 && drag.h >= 8 ? { x: Math.round(drag.x), y: Math.round(drag.y), w: Math.round(drag.w), h: Math.round(drag.h), f: frame } : null;
    drag = null;
    draw();
  });

  // --- edits ---
  // After an edit the tracks, the boxes and the picture are fetched again;
  // settled is that refresh, which an edit that starts from the boxes on
  // screen (re-tracking) waits for, so it never starts from stale ones.
  let settled = Promise.resolve();
  function edited_() {
    version++;
    delete canvas.dataset.frame; // set again once this version is drawn
    settled = (async () => {
      await refresh();
      await loadBoxes(true);
      want = frame;
      pump();
    })();
    return settled;
  }

  $('track').addEventListener('click', async () => {
    if (!drawn) { say(L['msg.draw_first'], true); return; }
    say(L['msg.tracking']);
    try {
      await api('POST', '/tracks', { frame: drawn.f, x: drawn.x, y: drawn.y, w: drawn.w, h: drawn.h, seconds: +$('span').value });
      drawn = null;
      await edited_();
    } catch (e) { say(e.message, true); }
  });

  // The selected track's box on this frame, as the list of boxes has it.
  const selBox = () => (boxes.get(frame) || []).find((b) => b.t === sel);

  $('retrack').addEventListener('click', async () => {
    await settled.catch(() => {});
    const b = selBox();
    if (!b) { say(L['msg.draw_first'], true); return; }
    say(L['msg.tracking']);
    try {
      await api('POST', `/tracks/${sel}/box`, { frame, x: b.x, y: b.y, w: b.w, h: b.h, seconds: +$('span').value });
      await edited_();
    } catch (e) { say(e.message, true); }
  });
  for (const [id, act] of [['cut-before', 'cut_before'], ['cut-after', 'cut_after']]) {
    $(id).addEventListener('click', async () => {
      try {
        await api('POST', `/tracks/${sel}`, { action: act, frame });
        await edited_();
      } catch (e) { say(e.message, true); }
    });
  }

  tbody.addEventListener('click', async (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.go) { show(+b.dataset.go); return; }
    try {
      await api('POST', `/tracks/${b.dataset.track}`, { action: b.dataset.act });
      await edited_();
    } catch (err) { say(err.message, true); }
  });

  $('save').addEventListener('click', async () => {
    try {
      const r = await api('POST', '/save', {});
      await refresh();
      say(L['msg.saved'].replace('%s', r.plan_sha256.slice(0, 16) + '…'));
    } catch (e) { say(e.message, true); }
  });

  // --- the track list ---
  async function refresh() {
    const d = await api('GET', '/data');
    clip = d.clip; tracks = d.tracks; edited = d.edited;
    scrub.max = clip.frames - 1;
    tbody.replaceChildren(...tracks.map(row));
    if (sel !== null && !tracks.some((t) => t.id === sel)) select(null);
    if (edited) say(L['msg.edited']);
    draw();
  }

  function button(label, attrs) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    Object.assign(b.dataset, attrs);
    return b;
  }

  function row(t) {
    const tr = document.createElement('tr');
    tr.id = 'track-' + t.id;
    tr.className = t.excluded ? 'excluded' : '';
    const cells = ['#' + t.id, L['kind.' + t.kind] || t.kind, `${t.first + 1}–${t.last + 1}`,
      t.excluded ? L['status.' + t.reason] || t.reason : L['status.masked']];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    const td = document.createElement('td');
    td.className = 'actions';
    td.append(button(L['act.go'], { go: t.first }));
    if (t.excluded) {
      td.append(button(L['act.mask'], { track: t.id, act: 'mask' }));
    } else {
      td.append(button(L['act.subject'], { track: t.id, act: 'subject' }));
      if (t.source === 'auto') td.append(button(L['act.not_sensitive'], { track: t.id, act: 'not_sensitive' }));
    }
    if (t.source === 'manual') td.append(button(L['act.delete'], { track: t.id, act: 'delete' }));
    tr.append(td);
    return tr;
  }

  // --- navigation ---
  scrub.addEventListener('input', () => show(+scrub.value));
  const second = () => Math.max(1, Math.round(clip.fps || 25));
  $('back').addEventListener('click', () => show(frame - 1));
  $('fwd').addEventListener('click', () => show(frame + 1));
  $('back-s').addEventListener('click', () => show(frame - second()));
  $('fwd-s').addEventListener('click', () => show(frame + second()));
  preview.addEventListener('change', () => { want = frame; pump(); });
  document.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'INPUT' && e.target.type !== 'range' && e.target.type !== 'checkbox') return;
    if (e.key === 'ArrowLeft') { e.preventDefault(); show(frame - (e.shiftKey ? second() : 1)); }
    if (e.key === 'ArrowRight') { e.preventDefault(); show(frame + (e.shiftKey ? second() : 1)); }
  });

  refresh().then(() => show(0)).catch((e) => say(e.message, true));
})();
