/** Input that cannot be a stream of xCAT documents. */
export class FrameError extends Error {}

/** The largest request xcatd accepts by default (bytes of XML); larger ones get an error and the connection closes. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024

/**
 * Cuts a byte stream (already decoded to text) into complete documents `<root>...</root>`, whatever the chunk
 * boundaries. Text between documents (newlines) is skipped.
 */
export class DocumentFramer {
  #buffer = ''
  #scanned = 0
  readonly #open: string
  readonly #close: string

  constructor(
    root: string,
    private readonly maxBytes: number = MAX_REQUEST_BYTES,
  ) {
    this.#open = `<${root}>`
    this.#close = `</${root}>`
  }

  /** Bytes held that do not yet form a complete document. */
  get pending(): number {
    return this.#buffer.length
  }

  /** Adds a chunk; returns the documents it completed. Throws FrameError for garbage or an oversized document. */
  push(chunk: string): string[] {
    this.#buffer += chunk
    const docs: string[] = []
    for (;;) {
      const end = this.#buffer.indexOf(this.#close, Math.max(0, this.#scanned - this.#close.length))
      if (end < 0) break
      const stop = end + this.#close.length
      const start = this.#buffer.indexOf(this.#open)
      if (start < 0 || start > end) throw new FrameError(`a ${this.#close} without ${this.#open}`)
      docs.push(this.#buffer.slice(start, stop))
      this.#buffer = this.#buffer.slice(stop)
      this.#scanned = 0
    }
    this.#scanned = this.#buffer.length
    // xcatd's own test: more than 15 characters that hold no opening tag cannot be a request.
    if (this.#buffer.length > 15 && !this.#buffer.includes(this.#open)) throw new FrameError(`no ${this.#open} in the input`)
    if (this.#buffer.length > this.maxBytes) throw new FrameError(`document larger than ${this.maxBytes} bytes`)
    return docs
  }
}
