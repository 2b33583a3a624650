/**
 * What `f` returns, as a promise that rejects if `f` throws: what `async () => f()` gives, for an
 * implementation of a Promise-returning interface that has nothing to await.
 */
export function promiseOf<T>(f: () => T | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(f());
  });
}
