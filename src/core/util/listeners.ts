/**
 * Calls every listener with the event. A listener that throws does not stop the others (nor
 * the stream that emits): its error is rethrown on its own, where it is reported as uncaught.
 */
export function callEach<E>(listeners: Iterable<(event: E) => void>, event: E): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
