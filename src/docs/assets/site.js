/*
 * sluice docs: draws every page of the site from the JSON in
 * <script id="sluice-data"> (manifest nodes, catalog, column lineage, test
 * results). Routes on the URL's hash, "#!/<type>/<unique_id>[/<column>]",
 * so it works from file:// with no server. Every text of the project goes
 * into the page through text nodes (el() below), never as markup.
 */
(function () {
  'use strict';

  var D = JSON.parse(document.getElementById('sluice-data').textContent);
  var nodes = D.nodes || {};
  var catalog = D.catalog || {};
  var lineage = D.lineage || {};
  var results = D.results || {};
  var meta = D.meta || {};
  var KIND_LETTER = { model: 'M', seed: 'S', snapshot: 'N', source: 'R', test: 'T', analysis: 'A' };
  var TYPE_ORDER = { source: 0, seed: 1, model: 2, snapshot: 3, analysis: 4, test: 5 };

  /* ------------------------------------------------------------ helpers */

  // el('a', {href: h, class: 'x'}, 'text', child...): strings become text nodes.
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'class') e.className = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(parent, kid) {
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(parent, k); }); return; }
    parent.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  function lc(s) { return String(s || '').toLowerCase(); }
  function typeOf(uid) {
    var n = nodes[uid];
    return n ? n.resource_type : String(uid).split('.')[0];
  }
  function href(uid, column) {
    var h = '#!/' + encodeURIComponent(typeOf(uid)) + '/' + encodeURIComponent(uid);
    if (column !== undefined && column !== null) h += '/' + encodeURIComponent(column);
    return h;
  }
  function displayName(uid) {
    var n = nodes[uid];
    if (!n) return uid;
    if (n.resource_type === 'source') return (n.source_name || '') + '.' + n.name;
    return n.name || uid;
  }
  function kind(type) {
    return el('span', { class: 'kind kind-' + type, title: type }, KIND_LETTER[type] || '?');
  }
  function nodeLink(uid, column) {
    var label = displayName(uid) + (column !== undefined && column !== null ? '.' + column : '');
    if (!nodes[uid]) return el('span', null, label);
    return el('a', { href: href(uid, column) }, kind(typeOf(uid)), label);
  }
  function statusBadge(status) {
    var s = status || 'none';
    return el('span', { class: 'status status-' + lc(s).replace(/[^a-z]/g, '') }, status || 'not run');
  }
  function folderOf(n) {
    var p = n.original_file_path || n.path || '';
    var i = p.lastIndexOf('/');
    return i < 0 ? '(project root)' : p.slice(0, i);
  }

  /* -------------------------------------------------- indexes, computed once */

  // Tests per node they test, and per (node, column).
  var testsOf = {};
  Object.keys(nodes).forEach(function (uid) {
    var t = nodes[uid];
    if (t.resource_type !== 'test') return;
    var on = t.attached_node ? [t.attached_node]
      : ((t.depends_on && t.depends_on.nodes) || []);
    on.forEach(function (target) { (testsOf[target] = testsOf[target] || []).push(uid); });
  });

  // Downstream column lineage: the inverse of each model's "from" lists,
  // keyed by node and lower-cased column.
  var downstream = {};
  Object.keys(lineage).forEach(function (uid) {
    var cols = (lineage[uid] && lineage[uid].columns) || {};
    Object.keys(cols).forEach(function (col) {
      (cols[col].from || []).forEach(function (f) {
        if (!f || !f.node) return;
        var m = downstream[f.node] = downstream[f.node] || {};
        var k = lc(f.column);
        (m[k] = m[k] || []).push({ node: uid, column: col, how: cols[col].how });
      });
    });
  });

  function parentsOf(uid) {
    var p = D.parents && D.parents[uid];
    if (p) return p;
    var n = nodes[uid];
    return (n && n.depends_on && n.depends_on.nodes) || [];
  }
  function childrenOf(uid) {
    var c = D.children && D.children[uid];
    if (c) return c;
    return Object.keys(nodes).filter(function (k) {
      var n = nodes[k];
      return n.depends_on && (n.depends_on.nodes || []).indexOf(uid) >= 0;
    });
  }

  function rowCount(cat) {
    var st = cat && cat.stats;
    if (!st) return null;
    var keys = ['row_count', 'num_rows'];
    for (var i = 0; i < keys.length; i++) {
      var s = st[keys[i]];
      if (s && s.value !== undefined && s.value !== null && s.include !== false) return s.value;
    }
    return null;
  }

  // Columns of a node: the catalog's (in table order) merged with the
  // documented ones by lower-cased name; documented-only columns last.
  function columnsOf(uid) {
    var n = nodes[uid] || {};
    var doc = n.columns || {};
    var cat = (catalog[uid] && catalog[uid].columns) || {};
    var byKey = {};
    var out = [];
    Object.keys(cat).map(function (k) { return cat[k]; })
      .sort(function (a, b) { return (a.index || 0) - (b.index || 0); })
      .forEach(function (c) {
        var row = { name: c.name, type: c.type, description: c.comment || '' };
        byKey[lc(c.name)] = row;
        out.push(row);
      });
    Object.keys(doc).forEach(function (k) {
      var d = doc[k];
      var name = d.name || k;
      var row = byKey[lc(name)];
      if (!row) { row = { name: name, type: d.data_type || '', description: '' }; out.push(row); byKey[lc(name)] = row; }
      if (d.description) row.description = d.description;
      if (!row.type && d.data_type) row.type = d.data_type;
    });
    return out;
  }

  /* ---------------------------------------------------------- navigation */

  var navEl = document.getElementById('nav');
  var searchEl = document.getElementById('search');

  function navItem(uid) {
    return el('li', null, el('a', { href: href(uid), 'data-uid': uid, title: uid },
      kind(typeOf(uid)), displayName(uid)));
  }

  function sortUids(uids) {
    return uids.sort(function (a, b) {
      var ta = TYPE_ORDER[typeOf(a)], tb = TYPE_ORDER[typeOf(b)];
      if (ta !== tb) return (ta === undefined ? 9 : ta) - (tb === undefined ? 9 : tb);
      return displayName(a).localeCompare(displayName(b));
    });
  }

  function drawTree() {
    navEl.textContent = '';
    add(navEl, el('a', { class: 'nav-top', href: '#!/overview' }, 'Lineage graph'));
    var pk = {};
    Object.keys(nodes).forEach(function (uid) {
      var n = nodes[uid];
      var p = n.package_name || meta.project || '(project)';
      var f = folderOf(n);
      pk[p] = pk[p] || {};
      (pk[p][f] = pk[p][f] || []).push(uid);
    });
    Object.keys(pk).sort().forEach(function (p) {
      var d = el('details', { open: true }, el('summary', null, p));
      Object.keys(pk[p]).sort().forEach(function (f) {
        var fd = el('details', { open: true, 'data-folder': f }, el('summary', null, f));
        add(fd, el('ul', null, sortUids(pk[p][f]).map(navItem)));
        add(d, fd);
      });
      add(navEl, d);
    });
    if (!Object.keys(nodes).length) add(navEl, el('div', { class: 'hint' }, 'The project has no nodes.'));
    markActive();
  }

  function drawSearch(q) {
    navEl.textContent = '';
    var words = lc(q).split(/\s+/).filter(Boolean);
    var hits = Object.keys(nodes).filter(function (uid) {
      var n = nodes[uid];
      var hay = lc([uid, displayName(uid), n.description, Object.keys(n.columns || {}).join(' '),
        (n.tags || []).join(' ')].join(' '));
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    add(navEl, el('div', { class: 'hint' }, hits.length + (hits.length === 1 ? ' match' : ' matches')));
    add(navEl, el('ul', { id: 'search-results' }, sortUids(hits).slice(0, 500).map(navItem)));
    markActive();
  }

  function markActive() {
    var cur = route().uid;
    Array.prototype.forEach.call(navEl.querySelectorAll('a[data-uid]'), function (a) {
      a.classList.toggle('active', a.getAttribute('data-uid') === cur);
    });
  }

  searchEl.addEventListener('input', function () {
    if (searchEl.value.trim()) drawSearch(searchEl.value.trim());
    else drawTree();
  });

  /* --------------------------------------------------------------- pages */

  var graphPage = document.getElementById('graph-page');
  var page = document.getElementById('page');

  function route() {
    var h = location.hash || '';
    if (h.slice(0, 3) !== '#!/') return { view: 'overview' };
    var parts = h.slice(3).split('/');
    var dec = function (s) { try { return decodeURIComponent(s); } catch (e) { return s; } };
    if (!parts[1]) return { view: dec(parts[0]) || 'overview' };
    return { view: 'node', type: dec(parts[0]), uid: dec(parts[1]),
      column: parts.length > 2 ? dec(parts.slice(2).join('/')) : null };
  }

  function show(view) {
    graphPage.hidden = view !== 'graph';
    page.hidden = view === 'graph';
    document.querySelector('main').scrollTop = 0;
  }

  function drawOverview(focus) {
    var head = document.getElementById('graph-head');
    head.textContent = '';
    var count = {};
    Object.keys(nodes).forEach(function (uid) {
      var t = typeOf(uid);
      count[t] = (count[t] || 0) + 1;
    });
    var parts = Object.keys(count).sort(function (a, b) { return TYPE_ORDER[a] - TYPE_ORDER[b]; })
      .map(function (t) { return count[t] + ' ' + t + (count[t] === 1 ? '' : 's'); });
    add(head, el('h1', null, meta.project || 'Project'));
    add(head, el('div', { class: 'sub' }, parts.join(' \u00b7 ') || 'No nodes.',
      meta.generated_at ? ' \u00b7 generated ' + meta.generated_at : ''));
    add(head, el('div', { class: 'legend sub' }, ['model', 'seed', 'snapshot', 'source'].map(function (t) {
      return el('span', null, kind(t), t);
    }), ' Click a node to open its page.'));
    notices(head);
    Array.prototype.forEach.call(document.querySelectorAll('#graph g.focus'), function (g) {
      g.classList.remove('focus');
    });
    if (focus) {
      var g = document.getElementById('sl-node-' + focus);
      if (g) { g.classList.add('focus'); if (g.scrollIntoView) g.scrollIntoView({ block: 'center', inline: 'center' }); }
    }
  }

  function notices(into) {
    if (!meta.catalog || !Object.keys(catalog).length)
      add(into, el('div', { class: 'notice', id: 'no-catalog' },
        'The warehouse catalog is empty (the warehouse could not be reached, or nothing is built yet): ' +
        'column types and row counts are unknown. Run `sluice build`, then `sluice docs generate`.'));
    if (!meta.state)
      add(into, el('div', { class: 'notice', id: 'no-results' },
        'No test has run in this project yet: run `sluice test` or `sluice build` to see results here.'));
  }

  function props(rows) {
    return el('table', { class: 'props' }, rows.filter(function (r) {
      return r[1] !== undefined && r[1] !== null && r[1] !== '';
    }).map(function (r) { return el('tr', null, el('th', null, r[0]), el('td', null, r[1])); }));
  }

  function description(text, what) {
    if (text) return el('div', { class: 'description' }, markdown(text));
    return el('div', { class: 'description muted' }, 'This ' + what + ' is not documented.');
  }

  // The Markdown that descriptions commonly use, built as DOM nodes (never
  // as markup): paragraphs, "#" headings, "-"/"*" lists, ``` fences, and
  // inline `code`, **bold**, *emphasis* and [links](url) to http(s),
  // mailto or the site's own "#" routes. Anything else stays text.
  function markdown(text) {
    var out = [];
    var lines = String(text).replace(/\r\n?/g, '\n').split('\n');
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (/^\s*$/.test(line)) { i++; continue; }
      if (/^\s*```/.test(line)) {
        var code = [];
        for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) code.push(lines[i]);
        i++;
        out.push(el('pre', { class: 'code' }, code.join('\n')));
        continue;
      }
      var h = /^(#{1,6})\s+(.*)$/.exec(line);
      if (h) { out.push(el('h4', null, inline(h[2]))); i++; continue; }
      if (/^\s*[-*]\s+/.test(line)) {
        var items = [];
        for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++)
          items.push(el('li', null, inline(lines[i].replace(/^\s*[-*]\s+/, ''))));
        out.push(el('ul', null, items));
        continue;
      }
      var para = [];
      for (; i < lines.length && !/^\s*$/.test(lines[i]) && !/^\s*(```|#{1,6}\s|[-*]\s)/.test(lines[i]); i++)
        para.push(lines[i]);
      out.push(el('p', null, inline(para.join('\n'))));
    }
    return out;
  }

  function inline(text) {
    var out = [];
    var re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
    var last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      if (m[1] !== undefined) out.push(el('code', null, m[1]));
      else if (m[2] !== undefined) out.push(el('strong', null, m[2]));
      else if (m[3] !== undefined) out.push(el('em', null, m[3]));
      else if (/^(https?:|mailto:|#)/i.test(m[5])) out.push(el('a', { href: m[5] }, m[4]));
      else out.push(m[0]);
      last = re.lastIndex;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  function relationOf(n) {
    if (n.relation_name) return n.relation_name;
    var parts = [n.database, n.schema, n.alias || n.identifier || n.name].filter(Boolean);
    return parts.join('.');
  }

  function testLabel(uid) {
    var t = nodes[uid] || {};
    var tm = t.test_metadata;
    return tm && tm.name ? tm.name : 'singular';
  }

  function drawTestsTable(uids) {
    if (!uids.length) return el('p', { class: 'muted' }, 'No tests.');
    return el('table', { class: 'tests' },
      el('tr', null, ['Test', 'Kind', 'Column', 'Severity', 'Last status', 'Failures', 'When', 'Message']
        .map(function (h) { return el('th', null, h); })),
      uids.sort().map(function (uid) {
        var t = nodes[uid] || {};
        var r = results[uid];
        return el('tr', { 'data-test': uid },
          el('td', null, el('a', { href: href(uid) }, t.name || uid)),
          el('td', null, testLabel(uid)),
          el('td', null, t.column_name || ''),
          el('td', null, (t.config && t.config.severity) || ''),
          el('td', null, statusBadge(r && r.status)),
          el('td', null, r ? String(r.failures) : ''),
          el('td', null, r ? r.at : ''),
          el('td', null, r && r.message ? r.message : ''));
      }));
  }

  function codeBlocks(n, compiledOverride) {
    var compiled = compiledOverride || n.compiled_code;
    var raw = n.raw_code;
    if (!compiled && !raw) return null;
    var pre = el('pre', { class: 'code', id: 'code' });
    var buttons = [];
    function pick(which) {
      pre.textContent = which === 'compiled' ? compiled : raw;
      buttons.forEach(function (b) { b.classList.toggle('on', b.getAttribute('data-code') === which); });
    }
    if (compiled) buttons.push(el('button', { 'data-code': 'compiled', onclick: function () { pick('compiled'); } }, 'Compiled SQL'));
    if (raw) buttons.push(el('button', { 'data-code': 'raw', onclick: function () { pick('raw'); } }, 'Source'));
    var box = el('div', null, el('h2', null, 'Code'), el('div', { class: 'tabs' }, buttons), pre);
    pick(compiled ? 'compiled' : 'raw');
    return box;
  }

  function lineageList(items, empty) {
    if (!items.length) return el('p', { class: 'muted' }, empty);
    return el('ul', null, items.map(function (f) {
      var target = f.node && nodes[f.node]
        ? nodeLink(f.node, f.column)
        : el('span', null, (f.relation ? f.relation + '.' : '') + (f.column || ''));
      return el('li', null, target, f.how ? el('span', { class: 'muted' }, ' (' + f.how + ')') : null);
    }));
  }

  // The row under a column that shows where it comes from and goes to.
  function columnLineageRow(uid, col, span) {
    var ln = lineage[uid];
    var td = el('td', { colspan: span });
    if (ln && ln.error) {
      add(td, el('div', { class: 'lineage-error' }, 'Column lineage not traced: ' + ln.error));
    } else if (ln && ln.columns) {
      var entry = null;
      Object.keys(ln.columns).forEach(function (k) { if (lc(k) === lc(col)) entry = ln.columns[k]; });
      add(td, el('h4', null, 'Upstream columns'));
      // "how" (direct, transformed, aggregated) is the column's, said of each input
      var from = ((entry && entry.from) || []).map(function (f) {
        return { node: f.node, relation: f.relation, column: f.column, how: entry.how };
      });
      add(td, el('div', { class: 'upstream' }, lineageList(from,
        entry ? 'Derived from no column (a constant or expression).' : 'No lineage recorded for this column.')));
    } else if (typeOf(uid) === 'model' || typeOf(uid) === 'snapshot') {
      add(td, el('p', { class: 'muted' }, 'No column lineage was recorded for this ' + typeOf(uid) + '.'));
    }
    var down = (downstream[uid] && downstream[uid][lc(col)]) || [];
    add(td, el('h4', null, 'Downstream columns'));
    add(td, el('div', { class: 'downstream' }, lineageList(down, 'No column reads this one.')));
    return el('tr', { class: 'col-lineage', 'data-lineage-of': col }, td);
  }

  function drawColumns(uid) {
    var cols = columnsOf(uid);
    if (!cols.length) return el('p', { class: 'muted' }, 'No columns known: document them in a properties file, or build the ' + typeOf(uid) + ' so the catalog lists them.');
    var colTests = {};
    (testsOf[uid] || []).forEach(function (t) {
      var c = nodes[t] && nodes[t].column_name;
      if (c) (colTests[lc(c)] = colTests[lc(c)] || []).push(t);
    });
    var table = el('table', { class: 'columns' },
      el('tr', null, el('th', null, 'Column'), el('th', null, 'Type'), el('th', null, 'Description'), el('th', null, 'Tests')));
    cols.forEach(function (c) {
      var tr = el('tr', { 'data-column': c.name });
      var btn = el('button', { class: 'col', title: 'Show this column\u2019s lineage', onclick: function () { toggle(); } }, c.name);
      add(tr, [el('td', null, btn), el('td', null, c.type || ''), el('td', { class: 'pre' }, c.description || ''),
        el('td', { class: 'badges' }, (colTests[lc(c.name)] || []).map(function (t) {
          var r = results[t];
          return el('a', { href: href(t), title: nodes[t].name }, statusBadge((r && r.status) ? testLabel(t) + ': ' + r.status : testLabel(t)));
        }))]);
      var open = null;
      function toggle(force) {
        if (open && force !== true) { open.remove(); open = null; tr.classList.remove('col-open'); return; }
        if (open) return;
        open = columnLineageRow(uid, c.name, 4);
        tr.parentNode.insertBefore(open, tr.nextSibling);
        tr.classList.add('col-open');
      }
      tr.openLineage = function () { toggle(true); };
      add(table, tr);
    });
    return table;
  }

  function drawNode(uid, column) {
    var n = nodes[uid];
    page.textContent = '';
    if (!n) {
      add(page, el('h1', null, 'Not found'), el('p', null, 'No node ' + uid + ' in this project.'));
      return;
    }
    var type = n.resource_type;
    var cat = catalog[uid];
    var rc = rowCount(cat);
    add(page, el('h1', null, kind(type), displayName(uid)));
    add(page, el('div', { class: 'sub' }, type + ' \u00b7 ' + uid));
    var cfg = n.config || {};
    add(page, props([
      ['Relation', type === 'test' ? null : relationOf(n)],
      ['Materialization', type === 'model' || type === 'snapshot' ? cfg.materialized : null],
      ['Table type', cat && cat.metadata ? cat.metadata.type : null],
      ['Row count', rc === null ? null : String(rc)],
      ['Owner', cat && cat.metadata ? cat.metadata.owner : null],
      ['Package', n.package_name],
      ['File', n.original_file_path],
      ['Loader', n.loader],
      ['Loaded at field', n.loaded_at_field],
      ['Tags', (n.tags || []).join(', ')],
    ]));
    add(page, el('h2', null, 'Description'));
    add(page, description(n.description, type));
    if (type === 'source' && n.source_description)
      add(page, el('p', { class: 'muted' }, 'Source ' + n.source_name + ': ' + n.source_description));

    if (type === 'test') { drawTestBody(uid, n); return; }

    add(page, el('h2', null, 'Columns'));
    var ln = lineage[uid];
    if (ln && ln.error)
      add(page, el('div', { class: 'lineage-error', id: 'lineage-error' }, 'Column lineage not traced: ' + ln.error));
    add(page, drawColumns(uid));
    add(page, el('h2', null, 'Tests'));
    add(page, drawTestsTable((testsOf[uid] || []).slice()));
    add(page, el('h2', null, 'Depends on'));
    add(page, linkList(parentsOf(uid), 'Nothing.', 'depends-on'));
    add(page, el('h2', null, 'Referenced by'));
    add(page, linkList(childrenOf(uid).filter(function (c) { return typeOf(c) !== 'test'; }), 'Nothing.', 'referenced-by'));
    add(page, el('p', null, el('a', { href: '#!/graph/' + encodeURIComponent(uid) }, 'Show in the lineage graph')));
    add(page, codeBlocks(n));
    if (column !== null && column !== undefined) {
      var tr = Array.prototype.filter.call(page.querySelectorAll('tr[data-column]'), function (r) {
        return lc(r.getAttribute('data-column')) === lc(column);
      })[0];
      if (tr) { tr.openLineage(); tr.scrollIntoView({ block: 'center' }); }
    }
  }

  function linkList(uids, empty, id) {
    if (!uids.length) return el('p', { class: 'muted', id: id }, empty);
    return el('ul', { class: 'links', id: id }, sortUids(uids.slice()).map(function (u) {
      return el('li', null, nodeLink(u));
    }));
  }

  function drawTestBody(uid, t) {
    var r = results[uid];
    var tm = t.test_metadata || {};
    add(page, el('h2', null, 'What it tests'));
    var tested = t.attached_node ? [t.attached_node] : ((t.depends_on && t.depends_on.nodes) || []);
    add(page, props([
      ['Kind', tm.name ? 'generic: ' + tm.name : 'singular'],
      ['Column', t.column_name],
      ['Severity', t.config && t.config.severity],
      ['Arguments', tm.kwargs ? JSON.stringify(tm.kwargs) : null],
    ]));
    add(page, linkList(tested, 'Tests no node.', 'tested'));
    add(page, el('h2', null, 'Last result'));
    if (!r) add(page, el('p', { class: 'muted', id: 'last-result' }, statusBadge(null), ' This test has not run yet.'));
    else {
      add(page, el('div', { id: 'last-result' }, props([
        ['Status', statusBadge(r.status)],
        ['Failing rows', String(r.failures)],
        ['Message', r.message],
        ['When', r.at],
        ['Run', r.run_id],
      ])));
      if (r.sample !== undefined && r.sample !== null && !(Array.isArray(r.sample) && !r.sample.length))
        add(page, sampleTable(r.sample));
    }
    add(page, codeBlocks(t, r && r.compiled_sql));
  }

  // The first failing rows: an array of objects (or of arrays).
  function sampleTable(sample) {
    var box = el('div', { id: 'sample' }, el('h2', null, 'Failing rows (sample)'));
    if (!Array.isArray(sample) || !sample.length) {
      add(box, el('pre', { class: 'code' }, typeof sample === 'string' ? sample : JSON.stringify(sample, null, 2)));
      return box;
    }
    var cols = [];
    sample.forEach(function (row) {
      if (row && typeof row === 'object' && !Array.isArray(row))
        Object.keys(row).forEach(function (k) { if (cols.indexOf(k) < 0) cols.push(k); });
    });
    var cell = function (v) { return el('td', null, v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v)); };
    add(box, el('table', null,
      cols.length ? el('tr', null, cols.map(function (c) { return el('th', null, c); })) : null,
      sample.map(function (row) {
        if (Array.isArray(row)) return el('tr', null, row.map(cell));
        return el('tr', null, cols.map(function (c) { return cell(row ? row[c] : null); }));
      })));
    return box;
  }

  function render() {
    var r = route();
    if (r.view === 'node') {
      show('node');
      drawNode(r.uid, r.column);
      document.title = displayName(r.uid) + ' \u2014 ' + (meta.project || 'sluice docs');
    } else {
      show('graph');
      drawOverview(null);
      document.title = (meta.project || 'Project') + ' \u2014 sluice docs';
    }
    markActive();
  }

  // "#!/graph/<uid>" shows the graph with that node outlined.
  function renderGraphFocus() {
    var h = location.hash || '';
    var m = /^#!\/graph\/(.+)$/.exec(h);
    if (!m) return false;
    show('graph');
    var uid;
    try { uid = decodeURIComponent(m[1]); } catch (e) { uid = m[1]; }
    drawOverview(uid);
    markActive();
    return true;
  }

  document.getElementById('project').textContent = meta.project || '';
  drawTree();
  window.addEventListener('hashchange', function () { if (!renderGraphFocus()) render(); });
  if (!renderGraphFocus()) render();
})();
