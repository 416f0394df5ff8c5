"""The Jinja2 template of the joint report (attribution.html_report): one HTML page with its
styles (screen and print) and the Plotly bundle inline, so the file stands alone."""

from __future__ import annotations

__all__ = ["TEMPLATE"]

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  :root { --ink: #1f2933; --muted: #5f6b7a; --rule: #d9dee5; --band: #f5f7fa; --accent: #2458a6; }
  * { box-sizing: border-box; }
  body { margin: 0; color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { padding: 20px 32px 12px; border-bottom: 1px solid var(--rule); }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  header p { margin: 0; color: var(--muted); }
  nav { padding: 8px 32px; border-bottom: 1px solid var(--rule); font-size: 13px; }
  nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
  main { padding: 8px 32px 40px; max-width: 1400px; }
  section { margin: 28px 0; }
  h2 { font-size: 18px; margin: 0 0 4px; }
  h3 { font-size: 15px; margin: 18px 0 6px; }
  p.reading { margin: 0 0 12px; color: var(--muted); max-width: 70em; }
  .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
  .figure { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; background: var(--band); }
  .figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .figure .value { font-size: 22px; font-weight: 600; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
  th, td { padding: 4px 10px; border-bottom: 1px solid var(--rule); text-align: right; white-space: nowrap; }
  table.wide th, table.wide td { padding: 3px 6px; font-size: 12.5px; }
  th:first-child, td:first-child { text-align: left; }
  td.text { text-align: left; white-space: normal; }
  th { background: var(--band); font-weight: 600; font-size: 12px; }
  tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
  td .note { display: block; color: var(--muted); font-size: 11px; }
  .chart { min-height: 300px; }
  dl.glossary dt { font-weight: 600; margin-top: 8px; }
  dl.glossary dd { margin: 0 0 0 16px; color: var(--muted); }
  .warnings li { color: #8a4b00; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  footer { color: var(--muted); font-size: 12px; padding: 0 32px 24px; }
  @media print {
    @page { size: A4 landscape; margin: 12mm; }
    nav { display: none; }
    body { font-size: 10.5px; }
    main { padding: 0; max-width: none; }
    header { padding: 0 0 8px; }
    section { break-inside: avoid-page; margin: 14px 0; }
    section.long { break-inside: auto; }
    .scroll { overflow: visible; }
    th, td { padding: 2px 6px; }
    .figure .value { font-size: 16px; }
    a { color: inherit; text-decoration: none; }
  }
</style>
<script>{{ plotly_js | safe }}</script>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  <p>As of <strong data-key="as_of">{{ headline.as_of }}</strong> · opportunities created {{ headline.period }} ·
     amounts in <strong data-key="currency">{{ headline.currency }}</strong> · generated {{ generated }}</p>
</header>
<nav>
  <a href="#headline">Headline</a><a href="#comparison">Models by channel</a><a href="#divergence">Agreement</a>
  <a href="#campaigns">Campaigns</a><a href="#sourced">Sourced vs influenced</a><a href="#trend">Trend</a>
  <a href="#segments">Segments</a><a href="#spend">Spend and return</a><a href="#time">Time to convert</a>
  <a href="#markov">Markov</a><a href="#restatements">What changed</a><a href="#quality">Data quality</a>
  <a href="#glossary">Glossary</a><a href="#manifest">Run manifest</a>
</nav>
<main>
{% macro render_table(table, id=None) -%}
<div class="scroll"><table{% if id %} id="{{ id }}"{% endif %}{% if table.columns | length > 8 %} class="wide"{% endif %}>
  <thead><tr>{% for column in table.columns %}<th>{{ column }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in table.rows %}<tr>{% for cell in row %}<td{% if cell.is_text %} class="text"{% endif %}{% if cell.value is not none %} data-value="{{ '%.6f' % cell.value }}"{% endif %}{% for k, v in cell.data.items() %} data-{{ k }}="{{ v }}"{% endfor %}>{{ cell.text }}{% if cell.get('note') %}<span class="note">{{ cell.note }}</span>{% endif %}</td>{% endfor %}</tr>
  {% endfor %}
  {% if table.total %}<tr class="total">{% for cell in table.total %}<td{% if cell.value is not none %} data-value="{{ '%.6f' % cell.value }}"{% endif %}{% for k, v in cell.data.items() %} data-{{ k }}="{{ v }}"{% endfor %}>{{ cell.text }}</td>{% endfor %}</tr>{% endif %}
  </tbody>
</table></div>
{%- endmacro %}

<section id="headline">
  <h2>Headline</h2>
  <p class="reading">{{ headline.reading }}</p>
  <div class="figures">
  {% for figure in headline.figures %}
    <div class="figure" data-figure="{{ figure.key }}" data-value="{{ '%.6f' % figure.value }}">
      <div class="label">{{ figure.label }}</div><div class="value">{{ figure.text }}</div>
    </div>
  {% endfor %}
  </div>
</section>

<section id="comparison" class="long">
  <h2>The models side by side, by channel</h2>
  <p class="reading">Every column is one model's answer to "which channels created this pipeline";
    every column adds up to the same total. Under each amount: the channel's share with its 90%
    interval (how much it would move with another draw of deals like these).</p>
  {% for comparison in comparisons %}
  <h3>{{ "Attributed pipeline" if comparison.kind == "pipeline" else "Attributed won revenue" }} ({{ comparison.currency }})</h3>
  {{ render_table(comparison.table, "table-comparison-" ~ comparison.kind) }}
  <div class="chart">{{ comparison.chart | safe }}</div>
  {% endfor %}
</section>

<section id="divergence">
  <h2>Where the models agree and where they diverge</h2>
  <p class="reading">{{ divergence.reading }}</p>
  {{ render_table(divergence.table, "table-divergence") }}
</section>

<section id="campaigns">
  <h2>Campaigns (top 20 by pipeline, {{ campaigns.lead }})</h2>
  <p class="reading">{{ campaigns.reading }}</p>
  {{ render_table(campaigns.table, "table-campaigns") }}
</section>

<section id="sourced">
  <h2>Sourced, influenced and attributed pipeline</h2>
  <p class="reading">{{ sourced.reading }}</p>
  {{ render_table(sourced.table, "table-sourced") }}
</section>

<section id="trend" class="long">
  <h2>Trend by month</h2>
  <p class="reading">Pipeline is dated by the month an opportunity was created, won revenue by the month it was won; the bars split each month by channel under {{ trend_model }}.</p>
  {% for chart in trends %}<div class="chart">{{ chart | safe }}</div>{% endfor %}
</section>

<section id="segments">
  <h2>Segments</h2>
  <p class="reading">{{ segments.reading }}</p>
  {% if not segments.empty %}{{ render_table(segments.table, "table-segments") }}{% endif %}
</section>

<section id="spend">
  <h2>Spend and return</h2>
  <p class="reading">{{ spend.reading }}</p>
  {% if not spend.empty %}{{ render_table(spend.table, "table-spend") }}<div class="chart">{{ spend.chart | safe }}</div>{% endif %}
</section>

<section id="time">
  <h2>Time to convert and path length</h2>
  <p class="reading">{{ time_to_convert.reading }}</p>
  {{ render_table(time_to_convert.table, "table-time-to-convert") }}
</section>

<section id="markov">
  <h2>Markov removal effects and order</h2>
  <p class="reading">{{ markov.reading }}</p>
  <h3>Removal effects (pipeline)</h3>
  {{ render_table(markov.effects, "table-removal-effects") }}
  <h3>Order held-out scores (pipeline)</h3>
  {{ render_table(markov.orders, "table-markov-orders") }}
</section>

<section id="restatements">
  <h2>What changed since last reported</h2>
  <p class="reading">{{ restatements.reading }}</p>
  {{ render_table(restatements.table, "table-restatements") }}
</section>

<section id="quality">
  <h2>Data quality</h2>
  <p class="reading">{{ quality.reading }}</p>
  {{ render_table(quality.audit, "table-load-audit") }}
  <h3>Quarantined rows by reason</h3>
  {% if quality.reasons.rows %}{{ render_table(quality.reasons, "table-quarantine") }}{% else %}<p>None.</p>{% endif %}
  {% if quality.identity.rows %}<h3>Who the CRM touches belong to</h3>
  <p class="reading">Per source object, how touch rows found their account (contact, converted lead, e-mail domain, company name) and why the rest did not.</p>
  {{ render_table(quality.identity, "table-identity-coverage") }}{% endif %}
  {% if quality.unclassified.rows %}<h3>Values no channel rule matched</h3>
  <p class="reading">These touches are in channel <code>unclassified</code>; add a rule to the channel rules file to name their channel.</p>
  {{ render_table(quality.unclassified, "table-unclassified") }}{% endif %}
  {% if quality.self_reported.answered %}<h3>What buyers say</h3>
  <p class="reading">{{ quality.self_reported.answered }} opportunities have an answer to "how did you hear about us". How often each model credits most the channel the buyer named, and each channel's share by answer and by model.</p>
  {{ render_table(quality.self_reported.agreement, "table-self-reported-agreement") }}
  {{ render_table(quality.self_reported.shares, "table-self-reported-shares") }}{% endif %}
  {% if quality.warnings %}<h3>Warnings</h3><ul class="warnings">{% for w in quality.warnings %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
</section>

<section id="glossary" class="long">
  <h2>Glossary</h2>
  <p class="reading">The shared definitions: the same words as the tables' and the Dagster assets' descriptions.</p>
  <dl class="glossary">{% for term, text in glossary %}<dt>{{ term }}</dt><dd>{{ text }}</dd>{% endfor %}</dl>
</section>

<section id="manifest" class="long">
  <h2>Run manifest</h2>
  <p class="reading">What this report was computed from and the exported files it matches (SHA-256, first 16 hex digits); exports written {{ manifest.written_at }}.</p>
  <h3>Inputs</h3>
  <div class="scroll"><table id="table-inputs"><thead><tr><th>file</th><th>bytes</th><th>sha256</th></tr></thead><tbody>
  {% for i in manifest.inputs %}<tr><td class="text mono">{{ i.path }}</td><td>{{ i.bytes }}</td><td class="mono">{{ i.sha256 }}</td></tr>{% endfor %}
  </tbody></table></div>
  <h3>Exported files</h3>
  <div class="scroll"><table id="table-files"><thead><tr><th>file</th><th>rows</th><th>sha256</th></tr></thead><tbody>
  {% for f in manifest.files %}<tr><td class="text mono">{{ f.name }}</td><td>{{ "{:,}".format(f.rows) if f.rows is not none else "" }}</td><td class="mono">{{ f.sha256 }}</td></tr>{% endfor %}
  </tbody></table></div>
  <h3>Settings</h3>
  <div class="scroll"><table id="table-config"><tbody>
  {% for key, value in manifest.config.items() %}<tr><td class="text mono">{{ key }}</td><td class="text mono">{{ value }}</td></tr>{% endfor %}
  </tbody></table></div>
</section>
</main>
<footer>Multi-touch attribution engine · one set of definitions for marketing, sales and finance.</footer>
</body>
</html>
"""
