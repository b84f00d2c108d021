// pingan 平安建设测评平台: the questionnaire's `relevant` and `constraint`
// evaluated in the browser exactly as the server evaluates them
// (pingan_core::survey::expr; XPath 1.0 semantics as ODK has them). The
// server parses each expression and sends its tree as JSON, so only the
// evaluation lives here; crates/server/tests/expr_parity.rs runs both on
// the same cases and requires the same answers. Our own file, no library.
(function (root) {
  'use strict';

  // Rust's char::is_whitespace (Unicode White_Space), not JS's \s (which
  // also takes U+FEFF).
  var WS = '\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  var TRIM = new RegExp('^[' + WS + ']+|[' + WS + ']+$', 'g');
  var SPLIT = new RegExp('[' + WS + ']+');

  function trim(s) { return s.replace(TRIM, ''); }
  function words(s) { return s.split(SPLIT).filter(function (w) { return w !== ''; }); }

  // Values: {n: number} | {s: string} | {b: boolean}.
  function strNumber(s) {
    var t = trim(s);
    var body = t.charAt(0) === '-' ? t.slice(1) : t;
    if (body === '' || body === '.' || !/^[0-9.]*$/.test(body) || body.split('.').length > 2) { return NaN; }
    return Number(t);
  }
  function number(v) {
    if ('n' in v) { return v.n; }
    if ('b' in v) { return v.b ? 1 : 0; }
    return strNumber(v.s);
  }
  function boolean(v) {
    if ('n' in v) { return v.n !== 0 && !isNaN(v.n); }
    if ('b' in v) { return v.b; }
    return v.s !== '';
  }
  // Rust's f64 Display: the shortest round-trip digits, never an exponent.
  function plain(x) {
    var t = String(x);
    var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(t);
    if (!m) { return t; }
    var digits = m[2] + (m[3] || ''), exp = parseInt(m[4], 10), point = 1 + exp;
    if (point <= 0) { return m[1] + '0.' + new Array(1 - point).join('0') + digits; }
    if (point >= digits.length) { return m[1] + digits + new Array(point - digits.length + 1).join('0'); }
    return m[1] + digits.slice(0, point) + '.' + digits.slice(point);
  }
  function numString(x) {
    if (isNaN(x)) { return 'NaN'; }
    if (x === Infinity) { return 'inf'; }
    if (x === -Infinity) { return '-inf'; }
    if (x === Math.trunc(x) && Math.abs(x) < 1e15) { return String(Math.trunc(x) + 0); }
    return plain(x);
  }
  function string(v) {
    if ('s' in v) { return v.s; }
    if ('b' in v) { return v.b ? 'true' : 'false'; }
    return numString(v.n);
  }
  function equal(x, y) {
    if ('b' in x || 'b' in y) { return boolean(x) === boolean(y); }
    if ('n' in x || 'n' in y) { return number(x) === number(y); }
    return string(x) === string(y);
  }

  var BIN = {
    eq: function (x, y) { return { b: equal(x, y) }; },
    ne: function (x, y) { return { b: !equal(x, y) }; },
    lt: function (x, y) { return { b: number(x) < number(y) }; },
    le: function (x, y) { return { b: number(x) <= number(y) }; },
    gt: function (x, y) { return { b: number(x) > number(y) }; },
    ge: function (x, y) { return { b: number(x) >= number(y) }; },
    add: function (x, y) { return { n: number(x) + number(y) }; },
    sub: function (x, y) { return { n: number(x) - number(y) }; },
    mul: function (x, y) { return { n: number(x) * number(y) }; },
    div: function (x, y) { return { n: number(x) / number(y) }; }
  };

  // A tree as the server sends it (serde's external tagging of Expr):
  // {"num":3}, {"str":"a"}, {"ref":"q1"}, "current", {"not":e}, {"neg":e},
  // {"bin":["and",a,b]}, {"selected":[a,b]}, {"count_selected":e}.
  // `answer(name)` gives an answer as text ("" for none).
  function evaluate(e, answer, current) {
    if (e === 'current') { return { s: current }; }
    var k = Object.keys(e)[0], a = e[k];
    switch (k) {
      case 'num': return { n: a };
      case 'str': return { s: a };
      case 'ref': return { s: answer(a) };
      case 'not': return { b: !boolean(evaluate(a, answer, current)) };
      case 'neg': return { n: -number(evaluate(a, answer, current)) };
      case 'count_selected': return { n: words(string(evaluate(a, answer, current))).length };
      case 'selected': {
        var list = string(evaluate(a[0], answer, current));
        var c = trim(string(evaluate(a[1], answer, current)));
        return { b: words(list).indexOf(c) >= 0 };
      }
      case 'bin': {
        var op = a[0];
        // and/or decide on the left when they can, as XPath (and the server) does.
        if (op === 'and') { return { b: boolean(evaluate(a[1], answer, current)) && boolean(evaluate(a[2], answer, current)) }; }
        if (op === 'or') { return { b: boolean(evaluate(a[1], answer, current)) || boolean(evaluate(a[2], answer, current)) }; }
        return BIN[op](evaluate(a[1], answer, current), evaluate(a[2], answer, current));
      }
    }
    throw new Error('unknown expression node ' + k);
  }

  function holds(e, answer, current) { return boolean(evaluate(e, answer, current)); }

  var api = { evaluate: evaluate, holds: holds, boolean: boolean, number: number, string: string };
  if (typeof module !== 'undefined' && module.exports) { module.exports = api; } else { root.PinganSurvey = api; }
})(this);
