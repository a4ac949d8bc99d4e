// The browser player (docs/portal.md, "Player and license"). It obtains a
// license for the package, fetches the sealed chunks by Range, decrypts
// each with WebCrypto (AES-256-GCM, the STREAM nonce of
// docs/package-format.md §6) and feeds the fragmented MP4 to a Media Source
// Extensions SourceBuffer. The payload key is unwrapped straight into a
// non-extractable CryptoKey: no script on this page can read its bytes, and
// the decrypted video exists only inside the SourceBuffer.
'use strict';
(() => {
  const root = document.getElementById('player');
  if (!root) return;
  const video = document.getElementById('video');
  const stage = document.getElementById('stage');
  const status = document.getElementById('player-status');
  const id = root.dataset.package;
  const enc = new TextEncoder();

  const chunksPerFetch = 16;  // 1 MiB of video a request
  const ahead = 60;           // seconds buffered ahead of playback before fetching pauses
  const behind = 30;          // seconds kept behind playback; older is evicted (SourceBuffer quota)

  const say = (text, isError) => { status.textContent = text; status.classList.toggle('error', !!isError); };
  const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const toB64 = (b) => btoa(String.fromCharCode(...b));
  const fail = (message) => { const e = new Error(message); e.shown = true; return e; };

  // ---- The license: an ECDH key pair of the page's, never extractable.
  async function obtainLicense() {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveKey']);
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const resp = await fetch(`/packages/${id}/license`, {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': root.dataset.csrf },
      body: JSON.stringify({ public_key: toB64(pub) }),
    });
    const lic = await resp.json().catch(() => ({}));
    if (!resp.ok) throw fail(lic.message || root.dataset.failed);
    const server = await crypto.subtle.importKey('raw', fromB64(lic.server_key), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    // ECDH straight into an HKDF base key: the shared secret never
    // reaches script as bytes (deriveBits would hand it over).
    const base = await crypto.subtle.deriveKey({ name: 'ECDH', public: server }, pair.privateKey, { name: 'HKDF' }, false, ['deriveKey']);
    const info = enc.encode(lic.info);
    const kek = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: fromB64(lic.salt), info }, base,
      { name: 'AES-GCM', length: 256 }, false, ['unwrapKey']);
    const key = await crypto.subtle.unwrapKey('raw', fromB64(lic.wrapped_key), kek, { name: 'AES-GCM', iv: fromB64(lic.iv), additionalData: info },
      { name: 'AES-GCM' }, false, ['decrypt']);
    return { lic, key };
  }

  // ---- The sealed chunks (docs/package-format.md §6).
  function nonce(i, last) {
    const n = new Uint8Array(12);
    for (let b = 10, v = i; b >= 0 && v > 0; b--, v = Math.floor(v / 256)) n[b] = v % 256;
    n[11] = last ? 1 : 0;
    return n;
  }

  function makeReader(lic, key) {
    const plainLen = (i) => (i < lic.chunks - 1 ? lic.chunk_size : lic.payload_size - i * lic.chunk_size);
    const sealedAt = (i) => lic.payload_offset + i * (lic.chunk_size + 16);
    // read fetches and decrypts chunks first…first+count-1 in one Range.
    return async function read(first, count) {
      const last = Math.min(first + count, lic.chunks) - 1;
      const start = sealedAt(first);
      const end = sealedAt(last) + plainLen(last) + 16; // exclusive
      const resp = await fetch(`/packages/${id}/media`, { credentials: 'same-origin', cache: 'no-store', headers: { Range: `bytes=${start}-${end - 1}` } });
      if (resp.status !== 206) throw fail(root.dataset.failed);
      const sealed = new Uint8Array(await resp.arrayBuffer());
      if (sealed.length !== end - start) throw fail(root.dataset.failed);
      const parts = [];
      for (let i = first; i <= last; i++) {
        const at = sealedAt(i) - start;
        parts.push(crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(i, i === lic.chunks - 1) }, key, sealed.subarray(at, at + plainLen(i) + 16)));
      }
      return concat((await Promise.all(parts)).map((b) => new Uint8Array(b)));
    };
  }

  function concat(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  // ---- Fragmented MP4: top-level boxes, the codecs, fragment times.
  const u32 = (b, at) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
  const u64 = (b, at) => u32(b, at) * 2 ** 32 + u32(b, at + 4);
  const fourcc = (b, at) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  const hex2 = (v) => v.toString(16).padStart(2, '0');

  // boxes lists the (first limit) whole boxes in b[start, end): {type,
  // at (where its content starts), end}.
  function boxes(b, start, end, limit = Infinity) {
    const out = [];
    for (let at = start; at + 8 <= end && out.length < limit;) {
      let size = u32(b, at), head = 8;
      if (size === 1) {
        if (at + 16 > end) break;
        size = u64(b, at + 8); head = 16;
      } else if (size === 0) size = end - at;
      if (size < head || at + size > end) break;
      out.push({ type: fourcc(b, at + 4), at: at + head, end: at + size });
      at += size;
    }
    return out;
  }
  const firstBox = (b) => boxes(b, 0, b.length, 1)[0];
  const child = (b, box, type) => boxes(b, box.at, box.end).find((x) => x.type === type);
  const path = (b, box, ...types) => types.reduce((x, t) => x && child(b, x, t), box);

  // describe reads the moov: the codecs string for MediaSource, the video
  // track's timescale, and the duration when the muxer wrote one.
  function describe(b, moov) {
    const codecs = [];
    let timescale = 0, track = 0;
    for (const trak of boxes(b, moov.at, moov.end).filter((x) => x.type === 'trak')) {
      const mdhd = path(b, trak, 'mdia', 'mdhd');
      const stsd = path(b, trak, 'mdia', 'minf', 'stbl', 'stsd');
      if (!mdhd || !stsd) continue;
      const entry = boxes(b, stsd.at + 8, stsd.end)[0];
      if (!entry) continue;
      if (entry.type === 'avc1' || entry.type === 'avc3') {
        const avcC = boxes(b, entry.at + 78, entry.end).find((x) => x.type === 'avcC');
        if (!avcC) continue;
        codecs.push(`${entry.type}.${hex2(b[avcC.at + 1])}${hex2(b[avcC.at + 2])}${hex2(b[avcC.at + 3])}`);
        if (!timescale) {
          timescale = u32(b, mdhd.at + (b[mdhd.at] === 1 ? 20 : 12));
          const tkhd = child(b, trak, 'tkhd');
          if (tkhd) track = u32(b, tkhd.at + (b[tkhd.at] === 1 ? 20 : 12));
        }
      } else if (entry.type === 'mp4a') {
        codecs.push('mp4a.40.2');
      } else {
        codecs.push(entry.type); // not playable here: isTypeSupported says so
      }
    }
    let duration = 0;
    const mvhd = child(b, moov, 'mvhd');
    const mehd = path(b, moov, 'mvex', 'mehd');
    if (mvhd) {
      const v1 = b[mvhd.at] === 1;
      const scale = u32(b, mvhd.at + (v1 ? 20 : 12));
      let d = v1 ? u64(b, mvhd.at + 24) : u32(b, mvhd.at + 16);
      if (!d && mehd) d = b[mehd.at] === 1 ? u64(b, mehd.at + 4) : u32(b, mehd.at + 4);
      if (scale && d) duration = d / scale;
    }
    return { type: `video/mp4; codecs="${codecs.join(', ')}"`, timescale, track, duration };
  }

  // readIndex fetches the fragment index FFmpeg writes at the end of a
  // seekable MP4 (mfra, found through the mfro box that ends the file):
  // with it a seek goes straight to its fragment. null when there is none.
  async function readIndex(read, lic) {
    let first = lic.chunks - 1;
    let tail = await read(first, 1);
    if (tail.length < 16 && first > 0) tail = concat([await read(--first, 1), tail]);
    if (tail.length < 16 || fourcc(tail, tail.length - 12) !== 'mfro') return null;
    const size = u32(tail, tail.length - 4);
    if (size < 16 || size > Math.min(lic.payload_size, 16 << 20)) return null;
    while (tail.length < size && first > 0) {
      const n = Math.min(first, chunksPerFetch);
      first -= n;
      tail = concat([await read(first, n), tail]);
    }
    const mfra = tail.subarray(tail.length - size);
    return mfra.length === size && fourcc(mfra, 4) === 'mfra' ? mfra : null;
  }

  // fragments lists the video track's {time, offset} from an mfra's tfra.
  function fragments(mfra, info) {
    const out = [];
    for (const tfra of boxes(mfra, 8, mfra.length).filter((x) => x.type === 'tfra')) {
      if (tfra.end - tfra.at < 16 || (info.track && u32(mfra, tfra.at + 4) !== info.track)) continue;
      const v1 = mfra[tfra.at] === 1, sizes = u32(mfra, tfra.at + 8), n = u32(mfra, tfra.at + 12);
      const step = (v1 ? 16 : 8) + ((sizes >> 4) & 3) + ((sizes >> 2) & 3) + (sizes & 3) + 3;
      for (let i = 0, at = tfra.at + 16; i < n && at + step <= tfra.end; i++, at += step) {
        const time = v1 ? u64(mfra, at) : u32(mfra, at), offset = v1 ? u64(mfra, at + 8) : u32(mfra, at + 4);
        out.push({ time: time / info.timescale, offset });
      }
      break;
    }
    return out;
  }

  // fragmentTime is a moof's start in seconds (its first traf's tfdt).
  function fragmentTime(b, moof, timescale) {
    const tfdt = path(b, moof, 'traf', 'tfdt');
    if (!tfdt || !timescale) return NaN;
    return (b[tfdt.at] === 1 ? u64(b, tfdt.at + 4) : u32(b, tfdt.at + 4)) / timescale;
  }

  // ---- Media Source: append in order, evict behind playback.
  function sourceBuffer(ms, type) {
    const sb = ms.addSourceBuffer(type);
    const run = (op) => new Promise((resolve, reject) => {
      const done = () => { sb.removeEventListener('updateend', done); sb.removeEventListener('error', bad); resolve(); };
      const bad = () => { sb.removeEventListener('updateend', done); sb.removeEventListener('error', bad); reject(fail(root.dataset.failed)); };
      sb.addEventListener('updateend', done);
      sb.addEventListener('error', bad);
      try { op(); } catch (e) { sb.removeEventListener('updateend', done); sb.removeEventListener('error', bad); reject(e); }
    });
    // evict drops what lies far from playback: behind it, and beyond
    // twice the read-ahead (left there by a seek back).
    const evict = async () => {
      const t = video.currentTime, b = sb.buffered;
      if (!b.length) return;
      if (b.start(0) < t - behind - 1) await run(() => sb.remove(0, t - behind));
      const end = sb.buffered.length ? sb.buffered.end(sb.buffered.length - 1) : 0;
      if (end > t + 2 * ahead + 1) await run(() => sb.remove(t + 2 * ahead, end));
    };
    return {
      sb,
      async append(bytes) {
        await evict();
        for (let tries = 0; ; tries++) {
          try { await run(() => sb.appendBuffer(bytes)); return; } catch (e) {
            if (e.name !== 'QuotaExceededError' || tries > 20) throw e;
            await evict();
            await sleep(500); // playback moves on and frees more
          }
        }
      },
      run,
    };
  }

  let wakeUp = () => {};
  const sleep = (ms) => new Promise((resolve) => { const t = setTimeout(resolve, ms); wakeUp = () => { clearTimeout(t); resolve(); }; });
  const bufferedAhead = () => {
    const b = video.buffered, t = video.currentTime;
    for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.5 && t < b.end(i)) return b.end(i) - t;
    return 0;
  };
  const isBuffered = (t) => {
    const b = video.buffered;
    for (let i = 0; i < b.length; i++) if (b.start(i) <= t && t < b.end(i) - 0.1) return true;
    return false;
  };

  async function play() {
    say(root.dataset.loading);
    if (!window.MediaSource || !crypto.subtle) throw fail(root.dataset.unsupported);
    const { lic, key } = await obtainLicense();
    root.keyFacts = async () => ({ // for the page's own check: what the key is, never its bytes
      type: key.type, algorithm: key.algorithm.name, extractable: key.extractable, usages: key.usages,
      exportRefused: await crypto.subtle.exportKey('raw', key).then(() => false, () => true),
    });
    const playOf = root.dataset.play.replace('%d', lic.play).replace('%d', lic.max_plays);
    const read = makeReader(lic, key);
    const ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    await new Promise((resolve) => ms.addEventListener('sourceopen', resolve, { once: true }));

    // The stream's state: the plaintext not yet parsed (pending) starts at
    // offset pos; chunk next is fetched next. index maps fragment start
    // times to moof offsets: all of them from the file's mfra when it has
    // one, else each fragment as it goes by.
    let pending = new Uint8Array(0), pos = 0, next = 0, init = [], moof = null, held = null;
    let media = null, info = null, target = -1, generation = 0;
    let skipTo = 0; // after a jump: plaintext before this offset is not parsed
    let index = [], complete = false;
    const mfra = await readIndex(read, lic);

    // jump moves the fetcher to the fragment at offset; what it was
    // fetching or parsing is dropped (generation).
    const jump = (offset) => {
      generation++;
      next = Math.floor(offset / lic.chunk_size);
      pending = new Uint8Array(0); pos = offset; moof = null; held = null; target = -1;
      skipTo = offset;
    };
    video.addEventListener('seeking', () => {
      const t = video.currentTime;
      wakeUp();
      if (!media || isBuffered(t)) return;
      let from = index[0];
      for (const f of index) { if (f.time <= t + 0.01) from = f; else break; }
      const known = from && (complete || index[index.length - 1].time > t);
      if (known && (from.offset < pos || from.offset > pos + (4 << 20))) jump(from.offset);
      else target = t; // just ahead: fetch on, appending from the fragment that holds t
    });

    const appendFragment = async (time, bytes) => {
      // Seeking ahead without a jump: fragments before the target are
      // decrypted and passed over; the one holding the target is appended.
      if (target >= 0) {
        if (held && time <= target) { held = { time, bytes }; return; }
        if (held) await media.append(held.bytes);
        held = null;
        if (time > target) target = -1; else { held = { time, bytes }; return; }
      }
      await media.append(bytes);
    };

    const parse = async (gen) => {
      for (;;) {
        if (gen !== generation) return;
        const box = firstBox(pending);
        if (!box) return;
        const whole = pending.subarray(0, box.end), offset = pos;
        pending = pending.subarray(box.end); pos += box.end;
        if (box.type === 'ftyp' || box.type === 'moov') {
          if (media) continue;
          init.push(whole);
          if (box.type !== 'moov') continue;
          info = describe(whole, { at: 8, end: whole.length });
          if (!info.timescale || !MediaSource.isTypeSupported(info.type)) throw fail(root.dataset.unsupported);
          media = sourceBuffer(ms, info.type);
          if (mfra) {
            index = fragments(mfra, info);
            complete = index.length > 0;
          }
          // Without a duration in the moov (FFmpeg writes none when
          // fragmenting), the index's last fragment gives one to seek in;
          // endOfStream sets the exact one.
          const n = index.length;
          const guess = n > 1 ? index[n - 1].time + (index[n - 1].time - index[n - 2].time) : 0;
          if (info.duration || guess) ms.duration = info.duration || guess;
          await media.append(concat(init));
          init = null;
        } else if (box.type === 'moof') {
          moof = { bytes: whole, offset, time: fragmentTime(whole, { at: 8, end: whole.length }, info ? info.timescale : 0) };
        } else if (box.type === 'mdat' && moof) {
          if (!complete && (!index.length || index[index.length - 1].offset < moof.offset)) index.push({ time: moof.time, offset: moof.offset });
          const fragment = concat([moof.bytes, whole]), time = moof.time;
          moof = null;
          await appendFragment(time, fragment);
        }
      }
    };

    let started = false;
    for (;;) {
      if (next >= lic.chunks) {
        if (!media) throw fail(root.dataset.unsupported); // no moov: not a fragmented MP4
        if (held) { await media.append(held.bytes); held = null; target = -1; }
        if (ms.readyState === 'open' && !media.sb.updating) ms.endOfStream();
        await sleep(1000); // until a seek back into evicted video
        continue;
      }
      if (started && target < 0 && bufferedAhead() > ahead) { await sleep(1000); continue; }
      const gen = generation, first = next;
      const plain = await read(first, chunksPerFetch);
      if (gen !== generation) continue; // a seek moved the fetcher meanwhile
      next = first + chunksPerFetch;
      const startAt = Math.max(0, skipTo - first * lic.chunk_size);
      skipTo = 0;
      pending = concat([pending, plain.subarray(startAt)]);
      if (startAt) pos = first * lic.chunk_size + startAt;
      await parse(gen);
      if (!started && media && video.buffered.length) {
        started = true;
        say(playOf);
        video.play().catch(() => say(`${playOf} · ${root.dataset.pressPlay}`));
      }
    }
  }

  // ---- The overlay moves across the picture; leaving the page pauses
  // and blurs it; no context menu on the picture.
  const overlay = document.getElementById('overlay');
  const clock = document.getElementById('overlay-clock');
  const tick = () => { clock.textContent = new Date().toLocaleString(root.dataset.lang === 'ko' ? 'ko-KR' : 'en-GB'); };
  const move = () => {
    const x = Math.random() * Math.max(0, stage.clientWidth - overlay.offsetWidth);
    const y = Math.random() * Math.max(0, stage.clientHeight - overlay.offsetHeight - 48); // clear of the controls
    overlay.style.left = `${Math.round(x)}px`;
    overlay.style.top = `${Math.round(y)}px`;
  };
  tick(); setInterval(tick, 1000);
  setInterval(move, 4000);
  const conceal = () => { video.pause(); stage.classList.add('concealed'); };
  window.addEventListener('blur', conceal);
  document.addEventListener('visibilitychange', () => { if (document.hidden) conceal(); });
  video.addEventListener('play', () => stage.classList.remove('concealed'));
  stage.addEventListener('contextmenu', (e) => e.preventDefault());
  video.addEventListener('dragstart', (e) => e.preventDefault());

  play().catch((e) => { say(e.shown ? e.message : root.dataset.failed, true); if (!e.shown) console.error(e); });
})();
