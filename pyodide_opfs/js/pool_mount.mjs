// @ts-check
// Assembles the SAH pool stack (errors, flush policy, pool backend, Emscripten FS type), mounts
// it, and hands Python a small controller. Python does the async OPFS work (directory, handles)
// and passes the opened handles in; everything here is synchronous.

import { ErrnoFactory } from "./errno.mjs";
import { FlushPolicy } from "./flush_policy.mjs";
import { SAHPoolBackend } from "./sahpool.mjs";
import { mountFilesystem } from "./emscripten_fs.mjs";

/** @typedef {import("./types").PoolMountAPI} PoolMountAPI */
/** @implements {PoolMountAPI} */
export class PoolMount {
  /**
   * @param {import("./types").FsEnv} env FS and ERRNO_CODES of the Pyodide instance
   * @param {import("./types").PoolFile[]} files every opened pool file
   * @param {string} mountpoint absolute path, created if missing; must be an empty directory
   * @param {number} [spareSlots]
   * @param {(() => void) | null} [onLowSpare] called (from a timer, never inside a filesystem call) when a file
   *        creation left fewer than `spareSlots` free slots, or a deleted file's slot holds quota
   *        to give back (see takeRecyclable)
   */
  constructor(env, files, mountpoint, spareSlots = 0, onLowSpare = null) {
    this.FS = env.FS;
    this.setattrTimestamp = Boolean(env.setattrTimestamp);
    this.mountpoint = mountpoint;
    this.errors = new ErrnoFactory(env.FS, env.ERRNO_CODES);
    this.policy = new FlushPolicy();
    this.spareSlots = spareSlots;
    this.onLowSpare = onLowSpare;
    this.refillScheduled = false;
    this.mounted = false;
    this.paused = false;
    this.backend = this.newBackend(files);
  }

  newBackend(files) {
    const backend = new SAHPoolBackend(files, this.policy, this.errors);
    backend.onClaim = () => this.checkSpare();
    backend.onRelease = () => this.scheduleMaintenance();
    return backend;
  }

  checkSpare() {
    if (this.backend.free.length < this.spareSlots) this.scheduleMaintenance();
  }

  /** Call onLowSpare soon: Python refills spare slots and reopens recyclable ones. */
  scheduleMaintenance() {
    if (this.onLowSpare && !this.refillScheduled) {
      this.refillScheduled = true;
      // Python cannot be re-entered from inside a filesystem call: run it after the call returns.
      setTimeout(() => {
        this.refillScheduled = false;
        this.onLowSpare?.();
      }, 0);
    }
  }

  mount() {
    mountFilesystem({
      FS: this.FS, mountpoint: this.mountpoint, backend: this.backend, policy: this.policy,
      errors: this.errors, setattrTimestamp: this.setattrTimestamp,
    });
    this.mounted = true;
  }

  /** Unmount from Emscripten only (its node cache goes with it); handles stay open. */
  detachFromFS() {
    if (this.mounted) this.FS.unmount(this.mountpoint);
    this.mounted = false;
  }

  /** Flush everything, unmount, close every handle. Data stays in OPFS. */
  unmount() {
    this.onLowSpare = null; // Python destroys its callback next; a pending refill must not call it
    try {
      this.backend.detachHandles();
    } finally {
      this.detachFromFS();
    }
  }

  get capacity() {
    return this.backend.capacity;
  }

  get fileCount() {
    return this.backend.fileCount;
  }

  get freeCount() {
    return this.backend.free.length;
  }

  get openFileCount() {
    return this.backend.slots.reduce((n, s) => n + (s.openCount > 0 ? 1 : 0), 0);
  }

  fileNames() {
    return this.backend.fileNames();
  }

  quarantined() {
    return this.backend.quarantined.map((q) => ({ ...q }));
  }

  stats() {
    return this.backend.stats();
  }

  /** Start recording handle calls (see SAHPoolBackend.setTrace); returns nothing. */
  startTrace() {
    this.trace = [];
    this.backend.setTrace(this.trace);
  }

  /** Stop recording and return the events. */
  stopTrace() {
    const events = this.trace ?? [];
    this.trace = null;
    this.backend.setTrace(null);
    return events;
  }

  /** {errno, message} of the last error that carried a hint, or null; cleared by reading. */
  takeLastError() {
    const e = this.errors.lastError;
    this.errors.lastError = null;
    return e;
  }

  addFiles(files) {
    this.backend.addFiles(files);
  }

  takeFree(n) {
    return this.backend.takeFree(n);
  }

  takeRecyclable() {
    return this.backend.takeRecyclable();
  }

  takeQuarantined(name) {
    return this.backend.takeQuarantined(name);
  }

  slotNames() {
    return this.backend.slotNames();
  }

  /** OPFS names of the slots that hold files or directories. */
  usedSlotNames() {
    return this.backend.slots.filter((s) => s.path).map((s) => s.name);
  }

  /** Set a slot's modification time (ms since the epoch), read by Python from OPFS. */
  setMtime(name, mtime) {
    const slot = this.backend.slots.find((s) => s.name === name);
    if (slot) slot.mtime = mtime;
  }

  /** Clear every stored file and directory (not quarantined slots), then mount afresh. */
  wipe() {
    this.detachFromFS();
    this.backend.wipe();
    this.mount();
  }

  /** Release every handle so that another context can use the pool. The mount stays, and
   * every operation under it fails with EBUSY: nothing falls through to memory. */
  pause() {
    if (this.openFileCount) throw new Error(`cannot pause: ${this.openFileCount} file(s) are open; close them first`);
    this.backend.detachHandles();
    this.backend.paused = true;
    this.paused = true;
  }

  /** Take the (re-acquired) handles back; headers are read again (another context may have
   * changed the pool), and the mount is renewed so Emscripten's node cache goes too. */
  unpause(files) {
    this.detachFromFS();
    this.backend = this.newBackend(files);
    this.mount();
    this.paused = false;
  }

  flushAll() {
    this.policy.flushAll();
  }
}
