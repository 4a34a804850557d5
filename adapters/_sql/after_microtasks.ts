// Runs a callback once the microtasks queued so far, and those they queue, have run: a macrotask,
// without the clamp of setTimeout(fn, 0) (1 ms or more). setImmediate where the runtime has it
// (Deno, Bun, Node), else a MessageChannel message (browsers, Workers).

type Schedule = (callback: () => void) => void;

function macrotaskScheduler(): Schedule {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown })
    .setImmediate;
  if (typeof immediate === "function") return (callback) => void immediate(callback);
  if (typeof MessageChannel === "function") {
    const callbacks: (() => void)[] = [];
    let channel: MessageChannel | undefined;
    return (callback) => {
      callbacks.push(callback);
      if (callbacks.length > 1) return;
      if (channel === undefined) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => {
          for (const run of callbacks.splice(0)) run();
        };
      }
      channel.port2.postMessage(null);
    };
  }
  return (callback) => void setTimeout(callback, 0);
}

/** Calls `callback` after the microtasks queued so far (and theirs) have run. */
export const afterMicrotasks: Schedule = macrotaskScheduler();
