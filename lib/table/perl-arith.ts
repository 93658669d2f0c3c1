/**
 * Evaluates the arithmetic that xCAT allows inside `|pattern|replacement|` table values. xCAT hands the text to
 * Perl (`use integer`, in a Safe compartment); we accept the same expressions without running Perl: integers
 * (decimal, 0octal, 0xhex), strings, `$1`..`$9`, `+ - * / % x ** << >> & | ^ ~ ! . == != < > <= >= && || ?:`,
 * parentheses, sprintf, and xCAT's helpers mknum, a2idx, a2zidx, dim2idx, skip and ipadd.
 */

type Value = bigint | string

/** Thrown for text Perl would refuse to evaluate; the caller treats it like a failed Perl eval. */
export class ArithError extends Error {}

const TOKEN = /\s*(?:(0[xX][0-9a-fA-F]+|\d+)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|\$(\d+)|([A-Za-z_]\w*)|(\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%().,&|^~!<>?:]))/y

interface Token {
  readonly kind: 'num' | 'str' | 'var' | 'ident' | 'op'
  readonly text: string
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  let pos = 0
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break
    TOKEN.lastIndex = pos
    const m = TOKEN.exec(src)
    if (!m) throw new ArithError(`syntax error near "${src.slice(pos)}"`)
    pos = TOKEN.lastIndex
    if (m[1] !== undefined) tokens.push({ kind: 'num', text: m[1] })
    else if (m[2] !== undefined) tokens.push({ kind: 'str', text: m[2] })
    else if (m[3] !== undefined) tokens.push({ kind: 'var', text: m[3] })
    else if (m[4] !== undefined) tokens.push({ kind: 'ident', text: m[4] })
    else tokens.push({ kind: 'op', text: m[5] ?? '' })
  }
  return tokens
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', f: '\f', a: '\x07', e: '\x1b', '0': '\0' }

/**
 * A Perl string literal's value: '...' knows only \\ and \'; "..." has escapes and interpolates $n and ${n}.
 * Interpolating any other variable is not supported.
 */
