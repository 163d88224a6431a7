/**
 * The merge rules of sync, shared by the registry server and the studio so both converge on the same
 * state. Immutable records are insert-once. Mutable records are a map of field -> (value, stamp) and
 * merge per field, last writer wins by hybrid logical clock; a delete is a tombstone field
 * (`deleted: true`) with its own stamp, so a late update cannot bring a record back.
 */
import { z } from 'zod';
import { dataset, datasetSplit, datasetVersion, metricSeries, project, run } from '../records';
import { IMMUTABLE_ENTITIES, type Mutation, type SyncEntity } from './mutation';

export type FieldValues = Record<string, unknown>;

/** A record split into its values and the stamp of each value. `fields` never holds `stamps`. */
export interface MergeState {
  fields: FieldValues;
  stamps: Record<string, string>;
}

const HLC_PATTERN = /^\d{13}-\d{5}-[\w-]{1,80}$/;

/** Fields fixed at creation: never stamped, never changed by a merge. */
const IDENTITY_FIELDS: ReadonlySet<string> = new Set(['id', 'projectId']);

export const RECORD_SCHEMAS = {
  project,
  dataset,
  datasetVersion,
  datasetSplit,
  run,
  metricSeries
} as const satisfies Record<SyncEntity, z.ZodObject>;

/**
 * Fields an `update` mutation may carry, per entity. Immutable entities have none. `deleted` is set
 * by `delete` mutations only, so it is not listed.
 */
export const MUTABLE_FIELDS = {
  project: ['name', 'updatedAt'],
  dataset: ['name', 'latestVersionId', 'roles', 'expectations', 'updatedAt'],
  datasetVersion: [],
  datasetSplit: [],
  run: [
    'name',
    'status',
    'environment',
    'metrics',
    'error',
    'startedAt',
    'finishedAt',
    'artifacts',
    'updatedAt'
  ],
  metricSeries: []
} as const satisfies Record<SyncEntity, readonly string[]>;

export function isImmutable(entity: SyncEntity): boolean {
  return IMMUTABLE_ENTITIES.has(entity);
}

export type FieldCheck =
  { ok: true; fields: FieldValues } | { ok: false; reason: 'invalid' | 'immutable'; message: string };

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid fields';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Check a mutation's `fields` against the record schemas: a full record for inserts, a partial record
 * of allowed mutable fields for updates, nothing for deletes. Returns the parsed (stripped) fields.
 */
export function checkMutationFields(
  m: Pick<Mutation, 'entity' | 'op' | 'recordId' | 'projectId' | 'fields' | 'hlc'>
): FieldCheck {
  // Stamps are compared as strings, so only the fixed-width form may enter stored state.
  if (!HLC_PATTERN.test(m.hlc)) return { ok: false, reason: 'invalid', message: 'hlc: not a clock stamp' };
  const schema = RECORD_SCHEMAS[m.entity];
  if (m.op === 'insert') {
    const parsed = schema.safeParse(m.fields);
    if (!parsed.success) return { ok: false, reason: 'invalid', message: describeIssue(parsed.error) };
    const fields: FieldValues = { ...parsed.data };
    if (fields.id !== m.recordId) return { ok: false, reason: 'invalid', message: 'id: must equal recordId' };
    if (fields.projectId !== m.projectId)
      return { ok: false, reason: 'invalid', message: 'projectId: must equal the mutation projectId' };
    if (m.entity === 'project' && m.recordId !== m.projectId) {
      return {
        ok: false,
        reason: 'invalid',
        message: 'a project is its own project: recordId must equal projectId'
      };
    }
    // Stamps come from the mutation's clock, never from the client's copy of the record.
    delete fields.stamps;
    return { ok: true, fields };
  }
  if (isImmutable(m.entity))
    return { ok: false, reason: 'immutable', message: `${m.entity} records cannot be changed` };
  if (m.op === 'delete') {
    return Object.keys(m.fields).length === 0
      ? { ok: true, fields: {} }
      : { ok: false, reason: 'invalid', message: 'a delete carries no fields' };
  }
  const allowed: readonly string[] = MUTABLE_FIELDS[m.entity];
  const shape = Object.fromEntries(Object.entries(schema.shape).filter(([key]) => allowed.includes(key)));
  const parsed = z.strictObject(shape).partial().safeParse(m.fields);
  if (!parsed.success) return { ok: false, reason: 'invalid', message: describeIssue(parsed.error) };
  if (Object.keys(parsed.data).length === 0)
    return { ok: false, reason: 'invalid', message: 'an update needs at least one field' };
  return { ok: true, fields: { ...parsed.data } };
}

/** The stamped change a mutation stands for. `fields` must already have passed `checkMutationFields`. */
export function mutationToState(
  m: Pick<Mutation, 'entity' | 'op' | 'hlc' | 'fields' | 'recordId' | 'projectId'>
): MergeState {
  const fields: FieldValues =
    m.op === 'delete'
      ? { deleted: true }
      : Object.fromEntries(Object.entries(m.fields).filter(([key]) => key !== 'stamps'));
  const stamps: Record<string, string> = {};
  if (!isImmutable(m.entity)) {
    for (const key of Object.keys(fields)) if (!IDENTITY_FIELDS.has(key)) stamps[key] = m.hlc;
  }
  return { fields: { ...fields, id: m.recordId, projectId: m.projectId }, stamps };
}

