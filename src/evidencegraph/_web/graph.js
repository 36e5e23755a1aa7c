// A picture of an entity's neighbourhood (or of a relation's two entities and their sources) with
// Cytoscape.js, from the JSON the page carries.  Without JavaScript the page's tables say the same.
(function () {
  'use strict';
  var data = document.getElementById('eg-graph');
  var holder = document.getElementById('graph');
  if (!data || !holder || !window.cytoscape) { return; }
  var g = JSON.parse(data.textContent);
  holder.hidden = false;
  var colours = g.colours || {};
  var scores = g.edges.map(function (e) { return Math.abs(e.score || 0); });
  var top = Math.max.apply(null, scores.concat([1]));
  var elements = g.nodes.map(function (n) {
    return { data: { id: n.id, label: n.label, href: n.href, kind: n.kind, focus: n.focus ? 1 : 0 } };
  }).concat(g.edges.map(function (e, i) {
    return { data: { id: 'e' + i, source: e.source, target: e.target, label: e.label || '', href: e.href,
                     kind: e.kind || '', width: 1 + 7 * Math.abs(e.score || 0) / top,
                     colour: colours[e.kind] || '#888' } };
  }));
  var cy = cytoscape({
    container: holder,
    elements: elements,
    maxZoom: 1.6,
    minZoom: 0.2,
    style: [
      { selector: 'node', style: { 'label': 'data(label)', 'font-size': 11, 'text-wrap': 'wrap',
          'text-max-width': 110, 'background-color': '#6b8fd6', 'width': 18, 'height': 18,
          'text-valign': 'bottom', 'text-margin-y': 3, 'color': '#222' } },
      { selector: 'node[kind = "source"]', style: { 'shape': 'round-rectangle', 'background-color': '#d6a96b' } },
      { selector: 'node[focus = 1]', style: { 'background-color': '#c0392b', 'width': 28, 'height': 28,
          'font-weight': 'bold' } },
      { selector: 'edge', style: { 'width': 'data(width)', 'line-color': 'data(colour)', 'curve-style': 'bezier',
          'label': 'data(label)', 'font-size': 9, 'color': '#555', 'text-rotation': 'autorotate',
          'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
    ],
    layout: { name: g.layout || 'concentric', animate: false, padding: 20,
              concentric: function (n) { return n.data('focus') ? 2 : 1; }, levelWidth: function () { return 1; },
              minNodeSpacing: 90, spacingFactor: 1.2 },
  });
  cy.fit(undefined, 40);  // maxZoom keeps a few nodes at reading size
  cy.on('tap', 'node, edge', function (ev) {
    var href = ev.target.data('href');
    if (href) { window.location.href = href; }
  });
  window.egGraph = cy;
})();
