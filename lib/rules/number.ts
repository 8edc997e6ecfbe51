/**
 * The value of a normalised numeric answer: a small recursive-descent evaluator for the LaTeX that
 * final answers use. Grammar (on text without spaces, see normalize.ts):
 *
 *   expr  := term (('+' | '-') term)*
 *   term  := unary (('*' | '/' | '\cdot' | '\times' | '\div') unary | implicit)*
 *   unary := ('-' | '+') unary | power
 *   power := atom ('^' (digit | '{' expr '}'))?
 *   atom  := number | '{' expr '}' | '(' expr ')' | '\frac{' expr '}{' expr '}' | '\sqrt' ['[' expr ']'] '{' expr '}' | '\pi'
 *
 * `implicit` multiplies an atom by a following `\sqrt`, `\pi` or `(` (`2\sqrt{3}`, `3\pi`); an integer
 * right before `\frac` is a mixed number (`2\frac{1}{2}` = 2.5). Anything else (letters, `x`,
 * `\infty`, a multi-digit exponent such as `2^10`) makes the answer non-numeric: null, never a guess.
 */

const MAX_DEPTH = 64;

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly s: string) {}

  peek(word: string): boolean { return this.s.startsWith(word, this.pos); }
  eat(word: string): boolean {
    if (!this.s.startsWith(word, this.pos)) return false;
    this.pos += word.length;
    return true;
  }
  /** A command must not run on into letters: `\pi` but not `\pix`. */
  eatCommand(name: string): boolean {
    if (!this.s.startsWith(name, this.pos)) return false;
    const next = this.s.charCodeAt(this.pos + name.length);
    if ((next >= 65 && next <= 90) || (next >= 97 && next <= 122)) return false;
    this.pos += name.length;
    return true;
  }

  expr(): number {
    if (++this.depth > MAX_DEPTH) throw tooDeep;
    let v = this.term();
    for (;;) {
      if (this.eat('+')) v += this.term();
      else if (this.eat('-')) v -= this.term();
      else break;
    }
    this.depth--;
    return v;
  }

  term(): number {
    let v = this.unary();
    for (;;) {
      if (this.eat('*') || this.eatCommand('\\cdot') || this.eatCommand('\\times')) v *= this.unary();
      else if (this.eat('/') || this.eatCommand('\\div')) v /= this.unary();
      else if (this.peek('\\sqrt') || this.peek('\\pi') || this.peek('(')) v *= this.power();
      else break;
    }
    return v;
  }

  unary(): number {
    if (this.eat('-')) { this.enter(); const v = -this.unary(); this.depth--; return v; }
    if (this.eat('+')) { this.enter(); const v = this.unary(); this.depth--; return v; }
    return this.power();
  }

  enter(): void { if (++this.depth > MAX_DEPTH) throw tooDeep; }

  power(): number {
    const base = this.atom();
    if (!this.eat('^')) return base;
    let exp: number;
    if (this.eat('{')) { exp = this.expr(); this.expect('}'); }
    else {
      const c = this.s.charCodeAt(this.pos);
      if (!(c >= 48 && c <= 57)) throw invalid;
      exp = c - 48;
      this.pos++;
      // `2^10` renders as 2¹0 in LaTeX but usually means 1024: ambiguous, so not a number.
      const d = this.s.charCodeAt(this.pos);
      if (d >= 48 && d <= 57) throw invalid;
    }
    return Math.pow(base, exp);
  }

  expect(word: string): void { if (!this.eat(word)) throw invalid; }

  braced(): number {
    this.expect('{');
    const v = this.expr();
    this.expect('}');
    return v;
  }

  atom(): number {
    const c = this.s.charCodeAt(this.pos);
    if ((c >= 48 && c <= 57) || c === 46) {
      const start = this.pos;
      const v = this.number();
      // Mixed number: an integer glued to a fraction.
      if (this.peek('\\frac') && /^\d+$/.test(this.s.slice(start, this.pos))) {
        this.pos += 5;
        const num = this.braced(), den = this.braced();
        return v + num / den;
      }
      return v;
    }
    if (this.eat('{')) { const v = this.expr(); this.expect('}'); return v; }
    if (this.eat('(')) { const v = this.expr(); this.expect(')'); return v; }
    if (this.eatCommand('\\frac')) { const num = this.braced(); return num / this.braced(); }
    if (this.eatCommand('\\sqrt')) {
      let index = 2;
      if (this.eat('[')) { index = this.expr(); this.expect(']'); }
      return Math.pow(this.braced(), 1 / index);
    }
    if (this.eatCommand('\\pi')) return Math.PI;
    throw invalid;
  }

  /** digits ['.' digits] [('e' | 'E') [sign] digits], or '.' digits. */
  number(): number {
    const s = this.s, start = this.pos;
    let i = start;
    const digits = () => { const from = i; while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++; return i - from; };
    let n = digits();
    if (s[i] === '.') { i++; n += digits(); }
    if (n === 0) throw invalid;
    if (s[i] === 'e' || s[i] === 'E') {
      const mark = i;
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (digits() === 0) i = mark; // `2e`: not an exponent, and the `e` makes the whole answer fail later
    }
    this.pos = i;
    return Number(s.slice(start, i));
  }
}

const invalid = new Error('not a number');
const tooDeep = new Error('nested too deeply');

/** The value of a normalised answer, or null when it is not a plain numeric expression. */
export function evaluateNumber(text: string): number | null {
  if (text.length === 0 || text.length > 10_000) return null;
  const p = new Parser(text);
  try {
    const v = p.expr();
    return p.pos === text.length && !Number.isNaN(v) ? v : null;
  } catch (e) {
    if (e === invalid || e === tooDeep) return null;
    throw e;
  }
}
