// The demo app: a Python editor, a file browser, a storage meter and pool controls, all on the
// OPFS pool that the worker (web/app/worker.mjs) mounts at /data.
//
// Page query parameters: `wheel` (URL of the pyodide-opfs wheel; default: /wheels/latest.json
// names it), and mount options `directory`, `capacity`, `busy_timeout`.

import { WorkerClient } from "./client.mjs";
import { bootProblem, mountProblem, pageProblems, workerProblems } from "./problems.mjs";

const $ = (sel) => document.querySelector(sel);
const params = new URL(location.href).searchParams;

const EXAMPLE = `# Runs in a Web Worker. The current directory is /data: OPFS,
# so what you write here is still there after a reload.
import os, pyodide_opfs

with open("hello.txt", "w") as f:
    f.write("Hello from Python in the browser!\\n")

con = pyodide_opfs.connect("notes.db")  # sqlite3, durable at COMMIT
con.execute("create table if not exists notes(body text)")
con.execute("insert into notes values (?)", ("a note",))
con.commit()
print(con.execute("select count(*) from notes").fetchone()[0], "notes in notes.db")
con.close()

sorted(os.listdir("."))
`;

const state = {
  client: null,
  phase: "booting", // booting | mounting | ready | busy | error
  problems: [],
  files: new Map(), // path -> entry, as last listed
  pool: null,
  visits: null,
  info: {},
};
window.app = state; // for the console and for tests

// --- small helpers ----------------------------------------------------------------------------

function setPhase(phase, text) {
  state.phase = phase;
  document.body.dataset.state = phase;
  if (text !== undefined) $("#status").textContent = text;
  const ready = phase === "ready";
  for (const id of ["#run", "#import", "#refresh", "#add-capacity", "#reduce-capacity", "#pause"]) {
    $(id).disabled = !ready;
  }
}

