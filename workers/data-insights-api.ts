/**
 * The part of `data.worker`'s contract that reads stored versions: views for the data grid, recipes
 * that derive new versions, diffs and splits (profiles and validation join them), and the checks of a
 * run spec before it trains. The worker reads a version's chunks from IndexedDB itself, so a large
 * table never passes through the page. Types only.
 */
import type { ArrowChunk } from '../src/lib/core/data/arrow';
import type { DiffOptions, VersionDiff } from '../src/lib/core/data/diff';
import type { Expectation, ExpectationReport } from '../src/lib/core/data/expectations';
import type { DatasetProfile } from '../src/lib/core/data/profile';
import type { ValidationReport } from '../src/lib/core/data/validate';
import type { RecipeStepInput, RecipeStepReport } from '../src/lib/core/data/recipe';
import type { Cell } from '../src/lib/core/data/table-view';
import type { PreflightReport, SplitCounts } from '../src/lib/core/models/preflight';
import type { SplitSpec } from '../src/lib/core/pipeline/splits';
import type { ColumnRole, ColumnSchema, RunSpec } from '../src/lib/core/records';

export interface ViewRequest {
  versionId: string;
  sort?: { column: string; descending: boolean } | null;
  /** Keep rows where this condition (Lathe's expression language) is true, e.g. `price > 10`. */
  filter?: string | null;
}

/** A new version's content, made in the worker; the page stores it (chunk buffers are transferred). */
export interface DerivedVersion {
  columns: ColumnSchema[];
  rowCount: number;
  chunks: ArrowChunk[];
  contentHash: string;
  steps: RecipeStepReport[];
}

export interface ComputedSplit {
  specHash: string;
  /** One byte per row (0 train, 1 validation, 2 test; or the fold index), transferred. */
  assignments: ArrayBuffer;
  assignmentsHash: string;
  counts: Record<string, number>;
}

export interface CheckRequest {
  target?: string;
  roles?: Record<string, ColumnRole>;
  /** Cells per column the import could not read as the column's type. */
  malformed?: Record<string, number>;
  expectations?: Expectation[];
}

/** A version's profile, validation findings and expectation results, computed together. */
export interface VersionInsights {
  profile: DatasetProfile;
  validation: ValidationReport;
  expectations: ExpectationReport | null;
}

export interface DataInsightsApi {
  /** Profiles and validates a version, and checks the dataset's expectations against it. */
  inspectVersion(versionId: string, req: CheckRequest): Promise<VersionInsights>;
  /** Opens a sorted view of a version; rows are then read a page at a time. */
  openView(req: ViewRequest): Promise<{ viewId: string; rowCount: number }>;
  readRows(viewId: string, offset: number, limit: number): Promise<Cell[][]>;
  closeView(viewId: string): Promise<void>;
  /** Runs recipe steps over a version and encodes the result as a new version's chunks. */
  applyRecipe(versionId: string, steps: RecipeStepInput[]): Promise<DerivedVersion>;
  diffVersions(olderId: string, newerId: string, options?: DiffOptions): Promise<VersionDiff>;
  computeSplit(versionId: string, spec: SplitSpec): Promise<ComputedSplit>;
  /**
   * Checks a run spec against a version before training (`preflightRun`), with the dataset's column
   * roles. When the spec names a stored split and `splitCounts` is not given, that split's counts are
   * read from IndexedDB (a k-fold split as the train worker uses it: fold 1 tests, the rest train).
   */
  preflight(versionId: string, spec: RunSpec, splitCounts?: SplitCounts): Promise<PreflightReport>;
}
