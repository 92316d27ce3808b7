// @ts-check
// Assembles the proxy stack (errors, flush policy, proxy client backend, Emscripten FS type),
// starts the proxy worker, mounts, and hands Python a small controller. The same FS glue and
// flush policy as the SAH pool: only the backend differs.

import { ErrnoFactory } from "./errno.mjs";
import { FlushPolicy } from "./flush_policy.mjs";
import { ProxyBackend } from "./proxy_client.mjs";
import { mountFilesystem } from "./emscripten_fs.mjs";
import { bufferBytes } from "./proxy_protocol.mjs";

export class ProxyController {
  /**
   * Start the proxy worker and wait until it serves (or fails, or `timeoutMs` passes).
   * @param {import("./types").FsEnv} env FS and ERRNO_CODES of the Pyodide instance
   * @param {import("./types").ProxyStartOptions} o
   * Rejects with an Error whose name is "UnsupportedEnvironmentError" or "ProxyStartError".
   */
  static async start(env, o) {
    const sab = new SharedArrayBuffer(bufferBytes(o.dataBytes));
    let worker;
    try {
      worker = new Worker(o.workerUrl, { type: "module", name: "pyodide-opfs-proxy" });
    } catch (e) {
      throw named("ProxyStartError", `cannot start the proxy worker from ${o.workerUrl}: ${e?.message ?? e}`);
    }
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(named("ProxyStartError", `the proxy worker (${o.workerUrl}) did not start within ${o.timeoutMs / 1000} s`)),
          o.timeoutMs,
        );
        worker.onmessage = (event) => {
          const msg = event.data;
          clearTimeout(timer);
          if (msg?.type === "ready") resolve();
          else reject(named(msg?.name === "UnsupportedEnvironmentError" ? msg.name : "ProxyStartError", `proxy worker: ${msg?.name}: ${msg?.message}`));
        };
        worker.onerror = (event) => {
          clearTimeout(timer);
          event.preventDefault?.();
          reject(named("ProxyStartError", `the proxy worker (${o.workerUrl}) failed to load: ${event.message || "error event"}`));
        };
        worker.postMessage({
          type: "init", sab, root: o.root, busyTimeout: o.busyTimeoutMs, releaseDelay: o.releaseDelayMs,
        });
      });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    worker.onmessage = null;
    worker.onerror = (event) => console.warn("pyodide_opfs: proxy worker error:", event.message);
    return new ProxyController(env, sab, worker, o);
  }

  constructor(env, sab, worker, o) {
    this.FS = env.FS;
    this.setattrTimestamp = Boolean(env.setattrTimestamp); // see compat.filesystem_env()
    this.worker = worker;
    this.mountpoint = o.mountpoint;
    this.errors = new ErrnoFactory(env.FS, env.ERRNO_CODES);
    this.policy = new FlushPolicy();
    this.backend = new ProxyBackend(sab, this.policy, this.errors, o.timeoutMs);
    this.mounted = false;
  }

  mount() {
    mountFilesystem({
      FS: this.FS, mountpoint: this.mountpoint, backend: this.backend, policy: this.policy,
      errors: this.errors, setattrTimestamp: this.setattrTimestamp,
    });
    this.mounted = true;
  }

  /** Flush everything, close every handle, unmount, stop the proxy. Data stays in OPFS.
   * Returns the first error met (the rest still runs), or null. */
  unmount() {
    /** @type {any} */
    let problem = null;
    const attempt = (fn) => {
      try {
        fn();
      } catch (e) {
        problem ??= e;
      }
    };
    if (!this.backend.broken) {
      attempt(() => this.policy.flushAll());
      attempt(() => this.backend.shutdown());
    }
    if (this.mounted) attempt(() => this.FS.unmount(this.mountpoint));
    this.mounted = false;
    this.worker.terminate();
    // Files Python still has open fail at once from now on (no wait for a proxy that is gone).
    this.backend.broken ||= `the proxy mount at ${this.mountpoint} was unmounted`;
    return problem ? String(problem.message ?? problem) + (this.errors.lastError ? `: ${this.errors.lastError.message}` : "") : null;
  }

  get broken() {
    return this.backend.broken;
  }

  get openFileCount() {
    return this.backend.byId.size - this.backend.closing.size;
  }

  stats() {
    return this.backend.stats();
  }

  rpcStats() {
    return this.backend.rpcStats();
  }

  startTrace() {
    this.backend.trace(true);
  }

  stopTrace() {
    return this.backend.trace(false);
  }

  flushAll() {
    this.policy.flushAll();
  }

  takeLastError() {
    const e = this.errors.lastError;
    this.errors.lastError = null;
    return e;
  }

  // --- for tests of the failure paths ---

  /** Kill the proxy worker without telling the client (a crashed proxy). */
  debugTerminate() {
    this.worker.terminate();
  }

  /** Make the proxy stop answering (a hung proxy). */
  debugHang() {
    this.backend.hang();
  }
}

function named(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}
