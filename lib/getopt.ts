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
  /** Stop at the first operand (Getopt::Long's require_order / posix_default). */
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
      const found = findLong(parsed, name)
      if (!found) {
        if (options.passThrough) {
          args.push(arg)
          continue
        }
        throw new GetoptError(`Unknown option: ${name.toLowerCase()}`)
      }
      const { spec, negated } = found
      if (spec.type === 'flag') {
        if (eq >= 0) throw new GetoptError(`Option ${name} does not take an argument`)
        set(spec, !negated, name)
      } else if (eq >= 0) {
        set(spec, arg.slice(eq + 1), name)
      } else if (i + 1 < argv.length && !(spec.optionalValue && (argv[i + 1] ?? '').startsWith('-'))) {
        set(spec, argv[++i] ?? '', name)
      } else if (spec.optionalValue) {
        set(spec, spec.type === 'i' ? '0' : '', name)
      } else {
        throw new GetoptError(`Option ${name} requires an argument`)
      }
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      const passed: string[] = []
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] ?? ''
        const spec = parsed.find((s) => s.names.includes(letter))
        if (!spec) {
          if (options.passThrough) {
            passed.push(letter)
            continue
          }
          throw new GetoptError(`Unknown option: ${letter}`)
        }
        if (spec.type === 'flag') {
          set(spec, true, letter)
          continue
        }
        const rest = arg.slice(j + 1)
        if (rest) set(spec, rest, letter)
        else if (i + 1 < argv.length && !(spec.optionalValue && (argv[i + 1] ?? '').startsWith('-'))) set(spec, argv[++i] ?? '', letter)
        else if (spec.optionalValue) set(spec, spec.type === 'i' ? '0' : '', letter)
        else throw new GetoptError(`Option ${letter} requires an argument`)
        break
      }
      if (passed.length) args.push(`-${passed.join('')}`)
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

function findLong(specs: readonly OptionSpec[], name: string): { spec: OptionSpec; negated: boolean } | undefined {
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
  const prefixed = candidates.filter((c) => c.name.length > 1 && c.name.startsWith(lower))
  const distinct = new Set(prefixed.map((c) => c.spec))
  if (distinct.size === 1 && prefixed[0]) return prefixed[0]
  if (distinct.size > 1) throw new GetoptError(`Option ${name} is ambiguous (${prefixed.map((c) => c.name).join(', ')})`)
  return undefined
}
