// pingan 平安建设测评平台: draws the charts from the JSON each page embeds
// and makes the data tables sortable, filterable and paginated. Our own
// file; ECharts comes from npm through the lockfile and is served by the
// binary (no request leaves the machine).
(function () {
  'use strict';

  function data(el) {
    var src = document.getElementById(el.getAttribute('data-source'));
    return src ? JSON.parse(src.textContent) : null;
  }
  function narrow() { return window.innerWidth < 768; }
  function pct(v) { return v == null ? '—' : (Math.round(v * 10) / 10) + '%'; }
  var palette = ['#409eff', '#e6a23c', '#67c23a', '#f56c6c', '#909399', '#9b59b6'];

  var charts = {
    radar: function (d) {
      return {
        color: ['#409eff', '#e6a23c'],
        tooltip: { trigger: 'item' },
        legend: { bottom: 0 },
        // A scale (0–100 %) on the first axis and this region's values on the
        // points, so the shape can be read, not only seen.
        radar: { indicator: d.indicators.map(function (x, i) {
            return { name: x.name, max: x.max, axisLabel: { show: i === 0, fontSize: 10, color: '#909399' } };
          }), radius: '55%', center: ['50%', '48%'], splitNumber: 4,
          axisName: { color: '#606266', fontSize: 12 } },
        series: [{ type: 'radar', data: d.series.map(function (s, i) {
          return { name: s.name, value: s.value.map(function (v) { return Math.round(v * 10) / 10; }),
            label: { show: i === 0, fontSize: 10, formatter: function (p) { return p.value + '%'; } },
            areaStyle: i === 0 ? { opacity: 0.2 } : undefined };
        }) }]
      };
    },
    heatmap: function (d) {
      return {
        tooltip: { position: 'top', formatter: function (p) {
          return d.regions[p.value[1]] + ' · ' + d.dimensions[p.value[0]] + '：' + pct(p.value[2]);
        } },
        grid: { left: 90, right: 20, top: 10, bottom: narrow() ? 130 : 110 },
        xAxis: { type: 'category', data: d.dimensions, axisLabel: { interval: 0, rotate: narrow() ? 45 : 20 } },
        yAxis: { type: 'category', data: d.regions, inverse: true },
        visualMap: { min: 50, max: 100, calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
          itemHeight: 120, text: ['100%', '≤50%'], inRange: { color: ['#f56c6c', '#e6a23c', '#f7f7a1', '#67c23a'] } },
        series: [{ type: 'heatmap', data: d.cells, label: { show: d.regions.length <= 20, fontSize: 11,
          formatter: function (p) { return Math.round(p.value[2]); } } }]
      };
    },
    // One axis: the total (of 100) and each dimension's rate (%) share a
    // scale, so a one-point change looks like one point. The legend wraps
    // instead of paging, so every dimension's name stays readable.
    trend: function (d) {
      var r2 = function (v) { return v == null ? null : Math.round(v * 100) / 100; };
      var series = [{ name: '总分', type: 'line', data: d.total.map(r2), lineStyle: { width: 3 },
        label: { show: true, formatter: function (p) { return p.value == null ? '' : p.value.toFixed(2); } } }];
      d.dimensions.forEach(function (x) {
        series.push({ name: x.name + '（得分率）', type: 'line', data: x.percent.map(function (v) {
          return v == null ? null : Math.round(v * 10) / 10; }) });
      });
      var all = [].concat(d.total, [].concat.apply([], d.dimensions.map(function (x) { return x.percent; })))
        .filter(function (v) { return v != null; });
      var low = all.length ? Math.max(0, Math.floor((Math.min.apply(null, all) - 5) / 10) * 10) : 0;
      return {
        color: palette,
        tooltip: { trigger: 'axis', valueFormatter: function (v) { return v == null ? '—' : (Math.round(v * 100) / 100); } },
        legend: { bottom: 0, type: 'plain' },
        grid: { left: 50, right: 20, top: 30, bottom: narrow() ? 110 : 80 },
        xAxis: { type: 'category', data: d.years },
        yAxis: { type: 'value', name: '分 / 得分率%', min: low, max: 100 },
        series: series
      };
    },
    // Each index as a point with its 95 % interval drawn as an error bar,
    // last year's just below it: an overlap says the change may be noise.
    ci: function (d) {
      var colors = ['#409eff', '#909399'];
      var sets = [{ name: d.label_now, rows: d.now, shift: -5 }];
      if (d.before) { sets.push({ name: d.label_before, rows: d.before, shift: 5 }); }
      // The axis from a little below the lowest interval to the scale's top
      // (5 for mean scores, 100 for percent favourable).
      var lows = [], top = d.max == null ? 100 : d.max, bottom = d.min == null ? 0 : d.min, dg = d.digits || 1;
      sets.forEach(function (s) { s.rows.forEach(function (r) { if (r) { lows.push(r.low); } }); });
      var step = (top - bottom) / 20;
      var low = lows.length ? Math.max(bottom, Math.floor((Math.min.apply(null, lows) - step) / step) * step) : bottom;
      var series = [];
      sets.forEach(function (s, k) {
        var color = colors[k];
        series.push({
          name: s.name, type: 'custom', z: 1, tooltip: { show: false },
          data: s.rows.map(function (r, i) { return r ? [r.low, r.high, i] : [null, null, i]; }),
          encode: { x: [0, 1], y: 2 },
          renderItem: function (params, api) {
            if (api.value(0) == null || isNaN(api.value(0))) { return null; }
            var a = api.coord([api.value(0), api.value(2)]), b = api.coord([api.value(1), api.value(2)]);
            var y = a[1] + s.shift, h = 4;
            var style = { stroke: color, lineWidth: 2 };
            return { type: 'group', children: [
              { type: 'line', shape: { x1: a[0], y1: y, x2: b[0], y2: y }, style: style },
              { type: 'line', shape: { x1: a[0], y1: y - h, x2: a[0], y2: y + h }, style: style },
              { type: 'line', shape: { x1: b[0], y1: y - h, x2: b[0], y2: y + h }, style: style }
            ] };
          }
        });
        series.push({
          name: s.name, type: 'scatter', z: 2, symbolSize: 9, symbolOffset: [0, s.shift], itemStyle: { color: color },
          data: s.rows.map(function (r, i) { return r ? [r.est, i, r.low, r.high] : [null, i]; }),
          label: { show: k === 0 && !narrow(), position: 'right', distance: 10, fontSize: 11,
            formatter: function (p) { return p.value[0] == null ? '' : p.value[0].toFixed(dg); } }
        });
      });
      return {
        color: colors,
        tooltip: { trigger: 'item', formatter: function (p) {
          var v = p.value;
          if (v[0] == null) { return d.names[v[1]] + '：样本不足'; }
          return p.seriesName + ' ' + d.names[v[1]] + '<br>估计 ' + v[0].toFixed(dg + 1) +
            '<br>95% 置信区间 ' + v[2].toFixed(dg + 1) + ' – ' + v[3].toFixed(dg + 1);
        } },
        legend: { bottom: 0, data: sets.map(function (s) { return s.name; }) },
        grid: { left: narrow() ? 110 : 170, right: 30, top: 10, bottom: 40 },
        xAxis: { type: 'value', min: Number(low.toFixed(2)), max: top, name: '分' },
        yAxis: { type: 'category', data: d.names, inverse: true,
          axisLabel: { width: narrow() ? 100 : 160, overflow: 'truncate' } },
        series: series
      };
    },
    // Answers per day: received and valid.
    daily: function (d) {
      return {
        color: ['#909399', '#409eff'],
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0 },
        grid: { left: 50, right: 20, top: 20, bottom: narrow() ? 100 : 60 },
        xAxis: { type: 'category', data: d.days, axisLabel: { rotate: narrow() ? 45 : 0 } },
        yAxis: { type: 'value', name: '份' },
        series: [
          { name: '收到', type: 'bar', data: d.received, barMaxWidth: 24 },
          { name: '有效', type: 'line', data: d.valid, symbolSize: 6 }
        ]
      };
    },
    // 网格事件: events per month (bars) and the share handled in time (line).
    events: function (d) {
      return {
        color: ['#409eff', '#67c23a'],
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0 },
        grid: { left: 50, right: 50, top: 30, bottom: 50 },
        xAxis: { type: 'category', data: d.months },
        yAxis: [{ type: 'value', name: '件' }, { type: 'value', name: '按时率%', min: 0, max: 100 }],
        series: [
          { name: '网格事件', type: 'bar', data: d.events, barMaxWidth: 28 },
          { name: '按时处置率', type: 'line', yAxisIndex: 1, data: d.rates, symbolSize: 6,
            label: { show: !narrow(), formatter: function (p) { return p.value == null ? '' : p.value + '%'; } } }
        ]
      };
    },
    // 群众意见: the words most named, the most first (at the top).
    words: function (d) {
      return {
        color: ['#e6a23c'],
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' },
          formatter: function (ps) { var p = ps[0]; return p.name + '：' + p.value + ' 条意见提及'; } },
        grid: { left: 10, right: 40, top: 10, bottom: 20, containLabel: true },
        xAxis: { type: 'value', name: '条', minInterval: 1 },
        yAxis: { type: 'category', data: d.words.slice().reverse(), axisLabel: { interval: 0 } },
        series: [{ type: 'bar', data: d.counts.slice().reverse(), barMaxWidth: 18,
          label: { show: true, position: 'right' } }]
      };
    },
    // 平安热力图: regions on their map, coloured by d.title; a click drills
    // down (drawCharts follows d.links).
    map: function (d) {
      echarts.registerMap(d.key, d.geo);
      var names = {};
      d.values.forEach(function (v) { names[v.name] = v.label; });
      var scale = ['#f56c6c', '#e6a23c', '#f7f7a1', '#67c23a'];
      var colors = d.better === 'lower' ? scale.slice().reverse() : scale;
      var f = function (v) { return v == null || isNaN(v) ? '—' : (Math.round(v * 100) / 100) + d.unit; };
      return {
        // Without animation: ECharts' map keeps an animation running and
        // would never report it had finished drawing.
        animation: false,
        tooltip: { trigger: 'item', formatter: function (p) {
          return (names[p.name] || p.name) + '<br>' + d.title + '：' + f(p.value);
        } },
        visualMap: { min: d.min, max: d.max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
          itemHeight: 120, text: [f(d.max), f(d.min)], inRange: { color: colors } },
        series: [{ type: 'map', map: d.key, roam: false, selectedMode: false, top: 10, bottom: 50,
          label: { show: d.values.length <= 30 && !narrow(), fontSize: 10, color: '#303133',
            formatter: function (p) { return names[p.name] || ''; } },
          emphasis: { label: { show: true }, itemStyle: { areaColor: '#409eff' } },
          itemStyle: { borderColor: '#fff', borderWidth: 0.6 },
          data: d.values.map(function (v) { return { name: v.name, value: v.value }; }) }]
      };
    },
    // 风险预警: an indicator's values by year, the forecast year's point with
    // its 80 % interval, and the rule's thresholds as lines.
    risk: function (d) {
      var n = d.years.length;
      var hist = d.history.concat([null]);
      var fc = d.history.map(function () { return null; });
      fc.push(d.value);
      var lines = d.thresholds.map(function (t) {
        return { yAxis: Math.round(t.value * 100) / 100, name: t.label,
          lineStyle: { color: t.label === '否决线' ? '#f56c6c' : t.label === '满分线' ? '#67c23a' : '#e6a23c', type: 'dashed' },
          label: { formatter: t.label + ' {c}', position: 'insideEndTop' } };
      });
      var all = [].concat(d.history, [d.value, d.low, d.high], d.thresholds.map(function (t) { return t.value; }))
        .filter(function (v) { return v != null; });
      var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all), pad = (hi - lo) * 0.15 || 1;
      // Round bounds, never below 0 for values that are not, nor above 100 %.
      var unit = hi - lo > 50 ? 10 : hi - lo > 5 ? 1 : 0.1;
      var ymin = Math.floor((lo - pad) / unit) * unit, ymax = Math.ceil((hi + pad) / unit) * unit;
      if (lo >= 0) { ymin = Math.max(0, ymin); }
      if (d.unit === '%' && hi <= 100) { ymax = Math.min(100, ymax); }
      return {
        color: ['#409eff', '#e6a23c'],
        tooltip: { trigger: 'axis', valueFormatter: function (v) { return v == null ? '—' : (Math.round(v * 100) / 100) + d.unit; } },
        legend: { bottom: 0, data: ['实际值', '预测值'] },
        grid: { left: 60, right: 30, top: 30, bottom: 50 },
        xAxis: { type: 'category', data: d.years },
        yAxis: { type: 'value', name: d.unit, min: Number(ymin.toFixed(1)), max: Number(ymax.toFixed(1)) },
        series: [
          { name: '实际值', type: 'line', data: hist, symbolSize: 8, markLine: { symbol: 'none', data: lines } },
          { name: '预测值', type: 'scatter', data: fc, symbolSize: 12 },
          { name: '80%区间', type: 'custom', tooltip: { show: false }, data: [[n - 1, d.low, d.high]],
            renderItem: function (params, api) {
              if (api.value(1) == null || isNaN(api.value(1))) { return null; }
              var a = api.coord([api.value(0), api.value(1)]), b = api.coord([api.value(0), api.value(2)]);
              var style = { stroke: '#e6a23c', lineWidth: 2 };
              return { type: 'group', children: [
                { type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style },
                { type: 'line', shape: { x1: a[0] - 6, y1: a[1], x2: a[0] + 6, y2: a[1] }, style: style },
                { type: 'line', shape: { x1: b[0] - 6, y1: b[1], x2: b[0] + 6, y2: b[1] }, style: style }
              ] };
            } }
        ]
      };
    },
    // An element's months and its forecast with the interval as a band.
    forecast: function (d) {
      var months = d.months.concat(d.ahead);
      var pad = d.months.map(function () { return null; });
      var hist = d.history.concat(d.ahead.map(function () { return null; }));
      var r2 = function (v) { return Math.round(v * 100) / 100; };
      var lo = pad.concat(d.lo.map(function (v) { return r2(Math.max(0, v)); }));
      var band = pad.concat(d.hi.map(function (v, i) { return r2(v - Math.max(0, d.lo[i])); }));
      return {
        color: ['#409eff', '#e6a23c'],
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0, data: ['实际值', '预测值'] },
        grid: { left: 50, right: 20, top: 20, bottom: narrow() ? 90 : 60 },
        xAxis: { type: 'category', data: months, axisLabel: { rotate: narrow() ? 45 : 0 } },
        yAxis: { type: 'value' },
        series: [
          { name: '区间下限', type: 'line', data: lo, stack: 'band', lineStyle: { opacity: 0 }, symbol: 'none', tooltip: { show: false } },
          { name: '80%区间', type: 'line', data: band, stack: 'band', lineStyle: { opacity: 0 }, symbol: 'none',
            areaStyle: { color: 'rgba(230,162,60,0.25)' }, tooltip: { show: false } },
          { name: '实际值', type: 'line', data: hist, symbolSize: 4 },
          { name: '预测值', type: 'line', data: pad.concat(d.point.map(r2)), lineStyle: { type: 'dashed' }, symbolSize: 4 }
        ]
      };
    },
    // 数据质量: a flag's series, its period marked, the model's expectation
    // with ±2 SD beside it.
    flag: function (d) {
      var r2 = function (v) { return v === null || v === undefined ? null : Math.round(v * 100) / 100; };
      var only = function (v) { return d.values.map(function (_, i) { return i === d.at ? r2(v) : null; }); };
      var series = [
        { name: '数值', type: 'line', data: d.values.map(r2), symbolSize: 4 },
        { name: '本问题', type: 'scatter', data: only(d.values[d.at]), symbolSize: 12 }
      ];
      var legend = ['数值', '本问题'];
      if (d.expected !== null && d.expected !== undefined) {
        var sd = d.sd || 0;
        var named = d.expected_label || '预计（±2 标准差）';
        series.push({ name: named, type: 'scatter', data: only(d.expected), symbol: 'diamond', symbolSize: 10,
          markLine: sd > 0 ? { symbol: 'none', lineStyle: { type: 'dashed', color: '#e6a23c' }, label: { show: false },
            data: [[{ xAxis: d.at, yAxis: r2(d.expected - 2 * sd) }, { xAxis: d.at, yAxis: r2(d.expected + 2 * sd) }]] } : undefined });
        legend.push(named);
      }
      return {
        color: ['#409eff', '#f56c6c', '#e6a23c'],
        tooltip: { trigger: 'axis' },
        legend: { bottom: 0, data: legend },
        grid: { left: 50, right: 20, top: 20, bottom: narrow() ? 90 : 60 },
        xAxis: { type: 'category', data: d.periods, axisLabel: { rotate: narrow() ? 45 : 0 } },
        yAxis: { type: 'value', scale: true },
        animation: false,
        series: series
      };
    },
    weights: function (d) {
      return {
        color: ['#409eff'],
        tooltip: { formatter: function (p) { return p.name + '：' + (Math.round(p.value * 100) / 100) + '%<br>' + (d.notes[p.dataIndex] || ''); } },
        grid: { left: 50, right: 20, top: 30, bottom: 40 },
        xAxis: { type: 'category', data: d.names, axisLabel: { interval: 0 } },
        yAxis: { type: 'value', name: '权重%' },
        series: [{ type: 'bar', data: d.weights, barMaxWidth: 60,
          label: { show: true, position: 'top', formatter: function (p) { return p.value + '%'; } } }]
      };
    }
  };

  function drawCharts() {
    if (!window.echarts) { return; }
    var made = [];
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var make = charts[el.getAttribute('data-chart')];
      var d = data(el);
      if (!make || !d) { return; }
      var c = echarts.init(el, null, { renderer: 'canvas' });
      // Before setOption: a chart without animation finishes inside it.
      c.on('finished', function () { el.setAttribute('data-rendered', '1'); });
      c.setOption(make(d));
      if (d.links) {
        c.on('click', function (p) { var h = d.links[p.name]; if (h) { window.location.href = h; } });
      }
      made.push(c);
    });
    window.addEventListener('resize', function () { made.forEach(function (c) { c.resize(); }); });
  }

  // Tables: click a header with data-sort to sort; data-filter adds a search
  // box; data-page-size paginates.
  function enhance(table) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    var size = parseInt(table.getAttribute('data-page-size') || '0', 10);
    var page = 1, query = '';
    var tools = document.createElement('div');
    tools.className = 'table-tools';
    var pager = document.createElement('div');
    pager.className = 'pager';
    var wrap = table.parentNode.classList.contains('table-wrap') ? table.parentNode : table;
    wrap.parentNode.insertBefore(tools, wrap);
    wrap.parentNode.insertBefore(pager, wrap.nextSibling);
    if (table.getAttribute('data-filter')) {
      var input = document.createElement('input');
      input.type = 'search';
      input.placeholder = '筛选（输入名称、代码等）';
      input.className = 'table-filter';
      input.addEventListener('input', function () { query = input.value.trim(); page = 1; render(); });
      tools.appendChild(input);
    }
    function visible() {
      return rows.filter(function (r) { return !query || r.textContent.indexOf(query) >= 0; });
    }
    function render() {
      var vis = visible();
      var pages = size ? Math.max(1, Math.ceil(vis.length / size)) : 1;
      if (page > pages) { page = pages; }
      rows.forEach(function (r) { r.style.display = 'none'; });
      vis.forEach(function (r, i) {
        var shown = !size || (i >= (page - 1) * size && i < page * size);
        r.style.display = shown ? '' : 'none';
        body.appendChild(r);
      });
      pager.innerHTML = '';
      var info = document.createElement('span');
      info.textContent = '共 ' + vis.length + ' 条' + (size ? '，第 ' + page + ' / ' + pages + ' 页' : '');
      pager.appendChild(info);
      if (size && pages > 1) {
        [['上一页', page - 1, page > 1], ['下一页', page + 1, page < pages]].forEach(function (b) {
          var btn = document.createElement('button');
          btn.type = 'button'; btn.className = 'btn small'; btn.textContent = b[0]; btn.disabled = !b[2];
          btn.addEventListener('click', function () { page = b[1]; render(); });
          pager.appendChild(btn);
        });
      }
    }
    Array.prototype.forEach.call(table.tHead ? table.tHead.rows[0].cells : [], function (th, col) {
      var kind = th.getAttribute('data-sort');
      if (!kind) { return; }
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        Array.prototype.forEach.call(th.parentNode.cells, function (x) { x.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var r;
          if (kind === 'num') {
            var vx = parseFloat(x.getAttribute('data-value') || x.textContent);
            var vy = parseFloat(y.getAttribute('data-value') || y.textContent);
            vx = isNaN(vx) ? -Infinity : vx; vy = isNaN(vy) ? -Infinity : vy;
            r = vx - vy;
          } else {
            r = x.textContent.trim().localeCompare(y.textContent.trim(), 'zh-CN');
          }
          return asc ? r : -r;
        });
        render();
      });
    });
    render();
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('table.data[data-page-size], table.data[data-filter]').forEach(enhance);
    drawCharts();
    // 实地核查: fill the position from the device, where the browser may.
    var locate = document.getElementById('locate');
    if (locate && navigator.geolocation) {
      locate.addEventListener('click', function () {
        navigator.geolocation.getCurrentPosition(function (p) {
          document.getElementById('r-lat').value = p.coords.latitude.toFixed(6);
          document.getElementById('r-lon').value = p.coords.longitude.toFixed(6);
        }, function () { locate.textContent = '无法获取位置，请手工填写'; });
      });
    }
    // Pickers: no inline handlers (the Content-Security-Policy allows only
    // our own scripts). A select submits its form, or goes to its value.
    document.querySelectorAll('select[data-submit]').forEach(function (s) {
      s.addEventListener('change', function () { s.form.submit(); });
    });
    document.querySelectorAll('select[data-go]').forEach(function (s) {
      s.addEventListener('change', function () { location.href = s.value; });
    });
    document.querySelectorAll('a[data-back]').forEach(function (a) {
      a.addEventListener('click', function (e) { if (history.length > 1) { e.preventDefault(); history.back(); } });
    });
    document.querySelectorAll('[data-print]').forEach(function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
    // A form that cannot be undone asks first (停用, batch approval …).
    document.querySelectorAll('form[data-confirm]').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        if (!window.confirm(f.getAttribute('data-confirm'))) { e.preventDefault(); }
      });
    });
    // 网页填报: each cell is checked while typing — a number, whole where it
    // counts things, within the hard range rules; the browser then refuses
    // to submit until the marked cells are right. The server checks again.
    var entry = document.getElementById('entry');
    if (entry) {
      var cells = entry.querySelectorAll('input[data-check]');
      var errors = document.getElementById('entry-errors');
      var judge = function (el) {
        var t = el.value.trim().replace(/,/g, '');
        var msg = '';
        // A stored value left as it was is not sent, so never blocks.
        var orig = el.nextElementSibling ? el.nextElementSibling.value : null;
        if (t !== '' && el.value !== orig) {
          var v = Number(t);
          var min = el.getAttribute('data-min'), max = el.getAttribute('data-max');
          if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) || !isFinite(v)) { msg = '不是数字'; }
          else if (el.hasAttribute('data-whole') && v !== Math.floor(v)) { msg = '须为整数'; }
          else if (min !== null && v < Number(min)) { msg = Number(min) === 0 ? '不能为负数' : '不能小于 ' + min; }
          else if (max !== null && v > Number(max)) { msg = '不能大于 ' + max; }
        }
        el.setCustomValidity(msg ? el.getAttribute('data-label') + '：' + msg : '');
        el.classList.toggle('invalid', msg !== '');
        el.title = msg ? el.getAttribute('data-label') + '：' + msg : '';
      };
      var count = function () {
        var n = entry.querySelectorAll('input[data-check].invalid').length;
        if (errors) { errors.textContent = n ? n + ' 个格子有误，改正后才能提交' : ''; }
      };
      cells.forEach(function (el) {
        el.addEventListener('input', function () { judge(el); count(); });
      });
    }
    // The menu's badges: what waits for this person (the 工作台 counts),
    // beside 工作台 and beside the page where each kind of work is done.
    var work = document.querySelector('.side nav a[href="/work"]');
    // Offline (the interviewer's page, kept by its service worker) there is
    // nothing to ask.
    if (work && window.fetch && navigator.onLine !== false) {
      fetch('/api/v1/work', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (w) {
          if (!w) { return; }
          var byPath = {};
          w.items.forEach(function (t) {
            var path = t.href.split('?')[0];
            byPath[path] = (byPath[path] || 0) + t.count;
          });
          badge(work, w.total, '待办');
          Object.keys(byPath).forEach(function (path) {
            var a = document.querySelector('.side nav a[href="' + path + '"]');
            if (a) { badge(a, byPath[path], '待处理'); }
          });
        })
        .catch(function () { /* no badges: the pages still work */ });
    }
    function badge(a, n, what) {
      if (!n) { return; }
      var s = document.createElement('span');
      s.className = 'badge';
      s.textContent = n > 99 ? '99+' : String(n);
      s.title = n + ' 项' + what;
      a.appendChild(s);
    }
    // 数据审核: one box checks every set on the page.
    var all = document.getElementById('select-all');
    if (all) {
      all.addEventListener('change', function () {
        document.querySelectorAll('input[name="set"]').forEach(function (b) { b.checked = all.checked; });
      });
    }
  });
})();
