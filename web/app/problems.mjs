// Environment problems, explained in words for the banner. Each is {id, level, title, text}
// (level "error" stops the app; "warn" only informs).

const BROWSERS = "a current Chromium-based browser (Chrome, Edge), Firefox 111+ or Safari 17+";

export function pageProblems() {
  const out = [];
  if (!window.isSecureContext) {
    out.push({
      id: "insecure",
      level: "error",
      title: "This page is not a secure context",
      text: "Browsers give the Origin Private File System only to pages served over https:// or " +
        "from localhost / 127.0.0.1. Open the address that `pyodide-opfs serve` prints " +
        `(http://127.0.0.1:PORT/), or serve the app over HTTPS. This page is at ${location.origin}.`,
    });
  }
  if (!window.crossOriginIsolated) {
    out.push({
      id: "not-isolated",
      level: "warn",
      title: "The page is not cross-origin isolated",
      text: "The server did not send `Cross-Origin-Opener-Policy: same-origin` and " +
        "`Cross-Origin-Embedder-Policy: require-corp`, so there is no SharedArrayBuffer. The " +
        "SyncAccessHandle pool this page uses works without it; the async proxy backend and " +
        "Pyodide's interrupt buffer do not. `pyodide-opfs serve` sends both headers.",
    });
  }
  if (typeof Worker !== "function") {
    out.push({
      id: "no-worker",
      level: "error",
      title: "This browser has no Web Workers",
      text: `Python runs in a dedicated Web Worker here. Use ${BROWSERS}.`,
    });
  } else if (window.isSecureContext && !navigator.storage?.getDirectory) {
    out.push({
      id: "no-opfs",
      level: "error",
      title: "This browser has no Origin Private File System",
      text: "navigator.storage.getDirectory is missing (old browser, or a private window that " +
        `disables it). Use ${BROWSERS}, outside private browsing.`,
    });
  }
  return out;
}

export function workerProblems(facts) {
  const out = [];
  if (facts.secureContext && facts.opfs && !facts.syncAccessHandle) {
    out.push({
      id: "no-sah",
      level: "error",
      title: "This browser cannot do synchronous file access in workers",
      text: "It has OPFS but not FileSystemFileHandle.createSyncAccessHandle in dedicated " +
        "workers, which Python's synchronous open()/read()/write() need here. " +
        `Use ${BROWSERS}.`,
    });
  }
  return out;
}

/** A problem for a boot failure of the worker (err.kind from worker.mjs or the client). */
export function bootProblem(err) {
  const detail = err.message;
  switch (err.kind) {
    case "no-wheel":
      return {
        id: "no-wheel", level: "error", title: "No pyodide-opfs wheel to install", detail,
        text: "The page looks for /wheels/latest.json, which `pyodide-opfs serve` writes when it " +
          "builds the wheel. Start the server with `pyodide-opfs serve` (or `./dev serve`), or " +
          "open this page with ?wheel=/wheels/<file>.whl.",
      };
    case "pyodide-missing":
      return {
        id: "no-pyodide", level: "error", title: "Pyodide could not be loaded", detail,
        text: "The server has no Pyodide at /pyodide/. Run `./dev setup` in the repository " +
          "(it downloads Pyodide into .cache/npm), then `pyodide-opfs serve` again.",
      };
    case "micropip":
    case "wheel":
      return {
        id: "install", level: "error", title: "Installing the Python package failed", detail,
        text: "micropip or the pyodide-opfs wheel could not be installed from /wheels/. Run " +
          "`./dev setup`, then restart `pyodide-opfs serve` (it rebuilds the wheel).",
      };
    case "worker-start":
      return {
        id: "worker-start", level: "error", title: "The Python worker could not start", detail,
        text: "Pyodide needs a module worker (new Worker(url, {type: \"module\"})). This browser " +
          `may not support them, or the worker script failed to load. Use ${BROWSERS}.`,
      };
    default:
      return {
        id: "boot", level: "error", title: "The Python worker stopped", detail,
        text: "Starting Python failed. Reload the page; the details below may say why.",
      };
  }
}

/** A problem for a failed mount (an OpError from the worker). */
export function mountProblem(err) {
  const detail = err.message;
  switch (err.errorType) {
    case "PoolBusyError":
      return {
        id: "busy", level: "error", title: "Another tab is using this storage", detail, retry: true,
        text: "Only one tab or worker at a time can hold the storage of this site (OPFS " +
          "SyncAccessHandles are exclusive). Close the other tab of this app, or click " +
          "“Release to other tabs” there, then retry.",
      };
    case "UnsupportedEnvironmentError":
      return {
        id: "unsupported", level: "error", title: "This environment cannot host the storage", detail,
        text: `pyodide-opfs refused to mount: ${detail}`,
      };
    default:
      return {
        id: "mount", level: "error", title: "Mounting the storage failed", detail, retry: true,
        text: `${err.errorType}: ${detail}`,
      };
  }
}
