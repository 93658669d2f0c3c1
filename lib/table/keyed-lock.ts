/** Releases a lock taken with {@link KeyedLock.acquire}. */
export type Release = () => void

/** In-process mutual exclusion per key; several keys are taken in sorted order so holders never deadlock. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>()

  /** Waits until every key is free, then holds them all until the returned function is called. */
  async acquire(keys: readonly string[]): Promise<Release> {
    const releases: Release[] = []
    for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquireOne(key))
    return () => {
      for (const release of releases.reverse()) release()
    }
  }

  async #acquireOne(key: string): Promise<Release> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release!: Release
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => held)
    this.#tails.set(key, tail)
    await previous
    return () => {
      release()
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    }
  }
}
