/**
 * `lathe`, the headless command line: the same core code the data worker runs, from a terminal.
 *
 *   lathe profile FILE [--json] [--target COLUMN] [--ragged error|pad] [--header auto|yes|no]
 *   lathe eval PREDICTIONS.csv --task classification|regression [--json]   (see `eval.ts`)
 *   lathe train --data FILE --target COLUMN [options]                        (see `train.ts`)
 *
 * prints the import report (format, encoding, columns and their types, warnings, malformed cells),
 * the validation and the profile. Exit codes: 0 done, 1 the file could not be imported, 2 bad usage.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LatheError } from '../lib/core/errors';
import { readChunks } from '../lib/core/data/arrow';
import { blobSource, ingestSource, type IngestResult } from '../lib/core/data/ingest';
import { profileTable, type DatasetProfile } from '../lib/core/data/profile';
import { validateTable, type ValidationReport } from '../lib/core/data/validate';
import { evalCommand } from './eval';
import { TRAIN_USAGE, trainCommand } from './train';

const USAGE = `Usage: lathe profile FILE [--json] [--target COLUMN] [--ragged error|pad] [--header auto|yes|no]

Imports FILE (CSV, TSV, JSON, NDJSON, Arrow IPC, Parquet, or a ZIP of image folders) as the studio
does and prints the import report, validation and profile.

       lathe eval PREDICTIONS.csv --task classification|regression [--json] [--group COLUMN] [--positive CLASS]

Scores a CSV of predictions (y_true, y_pred, optional proba_<class> columns) with every metric.

${TRAIN_USAGE.replace('Usage: ', '       ')}`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const stdio: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`)
};

export async function main(argv: readonly string[], io: CliIo = stdio): Promise<number> {
  if (argv[0] === 'eval') return evalCommand(argv.slice(1), io);
  if (argv[0] === 'train') return trainCommand(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        target: { type: 'string' },
        ragged: { type: 'string', default: 'error' },
        header: { type: 'string', default: 'auto' },
        help: { type: 'boolean', short: 'h', default: false }
      }
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const [command, file] = positionals;
  const ragged = values.ragged;
  const header = values.header;
  if (
    command !== 'profile' ||
    !file ||
    (ragged !== 'error' && ragged !== 'pad') ||
    (header !== 'auto' && header !== 'yes' && header !== 'no')
  ) {
    io.err(USAGE);
    return 2;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    io.err(`error [file_missing]: ${file} is not a file.`);
    return 1;
  }

  let result: IngestResult;
  try {
    const blob = await openAsBlob(file);
    result = await ingestSource(blobSource(blob, path.basename(file)), {
      raggedRows: ragged,
      header: header === 'auto' ? 'auto' : header === 'yes'
    });
  } catch (err) {
    const code = err instanceof LatheError ? err.code : 'unexpected';
    io.err(`error [${code}]: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const table = readChunks(result.chunks.map((c) => c.data));
  let profile: DatasetProfile;
  let validation: ValidationReport;
  try {
    const target = values.target;
    profile = profileTable(table, target ? { target } : {});
    // The same inputs the studio gives validation: the profile, the target, the import's malformed counts.
    validation = validateTable(table, {
      target,
      profile,
      malformed: Object.fromEntries(result.report.malformed.map((m) => [m.column, m.count]))
    });
  } catch (err) {
    const code = err instanceof LatheError ? err.code : 'profile_failed';
    io.err(`error [${code}]: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  const importReport = {
    file: path.resolve(file),
    bytes: info.size,
    format: result.format,
    encoding: result.report.encoding ?? null,
    rows: result.rowCount,
    chunks: result.chunks.length,
    contentHash: result.contentHash,
    columns: result.columns,
    warnings: result.report.warnings,
    malformed: result.report.malformed,
    raggedRows: result.report.raggedRows ?? 0,
    restarts: result.report.restarts ?? 0
  };
  if (values.json) {
    io.out(JSON.stringify({ import: importReport, validation, profile }, null, 2));
    return 0;
  }
  io.out(formatReport(importReport, validation, profile));
  return 0;
}

function formatReport(
  report: {
    file: string;
    bytes: number;
    format: string;
    encoding: string | null;
    rows: number;
    chunks: number;
    contentHash: string;
    columns: IngestResult['columns'];
    warnings: string[];
    malformed: IngestResult['report']['malformed'];
  },
  validation: ValidationReport,
  profile: DatasetProfile
): string {
  const lines: string[] = [];
  lines.push(`${report.file}`);
  lines.push(
    `  ${report.format}${report.encoding ? `, ${report.encoding}` : ''}, ${report.bytes} bytes → ${report.rows} rows × ${report.columns.length} columns in ${report.chunks} chunk${report.chunks === 1 ? '' : 's'}`
  );
  lines.push(`  content hash ${report.contentHash}`);
  lines.push('');
  const width = Math.max(6, ...report.columns.map((c) => c.name.length));
  lines.push(
    `  ${'column'.padEnd(width)}  ${'type'.padEnd(11)}  ${'missing'.padStart(8)}  ${'distinct'.padStart(8)}`
  );
  for (const c of report.columns) {
    lines.push(
      `  ${c.name.padEnd(width)}  ${c.type.padEnd(11)}  ${String(c.missing).padStart(8)}  ${String(c.distinct ?? '—').padStart(8)}`
    );
  }
  if (report.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of report.warnings) lines.push(`  - ${w}`);
  }
  if (report.malformed.length > 0) {
    lines.push('', 'Malformed cells (treated as missing):');
    for (const m of report.malformed) {
      const examples = m.examples.map((e) => `line ${e.line}: “${e.value}”`).join(', ');
      lines.push(`  ${m.column} (${m.type}): ${m.count} — ${examples}`);
    }
  }
  lines.push('', 'Validation:');
  if (validation.findings.length === 0) lines.push('  no findings');
  for (const f of validation.findings) lines.push(`  ${f.severity.padEnd(7)} ${f.code}: ${f.message}`);
  lines.push('', 'Profile:');
  lines.push(indent(summarizeProfile(profile)));
  return lines.join('\n');
}

/** One line per column from the profile's own fields, without depending on its exact shape. */
function summarizeProfile(profile: DatasetProfile): string {
  return profile.columns
    .map((column) => {
      const entries = Object.entries(column as Record<string, unknown>)
        .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
        .map(
          ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v)}`
        );
      const stats = (column as { stats?: Record<string, unknown> }).stats;
      if (stats && typeof stats === 'object') {
        for (const key of ['mean', 'std', 'min', 'max']) {
          const v = stats[key];
          if (typeof v === 'number') entries.push(`${key}=${Number.isInteger(v) ? v : v.toPrecision(4)}`);
        }
      }
      return entries.join(' ');
    })
    .join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
