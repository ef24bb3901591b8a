/**
 * The page's script: plain browser JavaScript, no build step. It only ever sets textContent and
 * attributes, never innerHTML, so a key or log line cannot inject markup. (Kept free of backticks
 * and dollar-brace so that it can live in this template string.)
 */
export const dashboardScript = String.raw`
'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var chartWindowMs = 10 * 60 * 1000;
  var maxLogLines = 500;
  var outcomes = ['copied', 'skipped', 'missing', 'absent', 'failed'];
  var countLabels = { 'in-flight': 'in flight', copied: document.body.hasAttribute('data-dry-run') ? 'would copy' : 'copied' };
  var svgNs = 'http://www.w3.org/2000/svg';

  var jobsEl = document.getElementById('jobs');
  var failuresEl = document.getElementById('failures');
  var logEl = document.getElementById('log');
  var statusEl = document.getElementById('status');
  var statusText = document.getElementById('status-text');
  var problemEl = document.getElementById('source-problem');
  var mainEl = document.querySelector('main');

  var cards = new Map();
  var samples = new Map();
  var logLines = [];
  var lastJobs = [];
  var lastMessageAt = 0;
  var connected = false;
  /** Why the server cannot read the run right now (its Redis away), or null. */
  var unavailable = null;

  /** The dashboard's own URL carries ?token=; every call it makes passes it on. */
  function apiUrl(path) {
    return token === null ? path : path + (path.indexOf('?') === -1 ? '?' : '&') + 'token=' + encodeURIComponent(token);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var integer = new Intl.NumberFormat('en-US');
  function count(value) { return integer.format(value); }

  /** Decimal units, as the terminal summary prints them. */
  function bytes(value) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return (unit === 0 ? String(Math.round(value)) : value.toFixed(1)) + ' ' + units[unit];
  }

  /** Objects a second: a decimal only where it tells something. */
  function rate(value) { return value >= 100 ? count(Math.round(value)) : value.toFixed(1); }

  function duration(seconds) {
    seconds = Math.round(seconds);
    if (seconds < 60) return seconds + 's';
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + 'm ' + String(seconds % 60).padStart(2, '0') + 's';
    return Math.floor(minutes / 60) + 'h ' + String(minutes % 60).padStart(2, '0') + 'm';
  }

  function clock(time) {
    var date = new Date(time);
    return [date.getHours(), date.getMinutes(), date.getSeconds()].map(function (part) { return String(part).padStart(2, '0'); }).join(':');
  }

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  function createCard(job) {
    var card = el('article', 'job');
    card.dataset.job = job;
    var head = el('header');
    head.append(el('h3', '', job), el('span', 'badge', 'running'));
    var bar = el('div', 'bar');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    var segments = {};
    outcomes.forEach(function (outcome) { segments[outcome] = el('span', outcome); bar.append(segments[outcome]); });
    var line = el('div', 'progress-line');
    var percent = el('span', 'percent', '0%');
    var objects = el('span', 'objects');
    var eta = el('span', 'eta');
    line.append(percent, objects, eta);
    var facts = el('div', 'facts');

    var chartBox = el('div', 'chart-box');
    var chartHead = el('div', 'chart-head');
    var bytesKey = el('span', 'key');
    bytesKey.append(el('span', 'swatch'), el('span', 'bytes-label', 'throughput'));
    var objectsKey = el('span', 'key');
    objectsKey.append(el('span', 'swatch rate'), el('span', 'objects-label', 'objects/s'));
    chartHead.append(bytesKey, objectsKey);
    var svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', '0 0 300 72');
    svg.setAttribute('preserveAspectRatio', 'none');
    [18, 36, 54].forEach(function (y) {
      var grid = document.createElementNS(svgNs, 'line');
      grid.setAttribute('class', 'grid');
      grid.setAttribute('x1', '0'); grid.setAttribute('x2', '300');
      grid.setAttribute('y1', String(y)); grid.setAttribute('y2', String(y));
      svg.append(grid);
    });
    var area = document.createElementNS(svgNs, 'path');
    area.setAttribute('class', 'area');
    var rateLine = document.createElementNS(svgNs, 'path');
    rateLine.setAttribute('class', 'rate-line');
    svg.append(area, rateLine);
    chartBox.append(chartHead, svg);

    var countsEl = el('dl', 'counts');
    var countEls = {};
    outcomes.concat(['in-flight']).forEach(function (name) {
      var item = el('div', name);
      var value = el('dd', '', '0');
      item.append(el('dt', '', countLabels[name] || name), value);
      countsEl.append(item);
      countEls[name] = { item: item, value: value };
    });

    card.append(head, bar, line, facts, chartBox, countsEl);
    var parts = { card: card, badge: head.querySelector('.badge'), bar: bar, segments: segments, percent: percent, objects: objects, eta: eta, facts: facts, area: area, rateLine: rateLine, bytesLabel: bytesKey.querySelector('.bytes-label'), objectsLabel: objectsKey.querySelector('.objects-label'), counts: countEls };
    cards.set(job, parts);
    return parts;
  }

  function renderFacts(node, job) {
    var items = [
      [bytes(job.bytes), ' written'],
      [bytes(job.bytesPerSecond) + '/s', ' average'],
      [count(job.rows), job.rowsTotal === null ? ' rows' : ' of ' + count(job.rowsTotal) + ' rows'],
      [duration(job.elapsedSeconds), ' elapsed'],
    ];
    node.replaceChildren();
    items.forEach(function (item) {
      var span = el('span');
      span.append(el('b', '', item[0]), document.createTextNode(item[1]));
      node.append(span);
    });
  }

  function renderJob(job) {
    var parts = cards.get(job.job) || createCard(job.job);
    if (!parts.card.isConnected) jobsEl.append(parts.card);
    parts.card.dataset.state = job.state;
    parts.card.dataset.failed = job.failed > 0 ? 'yes' : 'no';
    setText(parts.badge, job.state === 'finished' ? (job.failed > 0 ? 'finished · ' + count(job.failed) + ' failed' : 'finished') : 'running');
    var total = Math.max(job.expected, 1);
    outcomes.forEach(function (outcome) { parts.segments[outcome].style.width = (job[outcome] * 100 / total) + '%'; });
    parts.bar.setAttribute('aria-valuenow', String(job.percent));
    setText(parts.percent, job.percent + '%');
    setText(parts.objects, count(job.done) + ' / ' + count(job.expected) + ' objects');
    setText(parts.eta, job.state === 'finished' ? 'done in ' + duration(job.elapsedSeconds) : job.etaSeconds === null ? 'ETA —' : 'ETA ' + duration(job.etaSeconds));
    renderFacts(parts.facts, job);
    outcomes.concat(['in-flight']).forEach(function (name) {
      var value = name === 'in-flight' ? job.inFlight : job[name];
      setText(parts.counts[name].value, count(value));
      parts.counts[name].item.classList.toggle('nonzero', value > 0);
    });
    renderChart(parts, job);
  }

  /** bytes/s as a filled area, objects/s as a dashed line on its own scale, over the last ten minutes. */
  function renderChart(parts, job) {
    var list = samples.get(job.job) || [];
    // A finished job's last sample lands on the tick after it finished: keep it on the chart.
    var end = job.finishedAt !== null ? Math.max(job.finishedAt, list.length > 0 ? list[list.length - 1].time : 0) : Date.now();
    var start = Math.max(job.startedAt, end - chartWindowMs);
    // A running job's chart starts ten seconds wide rather than stretching its first samples across.
    var span = job.state === 'running' ? Math.max(end - start, 10 * 1000) : Math.max(end - start, 1);
    var visible = list.filter(function (sample) { return sample.time >= start; });
    var peakBytes = visible.reduce(function (max, sample) { return Math.max(max, sample.bytesPerSecond); }, 0);
    var peakObjects = visible.reduce(function (max, sample) { return Math.max(max, sample.objectsPerSecond); }, 0);
    function x(time) { return ((time - start) / span * 300).toFixed(1); }
    function y(value, peak) { return (70 - (peak > 0 ? value / peak : 0) * 64).toFixed(1); }
    if (visible.length === 0) {
      parts.area.setAttribute('d', '');
      parts.rateLine.setAttribute('d', '');
    } else {
      var first = visible[0];
      var line = 'M' + x(first.time - 1000) + ',' + y(first.bytesPerSecond, peakBytes);
      var ratePath = 'M' + x(first.time - 1000) + ',' + y(first.objectsPerSecond, peakObjects);
      visible.forEach(function (sample) {
        line += ' L' + x(sample.time) + ',' + y(sample.bytesPerSecond, peakBytes);
        ratePath += ' L' + x(sample.time) + ',' + y(sample.objectsPerSecond, peakObjects);
      });
      var last = visible[visible.length - 1];
      parts.area.setAttribute('d', line + ' L' + x(last.time) + ',72 L' + x(first.time - 1000) + ',72 Z');
      parts.rateLine.setAttribute('d', ratePath);
    }
    var current = visible.length > 0 && job.state === 'running' ? visible[visible.length - 1] : null;
    setText(parts.bytesLabel, (current ? bytes(current.bytesPerSecond) + '/s now' : 'throughput') + ' · peak ' + bytes(peakBytes) + '/s');
    setText(parts.objectsLabel, (current ? rate(current.objectsPerSecond) + ' objects/s now' : 'objects/s') + ' · peak ' + rate(peakObjects));
  }

  function renderOverview(jobs) {
    var sum = function (field) { return jobs.reduce(function (total, job) { return total + job[field]; }, 0); };
    var done = sum('done');
    var expected = sum('expected');
    var running = jobs.filter(function (job) { return job.state === 'running'; });
    var percent = expected > 0 ? Math.floor(done * 100 / expected) : 0;
    setText(document.getElementById('total-objects'), count(done) + ' / ' + count(expected));
    setText(document.getElementById('total-percent'), percent + '% of the objects the database references');
    setText(document.getElementById('total-bytes'), bytes(sum('bytes')));
    setText(document.getElementById('total-skipped'), bytes(sum('skippedBytes')) + ' already there (skipped)');
    var now = running.reduce(function (total, job) {
      var list = samples.get(job.job) || [];
      return total + (list.length > 0 ? list[list.length - 1].bytesPerSecond : 0);
    }, 0);
    setText(document.getElementById('total-rate'), bytes(now) + '/s');
    setText(document.getElementById('total-jobs'), running.length + ' of ' + jobs.length + ' jobs running, ' + count(sum('inFlight')) + ' transfers in flight');
    var problems = sum('failed') + sum('missing');
    setText(document.getElementById('total-problems'), count(sum('failed')) + ' / ' + count(sum('missing')));
    document.getElementById('problems-tile').classList.toggle('problem', problems > 0);
  }

  function renderFailures(failures) {
    var body = failuresEl.querySelector('tbody');
    var empty = document.getElementById('failures-empty');
    failuresEl.hidden = failures.length === 0;
    empty.hidden = failures.length > 0;
    body.replaceChildren();
    failures.forEach(function (failure) {
      var row = el('tr');
      var outcome = el('td');
      outcome.append(el('span', 'outcome ' + failure.outcome, failure.outcome));
      row.append(el('td', 'time', clock(failure.time)), el('td', 'job-name', failure.job), outcome, el('td', 'key', failure.key), el('td', 'reason', failure.reason));
      body.append(row);
    });
  }

  /** pino's JSON lines become "time level message"; pretty lines are shown as they are. */
  function logEntry(text) {
    var row = el('div');
    var level = /\bERROR\b|\bFATAL\b/.test(text) ? 'error' : /\bWARN\b/.test(text) ? 'warn' : /\bDEBUG\b/.test(text) ? 'debug' : '';
    if (text.charAt(0) === '{') {
      try {
        var record = JSON.parse(text);
        var names = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };
        level = names[record.level] || '';
        if (typeof record.time === 'number') row.append(el('span', 't', clock(record.time)));
        row.append(document.createTextNode(String(record.msg === undefined ? text : record.msg)));
        if (level) row.className = level;
        return row;
      } catch (error) { /* not JSON after all: shown raw */ }
    }
    row.textContent = text;
    if (level) row.className = level;
    return row;
  }

  function renderLogs(lines, full) {
    if (full) { logLines = []; logEl.replaceChildren(); }
    if (lines.length === 0 && !full) return;
    var follow = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 24;
    lines.forEach(function (line) { logLines.push(line); logEl.append(logEntry(line.line)); });
    while (logLines.length > maxLogLines) { logLines.shift(); logEl.firstChild.remove(); }
    document.getElementById('log-empty').hidden = logLines.length > 0;
    if (follow) logEl.scrollTop = logEl.scrollHeight;
  }

  function apply(snapshot) {
    if (snapshot.full) samples.clear();
    snapshot.samples.forEach(function (sample) {
      var list = samples.get(sample.job);
      if (!list) { list = []; samples.set(sample.job, list); }
      list.push(sample);
      if (list.length > 900) list.shift();
    });
    var empty = document.getElementById('jobs-empty');
    if (empty) empty.hidden = snapshot.jobs.length > 0;
    snapshot.jobs.forEach(renderJob);
    lastJobs = snapshot.jobs;
    renderOverview(snapshot.jobs);
    renderFailures(snapshot.failures);
    renderLogs(snapshot.logs, snapshot.full);
    lastMessageAt = Date.now();
    showProblem(null);
  }

  /** The server's reason while it cannot read the run: the counts stay, dimmed and called not live. */
  function showProblem(reason) {
    unavailable = reason;
    problemEl.hidden = reason === null;
    setText(problemEl, reason === null ? '' : reason);
    if (reason === null) mainEl.removeAttribute('data-stale'); else mainEl.setAttribute('data-stale', '');
    updateStatus();
  }

  function updateStatus() {
    var state;
    var text;
    if (!connected) { state = 'reconnecting'; text = 'reconnecting…'; }
    else if (unavailable !== null) { state = 'unavailable'; text = lastMessageAt > 0 ? 'not live: counts as of ' + clock(lastMessageAt) : 'not live: no counts yet'; }
    else if (Date.now() - lastMessageAt > 5000) { state = 'stale'; text = 'no update for ' + duration((Date.now() - lastMessageAt) / 1000); }
    else if (lastJobs.length > 0 && lastJobs.every(function (job) { return job.state === 'finished'; })) { state = 'finished'; text = 'all jobs finished'; }
    else { state = 'live'; text = 'live · updated ' + clock(lastMessageAt); }
    statusEl.dataset.state = state;
    setText(statusText, text);
  }

  var events = new EventSource(apiUrl('/api/events'));
  events.addEventListener('open', function () { connected = true; updateStatus(); });
  events.addEventListener('error', function () { connected = false; updateStatus(); });
  events.addEventListener('snapshot', function (event) { connected = true; apply(JSON.parse(event.data)); });
  events.addEventListener('unavailable', function (event) { connected = true; showProblem(JSON.parse(event.data).reason); });
  setInterval(updateStatus, 1000);
})();
`;
