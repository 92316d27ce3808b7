// Dedicated module worker that boots Pyodide, installs the pyodide-opfs wheel with micropip
// and runs Python code on request.
//
//   new Worker("/worker.mjs?wheel=/wheels/pyodide_opfs-….whl", {type: "module"})
//
// Query parameters: `wheel` (URL of our wheel; optional), `micropip` (URL of micropip's wheel,
// default /wheels/micropip-0.11.1-py3-none-any.whl), `pyodide` (base URL of the Pyodide
// distribution, default /pyodide/; e.g. /pyodide-0.27.8/ for another release).
//
// Messages out:  {type: "ready", version, bootMs} | {type: "error", error}
//                {type: "result", id, ok: true, value, stdout}
//                {type: "result", id, ok: false, error, errorType, stdout}
// Messages in:   {type: "run", id, code, keep?}   (runs one at a time, in arrival order)
//
// The value of the last expression is returned as JSON (Python's json.dumps), so it must be
// JSON-able. With `keep: true` the code runs in one namespace shared by all such runs; otherwise
// in a fresh one. Python's stdout/stderr go to console.log with a "[py]" prefix and are returned
// in `stdout`. Nothing is added to the worker's global scope.

const MICROPIP_DEFAULT = "/wheels/micropip-0.11.1-py3-none-any.whl";
const PYODIDE_DEFAULT = "/pyodide/";

const params = new URL(import.meta.url).searchParams;
const wheelUrl = params.get("wheel");
const micropipUrl = params.get("micropip") || MICROPIP_DEFAULT;
const pyodideBase = new URL(params.get("pyodide") || PYODIDE_DEFAULT, self.location.href).href.replace(/\/?$/, "/");

// Output of the run in progress (null while booting or idle).
let captured = null;

function output(stream) {
  return (line) => {
    console.log(stream === "stderr" ? "[py:err]" : "[py]", line);
    if (captured !== null) captured.push(line);
  };
}

function describe(err) {
  if (err && typeof err === "object") {
    const message = err.message ?? String(err);
    // Python errors: the message is the traceback; a JS stack would only add noise.
    if (err.type !== undefined || err.name === "PythonError") return message;
    return err.stack && !err.stack.includes(message) ? `${message}\n${err.stack}` : (err.stack || message);
  }
  return String(err);
}

function errorType(err) {
  if (err && typeof err === "object") return err.type ?? err.name ?? "Error";
  return typeof err;
}

async function boot() {
  const t0 = performance.now();
  const { loadPyodide } = await import(pyodideBase + "pyodide.mjs");
  const pyodide = await loadPyodide({
    indexURL: pyodideBase,
    stdout: output("stdout"),
    stderr: output("stderr"),
  });

  const loadErrors = [];
  await pyodide.loadPackage(micropipUrl, {
    messageCallback: (m) => console.log("[loadPackage]", m),
    errorCallback: (m) => loadErrors.push(m),
  });
  if (loadErrors.length) {
    throw new Error(`loading micropip from ${micropipUrl} failed: ${loadErrors.join("; ")}`);
  }
  if (wheelUrl) {
    const micropip = pyodide.pyimport("micropip");
    try {
      await micropip.install(new URL(wheelUrl, self.location.href).href);
    } finally {
      micropip.destroy();
    }
  }

  const dict = pyodide.globals.get("dict");
  const dumps = pyodide.pyimport("json").dumps;
  const newNamespace = () => {
    const ns = dict();
    ns.set("__name__", "__main__");
    return ns;
  };
  const kept = newNamespace();
  return { pyodide, dumps, newNamespace, kept, bootMs: performance.now() - t0 };
}

const booted = boot();

booted.then(
  ({ pyodide, bootMs }) => postMessage({ type: "ready", version: pyodide.version, bootMs }),
  (err) => postMessage({ type: "error", error: describe(err) }),
);

async function run(msg) {
  const { pyodide, dumps, newNamespace, kept } = await booted;
  const ns = msg.keep ? kept : newNamespace();
  captured = [];
  let result;
  try {
    result = await pyodide.runPythonAsync(String(msg.code), { globals: ns });
    let json;
    try {
      json = dumps(result);
    } catch (err) {
      err.message = `the value of the last expression is not JSON-serializable:\n${err.message}`;
      throw err;
    }
    const value = json === undefined ? null : JSON.parse(json);
    return { type: "result", id: msg.id, ok: true, value, stdout: captured.join("\n") };
  } catch (err) {
    return {
      type: "result", id: msg.id, ok: false,
      error: describe(err), errorType: errorType(err), stdout: captured.join("\n"),
    };
  } finally {
    captured = null;
    if (result && typeof result.destroy === "function") result.destroy();
    if (!msg.keep) ns.destroy();
  }
}

// Runs are serialised so each one's stdout is its own.
let queue = Promise.resolve();

self.addEventListener("message", (event) => {
  const msg = event.data;
  if (!msg || msg.type !== "run") {
    console.warn("worker.mjs: unknown message", msg);
    return;
  }
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await run(msg);
    } catch (err) {  // boot failed, or a bug above
      reply = { type: "result", id: msg.id, ok: false, error: describe(err), errorType: errorType(err), stdout: "" };
    }
    postMessage(reply);
  });
});
