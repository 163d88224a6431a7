import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './main';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../scripts/lathe.mjs', import.meta.url));
const MESSY = fileURLToPath(new URL('../lib/core/data/fixtures/messy.csv', import.meta.url));
const IMAGE = fileURLToPath(new URL('../lib/core/data/fixtures/image.csv', import.meta.url));

function lathe(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('lathe CLI', () => {
  it('profiles a file as JSON through the bin, with the import report and a profile', () => {
    const run = lathe('profile', MESSY, '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const output = JSON.parse(run.stdout) as {
      import: {
        format: string;
        rows: number;
        columns: Array<{ name: string; type: string }>;
        malformed: unknown[];
      };
      profile: { rows: number; columns: unknown[] };
      validation: { findings: Array<{ code: string; column?: string }> };
    };
    expect(output.import.format).toBe('csv');
    expect(output.import.rows).toBe(24);
    expect(output.import.columns.find((c) => c.name === 'price')?.type).toBe('float');
    expect(output.import.malformed).toEqual([
      {
        column: 'price',
        type: 'float',
        count: 1,
        examples: [{ row: 1, line: 3, column: 'price', value: '1,04' }]
      }
    ]);
    expect(output.profile.rows).toBe(24);
    expect(output.profile.columns).toHaveLength(7);
    expect(output.validation.findings).toContainEqual(
      expect.objectContaining({ code: 'type_errors', column: 'price' })
    );
  }, 60_000);

  it('prints a readable report and fails with the error code for a file it cannot import', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await main(['profile', MESSY], io)).toBe(0);
    expect(out.join('\n')).toContain('csv, utf-8');
    expect(out.join('\n')).toContain('price (float): 1 — line 3: “1,04”');

    expect(await main(['profile', IMAGE], io)).toBe(1);
    expect(err.at(-1)).toBe(
      'error [wrong_format]: “image.csv” cannot be imported: its first bytes show a PNG image, not a CSV file.'
    );
    expect(await main(['frobnicate'], io)).toBe(2);
  });
});
