/**
 * A messy CSV through its life: the import report counts what could not be read, a column's type is
 * changed (a new, re-validated version), an expectation is added and checked, and two versions are diffed.
 */
import { expect, test } from '@playwright/test';
import { Studio } from './pages/studio';

test('import a messy CSV, fix a type, add an expectation, and diff the versions', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importFile('src/lib/core/data/fixtures/messy.csv');
  await expect(page.getByTestId('dataset-summary')).toContainText('24 rows');

  // The report names the unreadable cell: "1,04" in the numeric price column, data row 2.
  const report = page.getByTestId('import-report');
  await expect(report.locator('tr[data-column="price"] [data-testid="malformed-count"]')).toHaveText('1');
  await expect(report.locator('tr[data-column="price"]')).toContainText('2: "1,04"');
  await expect(page.getByTestId('check-summary')).toContainText('Validation:');

  // Reading price as text makes a new version, which is validated again.
  await page.getByLabel('Type of price').selectOption('text');
  await expect(page.getByRole('status').filter({ hasText: 'price is now text' })).toBeVisible();
  await expect(page.getByLabel('Type of price')).toHaveValue('text');

  // An expectation on the dataset is checked against the current version.
  await studio.openTab('Validation');
  await page.getByLabel('Check').selectOption('not_null');
  await page.getByRole('combobox', { name: /^Column/ }).selectOption('name');
  await page.getByRole('button', { name: 'Add expectation' }).click();
  await expect(page.getByTestId('expectation-summary')).toHaveText('1 passed, 0 failed on this version');
  await page.getByLabel('Check').selectOption('not_null');
  await page.getByRole('combobox', { name: /^Column/ }).selectOption('added');
  await page.getByRole('button', { name: 'Add expectation' }).click();
  await expect(page.getByTestId('expectation-summary')).toHaveText('1 passed, 1 failed on this version');
  await expect(page.getByTestId('validation')).toContainText('missing');

  // Two versions, compared.
  await studio.openTab('Versions');
  const history = page.getByTestId('version-history');
  await expect(history.locator('tbody tr')).toHaveCount(2);
  await history.getByRole('checkbox').nth(0).check();
  await history.getByRole('checkbox').nth(1).check();
  await page.getByTestId('compare-versions').click();
  await expect(page.getByTestId('diff-types')).toContainText('price float → text');
  await expect(page.getByTestId('diff-rows')).toContainText('0 added');
});

test('the profile shows statistics and charts for every column', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await page.getByLabel('Role of species').selectOption('target');
  await studio.openTab('Profile');
  const profile = page.getByTestId('profile');
  await expect(profile.locator('[data-column="sepal_length"]')).toContainText('5.8');
  await expect(profile.locator('[data-column="species"]')).toContainText('setosa');
  await expect(page.getByRole('img', { name: /Correlation/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Features against the target, species' })).toBeVisible();
});

test('the data tab scrolls and sorts the table', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.openTab('Data');
  const grid = page.getByTestId('data-grid');
  await expect(grid.getByRole('row').nth(1)).toContainText('5.1');
  await grid.getByRole('button', { name: 'Sort by sepal_length' }).click();
  await expect(grid.getByRole('row').nth(1)).toContainText('4.3');
  await grid.getByRole('button', { name: 'Sort by sepal_length' }).click();
  await expect(grid.getByRole('row').nth(1)).toContainText('7.9');

  // Filter with the expression language; a typo is named, not silently ignored.
  await page.getByTestId('row-filter').fill('species == "virginica" and petal_width > 2.2');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(page.getByTestId('row-count')).toHaveText('14 of 150 rows');
  await page.getByTestId('row-filter').fill('petal_widht > 2');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await expect(page.getByTestId('filter-error')).toContainText("did you mean 'petal_width'");
});

test('a stored split is kept with the version and a run trains on exactly its rows', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.openTab('Splits');
  await page.getByLabel('Kind').selectOption('stratified');
  await page.getByRole('combobox', { name: /^Column/ }).selectOption('species');
  await page.getByRole('button', { name: 'Make split' }).click();
  await expect(page.getByTestId('split-counts')).toHaveText('train 120 · validation 0 · test 30');

  const runId = await (async () => {
    await studio.openTab('Train');
    await studio.openAdvanced();
    await page
      .getByTestId('split-select')
      .selectOption({ label: 'Stored split: stratified by species, 20% test' });
    return studio.train({ target: 'species', epochs: 5 });
  })();
  await studio.waitForRunStatus('completed');
  await expect(page.locator('dd').filter({ hasText: 'stored split' })).toBeVisible();
  expect(runId).toMatch(/[0-9a-f-]{36}/);
});

test('a recipe of steps makes a new version', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.openTab('Transform');
  await page.getByTestId('recipe-kind').selectOption('derive');
  await page.getByLabel('New column').fill('petal_area');
  await page.getByLabel('Expression').fill('petal_length * petal_width');
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('recipe-kind').selectOption('filter');
  await page.getByLabel('Expression').fill('sepal_length > 5');
  await page.getByRole('button', { name: 'Add step' }).click();
  await expect(page.getByTestId('recipe-steps')).toContainText('Keep rows where sepal_length > 5');
  await page.getByTestId('apply-recipe').click();
  await expect(page.getByTestId('dataset-summary')).toContainText('118 rows · 6 columns');
  await expect(page.getByTestId('column-table')).toContainText('petal_area');

  // A step that cannot run names itself and the problem, and stores nothing.
  await studio.openTab('Transform');
  await page.getByTestId('recipe-kind').selectOption('derive');
  await page.getByLabel('New column').fill('bad');
  await page.getByLabel('Expression').fill('log(species)');
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('apply-recipe').click();
  await expect(page.getByTestId('recipe-error')).toContainText('log expects a number');
  await studio.openTab('Versions');
  await expect(page.getByTestId('version-history').locator('tbody tr')).toHaveCount(2);
});
