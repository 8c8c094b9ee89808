// helpers.mjs: what every test script here shares: waits that end on a
// condition or at a deadline. Nothing here sleeps bare.

// WAIT_MS bounds one wait; tests have their own, larger timeouts.
export const WAIT_MS = 5000;

// eventually calls check (which may be async) until it returns without
// throwing, and resolves with what it returned; once ms have passed, it
// rejects with check's last error. It waits 10 ms between the first calls,
// then longer, up to every ms: a quick condition is seen at once, and a
// slow one does not keep a browser busy answering.
export async function eventually(check, ms = WAIT_MS, every = 50) {
  const end = Date.now() + ms;
  for (let pause = Math.min(10, every); ; pause = Math.min(every, pause * 2)) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

// withDeadline settles as work does (a promise, or a function that returns
// one), or rejects with label once ms have passed.
export function withDeadline(label, ms, work) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms);
  });
  const promise = typeof work === 'function' ? work() : work;
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
