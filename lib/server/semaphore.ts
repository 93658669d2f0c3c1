/** Lets at most `limit` holders run at once; the others wait in arrival order instead of being refused. */
export class Semaphore {
  #active = 0
  readonly #waiting: (() => void)[] = []

  constructor(private limit: number) {}

  /** Changes the limit (site.xcatmaxconnections may change while the daemon runs). */
  resize(limit: number): void {
    this.limit = Math.max(1, limit)
    while (this.#active < this.limit && this.#waiting.length) {
      this.#active++
      this.#waiting.shift()?.()
    }
  }

  /** Waits for a place; the returned function gives it back. */
  async acquire(): Promise<() => void> {
    if (this.#active < this.limit) this.#active++
    else await new Promise<void>((resolve) => this.#waiting.push(resolve))
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiting.shift()
      if (next) next()
      else this.#active--
    }
  }
}
