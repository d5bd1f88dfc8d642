// kefu console charts: reads the report the server embedded in #report and draws each
// [data-chart] element with Apache ECharts. The tables on the page hold every number, so a chart
// that cannot be drawn (no JavaScript, ECharts missing) leaves the page complete.
(function () {
  'use strict';
  var holder = document.getElementById('report');
  if (!holder || typeof echarts === 'undefined') { return; }
  var r = JSON.parse(holder.dataset.report || '{}');
  var L = JSON.parse(holder.dataset.labels || '{}');
  var h = function (s) { return s == null ? null : Math.round(s / 36) / 100; }; // seconds -> hours
  var keys = function (xs) { return (xs || []).map(function (x) { return x.key; }); };
  var counts = function (xs) { return (xs || []).map(function (x) { return x.count; }); };
  var bar = function (names, values, name) {
    return { tooltip: {}, grid: { left: 50, right: 10, top: 20, bottom: 30 }, xAxis: { type: 'category', data: names },
      yAxis: { type: 'value' }, series: [{ type: 'bar', name: name, data: values }] };
  };
  var rowsChart = function (rows) {
    return { tooltip: { trigger: 'axis' }, legend: {}, grid: { left: 50, right: 50, top: 30, bottom: 40 },
      xAxis: { type: 'category', data: keys(rows) },
      yAxis: [{ type: 'value', name: L.tickets }, { type: 'value', name: L.csat, min: 1, max: 5 }],
      series: [{ type: 'bar', name: L.tickets, data: (rows || []).map(function (x) { return x.tickets; }) },
        { type: 'line', name: L.csat, yAxisIndex: 1, data: (rows || []).map(function (x) { return x.csat_avg; }) }] };
  };
  var charts = {
    trend: function () {
      var t = r.trend || [];
      return { tooltip: { trigger: 'axis' }, legend: {}, grid: { left: 50, right: 50, top: 40, bottom: 30 },
        xAxis: { type: 'category', data: keys(t) },
        yAxis: [{ type: 'value', name: L.hours }, { type: 'value', name: L.created }],
        series: [
          { type: 'bar', name: L.created, yAxisIndex: 1, data: t.map(function (x) { return x.tickets; }), itemStyle: { opacity: 0.35 } },
          { type: 'line', name: L.first_response + ' ' + L.median, data: t.map(function (x) { return h(x.first_response.median_s); }) },
          { type: 'line', name: L.first_response + ' ' + L.p90, data: t.map(function (x) { return h(x.first_response.p90_s); }) },
          { type: 'line', name: L.resolution + ' ' + L.median, data: t.map(function (x) { return h(x.resolution.median_s); }) }] };
    },
    backlog_age: function () { return bar(keys(r.backlog.by_age), counts(r.backlog.by_age), L.count); },
    backlog_status: function () {
      var pie = function (xs, center) {
        return { type: 'pie', radius: ['25%', '45%'], center: center, label: { formatter: '{b}: {c}' },
          data: (xs || []).map(function (x) { return { name: x.key, value: x.count }; }) };
      };
      return { tooltip: {}, series: [pie(r.backlog.by_status, ['27%', '50%']), pie(r.backlog.by_priority, ['75%', '50%'])] };
    },
    csat: function () { return bar(['1', '2', '3', '4', '5'], r.csat.dist, L.count); },
    top5: function () {
      return { tooltip: {}, series: [{ type: 'pie', radius: '60%', label: { formatter: '{b}: {d}%' },
        data: (r.top_problems || []).map(function (p) { return { name: L['cat:' + p.category] || p.category, value: p.count }; }) }] };
    },
    box: function () {
      var b = r.resolution_box || [];
      return { tooltip: {}, grid: { left: 50, right: 10, top: 20, bottom: 30 },
        xAxis: { type: 'category', data: b.map(function (x) { return L['cat:' + x.category] || x.category; }) }, yAxis: { type: 'value', name: L.hours },
        series: [{ type: 'boxplot', data: b.map(function (x) { return [h(x.min), h(x.q1), h(x.median), h(x.q3), h(x.max)]; }) }] };
    },
    scatter: function () {
      var pts = (r.response_vs_csat.points || []).map(function (p) { return [h(p[0]), p[1]]; });
      return { tooltip: {}, grid: { left: 40, right: 10, top: 20, bottom: 40 },
        xAxis: { type: 'log', name: L.first_response + ' (' + L.hours + ')', nameLocation: 'middle', nameGap: 25 },
        yAxis: { type: 'value', min: 1, max: 5, name: L.score },
        series: [{ type: 'scatter', symbolSize: 5, data: pts }] };
    },
    buckets: function () {
      var b = r.response_vs_csat.buckets || [];
      var o = bar(b.map(function (x) { return x.bucket; }), b.map(function (x) { return x.mean_csat; }), L.mean_csat);
      o.yAxis = { type: 'value', min: 1, max: 5 };
      return o;
    },
    agents: function () { return rowsChart(r.agents); },
    channels: function () { return rowsChart(r.channels); }
  };
  var drawn = [];
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    var make = charts[el.dataset.chart];
    if (!make) { return; }
    try {
      var c = echarts.init(el);
      c.setOption(make());
      el.dataset.rendered = '1';
      drawn.push(c);
    } catch (e) {
      el.dataset.rendered = 'error';
      if (window.console) { window.console.error('chart ' + el.dataset.chart, e); }
    }
  });
  var hint = document.getElementById('charts-hint');
  if (hint) { hint.hidden = true; }
  window.addEventListener('resize', function () { drawn.forEach(function (c) { c.resize(); }); });
})();
