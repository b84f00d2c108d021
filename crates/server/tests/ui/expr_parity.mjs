// Evaluates each case of the JSON file given with assets/survey.js and
// prints the disagreements with the server's answers (expr_parity.rs).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const survey = require(join(dirname(fileURLToPath(import.meta.url)), '../../assets/survey.js'));
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function exp(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0e0';
  return x.toExponential().replace('e+', 'e');
}
function encode(v) {
  if ('n' in v) return { n: exp(v.n) };
  if ('s' in v) return { s: v.s };
  return { b: v.b };
}

let bad = 0;
for (const c of cases) {
  const answer = (name) => (name in c.answers ? c.answers[name] : '');
  let got, holds;
  try {
    const v = survey.evaluate(c.tree, answer, c.current);
    got = encode(v);
    holds = survey.boolean(v);
  } catch (e) {
    got = { error: String(e) };
  }
  if (JSON.stringify(got) !== JSON.stringify(c.value) || holds !== c.holds) {
    bad += 1;
    if (bad <= 20) console.log(JSON.stringify({ src: c.src, answers: c.answers, current: c.current, server: c.value, browser: got, holds: [c.holds, holds] }));
  }
}
if (bad) {
  console.log(`${bad} of ${cases.length} cases disagree`);
  process.exit(1);
}
console.log(`${cases.length} cases agree`);