function formatSize(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

function formatTime(ms) {
  if (!ms) return "–";
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
}

function print(text, cls = "") {
  const out = $("#output");
  const atBottom = out.scrollHeight - out.scrollTop - out.clientHeight < 8;
  out.append(cls ? el("span", { className: cls, textContent: text }) : document.createTextNode(text));
  if (atBottom) out.scrollTop = out.scrollHeight;
}

// --- banner -----------------------------------------------------------------------------------

function addProblem(problem) {
  state.problems = state.problems.filter((p) => p.id !== problem.id).concat(problem);
  renderBanner();
}

function clearProblem(id) {
  state.problems = state.problems.filter((p) => p.id !== id);
  renderBanner();
}

function renderBanner() {
  const banner = $("#banner");
  banner.replaceChildren();
  for (const p of state.problems) {
    const item = el("div", { className: `item ${p.level}` });
    item.dataset.problem = p.id;
    item.append(el("h2", { textContent: (p.level === "warn" ? "Note: " : "") + p.title }));
    // `backticks` in the text mark code.
    item.append(el("p", {}, ...p.text.split("`").map((part, i) => (i % 2 ? el("code", { textContent: part }) : part))));
    if (p.retry) {
      const btn = el("button", { textContent: "Retry", className: "small" });
      btn.addEventListener("click", () => mount());
      item.append(el("p", {}, btn));
    }
    if (p.detail) {
      item.append(el("details", {}, el("summary", { textContent: "Details" }), el("pre", { textContent: p.detail })));
    }
    banner.append(item);
  }
  banner.hidden = state.problems.length === 0;
  banner.classList.toggle("only-warnings", state.problems.every((p) => p.level === "warn"));
}

// --- boot and mount ---------------------------------------------------------------------------

async function resolveWheel() {
  const given = params.get("wheel");
  if (given) return given;
  let response;
  try {
    response = await fetch("/wheels/latest.json", { cache: "no-store" });
  } catch (err) {
    throw Object.assign(new Error(`fetching /wheels/latest.json failed: ${err.message}`), { kind: "no-wheel" });
  }
  if (!response.ok) {
    throw Object.assign(new Error(`/wheels/latest.json: HTTP ${response.status}`), { kind: "no-wheel" });
  }
  const manifest = await response.json();
  if (!manifest.wheel) throw Object.assign(new Error("/wheels/latest.json names no wheel"), { kind: "no-wheel" });
  return manifest.wheel;
}

function mountOptions() {
  const opts = {};
  if (params.get("directory")) opts.directory = params.get("directory");
  if (params.get("capacity")) opts.capacity = Number.parseInt(params.get("capacity"), 10);
  if (params.get("busy_timeout")) opts.busy_timeout = Number.parseFloat(params.get("busy_timeout"));
  return opts;
}

async function boot() {
  $("#editor").value = localStorage.getItem("pyodide-opfs-editor") ?? EXAMPLE;
  for (const p of pageProblems()) addProblem(p);
  if (state.problems.some((p) => p.level === "error")) {
    setPhase("error", "cannot start here");
    return;
  }
  setPhase("booting", "finding the package…");
  let wheel;
  try {
    wheel = await resolveWheel();
  } catch (err) {
    addProblem(bootProblem(err));
    setPhase("error", "no package to install");
    return;
  }
  const url = new URL("/app/worker.mjs", location.href);
  url.searchParams.set("wheel", wheel);
  state.client = new WorkerClient(url.href, {
    onStage: (text) => $("#status").textContent = text,
    onEnv: (facts) => workerProblems(facts).forEach(addProblem),
    onFatal: (err) => {
      addProblem(bootProblem(err));
      setPhase("error", "Python stopped");
    },
  });
  try {
    const { version, bootMs } = await state.client.ready;
    state.info = { version, bootMs };
  } catch {
    return; // onFatal has explained it
  }
  if (state.problems.some((p) => p.level === "error")) {
    setPhase("error", "cannot use storage here");
    return;
  }
  await mount();
}

async function mount() {
  clearProblem("busy");
  clearProblem("mount");
  setPhase("mounting", "mounting OPFS at /data…");
  const slow = setTimeout(() => {
    if (state.phase === "mounting") $("#status").textContent = "waiting for the storage (another tab may hold it)…";
  }, 1200);
  const t0 = performance.now();
  try {
    state.pool = await state.client.call("mount", [mountOptions()]);
  } catch (err) {
    const problem = mountProblem(err);
    addProblem(problem);
    setPhase(problem.id === "busy" ? "busy" : "error", problem.id === "busy" ? "storage busy" : "mount failed");
    return;
  } finally {
    clearTimeout(slow);
  }
  state.info.mountMs = performance.now() - t0;
  try {
    state.visits = await state.client.call("visit");
  } catch (err) {
    print(`could not update the visit counter: ${err.message}\n`, "err");
  }
  renderVisits();
  const { version, bootMs, mountMs } = state.info;
  setPhase("ready", `ready · Pyodide ${version} · boot ${(bootMs / 1000).toFixed(1)} s · mount ${Math.round(mountMs)} ms`);
  await refreshAll();
}

function renderVisits() {
  const v = state.visits;
  if (!v) return;
  $("#visits").textContent = v.count === 1 ? "First visit" : `Visit #${v.count}`;
  $("#visits").title = `Counted in /data/visits.json. First visit ${new Date(v.first).toLocaleString()}`;
}

// --- files ------------------------------------------------------------------------------------

async function refreshFiles() {
  if (state.phase !== "ready") return;
  const { entries, pool } = await state.client.call("listing");
  renderPool(pool);
  const before = state.files;
  state.files = new Map(entries.map((e) => [e.path, e]));
  const body = $("#files tbody");
  body.replaceChildren();
  for (const e of entries) {
    const old = before.get(e.path);
    const row = el("tr", { className: e.kind });
    row.dataset.path = e.path;
    if (before.size && (!old || old.size !== e.size || old.mtime !== e.mtime)) row.classList.add("fresh");
    const actions = el("td", { className: "actions" });
    if (e.kind === "file") {
      const exp = el("button", { className: "link", textContent: "Export", title: `Download ${e.path}` });
      exp.dataset.action = "export";
      exp.addEventListener("click", () => exportFile(e.path));
      actions.append(exp);
    }
    const del = el("button", { className: "link danger", textContent: "Delete" });
    del.dataset.action = "delete";
    del.addEventListener("click", () => deleteEntry(e.path, del));
    actions.append(del);
    row.append(
      el("td", { className: "name", textContent: e.path }),
      el("td", { className: "num", textContent: e.kind === "file" ? formatSize(e.size) : "" }),
      el("td", { className: "when", textContent: formatTime(e.mtime) }),
      actions,
    );
    body.append(row);
  }
  $("#files-empty").hidden = entries.length > 0 || pool?.paused;
  setTimeout(() => body.querySelectorAll("tr.fresh").forEach((r) => r.classList.remove("fresh")), 1500);
}

async function exportFile(path) {
  try {
    const { name, data } = await state.client.call("export", [path]);
    const url = URL.createObjectURL(new Blob([data], { type: "application/octet-stream" }));
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    print(`exported ${path} (${formatSize(data.byteLength)})\n`, "sys");
  } catch (err) {
    reportError(`export ${path}`, err);
  }
}

async function deleteEntry(path, button) {
  if (button.dataset.armed !== "1") {
    // Two clicks instead of a confirm() dialog.
    button.dataset.armed = "1";
    button.textContent = "Sure?";
    setTimeout(() => {
      button.dataset.armed = "";
      button.textContent = "Delete";
    }, 3000);
    return;
  }
  try {
    await state.client.call("delete", [path]);
    print(`deleted ${path}\n`, "sys");
  } catch (err) {
    reportError(`delete ${path}`, err);
  }
  await refreshAll();
}

async function importFile(file) {
  const box = $("#import-progress");
  const bar = $("#import-bar");
  $("#import-name").textContent = `importing ${file.name} (${formatSize(file.size)})`;
  $("#import-pct").textContent = "0%";
  bar.value = 0;
  box.hidden = false;
  const replacing = state.files.has(file.name);
  try {
    const result = await state.client.call("import_file", [file, file.name], {
      onProgress: (done, total) => {
        const frac = total ? done / total : 1;
        bar.value = frac;
        $("#import-pct").textContent = `${Math.floor(frac * 100)}%`;
      },
    });
    bar.value = 1;
    $("#import-pct").textContent = "100%";
    print(`imported ${result.path} (${formatSize(result.size)}, ${result.kind === "database" ? "SQLite database, checked" : "file"})` +
      `${replacing ? ", replacing the old one" : ""}\n`, "sys");
  } catch (err) {
    reportError(`import ${file.name}`, err);
  } finally {
    setTimeout(() => (box.hidden = true), 1200);
    await refreshAll();
  }
}

// --- storage and pool -------------------------------------------------------------------------

function renderPool(pool) {
  if (!pool) return;
  state.pool = pool;
  $("#pool-capacity").textContent = pool.capacity;
  $("#pool-used").textContent = pool.used;
  $("#pool-free").textContent = pool.free;
  const pause = $("#pause");
  pause.textContent = pool.paused ? "Take the storage back" : "Release to other tabs";
  let info = `OPFS directory “${pool.directory}”.`;
  if (pool.paused) info = "Released: another tab can mount the storage now; files here are unavailable until you take it back.";
  if (pool.quarantined) info += ` ${pool.quarantined} pool file(s) quarantined (unreadable, left alone).`;
  $("#pool-info").textContent = info;
}

async function refreshStorage() {
  if (!navigator.storage?.estimate) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
  const frac = quota ? usage / quota : 0;
  $("#meter-fill").style.width = `${Math.min(100, frac * 100).toFixed(2)}%`;
  $("#usage").textContent = `${formatSize(usage)} used of ${formatSize(quota)} available to this site (${(frac * 100).toFixed(frac < 0.01 ? 3 : 1)}%)`;
  $("#persisted").textContent = persisted ? "yes" : "no";
  $("#persisted-note").textContent = persisted ? "" : "(the browser may evict it under storage pressure)";
  $("#persist").hidden = persisted;
}

async function refreshAll() {
  try {
    await Promise.all([refreshFiles(), refreshStorage()]);
  } catch (err) {
    reportError("refresh", err);
  }
}

async function changeCapacity(op) {
  const n = Number.parseInt($("#capacity-n").value, 10);
  if (!(n > 0)) return;
  try {
    if (op === "add") {
      renderPool(await state.client.call("add_capacity", [n]));
      print(`added ${n} pool files\n`, "sys");
    } else {
      const { removed, pool } = await state.client.call("reduce_capacity", [n]);
      renderPool(pool);
      print(`removed ${removed} free pool file(s)${removed < n ? " (files in use are never removed)" : ""}\n`, "sys");
    }
  } catch (err) {
    reportError(`${op} capacity`, err);
  }
  await refreshStorage();
}

async function togglePause() {
  try {
    if (state.pool?.paused) {
      renderPool(await state.client.call("unpause"));
      print("took the storage back\n", "sys");
    } else {
      renderPool(await state.client.call("pause"));
      print("released the storage: another tab can mount it now\n", "sys");
    }
  } catch (err) {
    reportError("pause/unpause", err);
  }
  await refreshFiles();
}

function reportError(what, err) {
  print(`${what} failed: ${err.errorType ? `${err.errorType}: ` : ""}${err.message}\n`, "err");
  if (err.hint) print(`hint: ${err.hint}\n`, "err");
}

// --- editor -----------------------------------------------------------------------------------

async function runEditor() {
  if (state.phase !== "ready" || $("#run").disabled) return;
  const code = $("#editor").value;
  localStorage.setItem("pyodide-opfs-editor", code);
  $("#run").disabled = true;
  $("#run-info").textContent = "running…";
  print(`>>> run (${code.split("\n").length} lines)\n`, "sys");
  try {
    const result = await state.client.call("run", [code], {
      onStdout: (text, stream) => print(text + "\n", stream === "stderr" ? "err" : ""),
    });
    if (result.error) print(result.error, "err");
    else if (result.repr != null) print(result.repr + "\n", "res"); // None arrives as undefined
    $("#run-info").textContent = `${result.error ? "failed" : "done"} in ${Math.round(result.ms)} ms`;
  } catch (err) {
    reportError("run", err);
    $("#run-info").textContent = "";
  } finally {
    $("#run").disabled = state.phase !== "ready";
  }
  await refreshAll();
}

function wireUi() {
  $("#run").addEventListener("click", runEditor);
  $("#editor").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runEditor();
    } else if (e.key === "Tab" && !e.shiftKey) {
      e.preventDefault();
      document.execCommand?.("insertText", false, "    ");
    }
  });
  $("#clear-output").addEventListener("click", () => $("#output").replaceChildren());
  $("#refresh").addEventListener("click", refreshAll);
  $("#import").addEventListener("click", () => $("#import-input").click());
  $("#import-input").addEventListener("change", (e) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (file) importFile(file);
  });
  $("#persist").addEventListener("click", async () => {
    const granted = await navigator.storage.persist();
    print(granted ? "persistent storage granted\n" : "persistent storage not granted (browsers grant it to installed or often-used sites)\n", "sys");
    await refreshStorage();
  });
  $("#add-capacity").addEventListener("click", () => changeCapacity("add"));
  $("#reduce-capacity").addEventListener("click", () => changeCapacity("reduce"));
  $("#pause").addEventListener("click", togglePause);

  // A live view: refresh when idle (the worker answers in order, so never pile up requests).
  setInterval(() => {
    if (state.phase === "ready" && state.client?.busy === 0 && !document.hidden) refreshAll();
  }, 3000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.phase === "ready") refreshAll();
  });
}

wireUi();
boot();
