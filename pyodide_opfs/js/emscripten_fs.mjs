// @ts-check
// The Emscripten filesystem type: node and stream operations, the hot path of every Python file
// call under the mount. It translates Emscripten's node/stream calls into calls on a path-based
// backend (sahpool.mjs) and reports each data operation to the flush policy (flush_policy.mjs).
// It must be JS: CPython cannot be re-entered from inside a filesystem call.
//
// Backend interface (paths relative to the mount, "/" is the mount root):
//   stat(path) -> {kind: "file"|"dir", size, mtime} | null     list(path) -> names
//   createFile(path) -> file   openFile(path) -> file   retain(file)   closeFile(file)   mkdir(path)
//   rmdir(path)   unlink(path)   rename(from, to)   truncate(file, size)
// File objects: read(view, pos) -> n, write(view, pos) -> n, size, mtime, path, kind, flush().

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const DIR_MODE = S_IFDIR | 0o777;
const FILE_MODE = S_IFREG | 0o666;

/**
 * @param {{FS: any, backend: import("./types").Backend, policy: import("./types").DurabilityPolicy,
 *          errors: import("./types").Errors, setattrTimestamp?: boolean}} deps
 *        setattrTimestamp: this Emscripten's setattr carries one `timestamp` instead of
 *        atime/mtime/ctime (Pyodide 0.27; set by compat.filesystem_env())
 * @returns {import("./types").FilesystemType}
 */
