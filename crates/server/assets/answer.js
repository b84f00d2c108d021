// pingan 平安建设测评平台: the public answering page. Draws the year's
// questionnaire one group per page, shows a question only while its
// conditions hold (PinganSurvey, the server's semantics), checks required
// answers and constraints before moving on, and sends the answer once with
// its instance_id (a retry after a network failure is a duplicate, never a
// second answer). The server checks everything again. On the interviewer's
// page (collect.js sets window.PinganCollect) an answer goes to the
// device's outbox instead, and the next questionnaire starts afresh.
(function () {
  'use strict';
  var S = window.PinganSurvey;
  var data = JSON.parse(document.getElementById('answer-data').textContent);
  var form = data.form;
  var collect = window.PinganCollect || null;
  var answers = {};
  var page = 0;
  var started = new Date().toISOString();
  var submitted = null;
  function newId() {
    return 'uuid:' + (window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2));
  }
  var instance = newId();
  var el = document.getElementById('answer-form');
  var prev = document.getElementById('prev');
  var next = document.getElementById('next');
  var done = document.getElementById('answer-done');

  function answer(name) { return Object.prototype.hasOwnProperty.call(answers, name) ? answers[name] : ''; }
  function relevant(q) {
    return q.relevant.every(function (c) { return S.holds(c.expr, answer, c.own ? answer(q.name) : ''); });
  }
  function onPage(p) { return form.questions.filter(function (q) { return q.page === p; }); }
  function shownPages() {
    var out = [];
    form.pages.forEach(function (_, p) { if (onPage(p).some(relevant)) { out.push(p); } });
    return out;
  }

  function field(q) {
    var box = document.createElement('fieldset');
    box.className = 'question';
    box.setAttribute('data-q', q.name);
    var legend = document.createElement('legend');
    legend.textContent = q.label;
    if (q.required) {
      var star = document.createElement('span');
      star.className = 'req';
      star.textContent = ' *';
      star.setAttribute('aria-label', '必答');
      legend.appendChild(star);
    }
    box.appendChild(legend);
    if (q.hint) {
      var hint = document.createElement('p');
      hint.className = 'hint';
      hint.textContent = q.hint;
      box.appendChild(hint);
    }
    var id = 'q-' + q.name;
    if (q.kind === 'select_one' || q.kind === 'select_multiple') {
      var multi = q.kind === 'select_multiple';
      q.choices.forEach(function (c, i) {
        var label = document.createElement('label');
        label.className = 'choice';
        var input = document.createElement('input');
        input.type = multi ? 'checkbox' : 'radio';
        input.name = id;
        input.value = c.name;
        input.id = id + '-' + i;
        var chosen = answer(q.name).split(' ');
        input.checked = chosen.indexOf(c.name) >= 0;
        input.addEventListener('change', function () {
          var picked = Array.prototype.slice.call(box.querySelectorAll('input:checked')).map(function (x) { return x.value; });
          set(q, picked.join(' '));
        });
        label.appendChild(input);
        label.appendChild(document.createTextNode(c.label));
        box.appendChild(label);
      });
    } else if (q.kind !== 'note') {
      var input = document.createElement(q.kind === 'text' ? 'textarea' : 'input');
      if (q.kind === 'integer' || q.kind === 'decimal') {
        input.type = 'text';
        input.inputMode = q.kind === 'integer' ? 'numeric' : 'decimal';
      } else if (q.kind === 'date') {
        input.type = 'date';
      }
      if (q.kind === 'text') { input.rows = 3; input.maxLength = 2000; }
      input.id = id;
      input.setAttribute('aria-label', q.label);
      input.value = answer(q.name);
      input.addEventListener('input', function () { set(q, input.value.trim()); });
      box.appendChild(input);
    }
    var msg = document.createElement('p');
    msg.className = 'error-msg';
    msg.setAttribute('role', 'alert');
    box.appendChild(msg);
    return box;
  }

  function set(q, v) {
    if (v === '') { delete answers[q.name]; } else { answers[q.name] = v; }
    var box = el.querySelector('[data-q="' + q.name + '"]');
    if (box && box.classList.contains('invalid')) {
      var m = problem(q);
      box.querySelector('.error-msg').textContent = m;
      box.classList.toggle('invalid', m !== '');
    }
    refresh();
  }

  // Questions come and go as answers change; one that goes loses its
  // answer (the server takes an answer to a question not asked as invalid).
  function refresh() {
    var changed = true;
    while (changed) {
      changed = false;
      form.questions.forEach(function (q) {
        if (!relevant(q) && answer(q.name) !== '') { delete answers[q.name]; changed = true; }
      });
    }
    onPage(page).forEach(function (q) {
      var box = el.querySelector('[data-q="' + q.name + '"]');
      if (box) { box.hidden = !relevant(q); }
    });
  }

  function problem(q) {
    if (!relevant(q) || q.kind === 'note') { return ''; }
    var a = answer(q.name);
    if (a === '') { return q.required ? '此题为必答题' : ''; }
    if (q.kind === 'integer' && !/^-?\d+$/.test(a)) { return '请填写整数'; }
    if (q.kind === 'decimal' && !/^-?(\d+\.?\d*|\.\d+)$/.test(a)) { return '请填写数字'; }
    if (q.constraint && !S.holds(q.constraint, answer, a)) { return q.constraint_message || '答案不符合要求'; }
    return '';
  }

  function draw() {
    var pages = shownPages();
    var at = pages.indexOf(page);
    el.innerHTML = '';
    var title = document.createElement('h2');
    title.textContent = form.pages[page];
    el.appendChild(title);
    onPage(page).forEach(function (q) { el.appendChild(field(q)); });
    refresh();
    document.getElementById('progress-text').textContent = '第 ' + (at + 1) + ' / ' + pages.length + ' 页';
    document.getElementById('progress-bar').style.width = Math.round((at + 1) * 100 / pages.length) + '%';
    prev.hidden = at <= 0;
    next.textContent = at === pages.length - 1 ? '提交' : '下一页';
    window.scrollTo(0, 0);
  }

  function check() {
    var first = null;
    onPage(page).forEach(function (q) {
      var box = el.querySelector('[data-q="' + q.name + '"]');
      var m = problem(q);
      if (box) {
        box.querySelector('.error-msg').textContent = m;
        box.classList.toggle('invalid', m !== '');
        if (m && !first) { first = box; }
      }
    });
    if (first) { first.scrollIntoView({ block: 'center' }); }
    return !first;
  }

  function finished(title, text) {
    el.hidden = true;
    document.querySelector('.answer-nav').hidden = true;
    done.hidden = false;
    done.innerHTML = '';
    document.getElementById('progress-text').textContent = '';
    var h = document.createElement('h2');
    h.textContent = title;
    done.appendChild(h);
    var p = document.createElement('p');
    p.textContent = text;
    done.appendChild(p);
    if (collect) {
      var again = document.createElement('button');
      again.type = 'button';
      again.className = 'btn primary';
      again.id = 'next-form';
      again.textContent = '开始下一份问卷';
      again.addEventListener('click', restart);
      done.appendChild(again);
    }
    document.getElementById('progress-bar').style.width = '100%';
  }

  // The interviewer's next respondent: a new answer, a new id, a new clock.
  function restart() {
    answers = {};
    instance = newId();
    started = new Date().toISOString();
    submitted = null;
    el.hidden = false;
    done.hidden = true;
    document.querySelector('.answer-nav').hidden = false;
    next.disabled = false;
    var err = document.getElementById('send-error');
    if (err) { err.remove(); }
    page = shownPages()[0] || 0;
    draw();
  }

  function post(body) {
    return fetch(data.submit, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (r) {
      if (!r.ok) { throw new Error(r.body.message || '提交失败'); }
      return ['提交成功，感谢您的参与！', '您的意见将用于改进本地的平安建设工作。'];
    });
  }

  function send() {
    next.disabled = true;
    next.textContent = collect ? '正在保存……' : '正在提交……';
    submitted = submitted || new Date().toISOString();
    var body = { instance_id: instance, started: started, submitted: submitted, answers: answers };
    (collect ? collect.deliver(body) : post(body)).then(function (m) {
      finished(m[0], m[1]);
    }).catch(function (e) {
      next.disabled = false;
      next.textContent = '重新提交';
      var m = document.getElementById('send-error') || document.createElement('p');
      m.id = 'send-error';
      m.className = 'error-msg';
      m.setAttribute('role', 'alert');
      m.textContent = (e && e.message ? e.message : '网络异常') + '。答案已保留，请稍后点“重新提交”（不会重复计入）。';
      document.querySelector('.answer-nav').appendChild(m);
    });
  }

  prev.addEventListener('click', function () {
    var pages = shownPages();
    var at = pages.indexOf(page);
    if (at > 0) { page = pages[at - 1]; draw(); }
  });
  next.addEventListener('click', function () {
    if (!check()) { return; }
    var pages = shownPages();
    var at = pages.indexOf(page);
    if (at < pages.length - 1) { page = pages[at + 1]; draw(); } else { send(); }
  });

  var big = document.getElementById('big-text');
  function setBig(on) {
    document.body.classList.toggle('big', on);
    big.setAttribute('aria-pressed', on ? 'true' : 'false');
    try { localStorage.setItem('pingan-big-text', on ? '1' : ''); } catch (e) { /* private mode */ }
  }
  big.addEventListener('click', function () { setBig(!document.body.classList.contains('big')); });
  try { if (localStorage.getItem('pingan-big-text')) { setBig(true); } } catch (e) { /* private mode */ }

  page = shownPages()[0] || 0;
  draw();
})();
