/**
 * The answer to the gloss/status request, rendered as a Markdown document.
 *
 * One section per workspace folder: counts, the live queue, backends, tiers,
 * escalation, failure reasons, skipped files and the GPU. Values come from
 * the server (paths, error text, reasons quoting a model's answer), so every
 * one is escaped before it is put in a table or a list. No VS Code import.
 */

type Json = Record<string, unknown>;

export function renderStatus(answer: unknown, now: Date = new Date()): string {
  const out: string[] = ['# Gloss status', '', `_As of ${now.toLocaleTimeString()}; updates as Gloss works._`, ''];
  const folders = isRecord(answer) && Array.isArray(answer.folders) ? answer.folders : undefined;
  if (!folders) {
    out.push('The server answered gloss/status with something unexpected:', '', '```json', safeJson(answer), '```');
    return out.join('\n');
  }
  if (folders.length === 0) {
    out.push('No workspace folder is open, so Gloss has nothing to index.');
  }
  for (const folder of folders) {
    out.push(...renderFolder(isRecord(folder) ? folder : {}), '');
  }
  return out.join('\n');
}

function renderFolder(f: Json): string[] {
  const out: string[] = [`## ${esc(str(f.root) ?? '(unknown folder)')}`, ''];
  if (typeof f.error === 'string') {
    out.push(`**No engine for this folder:** ${esc(f.error)}`);
    return out;
  }
  if (typeof f.config_source === 'string') {
    out.push(`Configuration: ${esc(f.config_source)}`, '');
  }
  out.push(
    '| | |',
    '|---|---|',
    row('Spans', `${num(f.spans)} in ${num(f.files)} files`),
    row('Glossed', num(f.enriched)),
    row('Pending', num(f.pending)),
    row('Failed', num(f.failed)),
    row('Stale (code changed since)', num(f.stale)),
    row('Glossed by an older prompt', num(f.outdated)),
    row('LLM calls', `${num(f.llm_calls)} (tokens: ${num(f.tokens_in)} in, ${num(f.tokens_out)} out)`),
    row('Cost', num(f.cost)),
    '',
  );

  if (isRecord(f.by_language) && Object.keys(f.by_language).length > 0) {
    out.push('| language | spans | glossed |', '|---|---|---|');
    for (const [name, raw] of Object.entries(f.by_language)) {
      const c = isRecord(raw) ? raw : {};
      out.push(cells([name, num(c.spans), num(c.enriched)]));
    }
    out.push('');
  }

  if (isRecord(f.queue)) {
    const q = f.queue;
    const classes = isRecord(q.by_priority)
      ? Object.entries(q.by_priority)
          .map(([k, v]) => `${esc(k)} ${num(v)}`)
          .join(', ')
      : '';
    out.push(
      `**Queue:** ${num(q.queued)} queued${classes ? ` (${classes})` : ''}, ${num(q.in_flight)} in flight, ` +
        `${num(q.waiting_to_retry)} waiting to retry`,
      '',
    );
  }

  if (isRecord(f.backends) && Object.keys(f.backends).length > 0) {
    out.push(
      '### Backends',
      '',
      '| backend | url | state | healthy | in flight | ok | failed | p50 ms | p95 ms | last error |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const [name, raw] of Object.entries(f.backends)) {
      const b = isRecord(raw) ? raw : {};
      out.push(
        cells([
          name,
          str(b.url) ?? '',
          str(b.state) ?? '',
          b.healthy === true ? 'yes' : b.healthy === false ? 'no' : 'unknown',
          num(b.in_flight),
          num(b.requests_ok),
          num(b.requests_failed),
          num(b.p50_ms),
          num(b.p95_ms),
          str(b.last_error) ?? '',
        ]),
      );
    }
    out.push('');
  }

  if (isRecord(f.tiers) && Object.keys(f.tiers).length > 0) {
    out.push(
      '### Tiers',
      '',
      'Answers rejected: of the answers the tier\'s model gave, the share the schema or the quality gate ' +
        'turned down (a high share: the model is too weak for this code).',
      '',
      '| tier | glosses | requests | tokens in | tokens out | cost | answers rejected | why |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const [name, raw] of Object.entries(f.tiers)) {
      const t = isRecord(raw) ? raw : {};
      const gate = isRecord(t.gate) ? t.gate : {};
      const share = typeof gate.rejected_share === 'number' ? ` (${(gate.rejected_share * 100).toFixed(0)}%)` : '';
      const rejected = typeof gate.judged === 'number' && gate.judged > 0 ? `${num(gate.rejected)} of ${num(gate.judged)}${share}` : '-';
      const why = isRecord(gate.reasons)
        ? Object.entries(gate.reasons)
            .map(([k, v]) => `${k} ${num(v)}`)
            .join(', ')
        : '';
      out.push(
        cells([name, num(t.glosses), num(t.requests), num(t.tokens_in), num(t.tokens_out), num(t.cost), rejected, why]),
      );
    }
    out.push('');
  }

  if (isRecord(f.escalation)) {
    const e = f.escalation;
    const rate = typeof e.rate === 'number' ? `${(e.rate * 100).toFixed(0)}%` : 'n/a';
    out.push('### Escalation', '', `${num(e.escalated)} of ${num(e.glosses)} glosses escalated (${rate}).`);
    for (const [title, key] of [
      ['Answers rejected', 'rejections'],
      ['Request errors', 'request_errors'],
    ] as const) {
      const counts = e[key];
      if (isRecord(counts) && Object.keys(counts).length > 0) {
        out.push(`${title}: ${Object.entries(counts).map(([k, v]) => `${esc(k)} ${num(v)}`).join(', ')}.`);
      }
    }
    out.push('');
  }

  if (Array.isArray(f.failure_reasons) && f.failure_reasons.length > 0) {
    out.push('### Why spans failed', '');
    for (const raw of f.failure_reasons) {
      const r = isRecord(raw) ? raw : {};
      out.push(`- ${esc(str(r.reason) ?? '?')} (${num(r.spans)} spans)`);
    }
    out.push('');
  }

  if (isRecord(f.skipped_files) && Object.keys(f.skipped_files).length > 0) {
    out.push('### Skipped files', '');
    for (const [path, reason] of Object.entries(f.skipped_files)) {
      out.push(`- ${esc(path)}: ${esc(str(reason) ?? '')}`);
    }
    out.push('');
  }

  if (isRecord(f.gpu)) {
    const g = f.gpu;
    if (g.available === false) {
      out.push(`**GPU:** none (${esc(str(g.reason) ?? 'not available')})`);
    } else {
      // `throttled` is the reason local backends were slowed (a string), or null.
      const state = typeof g.throttled === 'string' ? `throttled (${esc(g.throttled)})` : 'available';
      out.push(`**GPU:** ${state}`, '', '```json', safeJson(g), '```');
    }
  }
  return out;
}

function row(label: string, value: string): string {
  return `| ${label} | ${value} |`;
}

function cells(values: readonly string[]): string {
  return `| ${values.map((v) => esc(v)).join(' | ')} |`;
}

/** Text that stays text in Markdown: no HTML, links, emphasis or table breaks. */
export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]|~#])/g, '\\$1') // with [ ] escaped, ( ) and ! start no link or image
    .replace(/\s+/g, ' ')
    .trim();
}

function num(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return '-';
  }
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function safeJson(v: unknown): string {
  // A fence cannot be closed by content whose backticks are escaped.
  return (JSON.stringify(v, null, 2) ?? 'null').replace(/`/g, '\\u0060');
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