export function createFilesystem({ FS, backend, policy, errors, setattrTimestamp = false }) {
  /** The backend path of a node: walk up to the mount root (the node that is its own parent). */
  function pathOf(node) {
    let path = "";
    while (node.parent !== node) {
      path = "/" + node.name + path;
      node = node.parent;
    }
    return path || "/";
  }

  function join(parent, name) {
    const base = pathOf(parent);
    return base === "/" ? "/" + name : base + "/" + name;
  }

  function makeNode(parent, name, kind) {
    const node = FS.createNode(parent, name, kind === "dir" ? DIR_MODE : FILE_MODE, 0);
    node.atime = node.mtime = node.ctime = Date.now(); // not every Emscripten sets them
    node.node_ops = kind === "dir" ? dirNodeOps : fileNodeOps;
    node.stream_ops = kind === "dir" ? dirStreamOps : fileStreamOps;
    return node;
  }

  /** Run an op; anything that is not already an errno becomes one (never a JS crash in Python). */
  function guard(context, fn) {
    try {
      return fn();
    } catch (e) {
      throw errors.fromException(e, context);
    }
  }

  function getattr(node, file = null) {
    const st = file ? { size: file.size, mtime: file.mtime } : backend.stat(pathOf(node));
    if (!st) throw errors.error("ENOENT");
    const time = new Date(st.mtime || node.mtime);
    return {
      dev: 1,
      ino: node.id,
      mode: node.mode,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      size: st.size,
      atime: time,
      mtime: time,
      ctime: time,
      blksize: 4096,
      blocks: Math.ceil(st.size / 4096),
    };
  }

  function setattr(node, attr) {
    // Modes and times are kept in memory only: the pool format has no field for them.
    if (attr.mode != null) node.mode = attr.mode;
    // utime(): Emscripten 4 passes mtime; Pyodide 0.27's passes one timestamp (which chmod and
    // truncate also send, with mode or size).
    const mtime = setattrTimestamp ? (attr.mode == null && attr.size == null ? attr.timestamp : null) : attr.mtime;
    if (mtime != null) {
      node.mtime = mtime;
      guard("utime", () => backend.setMtime?.(pathOf(node), mtime));
    }
    if (attr.size != null) {
      guard("truncate", () => {
        const file = backend.openFile(pathOf(node));
        try {
          truncate(file, attr.size);
        } finally {
          backend.closeFile(file);
        }
      });
    }
  }

  function truncate(file, size) {
    const old = file.size;
    if (size === old) return;
    policy.beforeTruncate(file, size, old);
    backend.truncate(file, size);
    policy.afterTruncate(file, size, old);
  }

  const fileNodeOps = { getattr, setattr };

  const dirNodeOps = {
    getattr,
    setattr,
    lookup(parent, name) {
      const st = backend.stat(join(parent, name));
      if (!st) throw errors.error("ENOENT");
      return makeNode(parent, name, st.kind);
    },
    mknod(parent, name, mode, dev) {
      const path = join(parent, name);
      if ((mode & 0o170000) === S_IFDIR) {
        guard("mkdir", () => backend.mkdir(path));
        return makeNode(parent, name, "dir");
      }
      if ((mode & 0o170000) !== S_IFREG) throw errors.error("EPERM", "only files and directories are supported");
      const file = guard("create", () => backend.createFile(path));
      const node = makeNode(parent, name, "file");
      node.mtime = file.mtime;
      return node;
    },
    rename(oldNode, newDir, newName) {
      let target = null;
      try {
        target = FS.lookupNode(newDir, newName);
      } catch {
        // no target: a plain rename
      }
      guard("rename", () => backend.rename(pathOf(oldNode), join(newDir, newName)));
      if (target) FS.hashRemoveNode(target);
      oldNode.name = newName;
    },
    unlink(parent, name) {
      guard("unlink", () => backend.unlink(join(parent, name)));
    },
    rmdir(parent, name) {
      guard("rmdir", () => backend.rmdir(join(parent, name)));
    },
    readdir(node) {
      return [".", "..", ...backend.list(pathOf(node))];
    },
    symlink() {
      throw errors.error("EPERM", "symbolic links are not supported on OPFS mounts");
    },
  };

  const fileStreamOps = {
    open(stream) {
      stream.file = guard("open", () => backend.openFile(pathOf(stream.node)));
    },
    dup(stream) {
      backend.retain(stream.file); // the copy shares the file; each close releases once
    },
    getattr(stream) {
      // fstat on an open file (SQLite asks for the size often): no path walk, works after unlink.
      return getattr(stream.node, stream.file);
    },
    setattr(stream, attr) {
      // ftruncate and friends on an open file: use its handle (it may be unlinked already).
      if (attr.mode != null) stream.node.mode = attr.mode;
      if (attr.size != null) guard("truncate", () => truncate(stream.file, attr.size));
    },
    close(stream) {
      const file = stream.file;
      if (!file) return;
      stream.file = null;
      try {
        guard("close", () => policy.onClose(file));
      } finally {
        backend.closeFile(file);
      }
    },
    read(stream, buffer, offset, length, position) {
      const file = stream.file;
      if (position >= file.size || length === 0) return 0;
      const n = Math.min(length, file.size - position);
      // Straight from the handle into the WASM heap: `buffer` is the heap view itself.
      return guard("read", () => file.read(buffer.subarray(offset, offset + n), position));
    },
    write(stream, buffer, offset, length, position) {
      if (length === 0) return 0;
      const file = stream.file;
      const view = buffer.subarray(offset, offset + length);
      const before = file.size;
      // The policy may flush other files here: their failures must become an errno too.
      const n = guard("write", () => {
        policy.beforeWrite(file);
        const written = file.write(view, position);
        policy.afterWrite(file, view, position);
        return written;
      });
      if (n < length) {
        // OPFS reports a full quota as a short write. Undo what grew the file, then say ENOSPC:
        // a short count would be retried or, worse, ignored.
        if (file.size > before) guard("write", () => backend.truncate(file, before));
        throw errors.error("ENOSPC", `storage quota exceeded writing ${file.path} (${n} of ${length} bytes written)`);
      }
      stream.node.mtime = file.mtime;
      return n;
    },
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      else if (whence === 2) position += stream.file.size;
      if (position < 0) throw errors.error("EINVAL");
      return position;
    },
    fsync(stream) {
      guard("fsync", () => policy.onFsync(stream.file));
      return 0;
    },
  };

  const dirStreamOps = {
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      if (position < 0) throw errors.error("EINVAL");
      return position;
    },
  };

  return {
    mount(mount) {
      return makeNode(null, "/", "dir");
    },
  };
}

/**
 * Mount a backend at `mountpoint` (created if missing). Both mount controllers use this.
 * @param {{FS: any, mountpoint: string, backend: import("./types").Backend,
 *          policy: import("./types").DurabilityPolicy, errors: import("./types").Errors,
 *          setattrTimestamp?: boolean}} deps
 */
export function mountFilesystem({ FS, mountpoint, ...deps }) {
  FS.mkdirTree(mountpoint);
  FS.mount(createFilesystem({ FS, ...deps }), {}, mountpoint);
}