function unquote(quoted: string, captures: readonly (string | undefined)[]): string {
  const body = quoted.slice(1, -1)
  if (quoted.startsWith("'")) return body.replace(/\\([\\'])/g, '$1')
  return body.replace(/\\(x\{[0-9a-fA-F]*\}|x[0-9a-fA-F]{0,2}|[\s\S])|\$(?:(\d+)|\{(\d+)\})?|@(?=[\w{:$])/g, (_m, esc?: string, n?: string, braced?: string) => {
    if (esc !== undefined) {
      if (esc.startsWith('x')) return String.fromCodePoint(parseInt(esc.replace(/[x{}]/g, '') || '0', 16))
      return ESCAPES[esc] ?? esc
    }
    const index = n ?? braced
    if (index === undefined) throw new ArithError(`unsupported interpolation in ${quoted}`)
    return captures[Number(index)] ?? ''
  })
}

function literal(text: string): bigint {
  if (/^0[xX]/.test(text)) return BigInt(text)
  if (text.length > 1 && text.startsWith('0')) {
    if (/[89]/.test(text)) throw new ArithError(`Illegal octal digit in ${text}`)
    return BigInt(`0o${text.slice(1)}`)
  }
  return BigInt(text)
}

/** Perl's numeric view of a string: leading whitespace, sign and digits; anything else counts as 0. */
function num(v: Value): bigint {
  if (typeof v === 'bigint') return v
  const m = /^\s*([+-]?\d+)/.exec(v)
  return m?.[1] ? BigInt(m[1]) : 0n
}

function str(v: Value): string {
  return typeof v === 'bigint' ? v.toString() : v
}

function truthy(v: Value): boolean {
  return typeof v === 'bigint' ? v !== 0n : v !== '' && v !== '0'
}

const BINARY_LEVELS: readonly (readonly string[])[] = [
  ['||'],
  ['&&'],
  ['|', '^'],
  ['&'],
  ['==', '!='],
  ['<', '>', '<=', '>='],
  ['<<', '>>'],
  ['+', '-', '.'],
  ['*', '/', '%', 'x'],
]

function binary(op: string, a: Value, b: Value): Value {
  switch (op) {
    case '.': return str(a) + str(b)
    case 'x': return str(a).repeat(Math.max(0, Number(num(b))))
    case '+': return num(a) + num(b)
    case '-': return num(a) - num(b)
    case '*': return num(a) * num(b)
    case '/':
    case '%': {
      const d = num(b)
      if (d === 0n) throw new ArithError(op === '/' ? 'Illegal division by zero' : 'Illegal modulus zero')
      return op === '/' ? num(a) / d : num(a) % d
    }
    case '<<': return num(a) << num(b)
    case '>>': return num(a) >> num(b)
    case '&': return num(a) & num(b)
    case '|': return num(a) | num(b)
    case '^': return num(a) ^ num(b)
    case '==': return num(a) === num(b) ? 1n : ''
    case '!=': return num(a) !== num(b) ? 1n : ''
    case '<': return num(a) < num(b) ? 1n : ''
    case '>': return num(a) > num(b) ? 1n : ''
    case '<=': return num(a) <= num(b) ? 1n : ''
    case '>=': return num(a) >= num(b) ? 1n : ''
    default: throw new ArithError(`unsupported operator ${op}`)
  }
}

const INT_RADIX: Readonly<Record<string, number>> = { d: 10, i: 10, u: 10, o: 8, x: 16, X: 16, b: 2, B: 2 }

/**
 * Perl's sprintf for the conversions table values use: %c %s %d %i %u %o %x %X %b %B %%, with an explicit argument
 * index, flags, width and precision (both may be `*`) and size modifiers. Floating-point conversions are not supported.
 */
function sprintf([format = '', ...args]: Value[]): Value {
  let next = 0
  const PART = /%(?:(\d+)\$)?([-+ 0#]*)(\*|\d*)(?:\.(\*|\d*))?(?:hh|h|ll|l|q|L|j|z|t|V)?([a-zA-Z%])/g
  return str(format).replace(PART, (whole, index: string | undefined, flags: string, width: string, precision: string | undefined, conv: string) => {
    if ('eEfFgGaA'.includes(conv)) throw new ArithError(`sprintf %${conv} is not supported`)
    if (conv !== '%' && conv !== 'c' && conv !== 's' && INT_RADIX[conv] === undefined) return whole
    let w = width === '*' ? Number(num(args[next++] ?? '')) : Number(width || 0)
    let left = flags.includes('-')
    if (w < 0) [left, w] = [true, -w]
    const p = precision === undefined ? undefined : precision === '*' ? Number(num(args[next++] ?? '')) : Number(precision || 0)
    const arg = conv === '%' ? '' : index ? (args[Number(index) - 1] ?? '') : (args[next++] ?? '')
    let prefix = ''
    let body: string
    if (conv === '%') body = '%'
    else if (conv === 's') body = p === undefined ? str(arg) : str(arg).slice(0, p)
    else if (conv === 'c') body = String.fromCodePoint(Number(num(arg)))
    else {
      let n = num(arg)
      const signed = conv === 'd' || conv === 'i'
      if (!signed && n < 0n) n = BigInt.asUintN(64, n)
      body = (n < 0n ? -n : n).toString(INT_RADIX[conv])
      if (conv === 'X') body = body.toUpperCase()
      if (p !== undefined) body = p === 0 && n === 0n ? '' : body.padStart(p, '0')
      if (n < 0n) prefix = '-'
      else if (signed && flags.includes('+')) prefix = '+'
      else if (signed && flags.includes(' ')) prefix = ' '
      if (flags.includes('#') && n !== 0n && conv !== 'o' && !signed && conv !== 'u') prefix = `0${conv}`
      if (flags.includes('#') && conv === 'o' && !body.startsWith('0')) body = `0${body}`
    }
    const pad = w - prefix.length - body.length
    if (pad <= 0) return prefix + body
    if (left) return prefix + body + ' '.repeat(pad)
    // Perl pads with zeros after the sign, for strings too, but not for integers with a precision.
    if (flags.includes('0') && !(p !== undefined && INT_RADIX[conv] !== undefined)) return prefix + '0'.repeat(pad) + body
    return ' '.repeat(pad) + prefix + body
  })
}

const HELPERS: Readonly<Record<string, (args: Value[]) => Value>> = {
  sprintf,
  mknum: ([s = '']) => [...Buffer.from(str(s), 'latin1')].reduce((sum, byte) => sum + BigInt(byte), 0n),
  a2idx: ([c = '']) => BigInt((str(c).toLowerCase().codePointAt(0) ?? 0) - 96),
  a2zidx: ([c = '']) => BigInt((str(c).toLowerCase().codePointAt(0) ?? 0) - 97),
  dim2idx: (args) => {
    let val = 0n
    args.forEach((element, i) => {
      val = i % 2 === 0 ? val + num(element) - 1n : val * num(element)
    })
    return val + 1n
  },
  skip: ([index = 0n, skips = '']) => {
    const idx = num(index)
    let val = idx
    for (const element of str(skips).split(',')) {
      const [start = '', count] = element.split(':')
      const first = num(start)
      const n = count === undefined ? 1n : num(count)
      if (idx < first) break
      if (idx < first + n) return -1n
      val -= n
    }
    return val
  },
  ipadd: ([b1 = 0n, b2 = 0n, b3 = 0n, b4 = 0n, toadd = 0n, skipstart = 0n, skipend = 0n]) => {
    const start = num(skipstart)
    const span = 256n - start - num(skipend)
    if (span === 0n) throw new ArithError('Illegal division by zero')
    const offset = num(b4) >= start ? num(b4) - start : 0n
    const third = num(b3) + (offset + num(toadd)) / span
    const fourth = ((offset + num(toadd)) % span) + start
    return [num(b1), num(b2), third, fourth].join('.')
  },
}

/** Perl's keywords and named operators: never barewords, so we refuse them (Perl fails or does something else). */
const PERL_WORDS: ReadonlySet<string> = new Set(
  (
    'and cmp eq ge gt le lt ne not or xor if elsif else unless while until for foreach do sub my our local state return ' +
    'q qq qr qw qx m s tr y abs atan2 chr cos defined delete die each eval exists exit exp glob grep hex index int join ' +
    'keys lc lcfirst length localtime gmtime log map oct ord pack pop pos print printf push rand ref require reverse ' +
    'rindex scalar shift sin sleep sort splice split sqrt srand substr system time times uc ucfirst undef unpack unshift ' +
    'values wantarray warn __FILE__ __LINE__ __PACKAGE__'
  ).split(' '),
)

type Thunk = (captures: readonly (string | undefined)[]) => Value

/** Compiles tokens into a closure; parsing happens once per expression text, evaluation once per node. */
class Parser {
  #pos = 0
  constructor(private readonly tokens: Token[]) {}

  parse(): Thunk {
    const v = this.#ternary()
    if (this.#pos < this.tokens.length) throw new ArithError(`syntax error near "${this.tokens[this.#pos]?.text}"`)
    return v
  }

  #peek(): Token | undefined {
    return this.tokens[this.#pos]
  }

  #isOp(text: string): boolean {
    const t = this.#peek()
    return t?.kind === 'op' && t.text === text
  }

  #expect(text: string): void {
    if (!this.#isOp(text)) throw new ArithError(`expected "${text}"`)
    this.#pos++
  }

  #ternary(): Thunk {
    const cond = this.#binary(0)
    if (!this.#isOp('?')) return cond
    this.#pos++
    const yes = this.#ternary()
    this.#expect(':')
    const no = this.#ternary()
    return (c) => (truthy(cond(c)) ? yes(c) : no(c))
  }

  #binary(level: number): Thunk {
    const ops = BINARY_LEVELS[level]
    if (!ops) return this.#unary()
    let left = this.#binary(level + 1)
    for (;;) {
      const t = this.#peek()
      const isOp = t?.kind === 'op' || (t?.kind === 'ident' && t.text === 'x')
      if (!t || !isOp || !ops.includes(t.text)) return left
      this.#pos++
      const right = this.#binary(level + 1)
      const l = left
      const op = t.text
      if (op === '&&') left = (c) => {
        const a = l(c)
        return truthy(a) ? right(c) : a
      }
      else if (op === '||') left = (c) => {
        const a = l(c)
        return truthy(a) ? a : right(c)
      }
      else left = (c) => binary(op, l(c), right(c))
    }
  }

  #unary(): Thunk {
    const t = this.#peek()
    if (t?.kind === 'op' && ['-', '+', '~', '!'].includes(t.text)) {
      this.#pos++
      const v = this.#unary()
      if (t.text === '-') return (c) => -num(v(c))
      if (t.text === '~') return (c) => ~num(v(c))
      if (t.text === '!') return (c) => (truthy(v(c)) ? '' : 1n)
      return v
    }
    return this.#power()
  }

  #power(): Thunk {
    const base = this.#primary()
    if (!this.#isOp('**')) return base
    this.#pos++
    const exponent = this.#unary()
    return (c) => {
      const exp = num(exponent(c))
      const b = num(base(c))
      if (exp < 0n) {
        // Perl gives a fraction (2**-1 is 0.5); only 1 and -1 stay integers.
        if (b === 1n || b === -1n) return b ** -exp
        throw new ArithError('non-integer result')
      }
      return b ** exp
    }
  }

  #primary(): Thunk {
    const t = this.#peek()
    if (!t) throw new ArithError('unexpected end of expression')
    this.#pos++
    switch (t.kind) {
      case 'num': {
        const v = literal(t.text)
        return () => v
      }
      case 'str': {
        const text = t.text
        unquote(text, [])
        return (c) => unquote(text, c)
      }
      case 'var': {
        const index = Number(t.text)
        return (c) => c[index] ?? ''
      }
      case 'ident': return this.#call(t.text)
      case 'op': {
        if (t.text !== '(') throw new ArithError(`syntax error near "${t.text}"`)
        const v = this.#ternary()
        this.#expect(')')
        return v
      }
    }
  }

  #call(name: string): Thunk {
    const helper = HELPERS[name]
    if (!this.#isOp('(')) {
      if (helper) return () => helper([])
      if (PERL_WORDS.has(name)) throw new ArithError(`syntax error near "${name}"`)
      return () => name
    }
    if (!helper) throw new ArithError(`Undefined subroutine &main::${name} called`)
    this.#pos++
    const args: Thunk[] = []
    if (!this.#isOp(')')) {
      for (;;) {
        args.push(this.#ternary())
        if (!this.#isOp(',')) break
        this.#pos++
      }
    }
    this.#expect(')')
    return (c) => helper(args.map((a) => a(c)))
  }
}

const compiled = new Map<string, Thunk | ArithError>()

/** Compiles `expr` once (cached); the result evaluates it with `$n` bound to `captures[n]`, throwing ArithError like a failed eval. */
export function compilePerlArith(expr: string): (captures: readonly (string | undefined)[]) => string {
  let thunk = compiled.get(expr)
  if (thunk === undefined) {
    try {
      thunk = new Parser(tokenize(expr)).parse()
    } catch (err) {
      if (!(err instanceof ArithError)) throw err
      thunk = err
    }
    if (compiled.size > 10_000) compiled.clear()
    compiled.set(expr, thunk)
  }
  const ready = thunk
  if (ready instanceof ArithError) {
    return () => {
      throw ready
    }
  }
  return (captures) => str(ready(captures))
}

/** Evaluates `expr` with `$n` bound to `captures[n]`; returns the result as Perl would print it. */
export function evalPerlArith(expr: string, captures: readonly (string | undefined)[]): string {
  return compilePerlArith(expr)(captures)
}
