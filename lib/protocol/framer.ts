/** Input that cannot be a stream of xCAT documents. */
export class FrameError extends Error {}

/** The largest request xcatd accepts by default (bytes of XML); larger ones get an error and the connection closes. */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024

/**
 * Cuts a byte stream (already decoded to text) into complete documents `<root>...</root>`, whatever the chunk
 * boundaries. Text between documents (newlines) is skipped.
 */
export class DocumentFramer {
  #chunks: string[] = []
  #length = 0
  #tail = ''
  #opened = false
  readonly #open: string
  readonly #close: string

  /**
   * `root` names the document element; `strictStart` applies xcatd's rule that more than 15 characters without the
   * opening tag cannot be a request (clients reading responses do not apply it).
   */
  constructor(
    root: string,
    private readonly maxBytes: number = MAX_REQUEST_BYTES,
    private readonly strictStart = root === 'xcatrequest',
  ) {
    this.#open = `<${root}>`
    this.#close = `</${root}>`
  }

  /** Bytes held that do not yet form a complete document. */
  get pending(): number {
    return this.#length
  }

  /** Adds a chunk; returns the documents it completed. Throws FrameError for garbage or an oversized document. */
  push(chunk: string): string[] {
    // Only the new text (and the few characters before it) is searched, so a large document costs linear time.
    const window = this.#tail + chunk
    this.#chunks.push(chunk)
    this.#length += chunk.length
    this.#tail = window.slice(-Math.max(this.#open.length, this.#close.length))
    if (!this.#opened) this.#opened = window.includes(this.#open)
    const docs = window.includes(this.#close) ? this.#extract() : []
    if (this.strictStart && !this.#opened && this.#length > 15 && this.#chunks.join('').trimStart().length > 15) {
      throw new FrameError(`no ${this.#open} in the input`)
    }
    if (this.#length > this.maxBytes) throw new FrameError(`document larger than ${this.maxBytes} bytes`)
    return docs
  }

  #extract(): string[] {
    let buffer = this.#chunks.join('')
    const docs: string[] = []
    for (let end = buffer.indexOf(this.#close); end >= 0; end = buffer.indexOf(this.#close)) {
      const stop = end + this.#close.length
      const start = buffer.indexOf(this.#open)
      if (start < 0 || start > end) throw new FrameError(`a ${this.#close} without ${this.#open}`)
      if (stop - start > this.maxBytes) throw new FrameError(`document larger than ${this.maxBytes} bytes`)
      docs.push(buffer.slice(start, stop))
      buffer = buffer.slice(stop)
    }
    this.#chunks = buffer ? [buffer] : []
    this.#length = buffer.length
    this.#tail = buffer.slice(-Math.max(this.#open.length, this.#close.length))
    this.#opened = buffer.includes(this.#open)
    return docs
  }
}