export interface MergeResult {
  state: MergeState;
  /** False when the incoming state added nothing: a replay, a stale write or a repeated insert. */
  changed: boolean;
}

/**
 * Join two states of one record. Per field, the higher stamp wins; an unstamped local field loses to
 * any stamped one. On equal stamps the incoming value wins: equal stamps only come from one client
 * (the node id is part of the stamp), whose mutations reach us in the order it made them.
 */
export function mergeStates(
  entity: SyncEntity,
  current: MergeState | undefined,
  incoming: MergeState
): MergeResult {
  if (!current)
    return { state: { fields: { ...incoming.fields }, stamps: { ...incoming.stamps } }, changed: true };
  if (isImmutable(entity)) return { state: current, changed: false };
  const fields: FieldValues = { ...current.fields };
  const stamps: Record<string, string> = { ...current.stamps };
  let changed = false;
  for (const [key, value] of Object.entries(incoming.fields)) {
    if (IDENTITY_FIELDS.has(key)) {
      if (!(key in fields)) {
        fields[key] = value;
        changed = true;
      }
      continue;
    }
    const theirs = incoming.stamps[key];
    const ours = stamps[key];
    if (theirs === undefined) {
      // An unstamped incoming value (e.g. a local record from before stamps) only fills gaps.
      if (!(key in fields)) {
        fields[key] = value;
        changed = true;
      }
      continue;
    }
    if (ours === undefined || theirs >= ours) {
      if (ours !== theirs || !sameValue(fields[key], value)) changed = true;
      fields[key] = value;
      stamps[key] = theirs;
    }
  }
  return { state: { fields, stamps }, changed };
}

export type ApplyOutcome =
  | { kind: 'applied'; result: MergeResult }
  | { kind: 'rejected'; reason: 'immutable' | 'not_found'; message: string };

/** Apply one mutation to the current state of its record (undefined when the record is unknown). */
export function applyMutation(
  current: MergeState | undefined,
  m: Pick<Mutation, 'entity' | 'op' | 'hlc' | 'fields' | 'recordId' | 'projectId'>
): ApplyOutcome {
  if (m.op !== 'insert' && isImmutable(m.entity)) {
    return { kind: 'rejected', reason: 'immutable', message: `${m.entity} records cannot be changed` };
  }
  if (m.op !== 'insert' && !current) {
    // A client pushes in the order it wrote, so an update before its insert means the insert was lost.
    return { kind: 'rejected', reason: 'not_found', message: `No ${m.entity} ${m.recordId} to ${m.op}` };
  }
  return { kind: 'applied', result: mergeStates(m.entity, current, mutationToState(m)) };
}

/** Split a stored record into a merge state. */
export function stateFromRecord(record: FieldValues): MergeState {
  const { stamps, ...fields } = record;
  const stampMap: Record<string, string> = {};
  if (stamps && typeof stamps === 'object') {
    for (const [key, value] of Object.entries(stamps)) if (typeof value === 'string') stampMap[key] = value;
  }
  return { fields, stamps: stampMap };
}

/** The record form of a state: its values plus `stamps` (left out when empty, as for immutable records). */
export function recordFromState(state: MergeState): FieldValues {
  return Object.keys(state.stamps).length > 0
    ? { ...state.fields, stamps: { ...state.stamps } }
    : { ...state.fields };
}

/** The highest stamp in a state, for the receiver's clock to move past. */
export function latestStamp(state: MergeState): string | undefined {
  let latest: string | undefined;
  for (const stamp of Object.values(state.stamps)) if (latest === undefined || stamp > latest) latest = stamp;
  return latest;
}

/** Blob hashes a record names in its own fields (dataset chunks, run artifacts), beyond those a mutation lists. */
export function referencedBlobs(entity: SyncEntity, fields: FieldValues): string[] {
  if (entity === 'run') {
    const artifacts = z
      .object({ artifacts: z.record(z.string(), z.string().optional()).optional() })
      .safeParse(fields);
    return artifacts.success
      ? Object.values(artifacts.data.artifacts ?? {}).filter((h): h is string => typeof h === 'string')
      : [];
  }
  if (entity === 'datasetSplit') {
    const split = z.object({ assignments: z.string() }).safeParse(fields);
    return split.success ? [split.data.assignments] : [];
  }
  if (entity !== 'datasetVersion') return [];
  const parsed = z
    .object({ chunks: z.array(z.object({ hash: z.string() })), assets: z.array(z.string()).optional() })
    .safeParse(fields);
  return parsed.success ? [...parsed.data.chunks.map((c) => c.hash), ...(parsed.data.assets ?? [])] : [];
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
