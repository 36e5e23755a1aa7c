// The query page: YASGUI on this server's /sparql, with the project's prefixes and named questions.
// Served from the package (no CDN); the autocompleters are limited to prefixes and variables, and the
// prefix list comes from this server, so the page makes no request to any other host.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('eg-config').textContent);
  var holder = document.getElementById('yasgui');
  if (!window.Yasgui || !holder) { return; }
  document.getElementById('plain').hidden = true;
  if (Yasgui.Yasqe && Yasgui.Yasqe.defaults) {
    Yasgui.Yasqe.defaults.autocompleters = ['prefixes', 'variables'];
    Yasgui.Yasqe.defaults.prefixCcApi = cfg.prefixesUrl;
  }
  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: cfg.endpoint, method: 'POST' },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: cfg.endpoint }]; }, keys: [] },
    persistenceId: function () { return 'evidencegraph-' + location.host; },
    populateFromUrl: true,
    yasqe: { value: cfg.example, autocompleters: ['prefixes', 'variables'], prefixCcApi: cfg.prefixesUrl },
    yasr: { prefixes: cfg.prefixes, maxPersistentResponseSize: 0 },
  });
  window.egYasgui = yasgui;
  function open(q) {
    var tab = yasgui.addTab(true, { name: q.name, yasqe: { value: q.sparql } });
    yasgui.selectTabId(tab.getId());
  }
  var list = document.getElementById('examples');
  cfg.questions.forEach(function (q) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'example';
    b.textContent = q.name;
    b.title = q.description;
    b.addEventListener('click', function () { open(q); window.scrollTo(0, 0); });
    list.appendChild(b);
  });
})();
