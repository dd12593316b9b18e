/**
 * A small evaluator of the DynamoDB condition and update expressions this project writes (comparisons,
 * AND/OR/NOT, parentheses, IN, attribute_exists/attribute_not_exists; SET with `a + b`), so the in-memory
 * world (traffic-world.ts) enforces the same compare-and-sets DynamoDB would. Unknown syntax throws, so a
 * new expression cannot pass a test by being ignored.
 */
type Item = Record<string, unknown>;

interface Ctx {
  readonly item: Item | undefined;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

function tokenize(expr: string): string[] {
  const tokens = expr.match(/\s*(<>|<=|>=|[()=<>,+]|[#:]?[A-Za-z_][A-Za-z0-9_]*)/g);
  if (!tokens || tokens.join('').replace(/\s+/g, '') !== expr.replace(/\s+/g, '')) {
    throw new Error(`unsupported expression: ${expr}`);
  }
  return tokens.map((t) => t.trim());
}

class Parser {
  private i = 0;
  constructor(
    private readonly t: string[],
    private readonly ctx: Ctx,
  ) {}
  private peek(): string | undefined {
    return this.t[this.i];
  }
  private take(expected?: string): string {
    const tok = this.t[this.i++];
    if (tok === undefined || (expected !== undefined && tok.toUpperCase() !== expected)) {
      throw new Error(`expected ${expected ?? 'a token'}, got ${tok ?? 'end'} in ${this.t.join(' ')}`);
    }
    return tok;
  }
  done(): boolean {
    return this.i >= this.t.length;
  }
  operand(): unknown {
    const tok = this.take();
    if (tok.startsWith(':')) {
      if (!(tok in this.ctx.values)) throw new Error(`no value ${tok}`);
      return this.ctx.values[tok];
    }
    return this.ctx.item?.[this.name(tok)];
  }
  name(tok: string): string {
    if (tok.startsWith('#')) {
      const n = this.ctx.names[tok];
      if (n === undefined) throw new Error(`no name ${tok}`);
      return n;
    }
    return tok;
  }
  or(): boolean {
    let v = this.and();
    while (this.peek()?.toUpperCase() === 'OR') {
      this.take();
      const r = this.and();
      v = v || r;
    }
    return v;
  }
  and(): boolean {
    let v = this.not();
    while (this.peek()?.toUpperCase() === 'AND') {
      this.take();
      const r = this.not();
      v = v && r;
    }
    return v;
  }
  not(): boolean {
    if (this.peek()?.toUpperCase() === 'NOT') {
      this.take();
      return !this.not();
    }
    return this.primary();
  }
  primary(): boolean {
    const tok = this.peek();
    if (tok === '(') {
      this.take('(');
      const v = this.or();
      this.take(')');
      return v;
    }
    if (tok === 'attribute_not_exists' || tok === 'attribute_exists') {
      this.take();
      this.take('(');
      const n = this.name(this.take());
      this.take(')');
      const exists = this.ctx.item !== undefined && this.ctx.item[n] !== undefined;
      return tok === 'attribute_exists' ? exists : !exists;
    }
    const left = this.operand();
    const op = this.take();
    if (op.toUpperCase() === 'IN') {
      this.take('(');
      const list: unknown[] = [this.operand()];
      while (this.peek() === ',') {
        this.take(',');
        list.push(this.operand());
      }
      this.take(')');
      return list.includes(left);
    }
    const right = this.operand();
    if (left === undefined || right === undefined) return op === '<>' ? left !== right : false;
    switch (op) {
      case '=':
        return left === right;
      case '<>':
        return left !== right;
      case '<':
        return (left as number) < (right as number);
      case '>':
        return (left as number) > (right as number);
      case '<=':
        return (left as number) <= (right as number);
      case '>=':
        return (left as number) >= (right as number);
      default:
        throw new Error(`unsupported operator ${op}`);
    }
  }
}

export function evaluateCondition(
  expr: string | undefined,
  item: Item | undefined,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
): boolean {
  if (!expr) return true;
  const p = new Parser(tokenize(expr), { item, names, values });
  const v = p.or();
  if (!p.done()) throw new Error(`unparsed rest of ${expr}`);
  return v;
}

/** Applies `SET a = :v, #b = #b + :one, ...` to a copy of the item. */
export function applyUpdate(
  expr: string,
  item: Item,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
): Item {
  const m = /^\s*SET\s+(.*)$/i.exec(expr);
  if (!m?.[1]) throw new Error(`unsupported update expression: ${expr}`);
  const next: Item = { ...item };
  for (const part of m[1].split(',')) {
    const [lhs, rhs] = part.split('=').map((x) => x.trim());
    if (!lhs || !rhs) throw new Error(`unsupported SET clause: ${part}`);
    const name = (tok: string) => (tok.startsWith('#') ? names[tok]! : tok);
    const value = (tok: string): unknown => (tok.startsWith(':') ? values[tok] : item[name(tok)]);
    const sum = rhs.split('+').map((x) => x.trim());
    next[name(lhs)] =
      sum.length === 2 ? Number(value(sum[0]!) ?? 0) + Number(value(sum[1]!)) : value(sum[0]!);
  }
  return next;
}
