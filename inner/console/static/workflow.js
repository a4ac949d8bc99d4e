// The export workflow's pages: the camera name checked as it is typed, the
// resumable footage upload, and live stages over server-sent events.
"use strict";
(function () {
  const csrf = () => document.querySelector('input[name="_csrf"]').value;
  const msg = (el, key) => { el.textContent = el.dataset[key] || ""; };

  // Camera name: free among cameras in service?
  const name = document.getElementById("camera-name");
  if (name) {
    const out = document.getElementById("camera-name-check");
    let timer;
    name.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (!name.value.trim()) { out.textContent = ""; return; }
        const r = await fetch("/cameras/name-free?name=" + encodeURIComponent(name.value), { credentials: "same-origin" });
        if (!r.ok) return;
        const free = (await r.json()).free;
        out.className = free ? "hint ok" : "hint error";
        msg(out, free ? "free" : "taken");
      }, 250);
    });
  }

  // Footage upload in chunks at the server's offset: a broken connection
  // resumes where the server says it stopped.
  const form = document.getElementById("upload-form");
  if (form) {
    const bar = document.getElementById("upload-progress");
    const status = document.getElementById("upload-status");
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    async function offsetOf(id) {
      const r = await fetch("/uploads/" + id, { credentials: "same-origin" });
      if (!r.ok) throw new Error("upload lost: " + r.status);
      return (await r.json()).offset;
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const file = document.getElementById("upload-file").files[0];
      if (!file) return;
      const chunk = Number(form.dataset.chunk);
      form.querySelector("button").disabled = true;
      const headers = { "X-CSRF-Token": csrf() };
      try {
        let r = await fetch("/uploads", { method: "POST", headers, credentials: "same-origin" });
        if (!r.ok) throw new Error(await r.text());
        const id = (await r.json()).id;
        let offset = 0, failures = 0;
        while (offset < file.size) {
          try {
            r = await fetch("/uploads/" + id, { method: "PUT", credentials: "same-origin",
              headers: { ...headers, "Upload-Offset": String(offset), "Content-Type": "application/octet-stream" },
              body: file.slice(offset, offset + chunk) });
            if (r.status === 409) { offset = (await r.json()).offset; continue; }
            if (!r.ok) throw new Error(await r.text());
            offset = (await r.json()).offset;
            failures = 0;
          } catch (err) {
            // The connection broke: ask where the server stands, and go on.
            if (++failures > 30) throw err;
            msg(status, "resuming");
            await sleep(Math.min(1000 * failures, 5000));
            try { offset = await offsetOf(id); } catch (_) { /* still offline */ }
            continue;
          }
          bar.value = offset / file.size;
          msg(status, "sending");
        }
        msg(status, "checking");
        const body = new URLSearchParams({ _csrf: csrf(), camera: form.camera.value, upload: id, name: file.name });
        r = await fetch("/footage", { method: "POST", body, credentials: "same-origin" });
        if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || r.statusText);
        location.assign((await r.json()).location);
      } catch (err) {
        status.className = "hint error";
        status.textContent = (status.dataset.failed || "") + " " + err.message;
        form.querySelector("button").disabled = false;
      }
    });
  }

  // The hand-over slip prints from its page.
  const print = document.getElementById("print");
  if (print) print.addEventListener("click", () => window.print());

  // Live stages: the rows of an export (or of every export on the list).
  const followed = document.querySelector("[data-live]");
  if (followed && window.EventSource) {
    const src = new EventSource("/exports/" + followed.dataset.live + "/events");
    src.onmessage = (ev) => {
      const x = JSON.parse(ev.data);
      const row = document.querySelector('[data-export="' + x.id + '"]');
      if (!row) return;
      const state = row.querySelector("[data-state]");
      if (state && state.dataset.state !== x.state) {
        // A state that asks someone to act (release, hand over) brings
        // its form: the page is drawn again.
        if ((followed.dataset.actOn || "").split(" ").includes(x.state)) location.reload();
        state.dataset.state = x.state;
        state.textContent = (followed.dataset["s_" + x.state] || x.state);
      }
      for (const s of x.stages) {
        const cell = row.querySelector('[data-stage="' + s.stage + '"]');
        if (!cell) continue;
        cell.dataset.stageState = s.state;
        let text = followed.dataset["t_" + s.state] || s.state;
        if (s.state === "running") text += " " + Math.floor(s.progress * 100) + "%" + (s.fps ? " · " + s.fps.toFixed(1) + " fps" : "");
        if (s.error) text += " — " + s.error;
        cell.textContent = text;
      }
      const pkg = row.querySelector("[data-package]");
      if (pkg && x.package_sha256) pkg.textContent = x.package_sha256;
      const err = row.querySelector("[data-error]");
      if (err) err.textContent = x.error || "";
    };
  }
})();
