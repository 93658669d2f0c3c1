/**
 * Perl Getopt::Long with the configuration xCAT plugins use ("bundling", optionally "pass_through"):
 * specs like `h|?|help`, `f=s`, `w=s@`, `n|lines=i`, `force!`; single letters bundle (`-hV`, `-fvalue`),
 * long names take `--name=value` or `--name value` and may be abbreviated to a unique prefix, any case.
 */

/** Parsed option values: true for flags, strings, numbers, or arrays for `@` specs. */
export type OptionValues = Record<string, boolean | string | number | string[] | undefined>

/** A Getopt failure; `message` is Perl's wording (`Unknown option: x`). */
export class GetoptError extends Error {}

interface OptionSpec {
  readonly key: string
  readonly names: readonly string[]
  readonly type: 'flag' | 's' | 'i'
  readonly optionalValue: boolean
  readonly list: boolean
  readonly negatable: boolean
}

function parseSpec(spec: string): OptionSpec {
  const m = /^([^=:!+]+)(!|\+)?(?:([=:])([si])(@)?)?$/.exec(spec)
  if (!m) throw new Error(`bad option spec ${spec}`)
  const names = (m[1] ?? '').split('|')
  return {
    key: names[0] ?? '',
    names,
    type: (m[4] as 's' | 'i' | undefined) ?? 'flag',
    optionalValue: m[3] === ':',
    list: m[5] === '@',
    negatable: m[2] === '!',
  }
}

/** Options of {@link getopt}. */
export interface GetoptOptions {
  /** Leave unknown options in the remaining arguments instead of failing. */
  readonly passThrough?: boolean
  /** Getopt::Long's posix_default: stop at the first operand (require_order) and take no abbreviated long names. */
  readonly requireOrder?: boolean
}

/** Parses `argv` against Getopt::Long specs; returns the values (keyed by each spec's first name) and the rest. */
export function getopt(argv: readonly string[], specs: readonly string[], options: GetoptOptions = {}): { opts: OptionValues; args: string[] } {
  const parsed = specs.map(parseSpec)
  const opts: OptionValues = {}
  const args: string[] = []
  const set = (spec: OptionSpec, value: string | boolean, shown: string) => {
    if (spec.type === 'i' && typeof value === 'string' && !/^[-+]?\d+$/.test(value)) {
      throw new GetoptError(`Value "${value}" invalid for option ${shown} (number expected)`)
    }
    const v = spec.type === 'i' && typeof value === 'string' ? Number(value) : value
    if (spec.list) {
      const list = (opts[spec.key] as string[] | undefined) ?? []
      list.push(String(v))
      opts[spec.key] = list
    } else {
      opts[spec.key] = v
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--') {
      args.push(...argv.slice(i + 1))
      break
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=')
      const name = arg.slice(2, eq < 0 ? undefined : eq)
      const found = findLong(parsed, name, !options.requireOrder)
      if (!found) {
        if (options.passThrough) {
          args.push(arg)
          continue
        }
        throw new GetoptError(`Unknown option: ${name.toLowerCase()}`)
      }
      const { spec, negated, name: shown } = found
      if (spec.type === 'flag') {
        if (eq >= 0) throw new GetoptError(`Option ${shown} does not take an argument`)
        set(spec, !negated, shown)
      } else if (eq >= 0) {
        set(spec, arg.slice(eq + 1), shown)
      } else if (i + 1 < argv.length && takesNext(spec, argv[i + 1] ?? '')) {
        set(spec, argv[++i] ?? '', shown)
      } else if (spec.optionalValue) {
        set(spec, spec.type === 'i' ? '0' : '', shown)
      } else {
        throw new GetoptError(`Option ${shown} requires an argument`)
      }
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] ?? ''
        const spec = parsed.find((s) => s.names.includes(letter))
        if (!spec) {
          if (options.passThrough) {
            args.push(`-${arg.slice(j)}`)
            break
          }
          throw new GetoptError(`Unknown option: ${letter}`)
        }
        if (spec.type === 'flag') {
          set(spec, true, letter)
          continue
        }
        const rest = arg.slice(j + 1)
        if (rest) set(spec, rest, letter)
        else if (i + 1 < argv.length && takesNext(spec, argv[i + 1] ?? '')) set(spec, argv[++i] ?? '', letter)
        else if (spec.optionalValue) set(spec, spec.type === 'i' ? '0' : '', letter)
        else throw new GetoptError(`Option ${letter} requires an argument`)
        break
      }
      continue
    }
    if (options.requireOrder) {
      args.push(...argv.slice(i))
      break
    }
    args.push(arg)
  }
  return { opts, args }
}

/** Whether an option that takes a value takes `next` as it: always when mandatory, a number for `:i`, a non-option for `:s`. */
function takesNext(spec: OptionSpec, next: string): boolean {
  if (!spec.optionalValue) return true
  return spec.type === 'i' ? /^[-+]?\d+$/.test(next) : !next.startsWith('-')
}

/** The long option `name` (any case; a unique prefix when `abbreviate`) and the name it matched, lower-cased as Perl reports it. */
function findLong(specs: readonly OptionSpec[], name: string, abbreviate: boolean): { spec: OptionSpec; negated: boolean; name: string } | undefined {
  const lower = name.toLowerCase()
  const candidates: { spec: OptionSpec; negated: boolean; name: string }[] = []
  for (const spec of specs) {
    for (const n of spec.names) {
      candidates.push({ spec, negated: false, name: n.toLowerCase() })
      if (spec.negatable) candidates.push({ spec, negated: true, name: `no${n.toLowerCase()}` }, { spec, negated: true, name: `no-${n.toLowerCase()}` })
    }
  }
  const exact = candidates.find((c) => c.name === lower)
  if (exact) return exact
  if (!abbreviate) return undefined
  const prefixed = candidates.filter((c) => c.name.length > 1 && c.name.startsWith(lower))
  const distinct = new Set(prefixed.map((c) => c.spec))
  if (distinct.size === 1 && prefixed[0]) return prefixed[0]
  if (distinct.size > 1) throw new GetoptError(`Option ${lower} is ambiguous (${[...new Set(prefixed.map((c) => c.name))].sort().join(', ')})`)
  return undefined
}
