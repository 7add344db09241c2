/**
 * The report page's style sheet and script, inline: the page loads nothing (its
 * Content-Security-Policy forbids any fetch), so it reads the same offline, attached to an
 * email, or printed. The script only filters and sorts the tables already on the page.
 */

export const STYLE = `
:root { --ink: #1d2430; --muted: #5b6575; --line: #d9dee6; --bad: #b42318; --bad-bg: #fef3f2;
  --ok: #067647; --warn: #b54708; --head: #f4f6f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; }
.muted { color: var(--muted); } .bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px;
  margin: 16px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .value { font-size: 22px; font-weight: 650; display: block; }
.figure .label { color: var(--muted); font-size: 12px; }
.figure.alarm { border-color: var(--bad); background: var(--bad-bg); }
.wrap { overflow-x: auto; margin: 8px 0; }
/* A table off screen is not laid out until it is scrolled to: a run's suppression list may hold
   tens of thousands of rows (62,160 rows: 3 minutes before the page showed at all, 9 s with
   this). Find in page, the filters and printing still see every row. */
.wrap { content-visibility: auto; contain-intrinsic-size: auto 2000px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td.num { white-space: nowrap; }
/* A SID or a URL is one long word: broken anywhere, so that no table is wider than a laptop
   screen (1280 px) and the reviewer never scrolls sideways to find a column. */
.sid, td.route { overflow-wrap: anywhere; }
/* Wide enough for a SID on two lines and a webhook URL on few: the long protection text
   wraps instead. */
td.moved-into { min-width: 150px; } td.route { min-width: 240px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--head); position: sticky; top: 0; cursor: pointer; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
tr.violation td { background: var(--bad-bg); }
td.num, th.num { text-align: right; } code, .sid { font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
input[type=search] { padding: 6px 8px; width: 320px; max-width: 100%; border: 1px solid var(--line);
  border-radius: 4px; }
.note { border-left: 3px solid var(--warn); padding: 4px 10px; margin: 8px 0; }
.signoff { border: 2px solid var(--line); border-radius: 8px; padding: 4px 16px 8px; margin: 16px 0; }
.signoff.ready { border-color: var(--ok); } .signoff.not-ready { border-color: var(--bad); }
.signoff h2 { margin: 12px 0 4px; } .signoff .verdict { font-size: 17px; margin: 6px 0; }
.signoff li { margin: 4px 0; }
ul.coverage { padding-left: 18px; } ul.coverage li { margin: 2px 0; }
.signature { border-top: 1px solid var(--line); margin-top: 12px; }
.signature h3 { margin: 10px 0 4px; } ul.run-identity { padding-left: 18px; margin: 4px 0; }
/* Lines to write on by hand: a rule under each label, as on a paper form. */
.sign-lines { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 32px; margin: 12px 0 4px; }
.sign-lines.notes { grid-template-columns: 1fr; }
.sign-line { display: flex; align-items: flex-end; gap: 8px; min-height: 34px; }
.sign-line.tall { min-height: 48px; }
.sign-label { white-space: nowrap; } .sign-line .blank { flex: 1; border-bottom: 1px solid var(--ink); }
.signature .verdict { font-size: 15px; } .decision .box { font-size: 18px; margin-left: 12px; }
p.for-engineer { font-size: 12px; color: var(--muted); }
/* Printed or saved as PDF, on A4 or US Letter with 12 mm margins (703 px wide at the least):
   nothing scrolls on paper, so every table fits that width (smaller type and padding, a
   service's or route's column let narrower, as SIDs and URLs wrap); the sign-off block with
   its signature lines fits a page and stays whole on it; alarms keep their red, which browsers
   leave out of print by default. */
@page { margin: 12mm; }
@media print { th { position: static; cursor: auto; } .wrap { overflow: visible; }
  input[type=search], .no-print { display: none; } th[aria-sort]::after { content: none; }
  body { max-width: none; padding: 0; font-size: 12px; } h1 { font-size: 18px; } h2 { font-size: 15px; }
  .signoff .verdict, .signature .verdict { font-size: 14px; }
  tr, .signoff, .signature, .figure { break-inside: avoid; } h2, h3 { break-after: avoid; }
  thead { display: table-header-group; } table { font-size: 9px; } th, td { padding: 3px; }
  code, .sid { font-size: 9px; } td.moved-into { min-width: 0; } td.route { min-width: 100px; }
  .sign-line { min-height: 30px; } .sign-line.tall { min-height: 40px; }
  tr.violation td, .figure.alarm { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;

export const SCRIPT = `
(function () {
  function text(cell) { return (cell && cell.textContent || '').trim(); }
  function value(cell) {
    var key = cell ? cell.getAttribute('data-sort') : null;
    var t = key !== null ? key : text(cell); var n = Number(t.replace(/,/g, ''));
    return t !== '' && !isNaN(n) ? n : t.toLowerCase();
  }
  // Numbers in numeric order, before words ("not known") in alphabetical order.
  function compare(x, y) {
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  document.querySelectorAll('table[data-sortable]').forEach(function (table) {
    var headers = table.querySelectorAll('th');
    headers.forEach(function (th, column) {
      th.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          var order = compare(x, y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    var counter = document.getElementById(input.getAttribute('data-filter') + '-count');
    input.addEventListener('input', function () {
      var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var haystack = row.textContent.toLowerCase();
        var match = words.every(function (w) { return haystack.indexOf(w) >= 0; });
        row.hidden = !match;
        if (match) shown++;
      });
      if (counter) counter.textContent = String(shown);
    });
  });
})();
`;
