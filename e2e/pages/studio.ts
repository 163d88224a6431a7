/** Page model of the studio: the steps a person takes, named as they would name them. */
import { expect, type Page } from '@playwright/test';

export class Studio {
  constructor(readonly page: Page) {}

  async openDatasets(): Promise<void> {
    await this.page.goto('/datasets');
    await expect(this.page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
  }

  async importSample(name: string): Promise<void> {
    await this.openDatasets();
    await this.page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
    await expect(this.page.getByTestId('dataset-summary')).toBeVisible();
  }

  async importFile(path: string): Promise<void> {
    await this.openDatasets();
    await this.page.getByTestId('file-input').setInputFiles(path);
    await expect(this.page.getByTestId('dataset-summary')).toBeVisible();
  }

  async openTab(name: string): Promise<void> {
    await this.page.getByRole('tab', { name }).click();
    await expect(this.page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
  }

  /** Opens the training form's "Advanced" disclosure (layers, optimizer, split, evaluation…). */
  async openAdvanced(): Promise<void> {
    const advanced = this.page.locator('details.advanced');
    if (!(await advanced.evaluate((d) => (d as HTMLDetailsElement).open))) {
      await advanced.locator('summary').click();
    }
  }

  /**
   * Start training from an open dataset page; returns the new run's id. `model` is a model kind
   * (`logistic`, `mlp`…); the form's default when left out.
   */
  async train(opts: { target: string; epochs: number; batchSize?: number; model?: string }): Promise<string> {
    await this.openTab('Train');
    await this.page.getByTestId('target-select').selectOption(opts.target);
    if (opts.model) await this.page.getByTestId('model-select').selectOption(opts.model);
    // By name: "epochs" also appears in the labels of the advanced settings (patience, warmup…).
    await this.page.locator('input[name="epochs"]').fill(String(opts.epochs));
    if (opts.batchSize) {
      await this.openAdvanced();
      await this.page.locator('input[name="batchSize"]').fill(String(opts.batchSize));
    }
    await this.page.getByTestId('start-training').click();
    await this.page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    return this.page.url().split('/').at(-1)!;
  }

  async waitForRunStatus(status: string, timeout = 180_000): Promise<void> {
    await expect(this.page.getByTestId('run-status').first()).toHaveText(status, { timeout });
  }

  async metric(name: string): Promise<number> {
    const text = await this.page.locator(`[data-metric="${name}"]`).textContent();
    return Number(text);
  }
}
