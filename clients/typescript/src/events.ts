/** The smallest listener list: `on` returns its own unsubscribe, and one throwing listener
 * never keeps the others from hearing an event. */
export class Emitter<E> {
  private readonly listeners = new Set<(event: E) => void>();

  on(listener: (event: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: E): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error; // reported as uncaught, like a throwing DOM event listener
        });
      }
    }
  }
}
