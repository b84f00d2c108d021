// pingan 平安建设测评平台: the interviewer's page (入户访问, paper
// questionnaires typed in, the 12345 hotline). Works without a network:
// the page and its scripts are kept by the service worker (/collect/sw.js),
// each finished questionnaire goes to an outbox in IndexedDB on the device,
// and the outbox is sent when the network is back, one answer per request
// with its instance_id, so an answer sent twice counts once and an answer
// the server refuses stays on the device with the reason.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('answer-data').textContent);
  var STORE = 'outbox';
  var SETUP = 'pingan-collect-setup';
  var SYNCED = 'pingan-collect-synced';
  var $ = function (id) { return document.getElementById(id); };

  function open() {
    return new Promise(function (ok, no) {
      var r = indexedDB.open('pingan-collect', 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, { keyPath: 'instance_id' }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { no(r.error); };
    });
  }
  // One transaction; resolves with the request's result once committed.
  function tx(mode, fn) {
    return open().then(function (d) {
      return new Promise(function (ok, no) {
        var t = d.transaction(STORE, mode);
        var req = fn(t.objectStore(STORE));
        t.oncomplete = function () { d.close(); ok(req ? req.result : undefined); };
        t.onerror = t.onabort = function () { d.close(); no(t.error || new Error('本机存储失败')); };
      });
    });
  }
  function all() { return tx('readonly', function (s) { return s.getAll(); }); }
  function put(r) { return tx('readwrite', function (s) { return s.put(r); }); }
  function remove(id) { return tx('readwrite', function (s) { return s.delete(id); }); }

  function store(key, v) { try { localStorage.setItem(key, v); } catch (e) { /* private mode */ } }
  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function synced() { return parseInt(stored(SYNCED) || '0', 10) || 0; }

  function setup() {
    return {
      region: $('c-region').value,
      channel: $('c-channel').value,
      interviewer: $('c-interviewer').value.trim(),
      assisted: $('c-assisted').checked
    };
  }
  function keepSetup() { store(SETUP, JSON.stringify(setup())); }
  (function restore() {
    var s = null;
    try { s = JSON.parse(stored(SETUP) || 'null'); } catch (e) { s = null; }
    if (!s) { return; }
    if (s.region && $('c-region').querySelector('option[value="' + s.region + '"]')) { $('c-region').value = s.region; }
    if (s.channel) { $('c-channel').value = s.channel; }
    if (s.interviewer) { $('c-interviewer').value = s.interviewer; }
    $('c-assisted').checked = !!s.assisted;
  })();
  ['c-region', 'c-channel', 'c-interviewer', 'c-assisted'].forEach(function (id) {
    $(id).addEventListener('change', keepSetup);
  });

  function note(text) { $('c-note').textContent = text || ''; }

  function refresh() {
    $('c-net').textContent = navigator.onLine ? '在线' : '离线';
    $('c-net').className = 'tag ' + (navigator.onLine ? 'ok' : 'warn');
    $('c-synced').textContent = String(synced());
    return all().then(function (recs) {
      var waiting = recs.filter(function (r) { return r.state === 'waiting'; });
      var stuck = recs.filter(function (r) { return r.state !== 'waiting'; });
      $('c-waiting').textContent = String(waiting.length);
      var list = $('c-problems');
      list.innerHTML = '';
      stuck.forEach(function (r) {
        var li = document.createElement('li');
        li.textContent = (r.state === 'conflict' ? '冲突：' : '未通过：') + r.message + '（' + r.instance_id + '）';
        var del = document.createElement('button');
        del.type = 'button';
        del.className = 'btn small';
        del.textContent = '删除此份';
        del.addEventListener('click', function () {
          if (window.confirm('确定从本机删除这份未能上传的答卷？')) { remove(r.instance_id).then(refresh); }
        });
        li.appendChild(document.createTextNode(' '));
        li.appendChild(del);
        list.appendChild(li);
      });
      $('c-problems-box').hidden = stuck.length === 0;
    }).catch(function (e) { note('本机存储不可用：' + e.message); });
  }

  function reason(j) {
    if (j && j.message) { return j.message; }
    if (j && j.errors && j.errors.length) { return j.errors.map(function (e) { return e.message; }).join('；'); }
    return '服务器拒绝了这份答卷';
  }

  // Sends one answer; resolves true to go on with the next, false to stop
  // (no network, session over, server busy: all tried again later).
  function upload(r) {
    var item = {
      instance_id: r.instance_id, form_version: r.form_version, region: r.region, channel: r.channel,
      started: r.started, submitted: r.submitted, answers: r.answers, assisted: r.assisted
    };
    if (r.interviewer) { item.interviewer = r.interviewer; }
    return fetch(data.api, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ responses: [item] })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (resp.ok) {
          store(SYNCED, String(synced() + 1));
          return remove(r.instance_id).then(function () { return true; });
        }
        if (resp.status === 409 || resp.status === 422) {
          r.state = resp.status === 409 ? 'conflict' : 'rejected';
          r.message = reason(j);
          return put(r).then(function () { return true; });
        }
        if (resp.status === 401 || resp.status === 403) {
          note('登录已过期：请重新登录后上传，答卷仍保存在本机。');
        }
        return false;
      });
    }, function () { return false; });
  }

  var syncing = false;
  function sync() {
    if (syncing || !navigator.onLine) { return refresh(); }
    syncing = true;
    return all().then(function (recs) {
      var waiting = recs.filter(function (r) { return r.state === 'waiting'; })
        .sort(function (a, b) { return a.saved - b.saved; });
      return waiting.reduce(function (p, r) {
        return p.then(function (go) { return go ? upload(r) : false; });
      }, Promise.resolve(true));
    }).catch(function (e) { note('上传中断：' + e.message); })
      .then(function () { syncing = false; return refresh(); });
  }

  window.PinganCollect = {
    // Called by answer.js with a finished questionnaire.
    deliver: function (body) {
      var s = setup();
      if (!s.region) { return Promise.reject(new Error('请先在上方选择乡镇（街道）')); }
      var rec = {
        instance_id: body.instance_id, form_version: data.form.version, region: s.region,
        channel: s.channel, started: body.started, submitted: body.submitted, answers: body.answers,
        interviewer: s.interviewer, assisted: s.assisted, state: 'waiting', message: '', saved: Date.now()
      };
      return put(rec).then(function () {
        var online = navigator.onLine;
        sync();
        return ['已保存到本机', online ? '正在上传；可以开始下一份。'
          : '当前离线，联网后自动上传（不会重复计入）。'];
      });
    }
  };

  $('c-sync').addEventListener('click', function () { note(''); sync(); });
  window.addEventListener('online', function () { sync(); });
  window.addEventListener('offline', refresh);
  setInterval(sync, 30000);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(data.worker, { scope: '/collect/' }).catch(function (e) {
      note('离线功能不可用：' + e.message);
    });
  }
  sync();
})();
